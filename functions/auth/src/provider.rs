//! HTTP calls to an OAuth provider: the token endpoint (form POST) and the
//! user-info endpoint (GET with the provider's access token). One client per
//! process, built at the first social login, not at cold start. HTTPS only,
//! except to loopback (the tests' stand-in provider). Errors say what failed,
//! never the code or a token.

use std::sync::OnceLock;
use std::time::Duration;

use bytes::Bytes;
use http_body_util::Full;
use moim_store::http::{exchange, https_client, https_or_loopback, HttpsClient};
use serde_json::Value;

#[derive(Debug, thiserror::Error)]
#[error("{0}")]
pub struct ProviderError(String);

impl From<String> for ProviderError {
    fn from(s: String) -> Self {
        ProviderError(s)
    }
}

/// A provider answer larger than this is refused (a user-info document is small).
const MAX_BODY: usize = 256 * 1024;

fn client() -> Result<&'static HttpsClient, ProviderError> {
    static CLIENT: OnceLock<Result<HttpsClient, String>> = OnceLock::new();
    CLIENT.get_or_init(https_client).as_ref().map_err(|e| ProviderError(e.clone()))
}

fn check_url(url: &str) -> Result<http::Uri, ProviderError> {
    https_or_loopback(url, "provider URL").map_err(ProviderError)
}

/// POSTs a form and reads a JSON object back (2xx only).
pub async fn post_form(url: &str, form: &[(&str, &str)], timeout: Duration) -> Result<Value, ProviderError> {
    let body = form_urlencoded::Serializer::new(String::new()).extend_pairs(form).finish();
    let req = http::Request::post(check_url(url)?)
        .header("content-type", "application/x-www-form-urlencoded;charset=utf-8")
        .header("accept", "application/json")
        .body(Full::new(Bytes::from(body)))
        .map_err(|e| ProviderError(e.to_string()))?;
    call(req, timeout).await
}

/// GETs a JSON object with a bearer token (2xx only).
pub async fn get_json(url: &str, bearer: &str, timeout: Duration) -> Result<Value, ProviderError> {
    let req = http::Request::get(check_url(url)?)
        .header("authorization", format!("Bearer {bearer}"))
        .header("accept", "application/json")
        .body(Full::new(Bytes::new()))
        .map_err(|e| ProviderError(e.to_string()))?;
    call(req, timeout).await
}

async fn call(req: http::Request<Full<Bytes>>, timeout: Duration) -> Result<Value, ProviderError> {
    let target = format!("{}{}", req.uri().host().unwrap_or_default(), req.uri().path());
    let (status, body) = exchange(client()?, req, &target, MAX_BODY, timeout).await?;
    if !status.is_success() {
        // The provider's error code (e.g. invalid_grant) helps; the body may echo the code, so no more.
        let error = serde_json::from_slice::<Value>(&body)
            .ok()
            .and_then(|v| v.get("error").and_then(Value::as_str).map(str::to_string))
            .unwrap_or_default();
        return Err(ProviderError(format!("{target}: HTTP {status} {error}")));
    }
    serde_json::from_slice::<Value>(&body).map_err(|_| ProviderError(format!("{target}: answer is not JSON")))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn provider_urls_must_be_https_unless_loopback() {
        assert!(check_url("https://oauth2.googleapis.com/token").is_ok());
        assert!(check_url("http://127.0.0.1:9000/token").is_ok());
        assert!(check_url("http://localhost:9000/token").is_ok());
        assert!(check_url("http://oauth2.googleapis.com/token").is_err());
        assert!(check_url("ftp://x/y").is_err());
        assert!(check_url("not a url").is_err());
    }
}
