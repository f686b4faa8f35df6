//! The notifications stream (API.md §10.2) over real HTTP against
//! `moim-local serve`, on every engine: token checks before the stream, the
//! connect event, live delivery, replay after Last-Event-ID with nothing
//! missed or repeated, keepalives and the bounded lifetime.

use std::time::Duration;

use moim_blackbox::{engines, Client, Engine, Server};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_moim-local");
const PATH: &str = "/api/v1/notifications/subscribe";

/// An open SSE response and the text received so far.
struct Sse {
    res: reqwest::Response,
    buf: String,
}

#[derive(Debug, Clone, PartialEq)]
struct Event {
    name: String,
    id: Option<i64>,
    data: String,
}

impl Sse {
    async fn open(srv: &Server, token: &str, last_event_id: Option<i64>) -> Sse {
        let mut req = reqwest::Client::new()
            .get(format!("{}{PATH}?accessToken={token}", srv.url))
            .header("origin", "http://localhost:3001");
        if let Some(id) = last_event_id {
            req = req.header("last-event-id", id.to_string());
        }
        let res = req.send().await.unwrap();
        assert_eq!(res.status(), 200);
        assert_eq!(res.headers()["content-type"], "text/event-stream");
        assert_eq!(res.headers()["access-control-allow-origin"], "http://localhost:3001");
        Sse { res, buf: String::new() }
    }

    /// The next block (event or comment), or None when the stream ended or `wait` passed.
    async fn next_block(&mut self, wait: Duration) -> Option<String> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(i) = self.buf.find("\n\n") {
                let block = self.buf[..i].to_string();
                self.buf.drain(..i + 2);
                return Some(block);
            }
            let chunk = tokio::time::timeout_at(deadline, self.res.chunk()).await.ok()?.unwrap()?;
            self.buf.push_str(std::str::from_utf8(&chunk).unwrap());
        }
    }

    /// The next event within `wait` (comments skipped).
    async fn next_event(&mut self, wait: Duration) -> Option<Event> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            let block = self.next_block(deadline.saturating_duration_since(tokio::time::Instant::now())).await?;
            if block.starts_with(':') {
                continue;
            }
            let field =
                |name: &str| block.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim_start().to_string()));
            return Some(Event {
                name: field("event:").unwrap_or_default(),
                id: field("id:").and_then(|v| v.parse().ok()),
                data: field("data:").unwrap_or_default(),
            });
        }
    }
}

fn in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).format("%Y-%m-%dT%H:%M:%S").to_string()
}

async fn approval_group(host: &Client) -> i64 {
    let body = json!({
        "title": "승인 모임", "location": "서울", "startTime": in_days(3), "description": "d",
        "maxParticipants": 6, "joinPolicy": "APPROVAL_REQUIRED",
    });
    let r = host.post("/api/v2/groups/create", Some(body)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.data()["id"].as_i64().unwrap()
}

const FAST: [(&str, &str); 3] = [("SSE_POLL_MS", "100"), ("SSE_KEEPALIVE_SECS", "1"), ("SSE_LIFETIME_SECS", "60")];

#[tokio::test]
async fn join_requests_reach_the_host_live_and_a_reconnect_misses_nothing() {
    for engine in engines() {
        let srv = Server::start_with_env(BIN, engine, &FAST);
        let c = srv.client();
        let (host, _, _) = c.register("host@b.com", "Host").await;
        let token = host.token.clone().unwrap();
        let (m1, m1_id, _) = c.register("m1@b.com", "Member1").await;
        let (m2, _, _) = c.register("m2@b.com", "Member2").await;
        let (m3, _, _) = c.register("m3@b.com", "Member3").await;
        let id = approval_group(&host).await;

        // The token is checked before any stream: the §1.3 body.
        c.get(PATH).await.expect(401, "NOT_FOUND_TOKEN");
        c.get(&format!("{PATH}?accessToken=garbage")).await.expect(401, "INVALID_TOKEN");

        let mut sse = Sse::open(&srv, &token, None).await;
        let first = sse.next_event(Duration::from_secs(5)).await.unwrap();
        assert_eq!((first.name.as_str(), first.data.as_str()), ("connect", "Connected"));
        assert_eq!(
            m1.post(&format!("/api/v2/groups/{id}/attend"), Some(json!({"message": "안녕하세요"}))).await.status,
            200
        );
        let live = sse.next_event(Duration::from_secs(10)).await.expect("the join request arrives live");
        assert_eq!(live.name, "notification", "{engine:?}: {live:?}");
        let n: Value = serde_json::from_str(&live.data).unwrap();
        assert_eq!(n["type"], "GROUP_JOIN_REQUEST");
        assert_eq!(n["user"]["id"], m1_id);
        assert_eq!(live.id, n["id"].as_i64(), "the SSE id is the notification id");
        drop(sse);

        // While disconnected: two more notifications.
        assert_eq!(m2.post(&format!("/api/v2/groups/{id}/attend"), None).await.status, 200);
        assert_eq!(m3.post("/api/v1/users/follow?followNickname=Host", None).await.status, 201);

        let mut sse = Sse::open(&srv, &token, live.id).await;
        assert_eq!(sse.next_event(Duration::from_secs(5)).await.unwrap().name, "connect");
        let a = sse.next_event(Duration::from_secs(10)).await.unwrap();
        let b = sse.next_event(Duration::from_secs(10)).await.unwrap();
        let types: Vec<String> = [&a, &b]
            .iter()
            .map(|e| serde_json::from_str::<Value>(&e.data).unwrap()["type"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(types, ["GROUP_JOIN_REQUEST", "FOLLOW"], "{engine:?}: replayed oldest first");
        assert!(a.id < b.id && a.id > live.id);
        // Nothing else: a few keepalive periods pass without another event.
        assert_eq!(sse.next_event(Duration::from_millis(2500)).await, None, "nothing repeated");
    }
}

#[tokio::test]
async fn the_stream_keeps_alive_and_ends_after_its_lifetime() {
    let srv = Server::start_with_env(
        BIN,
        Engine::Embedded,
        &[("SSE_POLL_MS", "100"), ("SSE_KEEPALIVE_SECS", "1"), ("SSE_LIFETIME_SECS", "3")],
    );
    let (host, _, _) = srv.client().register("host@b.com", "Host").await;
    let mut sse = Sse::open(&srv, host.token.as_deref().unwrap(), None).await;
    let mut blocks = Vec::new();
    while let Some(b) = sse.next_block(Duration::from_secs(10)).await {
        blocks.push(b);
    }
    assert_eq!(blocks[0], "event: connect\ndata: Connected");
    assert!(blocks.iter().any(|b| b == ": keepalive"), "{blocks:?}");
    assert!(sse.res.chunk().await.unwrap().is_none(), "the stream ended by itself");
}
