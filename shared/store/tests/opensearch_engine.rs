//! The OpenSearch engine of the search port: recorded request/response pairs
//! (tests/fixtures/opensearch) replayed by a loopback stand-in for the domain,
//! the SigV4 signature recomputed from what the stand-in received, and, when
//! `OPENSEARCH_URL` names a domain, the same answers as the embedded engine.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use aws_credential_types::Credentials;
use axum::extract::State;
use axum::response::IntoResponse;
use moim_domain::group::GroupStatus;
use moim_store::search::{EmbeddedSearch, OpenSearch, Search, SearchDoc, SearchError, SearchPage, SearchQuery};
use serde_json::Value;

const INDEX: &str = "moim-groups";
const REGION: &str = "ap-northeast-2";
const AKID: &str = "AKIDEXAMPLE";
const SECRET: &str = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY";

fn credentials(token: Option<&str>) -> Credentials {
    Credentials::new(AKID, SECRET, token.map(str::to_owned), None, "test")
}

// ---- the stand-in domain ----

/// A request as the stand-in received it.
struct Seen {
    method: String,
    path: String,
    headers: http::HeaderMap,
    body: Vec<u8>,
}

impl Seen {
    fn header(&self, name: &str) -> &str {
        self.headers.get(name).map(|v| v.to_str().unwrap()).unwrap_or_default()
    }
}

/// Answers each request with the next queued reply (after `delay`) and keeps the request.
#[derive(Clone, Default)]
struct Fake {
    seen: Arc<Mutex<Vec<Seen>>>,
    replies: Arc<Mutex<VecDeque<(u16, Value)>>>,
    delay: Duration,
}

async fn answer(State(fake): State<Fake>, req: axum::extract::Request) -> axum::response::Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap().to_vec();
    let path = parts.uri.path_and_query().map(|p| p.to_string()).unwrap_or_default();
    fake.seen.lock().unwrap().push(Seen { method: parts.method.to_string(), path, headers: parts.headers, body });
    tokio::time::sleep(fake.delay).await;
    let (status, body) = fake
        .replies
        .lock()
        .unwrap()
        .pop_front()
        .unwrap_or((418, serde_json::json!({"error": {"type": "unexpected_request"}})));
    (http::StatusCode::from_u16(status).unwrap(), [("content-type", "application/json")], body.to_string())
        .into_response()
}

/// Serves `fake` on a loopback port; returns its base URL.
async fn serve(fake: &Fake) -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().fallback(answer).with_state(fake.clone());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    format!("http://{addr}")
}

fn fixture(file: &str, name: &str) -> Value {
    let path = format!("{}/tests/fixtures/opensearch/{file}.json", env!("CARGO_MANIFEST_DIR"));
    let all: Value = serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
    all.get(name).unwrap_or_else(|| panic!("no {name} in {path}")).clone()
}

/// Replays one recorded pair: the stand-in answers with the recorded response,
/// and the request the engine sent must be the recorded one, validly signed.
async fn replay<T>(file: &str, name: &str, call: impl AsyncFnOnce(&OpenSearch) -> T) -> T {
    let pair = fixture(file, name);
    let fake = Fake::default();
    let response = &pair["response"];
    fake.replies.lock().unwrap().push_back((response["status"].as_u64().unwrap() as u16, response["body"].clone()));
    let engine = OpenSearch::with_credentials(&serve(&fake).await, INDEX, REGION, credentials(None));
    let out = call(&engine).await;

    let seen = fake.seen.lock().unwrap();
    assert_eq!(seen.len(), 1, "{name}: one request");
    let (got, want) = (&seen[0], &pair["request"]);
    assert_eq!(got.method, want["method"].as_str().unwrap(), "{name}");
    assert_eq!(got.path, want["path"].as_str().unwrap(), "{name}");
    if want["body"].is_null() {
        assert!(got.body.is_empty(), "{name}: no body");
    } else {
        let body: Value = serde_json::from_slice(&got.body).unwrap();
        assert_eq!(body, want["body"], "{name}: body");
        assert_eq!(got.header("content-type"), "application/json", "{name}");
    }
    verify_signature(got, None);
    out
}

fn query_of(v: &Value) -> SearchQuery {
    SearchQuery {
        keyword: v["keyword"].as_str().unwrap().into(),
        statuses: v["statuses"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| GroupStatus::parse(s.as_str().unwrap()).unwrap())
            .collect(),
        now: v["now"].as_i64().unwrap(),
        before: v["before"].as_i64(),
        limit: v["limit"].as_u64().unwrap() as usize,
    }
}

fn backend_message(r: Result<impl std::fmt::Debug, SearchError>) -> String {
    match r {
        Err(SearchError::Backend(m)) => m,
        other => panic!("expected an error, got {other:?}"),
    }
}

#[allow(clippy::too_many_arguments)]
fn doc(
    id: i64,
    version: i64,
    status: GroupStatus,
    ends_at: i64,
    title: &str,
    location: &str,
    detail: Option<&str>,
    description: &str,
) -> SearchDoc {
    SearchDoc {
        id,
        version,
        status,
        ends_at,
        title: title.into(),
        location: location.into(),
        location_detail: detail.map(str::to_owned),
        description: description.into(),
    }
}

// ---- recorded pairs ----

#[tokio::test]
async fn ensure_index_sends_the_mapping_and_accepts_an_existing_index() {
    replay("index", "created", async |os| os.ensure_index().await).await.unwrap();
    replay("index", "exists", async |os| os.ensure_index().await).await.unwrap();
    let err = backend_message(replay("index", "forbidden", async |os| os.ensure_index().await).await);
    assert_eq!(err, "PUT /moim-groups: HTTP 403", "status only: the body names the role");
    replay("index", "refresh", async |os| os.refresh().await).await.unwrap();
}

#[tokio::test]
async fn writes_carry_external_versions_and_a_newer_copy_is_success() {
    let d = doc(
        42,
        3,
        GroupStatus::Recruiting,
        1767225600,
        "Rust 스터디",
        "서울 강남구",
        Some("2층 카페"),
        "매주 *토요일* 100%_참여",
    );
    replay("writes", "upsert_created", async |os| os.upsert(&d).await).await.unwrap();
    let older = SearchDoc { version: 2, status: GroupStatus::Cancelled, location_detail: None, ..d.clone() };
    replay("writes", "upsert_conflict", async |os| os.upsert(&older).await).await.unwrap();
    let err = backend_message(replay("writes", "upsert_rejected", async |os| os.upsert(&d).await).await);
    assert_eq!(err, "PUT /moim-groups/_doc/42: HTTP 500 exception");
    assert!(!err.contains("스터디"), "no document text in errors");

    replay("writes", "delete_deleted", async |os| os.delete(42, 4).await).await.unwrap();
    replay("writes", "delete_not_found", async |os| os.delete(43, 1).await).await.unwrap();
    replay("writes", "delete_conflict", async |os| os.delete(42, 2).await).await.unwrap();
    let err = backend_message(replay("writes", "delete_without_index", async |os| os.delete(42, 5).await).await);
    assert_eq!(
        err, "DELETE /moim-groups/_doc/42: HTTP 404 index_not_found_exception",
        "a missing index is not a missing doc"
    );
}

#[tokio::test]
async fn a_search_is_one_filtered_query_of_limit_plus_one_hits() {
    for name in ["escaped_page", "korean_two_characters", "blank_keyword"] {
        let pair = fixture("search", name);
        let q = query_of(&pair["query"]);
        let page = replay("search", name, async |os| os.search(&q).await).await.unwrap();
        let want = &pair["page"];
        let ids: Vec<i64> = want["ids"].as_array().unwrap().iter().map(|v| v.as_i64().unwrap()).collect();
        assert_eq!(page, SearchPage { ids, more: want["more"].as_bool().unwrap() }, "{name}");
    }
    let q = query_of(&fixture("search", "failure")["query"]);
    let err = backend_message(replay("search", "failure", async |os| os.search(&q).await).await);
    assert_eq!(err, "POST /moim-groups/_search: HTTP 500 search_phase_execution_exception");
}

#[tokio::test]
async fn calls_time_out_and_plain_http_is_for_loopback_only() {
    let fake = Fake { delay: Duration::from_secs(3), ..Fake::default() };
    let os = OpenSearch::with_credentials(&serve(&fake).await, INDEX, REGION, credentials(None))
        .with_timeout(Duration::from_millis(200));
    let started = std::time::Instant::now();
    let err = backend_message(os.delete(1, 1).await);
    assert!(err.contains("timed out") && started.elapsed() < Duration::from_secs(2), "{err}");

    let remote = OpenSearch::with_credentials("http://search.example.com", INDEX, REGION, credentials(None));
    let err = backend_message(remote.delete(1, 1).await);
    assert!(err.contains("must be https"), "{err}");
}

// ---- SigV4, recomputed without aws-sigv4 ----

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn sha256_hex(bytes: &[u8]) -> String {
    hex(aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, bytes).as_ref())
}

fn hmac(key: &[u8], data: &str) -> Vec<u8> {
    let key = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, key);
    aws_lc_rs::hmac::sign(&key, data.as_bytes()).as_ref().to_vec()
}

/// SigV4 in header form, from AWS's description: canonical request, string to
/// sign, derived key. `headers` are the signed ones, lower-case names, sorted;
/// the path and query are taken as already encoded (ours need no encoding).
#[allow(clippy::too_many_arguments)]
fn signature(
    secret: &str,
    region: &str,
    service: &str,
    amz_date: &str,
    method: &str,
    path_and_query: &str,
    headers: &[(&str, &str)],
    body: &[u8],
) -> String {
    let (path, query) = path_and_query.split_once('?').unwrap_or((path_and_query, ""));
    let mut params: Vec<(&str, &str)> =
        query.split('&').filter(|p| !p.is_empty()).map(|p| p.split_once('=').unwrap_or((p, ""))).collect();
    params.sort();
    let query: Vec<String> = params.iter().map(|(k, v)| format!("{k}={v}")).collect();
    let canonical_headers: String = headers.iter().map(|(n, v)| format!("{n}:{}\n", v.trim())).collect();
    let signed: Vec<&str> = headers.iter().map(|(n, _)| *n).collect();
    let creq = format!(
        "{method}\n{path}\n{}\n{canonical_headers}\n{}\n{}",
        query.join("&"),
        signed.join(";"),
        sha256_hex(body)
    );
    let date = &amz_date[..8];
    let scope = format!("{date}/{region}/{service}/aws4_request");
    let to_sign = format!("AWS4-HMAC-SHA256\n{amz_date}\n{scope}\n{}", sha256_hex(creq.as_bytes()));
    let key = hmac(format!("AWS4{secret}").as_bytes(), date);
    let key = hmac(&hmac(&hmac(&key, region), service), "aws4_request");
    hex(&hmac(&key, &to_sign))
}

/// The `authorization` header a received request must carry: its headers and
/// body signed over host, x-amz-content-sha256, x-amz-date (and the token).
fn expected_authorization(seen: &Seen, token: Option<&str>) -> String {
    let amz_date = seen.header("x-amz-date");
    let mut names = vec!["host", "x-amz-content-sha256", "x-amz-date"];
    names.extend(token.map(|_| "x-amz-security-token"));
    let headers: Vec<(&str, &str)> = names.iter().map(|n| (*n, seen.header(n))).collect();
    let sig = signature(SECRET, REGION, "es", amz_date, &seen.method, &seen.path, &headers, &seen.body);
    format!(
        "AWS4-HMAC-SHA256 Credential={AKID}/{}/{REGION}/es/aws4_request, SignedHeaders={}, Signature={sig}",
        &amz_date[..8],
        names.join(";")
    )
}

fn verify_signature(seen: &Seen, token: Option<&str>) {
    let amz_date = seen.header("x-amz-date");
    let when = chrono::NaiveDateTime::parse_from_str(amz_date, "%Y%m%dT%H%M%SZ").unwrap().and_utc();
    assert!((chrono::Utc::now() - when).num_seconds().abs() < 300, "signed now: {amz_date}");
    assert_eq!(seen.header("x-amz-content-sha256"), sha256_hex(&seen.body), "payload hash");
    assert_eq!(seen.headers.get("x-amz-security-token").map(|v| v.to_str().unwrap()), token);
    assert_eq!(seen.header("authorization"), expected_authorization(seen, token));
}

#[test]
fn the_test_signer_reproduces_the_aws_test_suite() {
    // Vectors of the AWS SigV4 test suite (get-vanilla, get-vanilla-query-order-key-case,
    // get-vanilla-with-session-token, post-x-www-form-urlencoded).
    let (date, host) = ("20150830T123600Z", ("host", "example.amazonaws.com"));
    fn sig(path_and_query: &str, headers: &[(&str, &str)], body: &[u8], method: &str) -> String {
        signature(SECRET, "us-east-1", "service", "20150830T123600Z", method, path_and_query, headers, body)
    }
    assert_eq!(
        sig("/", &[host, ("x-amz-date", date)], b"", "GET"),
        "5fa00fa31553b73ebf1942676e86291e8372ff2a2260956d9b8aae1d763fbf31"
    );
    assert_eq!(
        sig("/?Param2=value2&Param1=value1", &[host, ("x-amz-date", date)], b"", "GET"),
        "b97d918cfa904a5beff61c982a1b6f458b799221646efd99d3219ec94cdf2500"
    );
    let token = "6e86291e8372ff2a2260956d9b8aae1d763fbf315fa00fa31553b73ebf194267";
    assert_eq!(
        sig("/", &[host, ("x-amz-date", date), ("x-amz-security-token", token)], b"", "GET"),
        "07ec1639c89043aa0e3e2de82b96708f198cceab042d4a97044c66dd9f74e7f8"
    );
    let body = b"Param1=value1";
    let form = [
        ("content-length", "13"),
        ("content-type", "application/x-www-form-urlencoded"),
        host,
        ("x-amz-content-sha256", "9095672bbd1f56dfc5b65f3e153adc8731a4a654192329106275f4c7b24d0b6e"),
        ("x-amz-date", date),
    ];
    assert_eq!(sha256_hex(body), form[3].1);
    assert_eq!(sig("/", &form, body, "POST"), "d3875051da38690788ef43de4db0d8f280229d82040bfac253562e56c3f20e0b");
}

#[tokio::test]
async fn every_request_is_signed_for_es_and_carries_the_session_token() {
    let fake = Fake::default();
    fake.replies
        .lock()
        .unwrap()
        .extend([(201, serde_json::json!({"result": "created"})), (200, serde_json::json!({"hits": {"hits": []}}))]);
    let os = OpenSearch::with_credentials(&serve(&fake).await, INDEX, REGION, credentials(Some("session-token/xyz=")));
    os.upsert(&doc(9, 1, GroupStatus::Full, 5, "제목", "장소", None, "설명")).await.unwrap();
    let q =
        SearchQuery { keyword: "제".into(), statuses: vec![GroupStatus::Full], now: 1, before: Some(10), limit: 5 };
    assert_eq!(os.search(&q).await.unwrap(), SearchPage::default());
    let seen = fake.seen.lock().unwrap();
    assert_eq!(seen.len(), 2);
    for s in seen.iter() {
        verify_signature(s, Some("session-token/xyz="));
    }
    // Without a token there is no token header (checked in every replay); the
    // check is not vacuous: a changed body no longer verifies.
    let tampered = Seen { body: b"{}".to_vec(), ..clone_seen(&seen[0]) };
    assert_ne!(tampered.header("authorization"), expected_authorization(&tampered, Some("session-token/xyz=")));
}

fn clone_seen(s: &Seen) -> Seen {
    Seen { method: s.method.clone(), path: s.path.clone(), headers: s.headers.clone(), body: s.body.clone() }
}

// ---- a real domain: the same answers as the embedded engine ----

const NOW: i64 = 1000;

/// The same writes for both engines: every field, Hangul, case, wildcard
/// characters, each status with passed and future ends, reordered versions
/// and a delete that an older upsert must not undo.
async fn feed(s: &dyn Search) {
    use GroupStatus::*;
    let docs = [
        doc(1, 1, Recruiting, 2000, "Rust 스터디", "서울 강남구", Some("2층"), "매주 토요일 *모임*"),
        doc(2, 1, Full, 500, "러스트 Study", "부산", None, "100% 참여_필수"),
        doc(3, 1, Cancelled, 500, r"a?b\c", "Seoul", Some("Gangnam Station"), "quote \" here"),
        doc(4, 1, Finished, 3000, "축구 모임", "서울 마포구", None, "RUST fans welcome"),
        doc(5, 1, Closed, 3000, "Go 모임", "대전", Some("카페 AB"), "초보 환영"),
        doc(6, 1, Recruiting, NOW, "AB", "b", None, "c"),
        doc(10, 1, Closed, 400, "보드게임", "강남", Some("역삼동"), "ZZ top"),
        doc(11, 1, Recruiting, 5000, "모", "a", None, "*"),
    ];
    for d in &docs {
        s.upsert(d).await.unwrap();
    }
    let seven = |v, title: &str| doc(7, v, Recruiting, 5000, title, "서울", None, "버전");
    for d in [seven(1, "old title"), seven(3, "new title"), seven(2, "stale title"), seven(3, "new title")] {
        s.upsert(&d).await.unwrap();
    }
    s.upsert(&doc(8, 1, Recruiting, 5000, "zombie", "서울", None, "deleted")).await.unwrap();
    s.delete(8, 2).await.unwrap();
    s.upsert(&doc(8, 1, Recruiting, 5000, "zombie", "서울", None, "deleted")).await.unwrap();
    s.delete(8, 2).await.unwrap();
    s.delete(99, 1).await.unwrap();
}

fn queries() -> Vec<SearchQuery> {
    use GroupStatus::*;
    let keywords = [
        "",
        "  ",
        "rust",
        "RUST",
        "Rust 스",
        "러",
        "스터",
        "모임",
        "모",
        "*",
        "?",
        "\\",
        r"a?b\c",
        "%",
        "_",
        "\"",
        "%_",
        "ab",
        "b",
        "c",
        "구2",
        "층매",
        "서울",
        " Seoul ",
        "gangnam st",
        "old",
        "new title",
        "stale",
        "zombie",
        "zz",
        "없음",
    ];
    let sets: [&[GroupStatus]; 7] = [
        &GroupStatus::ALL,
        &[Recruiting],
        &[Finished],
        &[Cancelled, Closed],
        &[Recruiting, Full, Closed],
        &[Full],
        &[],
    ];
    let mut out = Vec::new();
    for k in keywords {
        for statuses in sets {
            for (before, limit) in [(None, 100), (None, 2), (Some(5), 2), (Some(1), 10), (None, 0)] {
                out.push(SearchQuery { keyword: k.into(), statuses: statuses.to_vec(), now: NOW, before, limit });
            }
        }
    }
    out
}

/// Feeds `os` and a fresh embedded engine alike, then every query (and pages
/// walked by the cursor) must get the same page from both.
async fn same_answers_as_embedded(os: &OpenSearch) -> usize {
    os.ensure_index().await.unwrap();
    os.ensure_index().await.unwrap();
    let dir = tempfile::tempdir().unwrap();
    let embedded = EmbeddedSearch::open(dir.path().join("search.sqlite3")).unwrap();
    feed(os).await;
    feed(&embedded).await;
    os.refresh().await.unwrap();

    let all =
        SearchQuery { keyword: String::new(), statuses: GroupStatus::ALL.to_vec(), now: NOW, before: None, limit: 100 };
    assert_eq!(embedded.search(&all).await.unwrap().ids, [11, 10, 7, 6, 5, 4, 3, 2, 1], "the fed set");
    let queries = queries();
    for q in &queries {
        assert_eq!(os.search(q).await.unwrap(), embedded.search(q).await.unwrap(), "{q:?}");
    }
    for k in ["", "모", "서울", "a"] {
        let mut q =
            SearchQuery { keyword: k.into(), statuses: GroupStatus::ALL.to_vec(), now: NOW, before: None, limit: 2 };
        loop {
            let (a, b) = (os.search(&q).await.unwrap(), embedded.search(&q).await.unwrap());
            assert_eq!(a, b, "{q:?}");
            match (a.more, a.ids.last()) {
                (true, Some(last)) => q.before = Some(*last),
                _ => break,
            }
        }
    }
    queries.len()
}

#[tokio::test]
async fn a_real_domain_answers_as_the_embedded_engine() {
    let Ok(url) = std::env::var("OPENSEARCH_URL") else {
        eprintln!("OPENSEARCH_URL is not set: skipping the contract against a real OpenSearch domain");
        return;
    };
    let region = std::env::var("AWS_REGION").unwrap_or_else(|_| "us-east-1".into());
    // A fresh index per run (left behind: the port has no way to drop one).
    let index = format!("moim-contract-{}", uuid::Uuid::new_v4().simple());
    // A local domain over plain http ignores the signature; a real one takes the default chain.
    let os = if url.starts_with("http://") {
        OpenSearch::with_credentials(&url, &index, &region, credentials(None))
    } else {
        OpenSearch::new(&url, &index, &region).await
    };
    let n = same_answers_as_embedded(&os).await;
    eprintln!("{n} queries answered alike by OpenSearch ({url}, index {index}) and the embedded engine");
}

// ---- a stand-in domain that runs the queries the engine sends ----

/// Keeps documents with external versions (and tombstones, as a domain does
/// within index.gc_deletes) and evaluates the query DSL subset the engine
/// uses: bool (filter, should + minimum_should_match, must_not), terms,
/// range, wildcard; sort by id desc; size. It checks the engine's query
/// logic against the embedded engine where no domain is at hand.
#[derive(Clone, Default)]
struct Domain {
    index: Arc<Mutex<Option<Value>>>,
    docs: Arc<Mutex<Held>>,
}

/// Id → (version, document); no document = a tombstone.
type Held = std::collections::BTreeMap<i64, (i64, Option<Value>)>;

fn only(v: &Value) -> (&str, &Value) {
    let o = v.as_object().unwrap();
    assert_eq!(o.len(), 1, "one key: {v}");
    o.iter().next().map(|(k, v)| (k.as_str(), v)).unwrap()
}

fn glob(pattern: &[char], text: &[char]) -> bool {
    match pattern {
        [] => text.is_empty(),
        ['*', rest @ ..] => (0..=text.len()).any(|i| glob(rest, &text[i..])),
        ['?', rest @ ..] => !text.is_empty() && glob(rest, &text[1..]),
        ['\\', c, rest @ ..] | [c, rest @ ..] => text.first() == Some(c) && glob(rest, &text[1..]),
    }
}

fn eval(query: &Value, doc: &Value) -> bool {
    let (kind, body) = only(query);
    let list = |k: &str| body.get(k).map(|v| v.as_array().unwrap().clone()).unwrap_or_default();
    match kind {
        "bool" => {
            let min = body.get("minimum_should_match").map(|v| v.as_u64().unwrap());
            assert!(list("should").is_empty() || min.is_some(), "should without minimum_should_match: {body}");
            list("filter").iter().all(|q| eval(q, doc))
                && !list("must_not").iter().any(|q| eval(q, doc))
                && list("should").iter().filter(|q| eval(q, doc)).count() as u64 >= min.unwrap_or(0)
        }
        "terms" => {
            let (field, values) = only(body);
            values.as_array().unwrap().contains(&doc[field])
        }
        "range" => {
            let (field, bounds) = only(body);
            let x = doc[field].as_i64().unwrap();
            bounds.as_object().unwrap().iter().all(|(op, v)| {
                let v = v.as_i64().unwrap();
                match op.as_str() {
                    "gt" => x > v,
                    "gte" => x >= v,
                    "lt" => x < v,
                    "lte" => x <= v,
                    _ => panic!("range {op}"),
                }
            })
        }
        "wildcard" => {
            let (field, p) = only(body);
            let pattern: Vec<char> = p["value"].as_str().unwrap().chars().collect();
            glob(&pattern, &doc[field].as_str().unwrap().chars().collect::<Vec<_>>())
        }
        _ => panic!("the stand-in does not know {kind}"),
    }
}

fn conflict() -> (u16, Value) {
    (409, serde_json::json!({"error": {"type": "version_conflict_engine_exception"}, "status": 409}))
}

async fn domain(State(d): State<Domain>, req: axum::extract::Request) -> axum::response::Response {
    let (parts, body) = req.into_parts();
    let body = axum::body::to_bytes(body, usize::MAX).await.unwrap();
    let json = || serde_json::from_slice::<Value>(&body).unwrap();
    let segments: Vec<&str> = parts.uri.path().trim_start_matches('/').split('/').collect();
    let version = parts.uri.query().map(|q| {
        assert!(q.ends_with("&version_type=external"), "{q}");
        q.trim_start_matches("version=").split('&').next().unwrap().parse::<i64>().unwrap()
    });
    let (status, answer) = match (parts.method.as_str(), segments.as_slice()) {
        ("PUT", [_]) => {
            let mut index = d.index.lock().unwrap();
            if index.is_some() {
                (400, serde_json::json!({"error": {"type": "resource_already_exists_exception"}}))
            } else {
                assert_eq!(json()["mappings"]["properties"]["text"]["type"], "wildcard");
                *index = Some(json());
                (200, serde_json::json!({"acknowledged": true}))
            }
        }
        ("POST", [_, "_refresh"]) => (200, serde_json::json!({})),
        ("PUT", [_, "_doc", id]) => {
            let (id, v, doc) = (id.parse().unwrap(), version.unwrap(), json());
            let mut docs = d.docs.lock().unwrap();
            if docs.get(&id).is_some_and(|(held, _)| *held >= v) {
                conflict()
            } else {
                assert_eq!((doc["id"].as_i64(), doc["version"].as_i64()), (Some(id), Some(v)));
                docs.insert(id, (v, Some(doc)));
                (201, serde_json::json!({"result": "created"}))
            }
        }
        ("DELETE", [_, "_doc", id]) => {
            let (id, v) = (id.parse().unwrap(), version.unwrap());
            let mut docs = d.docs.lock().unwrap();
            match docs.insert(id, (v, None)) {
                Some((held, doc)) if held >= v => {
                    docs.insert(id, (held, doc));
                    conflict()
                }
                Some((_, Some(_))) => (200, serde_json::json!({"result": "deleted"})),
                _ => (404, serde_json::json!({"result": "not_found"})),
            }
        }
        ("POST", [_, "_search"]) => {
            let q = json();
            assert_eq!(q["sort"], serde_json::json!([{"id": {"order": "desc"}}]));
            let size = q["size"].as_u64().unwrap() as usize;
            let docs = d.docs.lock().unwrap();
            let hits: Vec<Value> = docs
                .values()
                .rev()
                .filter_map(|(_, doc)| doc.as_ref())
                .filter(|doc| eval(&q["query"], doc))
                .take(size)
                .map(|doc| serde_json::json!({"_id": doc["id"].to_string(), "sort": [doc["id"]]}))
                .collect();
            (200, serde_json::json!({"hits": {"hits": hits}}))
        }
        _ => (400, serde_json::json!({"error": {"type": "unexpected_request"}})),
    };
    (http::StatusCode::from_u16(status).unwrap(), [("content-type", "application/json")], answer.to_string())
        .into_response()
}

#[tokio::test]
async fn the_queries_sent_answer_as_the_embedded_engine_on_a_stand_in_domain() {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    let app = axum::Router::new().fallback(domain).with_state(Domain::default());
    tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let os = OpenSearch::with_credentials(&url, INDEX, REGION, credentials(None));
    assert!(same_answers_as_embedded(&os).await > 1000);
}
