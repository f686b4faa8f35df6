//! The local WebSocket API: the native STOMP endpoint and the SockJS websocket
//! transport (API.md §10.1) on the REST port, each socket's frames turned into
//! the `$connect` / `$default` / `$disconnect` events the deployed WebSocket API
//! sends, run through the same handler. Frames reach sockets through the hub,
//! behind a `@connections` endpoint compatible with API Gateway's management
//! API, so the functions' SDK client posts to moim-local unchanged.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::body::Body;
use axum::extract::ws::{Message, WebSocket, WebSocketUpgrade};
use axum::extract::FromRequestParts;
use axum::response::{IntoResponse, Response};
use futures::{SinkExt, StreamExt};
use http::Method;
use moim_web::AppContext;
use serde_json::{json, Value};
use tokio::sync::mpsc;

use crate::event;
use crate::registry::EventHandler;

/// Where the SockJS endpoint lives (the frontend's `BASE_URL + "/ws-chat"`).
pub const SOCKJS_PREFIX: &str = "/ws-chat";
/// How often a SockJS session gets an `h` frame.
const SOCKJS_HEARTBEAT: Duration = Duration::from_secs(25);
/// Largest client WebSocket message accepted (API Gateway's frame limit is 32 KB;
/// SockJS JSON-quoting can double a frame).
const MAX_CLIENT_MESSAGE: usize = 128 * 1024;

enum Out {
    Text(String),
    Close,
}

/// The open sockets by connection id.
#[derive(Default)]
pub struct Hub {
    conns: Mutex<HashMap<String, mpsc::UnboundedSender<Out>>>,
}

impl Hub {
    fn send(&self, id: &str, out: Out) -> bool {
        let conns = self.conns.lock().unwrap_or_else(|p| p.into_inner());
        conns.get(id).is_some_and(|tx| tx.send(out).is_ok())
    }
    fn insert(&self, id: &str, tx: mpsc::UnboundedSender<Out>) {
        self.conns.lock().unwrap_or_else(|p| p.into_inner()).insert(id.to_string(), tx);
    }
    fn remove(&self, id: &str) {
        self.conns.lock().unwrap_or_else(|p| p.into_inner()).remove(id);
    }
    pub fn len(&self) -> usize {
        self.conns.lock().unwrap_or_else(|p| p.into_inner()).len()
    }
    pub fn is_empty(&self) -> bool {
        self.len() == 0
    }
}

/// The WebSocket API of a local run: its handler, the native path, the hub.
pub struct WsApi {
    pub ctx: Arc<AppContext>,
    pub handler: EventHandler,
    pub native_path: String,
    pub hub: Arc<Hub>,
}

/// API Gateway connection ids are short opaque strings; these are URL-safe.
fn new_connection_id() -> String {
    use base64::Engine as _;
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 12]>())
}

fn json_response(status: u16, body: Value) -> Response {
    Response::builder()
        .status(status)
        .header("content-type", "application/json")
        .body(Body::from(body.to_string()))
        .unwrap_or_default()
}

/// `POST|DELETE|GET /@connections/{id}` as API Gateway's management API answers them.
pub fn connections_endpoint(hub: &Hub, method: &Method, id: &str, body: &[u8]) -> Response {
    let gone = || {
        Response::builder()
            .status(410)
            .header("content-type", "application/json")
            .header("x-amzn-errortype", "GoneException")
            .body(Body::from(json!({ "message": format!("connection {id} is gone") }).to_string()))
            .unwrap_or_default()
    };
    match *method {
        Method::POST => match std::str::from_utf8(body) {
            Ok(text) if hub.send(id, Out::Text(text.to_string())) => json_response(200, json!({})),
            Ok(_) => gone(),
            Err(_) => json_response(400, json!({ "message": "text frames only" })),
        },
        Method::DELETE if hub.send(id, Out::Close) => {
            Response::builder().status(204).body(Body::empty()).unwrap_or_default()
        }
        Method::GET if hub.conns.lock().unwrap_or_else(|p| p.into_inner()).contains_key(id) => {
            json_response(200, json!({ "identity": { "sourceIp": "127.0.0.1" } }))
        }
        Method::DELETE | Method::GET => gone(),
        _ => json_response(405, json!({ "message": "method not allowed" })),
    }
}

/// `GET /ws-chat/info`: what sockjs-client asks before opening the transport.
pub fn sockjs_info() -> Response {
    Response::builder()
        .status(200)
        .header("content-type", "application/json;charset=UTF-8")
        .header("cache-control", "no-store, no-cache, no-transform, must-revalidate, max-age=0")
        .body(Body::from(
            json!({ "websocket": true, "cookie_needed": false, "origins": ["*:*"], "entropy": rand::random::<u32>() })
                .to_string(),
        ))
        .unwrap_or_default()
}

/// `/ws-chat/{server}/{session}/websocket` (server: 3 digits, session: no dots or slashes).
pub fn is_sockjs_transport(path: &str) -> bool {
    let Some(rest) = path.strip_prefix(SOCKJS_PREFIX).and_then(|r| r.strip_prefix('/')) else { return false };
    let parts: Vec<&str> = rest.split('/').collect();
    matches!(parts.as_slice(), [server, session, "websocket"]
        if server.len() == 3 && server.bytes().all(|b| b.is_ascii_digit())
            && !session.is_empty() && !session.contains('.'))
}

impl WsApi {
    /// Upgrades a handshake after the handler accepted `$connect` (its
    /// `Sec-WebSocket-Protocol` header picks the subprotocol, as on AWS).
    pub async fn upgrade(self: Arc<Self>, mut parts: http::request::Parts, sockjs: bool) -> Response {
        let upgrade = match WebSocketUpgrade::from_request_parts(&mut parts, &()).await {
            Ok(u) => u,
            Err(rejection) => return rejection.into_response(),
        };
        let conn = new_connection_id();
        let rid = uuid::Uuid::new_v4().to_string();
        let query = parts.uri.query().unwrap_or("");
        let ev = event::ws_event("$connect", &conn, Some(&parts.headers), query, None, &rid);
        let out = match (self.handler)(&self.ctx, ev).await {
            Ok(out) => out,
            Err(e) => {
                tracing::error!(error = %e, "$connect failed");
                return json_response(500, json!({ "message": "Internal server error" }));
            }
        };
        if out["statusCode"].as_u64() != Some(200) {
            return json_response(403, json!({ "message": "Forbidden" }));
        }
        let upgrade = match out["headers"]["Sec-WebSocket-Protocol"].as_str() {
            Some(p) if !sockjs => upgrade.protocols([p.to_string()]),
            _ => upgrade,
        };
        upgrade.max_message_size(MAX_CLIENT_MESSAGE).on_upgrade(move |socket| self.session(socket, conn, sockjs))
    }

    async fn session(self: Arc<Self>, socket: WebSocket, conn: String, sockjs: bool) {
        let (mut sink, mut stream) = socket.split();
        let (tx, mut rx) = mpsc::unbounded_channel::<Out>();
        // Registered only now: a post during $connect is a 410, as on AWS.
        self.hub.insert(&conn, tx);
        let writer = tokio::spawn(async move {
            if sockjs && sink.send(Message::Text(moim_stomp::sockjs_open().into())).await.is_err() {
                return;
            }
            let mut beat = tokio::time::interval(SOCKJS_HEARTBEAT);
            beat.tick().await;
            loop {
                let out = tokio::select! {
                    out = rx.recv() => out,
                    _ = beat.tick(), if sockjs => {
                        if sink.send(Message::Text(moim_stomp::sockjs_heartbeat().into())).await.is_err() { return; }
                        continue;
                    }
                };
                match out {
                    Some(Out::Text(t)) => {
                        let text = if sockjs { moim_stomp::sockjs_array(&[&t]) } else { t };
                        if sink.send(Message::Text(text.into())).await.is_err() {
                            return;
                        }
                    }
                    Some(Out::Close) | None => {
                        if sockjs {
                            let _ = sink.send(Message::Text(moim_stomp::sockjs_close(3000, "Go away!").into())).await;
                        }
                        let _ = sink.close().await;
                        return;
                    }
                }
            }
        });
        // One event at a time: a connection's frames are handled in arrival order.
        while let Some(Ok(msg)) = stream.next().await {
            let bodies = match msg {
                Message::Text(t) if sockjs => match moim_stomp::sockjs_decode(t.as_str()) {
                    Ok(b) => b,
                    Err(_) => {
                        self.hub.send(&conn, Out::Close);
                        break;
                    }
                },
                Message::Text(t) => vec![t.as_str().to_string()],
                Message::Binary(_) => {
                    // API Gateway refuses binary frames (close 1003); so does this.
                    self.hub.send(&conn, Out::Close);
                    break;
                }
                Message::Close(_) => break,
                _ => continue,
            };
            for body in bodies {
                let rid = uuid::Uuid::new_v4().to_string();
                let ev = event::ws_event("$default", &conn, None, "", Some(&body), &rid);
                if let Err(e) = (self.handler)(&self.ctx, ev).await {
                    tracing::error!(connection_id = conn, error = %e, "$default failed");
                }
            }
        }
        self.hub.remove(&conn);
        let rid = uuid::Uuid::new_v4().to_string();
        if let Err(e) = (self.handler)(&self.ctx, event::ws_event("$disconnect", &conn, None, "", None, &rid)).await {
            tracing::error!(connection_id = conn, error = %e, "$disconnect failed");
        }
        let _ = tokio::time::timeout(Duration::from_secs(1), writer).await;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sockjs_transport_paths() {
        assert!(is_sockjs_transport("/ws-chat/123/abcdefgh/websocket"));
        for bad in [
            "/ws-chat/12/abc/websocket",
            "/ws-chat/123/abc/xhr_streaming",
            "/ws-chat/123/a.b/websocket",
            "/ws-chat/info",
            "/ws-chatx/123/abc/websocket",
            "/ws-chat/123//websocket",
        ] {
            assert!(!is_sockjs_transport(bad), "{bad}");
        }
    }

    #[test]
    fn the_hub_answers_gone_for_unknown_connections() {
        let hub = Hub::default();
        let r = connections_endpoint(&hub, &Method::POST, "nope", b"x");
        assert_eq!(r.status(), 410);
        assert_eq!(r.headers()["x-amzn-errortype"], "GoneException");
        let (tx, mut rx) = mpsc::unbounded_channel();
        hub.insert("c1", tx);
        assert_eq!(connections_endpoint(&hub, &Method::POST, "c1", b"MESSAGE").status(), 200);
        assert!(matches!(rx.try_recv(), Ok(Out::Text(t)) if t == "MESSAGE"));
        assert_eq!(connections_endpoint(&hub, &Method::DELETE, "c1", b"").status(), 204);
        assert!(matches!(rx.try_recv(), Ok(Out::Close)));
    }
}
