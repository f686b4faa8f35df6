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
    TOO_MANY_MAIL_REQUESTS = 429, "회원 : 메일 요청이 너무 많습니다. 잠시 후 다시 시도해 주세요.";
    EMAIL_ALREADY_VERIFIED = 400, "회원 : 이미 인증된 이메일입니다.";

    IMAGE_UPLOAD_EXCEED = 400, "모임: 이미지는 최대 3장까지 업로드할 수 있습니다.";
    INVALID_IMAGE_SIZE = 400, "이미지: 파일 크기가 허용 범위를 넘었습니다.";
    UNSUPPORTED_IMAGE_CONTENT_TYPE = 400, "이미지: 지원하지 않는 이미지 형식입니다. (jpeg, png, webp)";
    MISSING_EXTENSION = 400, "이미지: 파일 확장자가 없습니다.";
    UNSUPPORTED_EXTENSION = 400, "이미지: 지원하지 않는 확장자입니다. (jpg, jpeg, png, webp)";
    INVALID_IMAGE_FORMAT = 400, "이미지: 이미지 파일이 올바르지 않거나 너무 큽니다.";
    WEBP_CONVERT_FAILED = 500, "이미지: WEBP 변환에 실패했습니다.";
    GROUP_NOT_FOUND_BY_ID = 404, "모임: 모임을 찾을 수 없습니다.";
    GROUP_CREATE_COOLDOWN_ACTIVE = 429, "모임: 모임 생성은 잠시 후에 다시 시도해 주세요.";
    INVALID_JOIN_POLICY = 400, "모임: 지원하지 않는 참여 방식입니다.";
    TAG_EXCEED_MAX = 400, "모임: 태그는 최대 10개까지 등록할 수 있습니다.";
    TAG_DUPLICATED = 400, "모임: 중복된 태그가 있습니다.";
    GROUP_TITLE_REQUIRED = 400, "모임: 제목은 필수 입니다.";
    GROUP_TITLE_TOO_LONG = 400, "모임: 제목은 50자 이하여야 합니다.";
    GROUP_DESCRIPTION_REQUIRED = 400, "모임: 설명은 필수 입니다.";
    GROUP_DESCRIPTION_TOO_LONG = 400, "모임: 설명은 300자 이하여야 합니다.";
    LOCATION_REQUIRED = 400, "모임: 장소는 필수 입니다.";
    GROUP_TIME_INVALID_RANGE = 400, "모임: 종료 시간은 시작 시간 이후여야 합니다.";
    INVALID_MAX_PARTICIPANTS = 400, "모임: 최대 참여 인원은 2명 이상 12명 이하여야 합니다.";
    MAX_PARTICIPANTS_BELOW_ATTEND_COUNT = 409, "모임: 최대 참여 인원은 현재 참여 인원보다 적을 수 없습니다.";
    GROUP_ONLY_HOST_CAN_UPDATE = 403, "모임: 모임장만 수정할 수 있습니다.";
    GROUP_CANNOT_UPDATE_IN_STATUS = 409, "모임: 현재 상태에서는 수정할 수 없습니다.";
    GROUP_STATUS_TRANSFER_IMPOSSIBLE = 400, "모임: 변경할 수 없는 상태입니다.";
    GROUP_IMAGE_KEY_REQUIRED = 400, "모임: 이미지 키는 필수입니다.";
    INVALID_GROUP_IMAGE_ITEM = 400, "모임: 이미지 항목이 올바르지 않습니다.";
    INVALID_GROUP_IMAGE_KEY = 400, "모임: 이미지 키가 올바르지 않습니다.";
    DUPLICATED_IMAGE_KEY_IN_REQUEST = 400, "모임: 중복된 이미지 키가 있습니다.";
    DUPLICATED_IMAGE_SORT_ORDER_IN_REQUEST = 400, "모임: 중복된 이미지 순서가 있습니다.";
    INVALID_GROUP_IMAGE_SORT_ORDER_RANGE = 400, "모임: 이미지 순서는 0 이상 2 이하여야 합니다.";
    PRE_UPLOADED_IMAGE_NOT_FOUND = 404, "모임: 업로드된 이미지를 찾을 수 없습니다.";
    PRE_UPLOADED_IMAGE_OWNER_MISMATCH = 403, "모임: 다른 사용자가 업로드한 이미지입니다.";
    INVALID_MY_GROUP_TYPE = 400, "모임: 지원하지 않는 조회 유형입니다.";
    GROUP_HOST_CANNOT_ATTEND = 400, "모임: 모임장은 참여 신청을 할 수 없습니다.";
    GROUP_NOT_RECRUITING = 400, "모임: 모집 상태가 아닙니다.";
    GROUP_BANNED_USER = 400, "모임: 차단된 사용자입니다.";
    ALREADY_ATTEND_GROUP = 400, "모임: 이미 참여 중인 모임입니다.";
    ALREADY_REQUESTED_TO_JOIN = 400, "모임: 이미 참여를 요청한 모임입니다.";
    GROUP_IS_FULL = 400, "모임: 모집 인원이 가득 찼습니다.";
    GROUP_HOST_CANNOT_LEAVE = 400, "모임: 모임장은 모임을 떠날 수 없습니다.";
    GROUP_CANNOT_LEAVE_IN_STATUS = 400, "모임: 현재 상태에서는 모임을 떠날 수 없습니다.";
    GROUP_USER_NOT_FOUND = 404, "모임: 모임 참여 정보를 찾을 수 없습니다.";
    GROUP_KICKED_USER = 403, "모임: 강퇴된 사용자입니다.";
    GROUP_REJECTED_USER = 403, "모임: 참여가 거절된 사용자입니다.";
    ALREADY_LEFT_GROUP = 409, "모임: 이미 떠난 모임입니다.";
    ALREADY_CANCELLED_JOIN_REQUEST = 409, "모임: 이미 취소된 참여 요청입니다.";
    CANNOT_APPROVE_SELF = 400, "모임: 자기 자신을 승인할 수 없습니다.";
    CANNOT_REJECT_SELF = 400, "모임: 자기 자신을 거절할 수 없습니다.";
    GROUP_CANNOT_KICK_SELF = 400, "모임: 자기 자신을 강퇴할 수 없습니다.";
    GROUP_CANNOT_BAN_SELF = 400, "모임: 자기 자신을 차단할 수 없습니다.";
    GROUP_JOIN_POLICY_NOT_APPROVAL_REQUIRED = 400, "모임: 승인제 모임이 아닙니다.";
    GROUP_CANNOT_APPROVE_IN_STATUS = 400, "모임: 현재 모임 상태에서는 승인할 수 없습니다.";
    GROUP_CANNOT_REJECT_IN_STATUS = 400, "모임: 현재 모임 상태에서는 거절할 수 없습니다.";
    GROUP_CANNOT_KICK_IN_STATUS = 400, "모임: 현재 모임 상태에서는 강퇴할 수 없습니다.";
    GROUP_CANNOT_BAN_IN_STATUS = 400, "모임: 현재 모임 상태에서는 차단할 수 없습니다.";
    NO_PERMISSION_TO_APPROVE_JOIN = 403, "모임: 참여 승인 권한이 없습니다.";
    NO_PERMISSION_TO_REJECT_JOIN = 403, "모임: 참여 거절 권한이 없습니다.";
    NO_PERMISSION_TO_KICK = 403, "모임: 강퇴 권한이 없습니다.";
    NO_PERMISSION_TO_BAN = 403, "모임: 차단 권한이 없습니다.";
    NO_PERMISSION_TO_UNBAN = 403, "모임: 차단 해제 권한이 없습니다.";
    NO_PERMISSION_TO_VIEW_KICK_TARGETS = 403, "모임: 강퇴 대상 조회 권한이 없습니다.";
    NO_PERMISSION_TO_VIEW_BAN_TARGETS = 403, "모임: 차단 대상 조회 권한이 없습니다.";
    NO_PERMISSION_TO_VIEW_BANNED_TARGETS = 403, "모임: 차단 목록 조회 권한이 없습니다.";
    NO_PERMISSION_TO_VIEW_JOIN_REQUESTS = 403, "모임: 참여 요청 조회 권한이 없습니다.";
    GROUP_CANNOT_KICK_HOST = 400, "모임: 모임장은 강퇴할 수 없습니다.";
    GROUP_CANNOT_BAN_HOST = 400, "모임: 모임장은 차단할 수 없습니다.";
    GROUP_CANNOT_UNBAN_HOST = 400, "모임: 모임장은 차단 해제 대상이 아닙니다.";
    GROUP_USER_STATUS_NOT_ALLOWED_TO_APPROVE = 400, "모임: 승인할 수 없는 참여 상태입니다.";
    GROUP_USER_STATUS_NOT_ALLOWED_TO_REJECT = 400, "모임: 거절할 수 없는 참여 상태입니다.";
    GROUP_USER_STATUS_NOT_ALLOWED_TO_KICK = 400, "모임: 강퇴할 수 없는 참여 상태입니다.";
    GROUP_USER_STATUS_NOT_ALLOWED_TO_BAN = 400, "모임: 차단할 수 없는 참여 상태입니다.";
    GROUP_USER_STATUS_NOT_ALLOWED_TO_UNBAN = 400, "모임: 차단 해제할 수 없는 참여 상태입니다.";

    CHAT_ROOM_NOT_FOUND = 404, "채팅: 채팅방을 찾을 수 없습니다.";
    CHAT_ROOM_ACCESS_DENIED = 403, "채팅: 채팅방에 접근할 권한이 없습니다.";
    CHAT_CANNOT_DM_SELF = 400, "채팅: 자기 자신에게는 메시지를 보낼 수 없습니다.";
    CHAT_KICK_NOT_ALLOWED = 400, "채팅: 1:1 채팅방에서는 강퇴할 수 없습니다.";
    CHAT_MESSAGE_INVALID = 400, "채팅: 메시지는 1자 이상 1000자 이하로 입력해 주세요.";
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
    /// The HTTP status: the code's own, except where the contract answers one
    /// code with two (INVALID_TOKEN is 400 for a verification or reset code).
    pub status: u16,
}

impl DomainError {
    pub fn new(code: ErrorCode) -> Self {
        DomainError { code, detail: code.detail().to_string(), fields: vec![], status: code.status() }
    }
    pub fn with_detail(code: ErrorCode, detail: impl Into<String>) -> Self {
        DomainError { detail: detail.into(), ..DomainError::new(code) }
    }
    /// A bad, expired or used verification code or reset token (API.md §2.1): 400 INVALID_TOKEN.
    pub fn bad_mail_token() -> Self {
        DomainError {
            status: 400,
            ..DomainError::with_detail(ErrorCode::INVALID_TOKEN, "인증 : 유효하지 않거나 만료된 코드입니다.")
        }
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
