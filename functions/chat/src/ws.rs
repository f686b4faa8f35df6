//! The WebSocket side (API.md §9): API Gateway's `$connect` / `$default` /
//! `$disconnect` events carrying STOMP 1.2 frames. Replies and fan-out go
//! through the push port (`PostToConnection`); connection and subscription
//! records live in the table (`moim_store::realtime`).
//!
//! Frames of one event are handled in order. moim-local runs one connection's
//! events one after another; on AWS, API Gateway may run `$default`
//! concurrently for one connection (see docs/DATA_MODEL.md "Real time").

use chrono::Utc;
use moim_domain::group::Profile;
use moim_domain::{DomainError, ErrorCode};
use moim_stomp::{parse_frames, Frame};
use moim_store::chat as chat_repo;
use moim_store::realtime::{self as rt, Connection, Subscription};
use moim_web::request::bearer_token;
use moim_web::{ApiError, AppContext};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::post_message;

/// The STOMP versions offered as WebSocket subprotocols, best first.
const SUBPROTOCOLS: [&str; 3] = ["v12.stomp", "v11.stomp", "v10.stomp"];
pub const SEND_DESTINATION: &str = "/pub/chat/message";

/// Handles one API Gateway WebSocket event; returns the integration response.
pub async fn handle(ctx: &AppContext, event: Value) -> Result<Value, String> {
    let rc = &event["requestContext"];
    let conn = rc["connectionId"].as_str().ok_or("event without requestContext.connectionId")?.to_string();
    match rc["routeKey"].as_str().unwrap_or("$default") {
        "$connect" => connect(ctx, &conn, &event).await,
        "$disconnect" => {
            tracing::info!(connection_id = conn, "ws disconnect");
            rt::close(&*ctx.table, &conn).await.map_err(|e| e.to_string())?;
            Ok(json!({ "statusCode": 200 }))
        }
        _ => {
            let body = event["body"].as_str().unwrap_or_default();
            if event["isBase64Encoded"].as_bool() == Some(true) {
                fail(ctx, &conn, "binary frames are not supported", "").await;
            } else if ctx.config.ws_serialize {
                let arrived = rc["requestTimeEpoch"].as_i64().unwrap_or_else(|| Utc::now().timestamp_millis());
                let id = rc["messageId"].as_str().or(rc["requestId"].as_str()).map(str::to_string);
                let id = id.unwrap_or_else(|| moim_store::keys::next_id().to_string());
                rt::inbox_put(&*ctx.table, &conn, arrived, &id, body, Utc::now()).await.map_err(|e| e.to_string())?;
                drain(ctx, &conn).await.map_err(|e| e.to_string())?;
            } else {
                Session { ctx, conn: &conn }.frames(body).await;
            }
            Ok(json!({ "statusCode": 200 }))
        }
    }
}

/// Messages drained from a connection's inbox per query.
const DRAIN_BATCH: usize = 25;

/// Handles a connection's queued messages in arrival order while holding its
/// drain lease. An invocation that cannot take the lease leaves its message to
/// the current drainer, which looks again after giving the lease back, so no
/// message waits for a next one. Order is API Gateway's arrival order, except
/// for a message whose invocation queues it only after later ones were
/// handled (e.g. behind a cold start).
pub async fn drain(ctx: &AppContext, conn: &str) -> Result<(), moim_store::StoreError> {
    let t = &*ctx.table;
    let me = uuid::Uuid::new_v4().to_string();
    loop {
        if !rt::acquire_drain(t, conn, &me, Utc::now().timestamp_millis()).await? {
            return Ok(());
        }
        loop {
            let batch = rt::inbox(t, conn, DRAIN_BATCH).await?;
            if batch.is_empty() {
                break;
            }
            for item in batch {
                // Still ours? (a stalled drainer whose lease ran out stops here)
                if !rt::renew_drain(t, conn, &me, Utc::now().timestamp_millis()).await? {
                    return Ok(());
                }
                Session { ctx, conn }.frames(&item.body).await;
                rt::inbox_done(t, &item).await?;
            }
        }
        rt::release_drain(t, conn, &me).await?;
        if rt::inbox(t, conn, 1).await?.is_empty() {
            return Ok(());
        }
    }
}

/// A header of the event, by case-insensitive name.
fn header<'a>(event: &'a Value, name: &str) -> Option<&'a str> {
    event["headers"].as_object()?.iter().find(|(k, _)| k.eq_ignore_ascii_case(name))?.1.as_str()
}

/// `$connect`: accept, choosing a STOMP subprotocol the client offered (browsers
/// drop the socket if none is echoed), and bind the user if a valid token came
/// with the handshake (`?token=`, `Authorization`, cookie `accessToken`).
async fn connect(ctx: &AppContext, conn: &str, event: &Value) -> Result<Value, String> {
    let offered: Vec<&str> =
        header(event, "sec-websocket-protocol").map(|h| h.split(',').map(str::trim).collect()).unwrap_or_default();
    let chosen = SUBPROTOCOLS.iter().find(|p| offered.contains(p));
    let token = event["queryStringParameters"]["token"]
        .as_str()
        .map(str::to_string)
        .or_else(|| header(event, "authorization").and_then(bearer_token).map(str::to_string))
        .or_else(|| {
            header(event, "cookie").and_then(|c| moim_web::auth::cookie_value(c, "accessToken")).map(str::to_string)
        });
    let user = match token {
        Some(t) => moim_web::request::authenticate(ctx, Some(&t)).await.ok().map(|u| Profile::of(&u.user)),
        None => None,
    };
    tracing::info!(connection_id = conn, user_id = user.as_ref().map(|u| u.user_id), protocol = chosen, "ws connect");
    let record = Connection { connection_id: conn.to_string(), user, connected_at: Utc::now() };
    rt::open(&*ctx.table, &record, Utc::now()).await.map_err(|e| e.to_string())?;
    Ok(match chosen {
        Some(p) => json!({ "statusCode": 200, "headers": { "Sec-WebSocket-Protocol": p } }),
        None => json!({ "statusCode": 200 }),
    })
}

/// Sends an ERROR frame and closes the connection (socket and records).
async fn fail(ctx: &AppContext, conn: &str, message: &str, body: &str) {
    tracing::info!(connection_id = conn, message, "stomp ERROR, closing");
    let frame = Frame::new("ERROR")
        .with_header("message", message)
        .with_header("content-type", "application/json")
        .with_body(body)
        .encode();
    rt::post(&*ctx.table, &*ctx.push, conn, &frame).await;
    close(ctx, conn).await;
}

async fn close(ctx: &AppContext, conn: &str) {
    if let Err(e) = ctx.push.close(conn).await {
        tracing::warn!(connection_id = conn, error = %e, "closing a connection failed");
    }
    if let Err(e) = rt::close(&*ctx.table, conn).await {
        tracing::warn!(connection_id = conn, error = %e, "deleting a connection failed");
    }
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SendBody {
    chat_room_id: Option<i64>,
    content: Option<String>,
}

/// What a destination of SUBSCRIBE refers to.
enum Target {
    Room(i64),
    User(i64),
}

fn target(destination: &str) -> Option<Target> {
    let id = |rest: &str| moim_web::request::parse_id(rest);
    if let Some(rest) = destination.strip_prefix("/sub/chat/room/") {
        return id(rest).map(Target::Room);
    }
    destination.strip_prefix("/sub/user/").and_then(id).map(Target::User)
}

struct Session<'a> {
    ctx: &'a AppContext,
    conn: &'a str,
}

/// Whether the session goes on after a frame.
enum Next {
    Continue,
    Closed,
}

impl Session<'_> {
    async fn frames(&self, body: &str) {
        let frames = match parse_frames(body) {
            Ok(f) => f,
            Err(e) => return fail(self.ctx, self.conn, &e.to_string(), "").await,
        };
        if frames.is_empty() {
            return; // heart-beats only
        }
        let mut record = match rt::get_connection(&*self.ctx.table, self.conn).await {
            Ok(Some(c)) => c,
            Ok(None) => return fail(self.ctx, self.conn, "unknown connection", "").await,
            Err(e) => {
                tracing::error!(connection_id = self.conn, error = %e, "reading the connection failed");
                return fail(self.ctx, self.conn, "internal error", "").await;
            }
        };
        for frame in frames {
            match self.frame(&mut record, &frame).await {
                Next::Continue => {}
                Next::Closed => return,
            }
        }
    }

    async fn reply(&self, frame: Frame) {
        rt::post(&*self.ctx.table, &*self.ctx.push, self.conn, &frame.encode()).await;
    }

    async fn receipt(&self, frame: &Frame) {
        if let Some(id) = frame.header("receipt") {
            self.reply(Frame::new("RECEIPT").with_header("receipt-id", id)).await;
        }
    }

    async fn frame(&self, record: &mut Connection, frame: &Frame) -> Next {
        let command = frame.command.as_str();
        if matches!(command, "CONNECT" | "STOMP") {
            return self.stomp_connect(record, frame).await;
        }
        let Some(user) = record.user.clone() else {
            fail(self.ctx, self.conn, "CONNECT first", "").await;
            return Next::Closed;
        };
        match command {
            "SUBSCRIBE" => {
                let (Some(id), Some(dest)) = (frame.header("id"), frame.header("destination")) else {
                    fail(self.ctx, self.conn, "SUBSCRIBE needs id and destination", "").await;
                    return Next::Closed;
                };
                let outcome = self.subscribe(&user, id, dest).await;
                self.settle("SUBSCRIBE", &user, dest, outcome).await;
            }
            "UNSUBSCRIBE" => {
                let Some(id) = frame.header("id") else {
                    fail(self.ctx, self.conn, "UNSUBSCRIBE needs id", "").await;
                    return Next::Closed;
                };
                if let Err(e) = rt::unsubscribe(&*self.ctx.table, self.conn, id).await {
                    tracing::warn!(connection_id = self.conn, error = %e, "unsubscribe failed");
                }
            }
            "SEND" => {
                let dest = frame.header("destination").unwrap_or_default();
                let outcome = self.send(&user, dest, &frame.body).await;
                self.settle("SEND", &user, dest, outcome).await;
            }
            "DISCONNECT" => {
                self.receipt(frame).await;
                close(self.ctx, self.conn).await;
                return Next::Closed;
            }
            // No transactions or acknowledgements: subscriptions are auto-ack.
            "ACK" | "NACK" | "BEGIN" | "COMMIT" | "ABORT" => {}
            _ => {
                fail(self.ctx, self.conn, "unsupported frame", "").await;
                return Next::Closed;
            }
        }
        self.receipt(frame).await;
        Next::Continue
    }

    /// CONNECT / STOMP: a bearer token in `Authorization` (or the one bound at
    /// `$connect`) → CONNECTED without heart-beats; anything else → ERROR, close.
    async fn stomp_connect(&self, record: &mut Connection, frame: &Frame) -> Next {
        let token = frame.header("Authorization").or(frame.header("authorization")).and_then(bearer_token);
        let user = match (token, &record.user) {
            (Some(t), _) => match moim_web::request::authenticate(self.ctx, Some(t)).await {
                Ok(u) => Profile::of(&u.user),
                Err(e) => {
                    fail(self.ctx, self.conn, e.code().name(), &e.body(self.conn).to_string()).await;
                    return Next::Closed;
                }
            },
            (None, Some(u)) => u.clone(),
            (None, None) => {
                let e = ApiError::from(ErrorCode::NOT_FOUND_TOKEN);
                fail(self.ctx, self.conn, e.code().name(), &e.body(self.conn).to_string()).await;
                return Next::Closed;
            }
        };
        tracing::info!(connection_id = self.conn, user_id = user.user_id, "stomp CONNECT");
        record.user = Some(user.clone());
        if let Err(e) = rt::bind(&*self.ctx.table, self.conn, &user).await {
            tracing::error!(connection_id = self.conn, error = %e, "binding the connection failed");
            fail(self.ctx, self.conn, "internal error", "").await;
            return Next::Closed;
        }
        self.reply(
            Frame::new("CONNECTED")
                .with_header("version", "1.2")
                .with_header("heart-beat", "0,0")
                .with_header("server", "moim")
                .with_header("user-name", user.user_id.to_string()),
        )
        .await;
        self.receipt(frame).await;
        Next::Continue
    }

    /// A room only for its ACTIVE participants, a user queue only for its user;
    /// the participant check rides in the subscribe transaction, so a kick
    /// cannot slip between check and write.
    async fn subscribe(&self, user: &Profile, id: &str, dest: &str) -> Result<(), ApiError> {
        let t = &*self.ctx.table;
        let guard = match target(dest) {
            Some(Target::User(u)) if u == user.user_id => None,
            Some(Target::User(_)) => return Err(ErrorCode::USER_ACCESS_DENIED.into()),
            Some(Target::Room(room)) => {
                crate::require_participant(self.ctx, room, user.user_id).await?;
                Some(chat_repo::active_check(room, user.user_id))
            }
            None => {
                return Err(
                    DomainError::with_detail(ErrorCode::INVALID_INPUT_VALUE, "알 수 없는 구독 경로입니다.").into()
                )
            }
        };
        let sub = Subscription {
            connection_id: self.conn.to_string(),
            subscription_id: id.to_string(),
            destination: dest.to_string(),
            user_id: user.user_id,
        };
        match rt::subscribe(t, &sub, guard, Utc::now()).await {
            Ok(()) => Ok(()),
            // Removed from the room between the check and the write.
            Err(moim_store::StoreError::ConditionFailed { .. }) => Err(ErrorCode::CHAT_ROOM_ACCESS_DENIED.into()),
            Err(e) => Err(e.into()),
        }
    }

    /// SEND /pub/chat/message: store, then MESSAGE to every subscription of the room.
    async fn send(&self, user: &Profile, dest: &str, body: &str) -> Result<(), ApiError> {
        if dest != SEND_DESTINATION {
            return Err(DomainError::with_detail(ErrorCode::INVALID_INPUT_VALUE, "알 수 없는 전송 경로입니다.").into());
        }
        let parsed: SendBody = serde_json::from_str(body).map_err(|_| {
            DomainError::with_detail(
                ErrorCode::INVALID_INPUT_VALUE,
                "메시지 본문은 {chatRoomId, content} JSON이어야 합니다.",
            )
        })?;
        let room = parsed
            .chat_room_id
            .ok_or_else(|| ApiError::from(DomainError::invalid("chatRoomId", "채팅방 ID는 필수입니다.")))?;
        let message = post_message(self.ctx, user, room, parsed.content.as_deref()).await?;
        let body = message.view().to_string();
        rt::publish(
            &*self.ctx.table,
            &*self.ctx.push,
            &rt::room_destination(room),
            &message.message_id.to_string(),
            &body,
        )
        .await?;
        Ok(())
    }

    /// Logs a SUBSCRIBE / SEND and answers a refusal on the caller's queue.
    async fn settle(&self, command: &str, user: &Profile, dest: &str, outcome: Result<(), ApiError>) {
        let refused = outcome.as_ref().err().map(|e| e.code().name());
        tracing::info!(
            connection_id = self.conn,
            user_id = user.user_id,
            destination = dest,
            refused,
            "stomp {command}"
        );
        if let Err(e) = outcome {
            self.user_error(user, &e, dest).await;
        }
    }

    /// A refused SUBSCRIBE or SEND: the error body as a MESSAGE on this
    /// connection's subscription to the caller's own queue (an ERROR frame would
    /// close the socket).
    async fn user_error(&self, user: &Profile, e: &ApiError, destination: &str) {
        let t = &*self.ctx.table;
        let queue = rt::user_destination(user.user_id);
        let mine: Vec<Subscription> = match rt::subscribers(t, &queue).await {
            Ok(subs) => subs.into_iter().filter(|s| s.connection_id == self.conn).collect(),
            Err(err) => {
                tracing::warn!(connection_id = self.conn, error = %err, "reading the user queue failed");
                return;
            }
        };
        let body = e.body(destination).to_string();
        let id = format!("error-{}", moim_store::keys::next_id());
        rt::deliver(t, &*self.ctx.push, &mine, &id, &body).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn destinations_name_a_room_or_a_user_queue() {
        assert!(matches!(target("/sub/chat/room/55"), Some(Target::Room(55))));
        assert!(matches!(target("/sub/user/7"), Some(Target::User(7))));
        for bad in ["/sub/chat/room/", "/sub/chat/room/-1", "/sub/user/7/x", "/topic/x", "/sub/chat/room/1 "] {
            assert!(target(bad).is_none(), "{bad}");
        }
    }
}
