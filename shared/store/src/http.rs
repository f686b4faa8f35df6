//! The plain HTTPS client for the calls that are not an AWS SDK's (OpenSearch,
//! OAuth providers): the same hyper / rustls (aws-lc-rs) stack the SDK links,
//! HTTPS only except to loopback (the tests' stand-ins), every exchange bounded
//! in time and size. Errors name the call, never a body.

use std::time::Duration;

use bytes::Bytes;
use http_body_util::{BodyExt, Full};
use hyper_rustls::HttpsConnector;
use hyper_util::client::legacy::{connect::HttpConnector, Client};

pub type HttpsClient = Client<HttpsConnector<HttpConnector>, Full<Bytes>>;

/// A client with the system's root certificates; build it once per process.
pub fn https_client() -> Result<HttpsClient, String> {
    let https = hyper_rustls::HttpsConnectorBuilder::new()
        .with_provider_and_native_roots(rustls::crypto::aws_lc_rs::default_provider())
        .map_err(|e| format!("no TLS roots: {e}"))?
        .https_or_http()
        .enable_http1()
        .build();
    Ok(Client::builder(hyper_util::rt::TokioExecutor::new()).build(https))
}

/// Only `https://`, or `http://` to a loopback host. `what` names the URL in the error.
pub fn https_or_loopback(url: &str, what: &str) -> Result<http::Uri, String> {
    let uri: http::Uri = url.parse().map_err(|_| format!("bad {what} {url}"))?;
    let loopback = matches!(uri.host(), Some("127.0.0.1" | "localhost" | "[::1]" | "::1"));
    match uri.scheme_str() {
        Some("https") => Ok(uri),
        Some("http") if loopback => Ok(uri),
        _ => Err(format!("{what} must be https: {url}")),
    }
}

/// Sends `req` and reads the whole answer (at most `max_body` bytes) within
/// `timeout`; `call` names the request in errors.
pub async fn exchange(
    client: &HttpsClient,
    req: http::Request<Full<Bytes>>,
    call: &str,
    max_body: usize,
    timeout: Duration,
) -> Result<(http::StatusCode, Bytes), String> {
    let round_trip = async {
        let resp = client.request(req).await.map_err(|e| format!("{call}: {e}"))?;
        let status = resp.status();
        let body = http_body_util::Limited::new(resp.into_body(), max_body)
            .collect()
            .await
            .map_err(|e| format!("{call}: reading the answer: {e}"))?
            .to_bytes();
        Ok((status, body))
    };
    tokio::time::timeout(timeout, round_trip).await.map_err(|_| format!("{call}: timed out"))?
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn urls_must_be_https_unless_loopback() {
        assert!(https_or_loopback("https://oauth2.googleapis.com/token", "URL").is_ok());
        assert!(https_or_loopback("http://127.0.0.1:9000/token", "URL").is_ok());
        assert!(https_or_loopback("http://localhost:9000/token", "URL").is_ok());
        assert_eq!(
            https_or_loopback("http://x.com/t", "provider URL").unwrap_err(),
            "provider URL must be https: http://x.com/t"
        );
        assert!(https_or_loopback("ftp://x/y", "URL").is_err());
        assert!(https_or_loopback("not a url", "URL").is_err());
    }
}
