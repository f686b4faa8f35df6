//! WebSocket connections and STOMP subscriptions (API.md §9), and the fan-out
//! of MESSAGE frames through the push port.
//!
//! - connection `CONN#<id>` / `META`: the bound user (after CONNECT), TTL 3 h
//!   (`$disconnect` is not guaranteed).
//! - subscription `DEST#<destination>` / `SUB#<connectionId>#<subId>`: one query
//!   finds every subscriber of a destination; TTL as the connection.
//! - pointer `CONN#<id>` / `SUB#<subId>`: the destination of a subscription, so
//!   UNSUBSCRIBE and close read the connection's own partition (strongly
//!   consistent), never an index.

use chrono::{DateTime, Utc};
use futures::StreamExt;
use moim_domain::group::Profile;
use moim_stomp::Frame;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::push::{Push, PushError};
use crate::table::*;
use crate::users::{from_item, to_item};

/// Lifetime of connection and subscription records: API Gateway closes a
/// socket after 2 h, so 3 h outlives every real one.
pub const CONNECTION_TTL_SECS: i64 = 3 * 3600;
/// Frames posted at once during a fan-out.
const FANOUT_CONCURRENCY: usize = 16;
const SUB_PREFIX: &str = "SUB#";

pub fn connection_key(connection_id: &str) -> Key {
    Key::new(format!("CONN#{connection_id}"), "META")
}
fn pointer_key(connection_id: &str, sub_id: &str) -> Key {
    Key::new(format!("CONN#{connection_id}"), format!("{SUB_PREFIX}{sub_id}"))
}
fn dest_pk(destination: &str) -> String {
    format!("DEST#{destination}")
}
fn subscription_key(destination: &str, connection_id: &str, sub_id: &str) -> Key {
    Key::new(dest_pk(destination), format!("{SUB_PREFIX}{connection_id}#{sub_id}"))
}

pub fn room_destination(room_id: i64) -> String {
    format!("/sub/chat/room/{room_id}")
}
pub fn user_destination(user_id: i64) -> String {
    format!("/sub/user/{user_id}")
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Connection {
    pub connection_id: String,
    /// Set by a successful STOMP CONNECT (or a token at `$connect`).
    #[serde(default)]
    pub user: Option<Profile>,
    #[serde(with = "moim_domain::time::wire")]
    pub connected_at: DateTime<Utc>,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Subscription {
    pub connection_id: String,
    pub subscription_id: String,
    pub destination: String,
    pub user_id: i64,
}

fn expiring(mut item: Item, now: DateTime<Utc>) -> Item {
    item.insert(EXPIRES_AT.into(), json!(now.timestamp() + CONNECTION_TTL_SECS));
    item
}

/// `$connect`: the connection, with its user when the handshake carried a valid token.
pub async fn open(t: &dyn Table, c: &Connection, now: DateTime<Utc>) -> Result<(), StoreError> {
    let mut item = expiring(to_item(&connection_key(&c.connection_id), c), now);
    item.insert(DRAIN_UNTIL.into(), json!(0));
    t.transact(vec![WriteOp::put(item)]).await
}

/// STOMP CONNECT: binds the user to an open connection (only the user changes).
pub async fn bind(t: &dyn Table, connection_id: &str, user: &Profile) -> Result<(), StoreError> {
    let update = Update::new().set("user", serde_json::to_value(user).unwrap_or_default());
    t.transact(vec![WriteOp::update(connection_key(connection_id), update).when(Cond::Exists)]).await
}

// ------------------------------------------------------------------ inbox

/// The drain lease on the connection item: epoch milliseconds it is held until.
const DRAIN_UNTIL: &str = "drainUntil";
const INBOX_PREFIX: &str = "IN#";
/// How long a drainer holds a connection before another may take over (a
/// crashed drainer delays the connection's frames by at most this).
pub const DRAIN_LEASE_MS: i64 = 10_000;
/// Inbox items are gone after a day even if nobody drains them.
const INBOX_TTL_SECS: i64 = 24 * 3600;

/// One WebSocket message waiting in a connection's inbox, in arrival order.
#[derive(Debug, Clone)]
pub struct Inbound {
    pub key: Key,
    pub body: String,
}

/// Queues a `$default` message under its arrival time (API Gateway's
/// `requestTimeEpoch`) and message id, so the drainer handles it in order.
pub async fn inbox_put(
    t: &dyn Table,
    connection_id: &str,
    arrived_ms: i64,
    message_id: &str,
    body: &str,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let key = Key::new(format!("CONN#{connection_id}"), format!("{INBOX_PREFIX}{arrived_ms:015}#{message_id}"));
    let item = to_item(&key, &json!({ "body": body, EXPIRES_AT: now.timestamp() + INBOX_TTL_SECS }));
    t.transact(vec![WriteOp::put(item)]).await
}

/// The oldest waiting messages of a connection (at most `limit`).
pub async fn inbox(t: &dyn Table, connection_id: &str, limit: usize) -> Result<Vec<Inbound>, StoreError> {
    let q = Query::table(format!("CONN#{connection_id}")).sk(SkCond::BeginsWith(INBOX_PREFIX.into())).limit(limit);
    Ok(t.query(q)
        .await?
        .items
        .into_iter()
        .filter_map(|i| {
            Some(Inbound {
                key: Key::of(&i)?,
                body: i.get("body").and_then(Value::as_str).unwrap_or_default().to_string(),
            })
        })
        .collect())
}

pub async fn inbox_done(t: &dyn Table, item: &Inbound) -> Result<(), StoreError> {
    t.transact(vec![WriteOp::delete(item.key.clone())]).await
}

/// Takes the connection's drain lease for `owner` when it is free; false when
/// another drainer holds it (or the connection is gone).
pub async fn acquire_drain(t: &dyn Table, connection_id: &str, owner: &str, now_ms: i64) -> Result<bool, StoreError> {
    let update = Update::new().set("drainer", owner).set(DRAIN_UNTIL, now_ms + DRAIN_LEASE_MS);
    let op = WriteOp::update(connection_key(connection_id), update)
        .when(Cond::Exists)
        .when(Cond::LessThan(DRAIN_UNTIL.into(), now_ms));
    lease_result(t.transact(vec![op]).await)
}

/// Extends a lease `owner` holds; false when it was lost (expired and taken).
pub async fn renew_drain(t: &dyn Table, connection_id: &str, owner: &str, now_ms: i64) -> Result<bool, StoreError> {
    let op = WriteOp::update(connection_key(connection_id), Update::new().set(DRAIN_UNTIL, now_ms + DRAIN_LEASE_MS))
        .when(Cond::equals("drainer", owner));
    lease_result(t.transact(vec![op]).await)
}

fn lease_result(r: Result<(), StoreError>) -> Result<bool, StoreError> {
    match r {
        Ok(()) => Ok(true),
        Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => Ok(false),
        Err(e) => Err(e),
    }
}

/// Gives the lease back (only if still ours).
pub async fn release_drain(t: &dyn Table, connection_id: &str, owner: &str) -> Result<(), StoreError> {
    let op = WriteOp::update(connection_key(connection_id), Update::new().set(DRAIN_UNTIL, 0))
        .when(Cond::equals("drainer", owner));
    match t.transact(vec![op]).await {
        Ok(()) | Err(StoreError::ConditionFailed { .. }) => Ok(()),
        Err(e) => Err(e),
    }
}

pub async fn get_connection(t: &dyn Table, connection_id: &str) -> Result<Option<Connection>, StoreError> {
    t.get(&connection_key(connection_id)).await?.map(from_item).transpose()
}

/// A subscription and its pointer, replacing one with the same id on this
/// connection; `guard` (e.g. "still a participant") rides in the same transaction.
pub async fn subscribe(
    t: &dyn Table,
    s: &Subscription,
    guard: Option<WriteOp>,
    now: DateTime<Utc>,
) -> Result<(), StoreError> {
    let mut ops: Vec<WriteOp> = guard.into_iter().collect();
    if let Some(old) = t.get(&pointer_key(&s.connection_id, &s.subscription_id)).await? {
        if let Some(dest) = old.get("destination").and_then(Value::as_str).filter(|d| *d != s.destination) {
            ops.push(WriteOp::delete(subscription_key(dest, &s.connection_id, &s.subscription_id)));
        }
    }
    let pointer = to_item(&pointer_key(&s.connection_id, &s.subscription_id), &json!({ "destination": s.destination }));
    ops.push(WriteOp::put(expiring(pointer, now)));
    let sub = to_item(&subscription_key(&s.destination, &s.connection_id, &s.subscription_id), s);
    ops.push(WriteOp::put(expiring(sub, now)));
    t.transact(ops).await
}

/// UNSUBSCRIBE: removes the subscription with this id (none is fine).
pub async fn unsubscribe(t: &dyn Table, connection_id: &str, sub_id: &str) -> Result<(), StoreError> {
    let pointer = pointer_key(connection_id, sub_id);
    let Some(item) = t.get(&pointer).await? else { return Ok(()) };
    let mut ops = vec![WriteOp::delete(pointer)];
    if let Some(dest) = item.get("destination").and_then(Value::as_str) {
        ops.push(WriteOp::delete(subscription_key(dest, connection_id, sub_id)));
    }
    t.transact(ops).await
}

/// `$disconnect`, a 410, or an ERROR: the connection and all its subscriptions.
pub async fn close(t: &dyn Table, connection_id: &str) -> Result<(), StoreError> {
    let mut ops = vec![WriteOp::delete(connection_key(connection_id))];
    let mut cursor = None;
    loop {
        let q = Query::table(format!("CONN#{connection_id}")).sk(SkCond::BeginsWith(SUB_PREFIX.into())).cursor(cursor);
        let page = t.query(q).await?;
        for item in page.items {
            let (Some(key), Some(dest)) = (Key::of(&item), item.get("destination").and_then(Value::as_str)) else {
                continue;
            };
            let sub_id = key.sk.trim_start_matches(SUB_PREFIX).to_string();
            ops.push(WriteOp::delete(subscription_key(dest, connection_id, &sub_id)));
            ops.push(WriteOp::delete(key));
        }
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    for chunk in ops.chunks(MAX_TRANSACT_OPS) {
        t.transact(chunk.to_vec()).await?;
    }
    Ok(())
}

/// Every subscription to a destination (one query for a room: rooms are small).
pub async fn subscribers(t: &dyn Table, destination: &str) -> Result<Vec<Subscription>, StoreError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = t.query(Query::table(dest_pk(destination)).limit(100).cursor(cursor)).await?;
        for item in page.items {
            out.push(from_item(item)?);
        }
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// The MESSAGE frame of a subscription (body = JSON).
pub fn message_frame(s: &Subscription, message_id: &str, body: &str) -> String {
    Frame::new("MESSAGE")
        .with_header("destination", &s.destination)
        .with_header("subscription", &s.subscription_id)
        .with_header("message-id", message_id)
        .with_header("content-type", "application/json")
        .with_header("content-length", body.len().to_string())
        .with_body(body)
        .encode()
}

/// Posts one frame to a connection; a gone connection is closed in storage.
/// Returns whether it was delivered.
pub async fn post(t: &dyn Table, push: &dyn Push, connection_id: &str, frame: &str) -> bool {
    match push.post(connection_id, frame).await {
        Ok(()) => true,
        Err(PushError::Gone) => {
            if let Err(e) = close(t, connection_id).await {
                tracing::warn!(connection_id, error = %e, "cleanup of a gone connection failed");
            }
            false
        }
        Err(e) => {
            tracing::warn!(connection_id, error = %e, "push failed");
            false
        }
    }
}

/// Sends `body` as a MESSAGE to the given subscriptions, concurrently; gone
/// connections are cleaned up. Returns how many were delivered. (The posts are
/// futures of a named async fn: a stream of borrowing closures defeats `Send`
/// inference in the callers.)
pub async fn deliver(t: &dyn Table, push: &dyn Push, subs: &[Subscription], message_id: &str, body: &str) -> usize {
    let posts: Vec<_> = subs.iter().map(|s| post_message_frame(t, push, s, message_id, body)).collect();
    let delivered: Vec<bool> = futures::stream::iter(posts).buffer_unordered(FANOUT_CONCURRENCY).collect().await;
    delivered.into_iter().filter(|ok| *ok).count()
}

async fn post_message_frame(t: &dyn Table, push: &dyn Push, s: &Subscription, message_id: &str, body: &str) -> bool {
    post(t, push, &s.connection_id, &message_frame(s, message_id, body)).await
}

/// Sends `body` to every subscriber of a destination (one query + one post each).
pub async fn publish(
    t: &dyn Table,
    push: &dyn Push,
    destination: &str,
    message_id: &str,
    body: &str,
) -> Result<usize, StoreError> {
    let subs = subscribers(t, destination).await?;
    Ok(deliver(t, push, &subs, message_id, body).await)
}

/// Removes the subscriptions to a destination that `which` selects.
pub async fn drop_subscriptions(
    t: &dyn Table,
    destination: &str,
    which: impl Fn(&Subscription) -> bool,
) -> Result<(), StoreError> {
    let subs: Vec<Subscription> = subscribers(t, destination).await?.into_iter().filter(|s| which(s)).collect();
    delete_subscriptions(t, &subs).await
}

async fn delete_subscriptions(t: &dyn Table, subs: &[Subscription]) -> Result<(), StoreError> {
    let ops: Vec<WriteOp> = subs
        .iter()
        .flat_map(|s| {
            [
                WriteOp::delete(subscription_key(&s.destination, &s.connection_id, &s.subscription_id)),
                WriteOp::delete(pointer_key(&s.connection_id, &s.subscription_id)),
            ]
        })
        .collect();
    for chunk in ops.chunks(MAX_TRANSACT_OPS) {
        t.transact(chunk.to_vec()).await?;
    }
    Ok(())
}

/// A committed group write's room effects (API.md §9) from one read of the
/// room's subscribers: the leavers' subscriptions go, and they are not sent
/// their own leave message; `messages` (id, body) reach everyone else, in
/// order; then the kicked members' subscriptions go, after their KICK reached
/// them. Nothing is read when there is nothing to do.
pub async fn room_update(
    t: &dyn Table,
    push: &dyn Push,
    room_id: i64,
    messages: &[(String, String)],
    left: &[i64],
    kicked: &[i64],
) -> Result<(), StoreError> {
    if messages.is_empty() && left.is_empty() && kicked.is_empty() {
        return Ok(());
    }
    let subs = subscribers(t, &room_destination(room_id)).await?;
    let (leaving, staying): (Vec<_>, Vec<_>) = subs.into_iter().partition(|s| left.contains(&s.user_id));
    let send = async {
        for (id, body) in messages {
            deliver(t, push, &staying, id, body).await;
        }
    };
    let (left_dropped, ()) = futures::future::join(delete_subscriptions(t, &leaving), send).await;
    let kicked: Vec<Subscription> = staying.into_iter().filter(|s| kicked.contains(&s.user_id)).collect();
    let kicked_dropped = delete_subscriptions(t, &kicked).await;
    left_dropped.and(kicked_dropped)
}

/// Pushes stored notifications live to their receivers' `/sub/user/{id}` (best
/// effort, after the commit that stored them). Receivers are served
/// concurrently (a GROUP_CREATE fan-out reaches many followers), each one's own
/// notifications in order.
pub async fn push_notifications(t: &dyn Table, push: &dyn Push, items: &[Item]) {
    let mut receivers: Vec<(i64, Vec<&Item>)> = Vec::new();
    let mut index = std::collections::HashMap::new();
    for item in items {
        let Some(receiver) = item.get("receiverId").and_then(Value::as_i64) else { continue };
        let at = *index.entry(receiver).or_insert_with(|| {
            receivers.push((receiver, Vec::new()));
            receivers.len() - 1
        });
        receivers[at].1.push(item);
    }
    let pushes: Vec<_> =
        receivers.iter().map(|(receiver, items)| push_to_receiver(t, push, *receiver, items)).collect();
    futures::stream::iter(pushes).buffer_unordered(FANOUT_CONCURRENCY).collect::<Vec<()>>().await;
}

async fn push_to_receiver(t: &dyn Table, push: &dyn Push, receiver: i64, items: &[&Item]) {
    for item in items {
        let id = item.get("id").map(Value::to_string).unwrap_or_default();
        let body = crate::notifications::view(item).to_string();
        if let Err(e) = publish(t, push, &user_destination(receiver), &format!("noti-{id}"), &body).await {
            tracing::warn!(receiver, error = %e, "live notification push failed");
        }
    }
}
