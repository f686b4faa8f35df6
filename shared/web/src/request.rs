//! Request parsing for handlers: ids, query parameters, JSON bodies, auth.
//! Each check answers with the contract's code, in the contract's order
//! (401 → 413/415 → 400) as long as handlers call auth before the body.

use lambda_http::{Body, RequestExt};
use moim_domain::user::User;
use moim_domain::{DomainError, ErrorCode};
use serde::de::DeserializeOwned;

use crate::auth::{cookie_value, TokenType};
use crate::context::AppContext;
use crate::error::{ApiError, ApiResult};

/// JSON bodies above this are refused with 413.
pub const JSON_BODY_LIMIT: usize = 1024 * 1024;

pub struct Req {
    pub inner: lambda_http::Request,
    pub path: String,
    pub request_id: String,
}

/// The authenticated caller, loaded once per request.
#[derive(Debug, Clone)]
pub struct AuthUser {
    pub user: User,
}

impl AuthUser {
    pub fn id(&self) -> i64 {
        self.user.user_id
    }
}

fn invalid(detail: impl Into<String>) -> ApiError {
    DomainError::with_detail(ErrorCode::INVALID_INPUT_VALUE, detail).into()
}

impl Req {
    pub fn header(&self, name: &str) -> Option<&str> {
        self.inner.headers().get(name).and_then(|v| v.to_str().ok())
    }

    pub fn cookie(&self, name: &str) -> Option<String> {
        self.inner
            .headers()
            .get_all("cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|h| cookie_value(h, name).map(str::to_string))
    }

    /// A decimal id from the path; anything else is 400.
    pub fn path_id(&self, name: &str) -> ApiResult<i64> {
        let raw = self.inner.path_parameters_ref().and_then(|p| p.first(name)).unwrap_or_default();
        parse_id(raw).ok_or_else(|| invalid(format!("경로 변수 {name}의 값이 올바르지 않습니다: {raw}")))
    }

    pub fn query(&self, name: &str) -> Option<String> {
        self.inner.query_string_parameters_ref().and_then(|q| q.first(name)).map(str::to_string)
    }

    /// Every value of a repeatable query parameter (`?a=1&a=2`), in order.
    pub fn query_all(&self, name: &str) -> Vec<String> {
        self.inner
            .query_string_parameters_ref()
            .and_then(|q| q.all(name))
            .map(|v| v.into_iter().map(str::to_string).collect())
            .unwrap_or_default()
    }

    /// A required query parameter: missing or blank is NOT_FOUND_PARAMETER.
    pub fn query_required(&self, name: &str) -> ApiResult<String> {
        self.query(name).filter(|v| !v.trim().is_empty()).ok_or_else(|| {
            DomainError::with_detail(ErrorCode::NOT_FOUND_PARAMETER, format!("필수 파라미터 {name}가 없습니다.")).into()
        })
    }

    /// An optional integer query parameter; present but not a number is 400.
    pub fn query_i64(&self, name: &str) -> ApiResult<Option<i64>> {
        match self.query(name).filter(|v| !v.is_empty()) {
            None => Ok(None),
            Some(v) => v.trim().parse().map(Some).map_err(|_| invalid(format!("{name}: 숫자가 아닙니다."))),
        }
    }

    /// Cursor pagination parameters: (cursor, size clamped to 1..=max, default `default`).
    pub fn page(&self, default: usize, max: usize) -> ApiResult<(Option<i64>, usize)> {
        let cursor = self.query_i64("cursor")?;
        let size = self.query_i64("size")?.map(|s| s.clamp(1, max as i64) as usize).unwrap_or(default);
        Ok((cursor, size))
    }

    /// The raw body (base64 already decoded by lambda_http).
    pub fn body(&self) -> &[u8] {
        match self.inner.body() {
            Body::Empty => &[],
            Body::Text(t) => t.as_bytes(),
            Body::Binary(b) => b,
            _ => &[],
        }
    }

    /// Parses a required JSON body (413 over 1 MB, 415 for a non-JSON type, 400 if malformed).
    pub fn json<T: DeserializeOwned>(&self) -> ApiResult<T> {
        self.json_opt()?.ok_or_else(|| invalid("요청 본문이 비어 있습니다."))
    }

    /// Parses an optional JSON body: empty (with any Content-Type) is None.
    pub fn json_opt<T: DeserializeOwned>(&self) -> ApiResult<Option<T>> {
        let bytes = self.body();
        if bytes.len() > JSON_BODY_LIMIT {
            return Err(ErrorCode::PAYLOAD_TOO_LARGE.into());
        }
        if bytes.iter().all(u8::is_ascii_whitespace) {
            return Ok(None);
        }
        if let Some(ct) = self.header("content-type") {
            let ct = ct.to_ascii_lowercase();
            if !ct.starts_with("application/json") && !ct.contains("+json") && !ct.starts_with("text/plain") {
                return Err(ErrorCode::UNSUPPORTED_MEDIA_TYPE.into());
            }
        }
        serde_json::from_slice(bytes).map(Some).map_err(|e| invalid(format!("JSON 형식이 올바르지 않습니다: {e}")))
    }

    fn bearer(&self) -> Option<&str> {
        bearer_token(self.header("authorization")?)
    }

    /// Required auth: 401 NOT_FOUND_TOKEN / INVALID_TOKEN / EXPIRED_TOKEN; a
    /// withdrawn or unknown user's token is INVALID_TOKEN.
    pub async fn auth(&self, ctx: &AppContext) -> ApiResult<AuthUser> {
        authenticate(ctx, self.bearer()).await
    }

    /// The first half of [`Req::auth`]: the caller's id from a verified access
    /// token, without storage. A handler then reads the caller
    /// ([`load_caller`]) beside its own first read instead of before it: one
    /// sequential round trip fewer. Check the caller before using the read.
    pub fn caller_id(&self, ctx: &AppContext) -> ApiResult<i64> {
        verify_access(ctx, self.bearer())
    }

    /// [`Req::caller_id`] for optional auth: no header is anonymous (None).
    pub fn maybe_caller_id(&self, ctx: &AppContext) -> ApiResult<Option<i64>> {
        if self.header("authorization").is_none() {
            return Ok(None);
        }
        self.caller_id(ctx).map(Some)
    }

    /// Optional auth: no header is anonymous; a present but bad token is still 401.
    pub async fn maybe_auth(&self, ctx: &AppContext) -> ApiResult<Option<AuthUser>> {
        if self.header("authorization").is_none() {
            return Ok(None);
        }
        self.auth(ctx).await.map(Some)
    }
}

/// Checks an access token however it came (bearer header, or the SSE query
/// parameter): NOT_FOUND_TOKEN / INVALID_TOKEN / EXPIRED_TOKEN; a withdrawn or
/// unknown user's token is INVALID_TOKEN.
pub async fn authenticate(ctx: &AppContext, token: Option<&str>) -> ApiResult<AuthUser> {
    load_caller(ctx, verify_access(ctx, token)?).await
}

/// The user id of a valid access token (no storage).
fn verify_access(ctx: &AppContext, token: Option<&str>) -> ApiResult<i64> {
    let token = token.map(str::trim).filter(|t| !t.is_empty()).ok_or(ErrorCode::NOT_FOUND_TOKEN)?;
    Ok(ctx.tokens.verify(token, TokenType::Access)?.user_id()?)
}

/// The caller a verified token names; withdrawn or unknown is INVALID_TOKEN.
pub async fn load_caller(ctx: &AppContext, user_id: i64) -> ApiResult<AuthUser> {
    match moim_store::users::get_user(&*ctx.table, user_id).await? {
        Some(user) if !user.is_withdrawn() => Ok(AuthUser { user }),
        _ => Err(ErrorCode::INVALID_TOKEN.into()),
    }
}

/// The caller (an id from [`Req::caller_id`]) read beside `first`, a handler's
/// own first read: one round trip instead of two. The caller is checked first,
/// so a withdrawn caller is 401 whatever `first` found. `first` may fail with
/// any error an [`ApiError`] is made from (a storage read as it is).
pub async fn with_caller<T, E: Into<ApiError>>(
    ctx: &AppContext,
    caller_id: i64,
    first: impl std::future::Future<Output = Result<T, E>>,
) -> ApiResult<(AuthUser, T)> {
    let (caller, read) = futures::future::join(load_caller(ctx, caller_id), first).await;
    Ok((caller?, read.map_err(Into::into)?))
}

/// [`load_caller`] for an optional caller.
pub async fn load_maybe_caller(ctx: &AppContext, user_id: Option<i64>) -> ApiResult<Option<AuthUser>> {
    match user_id {
        Some(id) => load_caller(ctx, id).await.map(Some),
        None => Ok(None),
    }
}

/// The token of an `Authorization: Bearer <token>` value (scheme case-insensitive);
/// HTTP requests and STOMP CONNECT frames carry it the same way.
pub fn bearer_token(header: &str) -> Option<&str> {
    let (scheme, token) = header.trim().split_once(' ')?;
    scheme.eq_ignore_ascii_case("bearer").then_some(token.trim())
}

/// Decimal ids only (no sign, no spaces), within JavaScript's safe range.
pub fn parse_id(raw: &str) -> Option<i64> {
    if raw.is_empty() || raw.len() > 16 || !raw.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    raw.parse().ok().filter(|n: &i64| *n < (1i64 << 53))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn bearer_tokens_only() {
        assert_eq!(bearer_token("Bearer abc"), Some("abc"));
        assert_eq!(bearer_token("bearer  abc "), Some("abc"));
        assert_eq!(bearer_token("Basic abc"), None);
    }

    #[test]
    fn ids_are_plain_decimals() {
        assert_eq!(parse_id("12"), Some(12));
        for bad in ["", "-1", "1.5", "abc", " 1", "99999999999999999", "9007199254740992"] {
            assert_eq!(parse_id(bad), None, "{bad}");
        }
    }
}
