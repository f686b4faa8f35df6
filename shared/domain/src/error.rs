//! Error codes of the wire contract (API.md §1.4): the names are the `errorCode`s,
//! each with its HTTP status. One `DomainError` carries a code, the Korean detail
//! and, for validation failures, the failing fields.

use serde::Serialize;

macro_rules! codes {
    ($($name:ident = $status:expr, $detail:expr;)*) => {
        /// Every error code the API answers with.
        #[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
        #[allow(non_camel_case_types, clippy::upper_case_acronyms)]
        pub enum ErrorCode { $($name,)* }

        impl ErrorCode {
            pub const ALL: &'static [ErrorCode] = &[$(ErrorCode::$name,)*];
            /// The code's name as sent in `errorCode` and `title`.
            pub fn name(self) -> &'static str {
                match self { $(ErrorCode::$name => stringify!($name),)* }
            }
            /// The HTTP status the code is answered with.
            pub fn status(self) -> u16 {
                match self { $(ErrorCode::$name => $status,)* }
            }
            /// The default `detail` text.
            pub fn detail(self) -> &'static str {
                match self { $(ErrorCode::$name => $detail,)* }
            }
        }
    };
}

codes! {
    INVALID_INPUT_VALUE = 400, "입력값이 올바르지 않습니다.";
    NOT_FOUND_PARAMETER = 400, "필수 파라미터가 없습니다.";
    ENTITY_NOT_FOUND = 404, "요청한 리소스를 찾을 수 없습니다.";
    METHOD_NOT_ALLOWED = 405, "지원하지 않는 HTTP 메서드입니다.";
    PAYLOAD_TOO_LARGE = 413, "요청 본문이 너무 큽니다.";
    UNSUPPORTED_MEDIA_TYPE = 415, "지원하지 않는 Content-Type 입니다.";
    DATA_INTEGRITY_VIOLATION = 409, "동시에 처리된 요청과 충돌했습니다. 다시 시도해 주세요.";
    INTERNAL_SERVER_ERROR = 500, "서버 내부 오류가 발생했습니다.";
    DEPENDENCY_FAILURE = 502, "외부 서비스 호출에 실패했습니다.";
    SERVICE_UNAVAILABLE = 503, "요청이 많아 잠시 후 다시 시도해 주세요.";

    NOT_FOUND_TOKEN = 401, "인증 : 토큰이 존재하지 않습니다.";
    INVALID_TOKEN = 401, "인증 : 유효하지 않은 토큰입니다.";
    EXPIRED_TOKEN = 401, "인증 : 만료된 토큰입니다.";
    USER_ACCESS_DENIED = 403, "회원 : 접근 권한이 없습니다.";
    OAUTH_EXCHANGE_FAILED = 401, "인증 : 소셜 로그인 인증에 실패했습니다.";
    USER_NOT_FOUND = 404, "회원 : 회원을 찾을 수 없습니다.";
    ALREADY_EXISTS_USER = 400, "회원 : 이미 존재하는 회원입니다.";
    ALREADY_EXIST_NICKNAME = 400, "회원 : 이미 존재하는 닉네임입니다.";
    INVALID_PASSWORD_VALUE = 400, "회원 : 비밀번호가 일치하지 않습니다.";
    DELETED_USER = 400, "회원 : 탈퇴한 회원입니다.";
    NOT_SAME_FOLLOW = 400, "회원 : 자기 자신은 팔로우할 수 없습니다.";
    NOT_SAME_UNFOLLOW = 400, "회원 : 자기 자신은 언팔로우할 수 없습니다.";
    ALREADY_EXIST_FOLLOW = 400, "회원 : 이미 팔로우 중입니다.";
    NOT_FOUND_FOLLOW = 400, "회원 : 팔로우 관계가 없습니다.";
    NOT_FOUND_NOTIFICATION = 404, "회원 : 알림을 찾을 수 없습니다.";
    EMAIL_NOT_VERIFIED = 403, "회원 : 이메일 인증이 필요합니다.";
    TOO_MANY_LOGIN_ATTEMPTS = 429, "회원 : 로그인 시도가 너무 많습니다.";
}

/// One failing request field of a validation error.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct FieldError {
    pub field: String,
    pub reason: String,
}

#[derive(Debug, Clone, PartialEq, thiserror::Error)]
#[error("{code:?}: {detail}")]
pub struct DomainError {
    pub code: ErrorCode,
    pub detail: String,
    pub fields: Vec<FieldError>,
}

impl DomainError {
    pub fn new(code: ErrorCode) -> Self {
        DomainError { code, detail: code.detail().to_string(), fields: vec![] }
    }
    pub fn with_detail(code: ErrorCode, detail: impl Into<String>) -> Self {
        DomainError { code, detail: detail.into(), fields: vec![] }
    }
    /// A validation failure listing every failing field.
    pub fn invalid_fields(fields: Vec<FieldError>) -> Self {
        DomainError { fields, ..DomainError::new(ErrorCode::INVALID_INPUT_VALUE) }
    }
    pub fn invalid(field: &str, reason: &str) -> Self {
        Self::invalid_fields(vec![FieldError { field: field.into(), reason: reason.into() }])
    }
}

impl From<ErrorCode> for DomainError {
    fn from(code: ErrorCode) -> Self {
        DomainError::new(code)
    }
}

/// Collects field failures; `finish` turns any into one INVALID_INPUT_VALUE.
#[derive(Debug, Default)]
pub struct Fields(Vec<FieldError>);

impl Fields {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn check(&mut self, ok: bool, field: &str, reason: &str) -> &mut Self {
        if !ok {
            self.0.push(FieldError { field: field.into(), reason: reason.into() });
        }
        self
    }
    pub fn fail(&mut self, field: &str, reason: &str) -> &mut Self {
        self.check(false, field, reason)
    }
    pub fn finish(&mut self) -> Result<(), DomainError> {
        if self.0.is_empty() {
            Ok(())
        } else {
            Err(DomainError::invalid_fields(std::mem::take(&mut self.0)))
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_code_has_an_error_status_and_a_detail() {
        for c in ErrorCode::ALL {
            assert!((400..600).contains(&c.status()), "{c:?}");
            assert!(!c.detail().is_empty());
        }
        assert_eq!(ErrorCode::TOO_MANY_LOGIN_ATTEMPTS.status(), 429);
        assert_eq!(ErrorCode::EXPIRED_TOKEN.name(), "EXPIRED_TOKEN");
    }

    #[test]
    fn fields_collects_all_failures_into_one_error() {
        let err = Fields::new().check(false, "email", "bad").check(true, "x", "y").fail("password", "short").finish();
        let err = err.unwrap_err();
        assert_eq!(err.code, ErrorCode::INVALID_INPUT_VALUE);
        assert_eq!(err.fields.iter().map(|f| f.field.as_str()).collect::<Vec<_>>(), ["email", "password"]);
    }
}
