//! A small STOMP 1.2 client over a real WebSocket, native (subprotocol
//! `v12.stomp`) or through the SockJS websocket transport, for black-box tests.

use std::time::Duration;

use futures::{SinkExt, StreamExt};
use moim_stomp::{parse_frames, sockjs_decode, Frame};
use serde_json::Value;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;

pub struct StompClient {
    socket: Socket,
    sockjs: bool,
    /// Frames received but not yet taken.
    pending: std::collections::VecDeque<Frame>,
    /// The subprotocol the server chose (native only).
    pub protocol: Option<String>,
    /// Set once the server closed the socket.
    pub closed: bool,
}

/// How long a test waits for a frame it expects.
pub const WAIT: Duration = Duration::from_secs(10);

impl StompClient {
    /// Opens the native endpoint (`ws://host/ws`) offering the STOMP subprotocols, as stompjs does.
    pub async fn native(ws_url: &str) -> StompClient {
        let mut req = ws_url.into_client_request().expect("ws url");
        req.headers_mut().insert("sec-websocket-protocol", "v12.stomp, v11.stomp, v10.stomp".parse().unwrap());
        let (socket, res) = tokio_tungstenite::connect_async(req).await.expect("websocket handshake");
        let protocol = res.headers().get("sec-websocket-protocol").and_then(|v| v.to_str().ok()).map(str::to_string);
        StompClient { socket, sockjs: false, pending: Default::default(), protocol, closed: false }
    }

    /// Opens the SockJS websocket transport under `base` (`http://host/ws-chat`)
    /// and waits for the open frame `o`.
    pub async fn sockjs(base: &str) -> StompClient {
        let session: String = format!("{:08x}", rand_u32());
        let url = format!("{}/{:03}/{session}/websocket", base.replacen("http", "ws", 1), rand_u32() % 1000);
        let (socket, _) = tokio_tungstenite::connect_async(url).await.expect("sockjs handshake");
        let mut c = StompClient { socket, sockjs: true, pending: Default::default(), protocol: None, closed: false };
        let first = tokio::time::timeout(WAIT, c.socket.next()).await.expect("open frame in time");
        match first {
            Some(Ok(Message::Text(t))) => assert_eq!(t.as_str(), "o", "SockJS sessions start with o"),
            other => panic!("expected the SockJS open frame, got {other:?}"),
        }
        c
    }

    pub async fn send_raw(&mut self, text: &str) {
        let msg = if self.sockjs { serde_json::to_string(&[text]).unwrap() } else { text.to_string() };
        self.socket.send(Message::Text(msg.into())).await.expect("send");
    }

    pub async fn send(&mut self, frame: Frame) {
        self.send_raw(&frame.encode()).await;
    }

    /// CONNECT with a bearer token; returns the server's answer (CONNECTED or ERROR).
    pub async fn connect(&mut self, token: &str) -> Frame {
        self.send(
            Frame::new("CONNECT")
                .with_header("accept-version", "1.2,1.1,1.0")
                .with_header("heart-beat", "4000,4000")
                .with_header("Authorization", format!("Bearer {token}")),
        )
        .await;
        self.next().await.expect("an answer to CONNECT")
    }

    pub async fn subscribe(&mut self, id: &str, destination: &str) {
        self.send(Frame::new("SUBSCRIBE").with_header("id", id).with_header("destination", destination)).await;
    }

    /// SUBSCRIBE with a receipt, waiting for it (the subscription is stored when it comes).
    pub async fn subscribe_confirmed(&mut self, id: &str, destination: &str) {
        let receipt = format!("sub-{id}");
        self.send(
            Frame::new("SUBSCRIBE")
                .with_header("id", id)
                .with_header("destination", destination)
                .with_header("receipt", &receipt),
        )
        .await;
        let f = self.next().await.expect("receipt");
        assert_eq!((f.command.as_str(), f.header("receipt-id")), ("RECEIPT", Some(receipt.as_str())), "{f:?}");
    }

    /// SEND to /pub/chat/message, as the frontend does.
    pub async fn chat(&mut self, room: i64, content: &str) {
        let body = serde_json::json!({ "chatRoomId": room, "content": content }).to_string();
        self.send(
            Frame::new("SEND")
                .with_header("destination", "/pub/chat/message")
                .with_header("content-type", "application/json")
                .with_header("content-length", body.len().to_string())
                .with_body(body),
        )
        .await;
    }

    /// The next frame within [`WAIT`]; None when the socket closed.
    pub async fn next(&mut self) -> Option<Frame> {
        self.next_within(WAIT).await
    }

    pub async fn next_within(&mut self, wait: Duration) -> Option<Frame> {
        let deadline = tokio::time::Instant::now() + wait;
        loop {
            if let Some(f) = self.pending.pop_front() {
                return Some(f);
            }
            if self.closed {
                return None;
            }
            let msg = match tokio::time::timeout_at(deadline, self.socket.next()).await {
                Err(_) => return None,
                Ok(None) | Ok(Some(Err(_))) => {
                    self.closed = true;
                    return None;
                }
                Ok(Some(Ok(m))) => m,
            };
            match msg {
                Message::Text(t) => self.take(t.as_str()),
                Message::Close(_) => self.closed = true,
                _ => {}
            }
        }
    }

    fn take(&mut self, text: &str) {
        let bodies: Vec<String> = if self.sockjs {
            match text.chars().next() {
                Some('a') => sockjs_decode(&text[1..]).expect("a[...] frame"),
                Some('c') => {
                    self.closed = true;
                    vec![]
                }
                _ => vec![], // o, h
            }
        } else {
            vec![text.to_string()]
        };
        for b in bodies {
            self.pending.extend(parse_frames(&b).expect("server frames parse"));
        }
    }

    /// The next MESSAGE frame's JSON body (skipping nothing: anything else fails).
    pub async fn message(&mut self) -> (Frame, Value) {
        let f = self.next().await.expect("a MESSAGE");
        assert_eq!(f.command, "MESSAGE", "{f:?}");
        let body = serde_json::from_str(&f.body).expect("JSON body");
        (f, body)
    }

    /// Asserts nothing arrives within `wait`.
    pub async fn quiet(&mut self, wait: Duration) {
        if let Some(f) = self.next_within(wait).await {
            panic!("unexpected frame {f:?}");
        }
    }

    pub async fn close(mut self) {
        let _ = self.socket.close(None).await;
    }
}

fn rand_u32() -> u32 {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap_or_default().subsec_nanos();
    n ^ std::process::id().rotate_left(16)
}
