//! The one mapping from errors to HTTP: the flat problem body of API.md §1.3.
//! 5xx bodies are generic; their cause is logged with the request id.

use moim_domain::{DomainError, ErrorCode};
use moim_store::StoreError;
use serde_json::{json, Value};

#[derive(Debug, thiserror::Error)]
pub enum ApiError {
    #[error(transparent)]
    Domain(#[from] DomainError),
    /// A bug or an unexpected backend failure: 500 to the client, cause in the log.
    #[error("internal: {0}")]
    Internal(String),
}

impl From<ErrorCode> for ApiError {
    fn from(code: ErrorCode) -> Self {
        ApiError::Domain(DomainError::new(code))
    }
}

impl From<StoreError> for ApiError {
    fn from(e: StoreError) -> Self {
        match e {
            StoreError::Conflict => ErrorCode::DATA_INTEGRITY_VIOLATION.into(),
            StoreError::Throttled => ErrorCode::SERVICE_UNAVAILABLE.into(),
            other => ApiError::Internal(other.to_string()),
        }
    }
}

impl ApiError {
    pub fn code(&self) -> ErrorCode {
        match self {
            ApiError::Domain(d) => d.code,
            ApiError::Internal(_) => ErrorCode::INTERNAL_SERVER_ERROR,
        }
    }

    /// The HTTP status answered (the code's, or the error's own override).
    pub fn status(&self) -> u16 {
        match self {
            ApiError::Domain(d) => d.status,
            ApiError::Internal(_) => ErrorCode::INTERNAL_SERVER_ERROR.status(),
        }
    }

    /// The error body for a request to `instance` (the request path).
    pub fn body(&self, instance: &str) -> Value {
        let code = self.code();
        let status = self.status();
        let (detail, data) = match self {
            ApiError::Domain(d) if status < 500 => {
                let data = if d.fields.is_empty() { Value::Null } else { json!(d.fields) };
                (d.detail.clone(), data)
            }
            _ => (code.detail().to_string(), Value::Null),
        };
        json!({
            "type": "about:blank",
            "title": code.name(),
            "status": status,
            "detail": detail,
            "instance": instance,
            "errorCode": code.name(),
            "data": data,
        })
    }
}

pub type ApiResult<T> = Result<T, ApiError>;

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn body_has_status_code_and_fields() {
        let e: ApiError = DomainError::invalid("email", "bad").into();
        let b = e.body("/api/v1/auth/signup");
        assert_eq!(b["status"], 400);
        assert_eq!(b["title"], "INVALID_INPUT_VALUE");
        assert_eq!(b["errorCode"], "INVALID_INPUT_VALUE");
        assert_eq!(b["instance"], "/api/v1/auth/signup");
        assert_eq!(b["data"][0]["field"], "email");
    }

    #[test]
    fn internal_errors_hide_their_cause() {
        let b = ApiError::Internal("db password is hunter2".into()).body("/x");
        assert_eq!(b["status"], 500);
        assert!(!b.to_string().contains("hunter2"));
        let conflict: ApiError = StoreError::Conflict.into();
        assert_eq!(conflict.code(), ErrorCode::DATA_INTEGRITY_VIOLATION);
    }
}
