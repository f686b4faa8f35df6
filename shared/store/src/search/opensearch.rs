//! The OpenSearch engine (production): one index, a document per group with
//! its `text()` in a `wildcard` field (OpenSearch 2.15+), which answers
//! `*keyword*` for any keyword length from its n-gram index and then checks
//! each candidate against the stored value, so matches are exact substrings.
//! Versions are OpenSearch's external versions: the domain itself refuses an
//! older or equal write. Plain HTTP calls signed with SigV4 (service `es`)
//! over the same hyper / rustls (aws-lc-rs) stack the AWS SDK links already.

use std::sync::Mutex;
use std::time::{Duration, SystemTime};

use async_trait::async_trait;
use aws_credential_types::provider::{ProvideCredentials, SharedCredentialsProvider};
use aws_credential_types::Credentials;
use aws_sigv4::http_request::{sign, PayloadChecksumKind, SignableBody, SignableRequest, SigningSettings};
use aws_sigv4::sign::v4;
use bytes::Bytes;
use http::{Method, StatusCode};
use http_body_util::Full;
use moim_domain::group::GroupStatus;
use moim_domain::search::{normalize_keyword, SearchDoc};
use serde_json::{json, Value};

use super::{Search, SearchError, SearchPage, SearchQuery};

use crate::http::{exchange, https_client, https_or_loopback, HttpsClient};

/// Every call (send and read the answer) gives up after this.
const TIMEOUT: Duration = Duration::from_secs(5);
/// A page of ids or an error is small; anything larger is refused.
const MAX_BODY: usize = 4 * 1024 * 1024;
/// Temporary credentials this close to expiry are fetched again before signing.
const REFRESH_BEFORE: Duration = Duration::from_secs(300);

pub struct OpenSearch {
    /// `https://host[:port]` (or loopback `http://`), no trailing slash.
    endpoint: String,
    index: String,
    region: String,
    /// Err when the endpoint is not allowed or TLS could not be set up: every call fails with it.
    client: Result<HttpsClient, String>,
    credentials: SharedCredentialsProvider,
    /// The chain does not cache by itself (the SDK clients do that in their runtime).
    cached: Mutex<Option<Credentials>>,
    timeout: Duration,
}

fn backend(e: impl std::fmt::Display) -> SearchError {
    SearchError::Backend(e.to_string())
}

/// Only `https://`, or `http://` to a loopback host (the tests' fake domain).
fn check_endpoint(endpoint: &str) -> Result<(), String> {
    https_or_loopback(endpoint, "OpenSearch endpoint").map(|_| ())
}

/// The index: `text` holds the four fields lower-cased and joined by
/// FIELD_SEPARATOR. The keyword never contains the separator
/// (normalize_keyword drops it) and its `*` `?` `\` are escaped, so a literal
/// match of it cannot span two fields: one field is enough, no re-check needed.
/// Strict: a stray field is refused instead of growing the mapping.
/// `gc_deletes` 24 h: a deleted document's version is remembered as long as
/// DynamoDB Streams keeps records, so no redelivered older change revives it.
fn mapping() -> Value {
    json!({"settings": {"index": {"gc_deletes": "24h"}}, "mappings": {"dynamic": "strict", "properties": {
        "id": {"type": "long"},
        "version": {"type": "long"},
        "status": {"type": "keyword"},
        "endsAt": {"type": "long"},
        "text": {"type": "wildcard"},
    }}})
}

fn document(doc: &SearchDoc) -> Value {
    json!({"id": doc.id, "version": doc.version, "status": doc.status.name(), "endsAt": doc.ends_at, "text": doc.text()})
}

/// The keyword as a literal inside a wildcard pattern.
fn escape_wildcard(k: &str) -> String {
    let mut out = String::with_capacity(k.len() + 2);
    for c in k.chars() {
        if matches!(c, '*' | '?' | '\\') {
            out.push('\\');
        }
        out.push(c);
    }
    out
}

/// The effective status in `statuses` at `now`, in two branches: the stored
/// status counts when it is final or the end has not passed; a non-final
/// group whose end has passed reads FINISHED (that branch only when asked for).
fn status_filter(statuses: &[GroupStatus], now: i64) -> Value {
    let finals: Vec<&str> = GroupStatus::ALL.into_iter().filter(|s| s.is_final()).map(GroupStatus::name).collect();
    let names: Vec<&str> = statuses.iter().map(|s| s.name()).collect();
    let mut branches = vec![json!({"bool": {
        "filter": [{"terms": {"status": names}}],
        "should": [{"terms": {"status": finals}}, {"range": {"endsAt": {"gt": now}}}],
        "minimum_should_match": 1,
    }})];
    if statuses.contains(&GroupStatus::Finished) {
        branches.push(json!({"bool": {
            "filter": [{"range": {"endsAt": {"lte": now}}}],
            "must_not": [{"terms": {"status": finals}}],
        }}));
    }
    json!({"bool": {"should": branches, "minimum_should_match": 1}})
}

/// One page: filters only (no scoring), newest first, one hit more than the
/// limit to know whether there are more.
fn search_body(q: &SearchQuery) -> Value {
    let mut filter = vec![status_filter(&q.statuses, q.now)];
    if let Some(k) = normalize_keyword(&q.keyword) {
        filter.push(json!({"wildcard": {"text": {"value": format!("*{}*", escape_wildcard(&k))}}}));
    }
    if let Some(before) = q.before {
        filter.push(json!({"range": {"id": {"lt": before}}}));
    }
    json!({
        "size": q.limit + 1,
        "_source": false,
        "track_total_hits": false,
        "sort": [{"id": {"order": "desc"}}],
        "query": {"bool": {"filter": filter}},
    })
}

/// An answer of the domain. Errors name the call, the status and OpenSearch's
/// error type, never the body (it can echo document text).
struct Answer {
    call: String,
    status: StatusCode,
    body: Value,
}

impl Answer {
    fn error_type(&self) -> &str {
        self.body["error"]["type"].as_str().unwrap_or_default()
    }

    fn error(&self) -> SearchError {
        backend(format!("{}: HTTP {} {}", self.call, self.status.as_u16(), self.error_type()).trim_end())
    }
}

impl OpenSearch {
    /// Credentials from the AWS default chain; built once per container.
    pub async fn new(endpoint: &str, index: &str, region: &str) -> OpenSearch {
        let chain = aws_config::default_provider::credentials::DefaultCredentialsChain::builder()
            .region(aws_config::Region::new(region.to_owned()))
            .build()
            .await;
        Self::build(endpoint, index, region, SharedCredentialsProvider::new(chain))
    }

    /// Signs with a given provider (a function's [`crate::aws::from_environment`]).
    pub fn with_provider(
        endpoint: &str,
        index: &str,
        region: &str,
        credentials: SharedCredentialsProvider,
    ) -> OpenSearch {
        Self::build(endpoint, index, region, credentials)
    }

    /// Fixed credentials (tests, or a caller with its own provider).
    pub fn with_credentials(endpoint: &str, index: &str, region: &str, credentials: Credentials) -> OpenSearch {
        Self::build(endpoint, index, region, SharedCredentialsProvider::new(credentials))
    }

    /// Replaces the 5 s limit of every call.
    pub fn with_timeout(mut self, timeout: Duration) -> OpenSearch {
        self.timeout = timeout;
        self
    }

    fn build(endpoint: &str, index: &str, region: &str, credentials: SharedCredentialsProvider) -> OpenSearch {
        OpenSearch {
            endpoint: endpoint.trim_end_matches('/').to_owned(),
            index: index.to_owned(),
            region: region.to_owned(),
            client: check_endpoint(endpoint).and_then(|()| https_client()),
            credentials,
            cached: Mutex::new(None),
            timeout: TIMEOUT,
        }
    }

    /// Creates the index with its mapping unless it exists.
    pub async fn ensure_index(&self) -> Result<(), SearchError> {
        let answer = self.call(Method::PUT, &format!("/{}", self.index), Some(&mapping())).await?;
        if answer.status.is_success() || answer.error_type() == "resource_already_exists_exception" {
            return Ok(());
        }
        Err(answer.error())
    }

    /// Makes every write so far visible to search (the domain does it within a
    /// second by itself; tests that search right after writing call this).
    pub async fn refresh(&self) -> Result<(), SearchError> {
        let answer = self.call(Method::POST, &format!("/{}/_refresh", self.index), None).await?;
        answer.status.is_success().then_some(()).ok_or_else(|| answer.error())
    }

    async fn credentials(&self) -> Result<Credentials, SearchError> {
        let fresh = |c: &Credentials| c.expiry().is_none_or(|t| t > SystemTime::now() + REFRESH_BEFORE);
        if let Some(c) = self.cached.lock().map_err(backend)?.as_ref().filter(|c| fresh(c)) {
            return Ok(c.clone());
        }
        let c = self.credentials.provide_credentials().await.map_err(|e| backend(format!("AWS credentials: {e}")))?;
        *self.cached.lock().map_err(backend)? = Some(c.clone());
        Ok(c)
    }

    /// One signed call with a JSON body (or none); any status comes back as an Answer.
    async fn call(&self, method: Method, path: &str, body: Option<&Value>) -> Result<Answer, SearchError> {
        let what = format!("{method} {}", path.split('?').next().unwrap_or(path));
        let client = self.client.as_ref().map_err(backend)?;
        let body = body.map(|b| serde_json::to_vec(b).expect("JSON values serialise")).unwrap_or_default();
        let uri = format!("{}{}", self.endpoint, path);
        let parsed: http::Uri = uri.parse().map_err(|_| backend(format!("bad request URI {uri}")))?;
        let host = parsed.authority().map(|a| a.as_str().to_owned()).unwrap_or_default();

        let credentials = self.credentials().await?;
        let identity = credentials.into();
        let mut settings = SigningSettings::default();
        settings.payload_checksum_kind = PayloadChecksumKind::XAmzSha256;
        let params = v4::SigningParams::builder()
            .identity(&identity)
            .region(&self.region)
            .name("es")
            .time(SystemTime::now())
            .settings(settings)
            .build()
            .map_err(backend)?
            .into();
        // Signed: host, x-amz-date, x-amz-content-sha256 and, with temporary credentials, x-amz-security-token.
        let signable = SignableRequest::new(
            method.as_str(),
            &uri,
            std::iter::once(("host", host.as_str())),
            SignableBody::Bytes(&body),
        )
        .map_err(backend)?;
        let (instructions, _) = sign(signable, &params).map_err(backend)?.into_parts();

        let mut req = http::Request::builder()
            .method(method)
            .uri(parsed)
            .header(http::header::HOST, &host)
            .header(http::header::CONTENT_TYPE, "application/json")
            .header(http::header::ACCEPT, "application/json")
            .body(Full::new(Bytes::from(body)))
            .map_err(backend)?;
        instructions.apply_to_request_http1x(&mut req);

        let (status, bytes) = exchange(client, req, &what, MAX_BODY, self.timeout).await.map_err(backend)?;
        let body = match serde_json::from_slice::<Value>(&bytes) {
            Ok(v) => v,
            Err(_) if !status.is_success() || bytes.is_empty() => Value::Null,
            Err(_) => return Err(backend(format!("{what}: answer is not JSON"))),
        };
        Ok(Answer { call: what, status, body })
    }
}

#[async_trait]
impl Search for OpenSearch {
    async fn prepare(&self) -> Result<(), SearchError> {
        self.ensure_index().await
    }

    async fn upsert(&self, doc: &SearchDoc) -> Result<(), SearchError> {
        let path = format!("/{}/_doc/{}?version={}&version_type=external", self.index, doc.id, doc.version);
        let answer = self.call(Method::PUT, &path, Some(&document(doc))).await?;
        // 409: the index holds this version or a newer one, which is what we want.
        if answer.status.is_success() || answer.status == StatusCode::CONFLICT {
            return Ok(());
        }
        Err(answer.error())
    }

    async fn delete(&self, id: i64, version: i64) -> Result<(), SearchError> {
        // OpenSearch keeps the version of a deleted document for index.gc_deletes
        // (set to 24 h, the stream's retention, in the mapping): an older upsert
        // redelivered within it is refused.
        let path = format!("/{}/_doc/{id}?version={version}&version_type=external", self.index);
        let answer = self.call(Method::DELETE, &path, None).await?;
        let gone = answer.status == StatusCode::NOT_FOUND && answer.body["result"] == "not_found";
        if answer.status.is_success() || gone || answer.status == StatusCode::CONFLICT {
            return Ok(());
        }
        Err(answer.error())
    }

    async fn search(&self, q: &SearchQuery) -> Result<SearchPage, SearchError> {
        let answer = self.call(Method::POST, &format!("/{}/_search", self.index), Some(&search_body(q))).await?;
        if !answer.status.is_success() {
            return Err(answer.error());
        }
        let hits =
            answer.body["hits"]["hits"].as_array().ok_or_else(|| backend(format!("{}: no hits", answer.call)))?;
        let mut ids = hits
            .iter()
            .map(|h| h["_id"].as_str().and_then(|id| id.parse().ok()))
            .collect::<Option<Vec<i64>>>()
            .ok_or_else(|| backend(format!("{}: a hit without a numeric _id", answer.call)))?;
        let more = ids.len() > q.limit;
        ids.truncate(q.limit);
        Ok(SearchPage { ids, more })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcard_characters_are_escaped_and_endpoints_checked() {
        assert_eq!(escape_wildcard(r"a*b?c\d%_"), r"a\*b\?c\\d%_");
        assert_eq!(escape_wildcard("모임"), "모임");
        assert!(check_endpoint("https://search-x.ap-northeast-2.es.amazonaws.com").is_ok());
        assert!(check_endpoint("http://127.0.0.1:9200").is_ok());
        assert!(check_endpoint("http://search-x.es.amazonaws.com").is_err());
        assert!(check_endpoint("nonsense").is_err());
    }
}
