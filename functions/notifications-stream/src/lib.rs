//! The notifications stream (API.md §10.2): Server-Sent Events from a
//! response-streaming Lambda behind a function URL (HTTP APIs cannot stream),
//! served by moim-local at the same path. The token comes as `accessToken`
//! (EventSource cannot send headers) and is checked before any byte of the
//! stream: a bad one is the §1.3 error body. Then `event: connect`, the
//! notifications after `Last-Event-ID` oldest first, new ones as they are
//! stored (polled), keepalive comments, and an end after a bounded lifetime —
//! the client reconnects with `Last-Event-ID`, so nothing is missed.

/// The engines this function links besides the table (the table only (the stream polls it)).
pub const PORTS: u8 = moim_web::ports::TABLE_ONLY;

use std::collections::BTreeSet;
use std::sync::Arc;
use std::time::Duration;

use bytes::Bytes;
use moim_store::{keys, notifications, Query, SkCond};
use moim_web::{ApiError, AppContext};
use tokio::sync::mpsc;
use tokio::time::Instant;

/// Where moim-local serves the stream (CloudFront maps it to the function URL on AWS).
pub const PATH: &str = "/api/v1/notifications/subscribe";

#[derive(Debug, Clone, Copy)]
pub struct SseConfig {
    /// How often the store is asked for new notifications.
    pub poll: Duration,
    /// A comment after this much silence keeps proxies from closing the stream.
    pub keepalive: Duration,
    /// The stream ends after this (Lambda's limit is 15 min).
    pub lifetime: Duration,
}

impl SseConfig {
    /// `SSE_POLL_MS` (2000), `SSE_KEEPALIVE_SECS` (15), `SSE_LIFETIME_SECS` (840).
    pub fn from_env() -> SseConfig {
        let num =
            |name: &str, default: u64| std::env::var(name).ok().and_then(|v| v.trim().parse().ok()).unwrap_or(default);
        SseConfig {
            poll: Duration::from_millis(num("SSE_POLL_MS", 2000).max(50)),
            keepalive: Duration::from_secs(num("SSE_KEEPALIVE_SECS", 15).max(1)),
            lifetime: Duration::from_secs(num("SSE_LIFETIME_SECS", 840)),
        }
    }
}

/// Ids are milliseconds << 11: a notification may commit a little after one
/// with a higher id (its transaction was slower), so each poll looks this far
/// back below the newest id sent and skips what it already sent.
const LOOKBACK_IDS: i64 = 30_000 << 11;
/// Notifications sent per query page.
const PAGE: usize = 100;

/// Authenticates, then starts the stream: the receiver yields SSE chunks and
/// ends when the lifetime is over (or stops being polled when dropped).
pub async fn open(
    ctx: Arc<AppContext>,
    access_token: Option<&str>,
    last_event_id: Option<&str>,
    cfg: SseConfig,
) -> Result<mpsc::Receiver<Bytes>, ApiError> {
    let user = moim_web::request::authenticate(&ctx, access_token).await?;
    let after = last_event_id.and_then(|v| moim_web::request::parse_id(v.trim()));
    tracing::info!(user_id = user.id(), last_event_id = after, "sse open");
    // Without Last-Event-ID only what comes after the connection is sent.
    let after = match after {
        Some(id) => id,
        None => newest_id(&ctx, user.id()).await?.unwrap_or(0),
    };
    let (tx, rx) = mpsc::channel(32);
    tokio::spawn(run(ctx, user.id(), after, cfg, tx));
    Ok(rx)
}

async fn newest_id(ctx: &AppContext, user_id: i64) -> Result<Option<i64>, ApiError> {
    let page = ctx.table.query(Query::gsi1(keys::notifications_gsi(user_id)).backward().limit(1)).await?;
    Ok(page.items.first().and_then(|i| i.get("id")?.as_i64()))
}

/// One SSE event of a notification item.
pub fn event(item: &moim_store::Item) -> Option<(i64, Bytes)> {
    let id = item.get("id")?.as_i64()?;
    Some((id, Bytes::from(format!("event: notification\nid: {id}\ndata: {}\n\n", notifications::view(item)))))
}

async fn run(ctx: Arc<AppContext>, user_id: i64, after: i64, cfg: SseConfig, tx: mpsc::Sender<Bytes>) {
    let deadline = Instant::now() + cfg.lifetime;
    if tx.send(Bytes::from_static(b"event: connect\ndata: Connected\n\n")).await.is_err() {
        return;
    }
    // Ids sent (or acknowledged by Last-Event-ID) inside the lookback window.
    let mut newest = after;
    let mut sent: BTreeSet<i64> = BTreeSet::new();
    let mut floor = after + 1; // the first poll replays strictly after Last-Event-ID
    let mut quiet_since = Instant::now();
    loop {
        match poll(&ctx, user_id, floor).await {
            Ok(items) => {
                for item in items {
                    let Some((id, chunk)) = event(&item) else { continue };
                    if id <= after || !sent.insert(id) {
                        continue;
                    }
                    if tx.send(chunk).await.is_err() {
                        return; // the client went away
                    }
                    newest = newest.max(id);
                    quiet_since = Instant::now();
                }
            }
            Err(e) => tracing::warn!(user_id, error = %e, "notification poll failed; retrying"),
        }
        floor = (newest - LOOKBACK_IDS).max(after + 1);
        sent = sent.split_off(&floor);
        if Instant::now() >= deadline {
            return;
        }
        tokio::time::sleep(cfg.poll.min(deadline.saturating_duration_since(Instant::now()))).await;
        if quiet_since.elapsed() >= cfg.keepalive {
            if tx.send(Bytes::from_static(b": keepalive\n\n")).await.is_err() {
                return;
            }
            quiet_since = Instant::now();
        }
    }
}

/// The user's notifications with ids from `floor` on, oldest first.
async fn poll(ctx: &AppContext, user_id: i64, floor: i64) -> Result<Vec<moim_store::Item>, moim_store::StoreError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let q = Query::gsi1(keys::notifications_gsi(user_id))
            .sk(SkCond::Between(keys::pad(floor), keys::pad((1i64 << 53) - 1)))
            .limit(PAGE)
            .cursor(cursor);
        let page = ctx.table.query(q).await?;
        out.extend(page.items);
        match page.cursor {
            Some(c) if out.len() < 10 * PAGE => cursor = Some(c),
            _ => return Ok(out),
        }
    }
}

/// Response headers of the stream.
pub const HEADERS: [(&str, &str); 3] =
    [("content-type", "text/event-stream"), ("cache-control", "no-cache"), ("x-accel-buffering", "no")];
