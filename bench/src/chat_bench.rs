//! Real-time paths through `moim-local serve` (embedded engine): chat over the
//! native STOMP endpoint (`ws://HOST/ws`, subprotocol `v12.stomp`) and the
//! host's notifications over SSE and STOMP `/sub/user/{id}`.
//!
//!   cargo build --release -p moim-local -p moim-bench
//!   target/release/chat-bench [--n 200] [--warmup 20] [--blast 300] [--rooms 100] [--room-msgs 30]
//!                             [--sse-fast 30] [--sse-slow 15]
//!
//! 1. SEND → MESSAGE on every subscribed socket of a 12-member room (host + 11
//!    attendees), one message at a time, with 1 and 4 sockets per member.
//! 2. Several senders blasting into that room: stored and delivered per second.
//! 3. 100 rooms (one host each, 2 sockets per room), every host blasting at once.
//! 4. attend / left → the host's SSE `notification` event and its STOMP
//!    `/sub/user/{id}` MESSAGE, for SSE_POLL_MS=250 and 2000 (two servers).
//!
//! Every chat content is `phase:sender:seq`; each socket's arrivals are checked
//! per sender (nothing lost, nothing twice, in send order) and the stored
//! history is read back. The server is the release binary (MOIM_LOCAL_BIN,
//! default target/release/moim-local). Writes bench/results/chat.md and the
//! latency distributions of 1–3 as bench/results/chat-fanout.svg.

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use futures::stream::{SplitSink, SplitStream};
use futures::{SinkExt, StreamExt};
use moim_bench::chart::Series;
use moim_blackbox::{Client, Engine, Server};
use moim_stomp::{parse_frames, Frame};
use serde_json::{json, Value};
use tokio::sync::mpsc;
use tokio_tungstenite::tungstenite::client::IntoClientRequest;
use tokio_tungstenite::tungstenite::Message;

type Socket = tokio_tungstenite::WebSocketStream<tokio_tungstenite::MaybeTlsStream<tokio::net::TcpStream>>;
type Sink = SplitSink<Socket, Message>;

/// A frame one socket received, classified.
enum Kind {
    /// A chat MESSAGE whose content is `phase:sender:seq`.
    Chat { phase: u32, sender: u32, seq: u32, message_id: i64 },
    /// A MESSAGE on a `/sub/user/{id}` queue (a notification or an error body).
    User(Value),
    /// Anything else (SYSTEM chat messages, ERROR frames, ...).
    Other(String),
}

struct Ev {
    sock: usize,
    kind: Kind,
    at: Instant,
}

fn classify(f: &Frame) -> Kind {
    if f.command != "MESSAGE" {
        return Kind::Other(format!("{} {:?} {}", f.command, f.header("message"), f.body));
    }
    let dest = f.header("destination").unwrap_or_default();
    let body: Value = serde_json::from_str(&f.body).unwrap_or(Value::Null);
    if dest.starts_with("/sub/user/") {
        return Kind::User(body);
    }
    let parts: Vec<u32> =
        body["content"].as_str().unwrap_or_default().split(':').filter_map(|p| p.parse().ok()).collect();
    match (parts.as_slice(), body["messageId"].as_i64()) {
        ([phase, sender, seq], Some(message_id)) => {
            Kind::Chat { phase: *phase, sender: *sender, seq: *seq, message_id }
        }
        _ => Kind::Other(format!("MESSAGE {dest} {}", f.body)),
    }
}

/// Per-socket, per-sender arrival checks (lost, duplicated, reordered).
#[derive(Default)]
struct Stats {
    /// (socket, phase, sender) → highest seq seen.
    last: HashMap<(usize, u32, u32), u32>,
    /// (socket, phase) → highest messageId seen, to count cross-sender inversions.
    max_id: HashMap<(usize, u32), i64>,
    /// phase → arrivals with a lower messageId than one the socket already had.
    inversions: HashMap<u32, usize>,
    /// (phase, socket) → arrival order of (sender, seq).
    order: HashMap<(u32, usize), Vec<(u32, u32)>>,
    anomalies: Vec<String>,
    anomaly_count: usize,
    others: usize,
}

impl Stats {
    fn anomaly(&mut self, s: String) {
        self.anomaly_count += 1;
        if self.anomalies.len() < 30 {
            eprintln!("ANOMALY: {s}");
            self.anomalies.push(s);
        }
    }

    fn note(&mut self, sock: usize, phase: u32, sender: u32, seq: u32, message_id: i64) {
        let key = (sock, phase, sender);
        let expected = self.last.get(&key).map_or(0, |l| l + 1);
        if seq < expected {
            self.anomaly(format!(
                "phase {phase}: socket {sock} got sender {sender}'s #{seq} after #{} (duplicate or reordered)",
                expected - 1
            ));
        } else {
            if seq > expected {
                self.anomaly(format!(
                    "phase {phase}: socket {sock} got sender {sender}'s #{seq} while expecting #{expected} (gap)"
                ));
            }
            self.last.insert(key, seq);
        }
        self.order.entry((phase, sock)).or_default().push((sender, seq));
        let m = self.max_id.entry((sock, phase)).or_insert(i64::MIN);
        if message_id < *m {
            *self.inversions.entry(phase).or_default() += 1;
        } else {
            *m = message_id;
        }
    }

    /// How many of `socks` saw the messages of `phase` in another order than the first of them.
    fn differing_orders(&self, phase: u32, socks: &[usize]) -> usize {
        let first = self.order.get(&(phase, socks[0]));
        socks.iter().filter(|s| self.order.get(&(phase, **s)) != first).count()
    }

    /// Every socket of `socks` ends with seq `m - 1` of every sender.
    fn complete(&mut self, phase: u32, socks: &[usize], senders: &[u32], m: u32) {
        for &s in socks {
            for &sender in senders {
                let last = self.last.get(&(s, phase, sender)).copied();
                if last != Some(m - 1) {
                    self.anomaly(format!(
                        "phase {phase}: socket {s} ended with sender {sender}'s #{last:?}, expected #{}",
                        m - 1
                    ));
                }
            }
        }
    }
}

/// The sockets of one server: their sinks and one channel of everything they receive.
struct Hub {
    ws: String,
    tx: mpsc::UnboundedSender<Ev>,
    rx: mpsc::UnboundedReceiver<Ev>,
    sinks: Vec<Option<Sink>>,
    stats: Stats,
}

async fn next_frame(socket: &mut Socket) -> Frame {
    loop {
        let msg = tokio::time::timeout(Duration::from_secs(10), socket.next())
            .await
            .expect("a frame in time")
            .expect("socket open")
            .expect("socket ok");
        if let Message::Text(t) = msg {
            let mut frames = parse_frames(t.as_str()).expect("frames parse");
            if !frames.is_empty() {
                assert_eq!(frames.len(), 1, "one frame per WebSocket message");
                return frames.remove(0);
            }
        }
    }
}

async fn read_loop(mut stream: SplitStream<Socket>, sock: usize, tx: mpsc::UnboundedSender<Ev>) {
    while let Some(Ok(msg)) = stream.next().await {
        let at = Instant::now();
        let Message::Text(t) = msg else { continue };
        for f in parse_frames(t.as_str()).unwrap_or_default() {
            if tx.send(Ev { sock, kind: classify(&f), at }).is_err() {
                return;
            }
        }
    }
}

fn chat_frame(room: i64, content: &str) -> Message {
    let body = json!({ "chatRoomId": room, "content": content }).to_string();
    let f = Frame::new("SEND")
        .with_header("destination", "/pub/chat/message")
        .with_header("content-type", "application/json")
        .with_header("content-length", body.len().to_string())
        .with_body(body);
    Message::Text(f.encode().into())
}

impl Hub {
    fn new(srv: &Server) -> Hub {
        let (tx, rx) = mpsc::unbounded_channel();
        let ws = format!("{}/ws", srv.url.replacen("http", "ws", 1));
        Hub { ws, tx, rx, sinks: Vec::new(), stats: Stats::default() }
    }

    /// Opens a socket, CONNECTs, SUBSCRIBEs (each confirmed by a receipt); returns its index.
    async fn open(&mut self, token: &str, dests: &[String]) -> usize {
        let mut req = self.ws.as_str().into_client_request().expect("ws url");
        req.headers_mut().insert("sec-websocket-protocol", "v12.stomp".parse().unwrap());
        let (mut socket, _) = tokio_tungstenite::connect_async(req).await.expect("websocket handshake");
        let connect = Frame::new("CONNECT")
            .with_header("accept-version", "1.2")
            .with_header("heart-beat", "0,0")
            .with_header("Authorization", format!("Bearer {token}"));
        socket.send(Message::Text(connect.encode().into())).await.unwrap();
        let f = next_frame(&mut socket).await;
        assert_eq!(f.command, "CONNECTED", "{f:?}");
        for (i, d) in dests.iter().enumerate() {
            let receipt = format!("r{i}");
            let sub = Frame::new("SUBSCRIBE")
                .with_header("id", format!("sub-{i}"))
                .with_header("destination", d)
                .with_header("receipt", &receipt);
            socket.send(Message::Text(sub.encode().into())).await.unwrap();
            let f = next_frame(&mut socket).await;
            assert_eq!((f.command.as_str(), f.header("receipt-id")), ("RECEIPT", Some(receipt.as_str())), "{f:?}");
        }
        let (sink, stream) = socket.split();
        let sock = self.sinks.len();
        tokio::spawn(read_loop(stream, sock, self.tx.clone()));
        self.sinks.push(Some(sink));
        sock
    }

    fn sink(&mut self, sock: usize) -> &mut Sink {
        self.sinks[sock].as_mut().expect("sink in place")
    }

    /// The next frame any socket received (chat ones checked), or None after `wait`.
    async fn next(&mut self, wait: Duration) -> Option<Ev> {
        let ev = tokio::time::timeout(wait, self.rx.recv()).await.ok()??;
        match &ev.kind {
            Kind::Chat { phase, sender, seq, message_id } => {
                self.stats.note(ev.sock, *phase, *sender, *seq, *message_id)
            }
            Kind::Other(what) => {
                self.stats.others += 1;
                if self.stats.others <= 3 {
                    eprintln!("other frame on socket {}: {what}", ev.sock);
                }
            }
            Kind::User(_) => {}
        }
        Some(ev)
    }

    /// One sender, one message at a time: SEND → the last of `socks` has it.
    async fn latency(
        &mut self,
        sender: usize,
        room: i64,
        phase: u32,
        socks: &[usize],
        warm: u32,
        n: u32,
    ) -> Vec<Duration> {
        let mut out = Vec::new();
        for seq in 0..warm + n {
            let t0 = Instant::now();
            let frame = chat_frame(room, &format!("{phase}:0:{seq}"));
            self.sink(sender).send(frame).await.unwrap();
            let mut got: HashSet<usize> = HashSet::new();
            let mut last = t0;
            while got.len() < socks.len() {
                let Some(ev) = self.next(Duration::from_secs(5)).await else {
                    self.stats.anomaly(format!(
                        "phase {phase}: message #{seq} reached {}/{} sockets within 5 s",
                        got.len(),
                        socks.len()
                    ));
                    break;
                };
                if let Kind::Chat { phase: p, seq: s, .. } = ev.kind {
                    if p == phase && s == seq && got.insert(ev.sock) {
                        last = last.max(ev.at);
                    }
                }
            }
            if seq >= warm {
                out.push(last - t0);
            }
        }
        let n_total = warm + n;
        self.stats.complete(phase, socks, &[0], n_total);
        out
    }

    /// Every `(sender id, socket)` blasts `m` messages into its room at once;
    /// `expect` deliveries in all. Returns (wall time to the last delivery,
    /// deliveries counted, per-message SEND → last delivery latencies).
    async fn blast(&mut self, senders: &[(u32, usize, i64)], phase: u32, m: u32, expect: usize) -> Blast {
        let start = Instant::now();
        let mut tasks = Vec::new();
        for &(id, sock, room) in senders {
            let mut sink = self.sinks[sock].take().expect("sink in place");
            tasks.push(tokio::spawn(async move {
                let mut sent = Vec::with_capacity(m as usize);
                for seq in 0..m {
                    sent.push(Instant::now());
                    sink.send(chat_frame(room, &format!("{phase}:{id}:{seq}"))).await.unwrap();
                }
                (id, sock, sink, sent, Instant::now())
            }));
        }
        let mut delivered = 0usize;
        let mut last = start;
        let mut arrival: HashMap<(u32, u32), Instant> = HashMap::new();
        while delivered < expect {
            let Some(ev) = self.next(Duration::from_secs(10)).await else {
                self.stats.anomaly(format!("phase {phase}: {delivered}/{expect} deliveries, then 10 s of silence"));
                break;
            };
            if let Kind::Chat { phase: p, sender, seq, .. } = ev.kind {
                if p == phase {
                    delivered += 1;
                    last = last.max(ev.at);
                    let a = arrival.entry((sender, seq)).or_insert(ev.at);
                    *a = (*a).max(ev.at);
                }
            }
        }
        let wall = last - start;
        let mut lat = Vec::new();
        let mut sends_done = start;
        for t in tasks {
            let (id, sock, sink, sent, done) = t.await.unwrap();
            sends_done = sends_done.max(done);
            self.sinks[sock] = Some(sink);
            for (seq, at) in sent.iter().enumerate() {
                if let Some(a) = arrival.get(&(id, seq as u32)) {
                    lat.push(*a - *at);
                }
            }
        }
        lat.sort();
        Blast { wall, delivered, lat, sends_done: sends_done - start }
    }
}

struct Blast {
    wall: Duration,
    delivered: usize,
    lat: Vec<Duration>,
    sends_done: Duration,
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1000.0
}

fn row3(v: &mut [Duration]) -> String {
    v.sort();
    format!("{} | {:.2} | {:.2} | {:.2}", v.len(), pct(v, 0.5), pct(v, 0.99), pct(v, 1.0))
}

fn in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).format("%Y-%m-%dT%H:%M:%S").to_string()
}

async fn create_group(host: &Client, title: &str) -> (i64, i64) {
    let body = json!({
        "title": title, "location": "서울 강남구", "startTime": in_days(3), "description": "bench",
        "maxParticipants": 12, "joinPolicy": "FREE", "tags": [],
    });
    let mut r = host.post("/api/v2/groups/create", Some(body.clone())).await;
    while r.status == 429 {
        // One create per user per 5 s (a short run reaches the SSE part sooner).
        tokio::time::sleep(Duration::from_millis(500)).await;
        r = host.post("/api/v2/groups/create", Some(body.clone())).await;
    }
    assert_eq!(r.status, 201, "{}", r.text);
    (r.data()["id"].as_i64().unwrap(), r.data()["chatRoomId"].as_i64().unwrap())
}

async fn attend(member: &Client, group: i64) {
    let r = member.post(&format!("/api/v2/groups/{group}/attend"), None).await;
    assert_eq!(r.status, 200, "{}", r.text);
}

/// How many messages of `phase` a room's stored history holds; checks that each
/// sender's are there once each, in send order.
async fn stored(c: &Client, room: i64, phase: u32, stats: &mut Stats) -> usize {
    let mut cursor: Option<String> = None;
    let mut seqs: HashMap<u32, Vec<u32>> = HashMap::new();
    loop {
        let path = match &cursor {
            Some(cur) => format!("/api/v1/chat/rooms/{room}/messages?size=100&cursor={cur}"),
            None => format!("/api/v1/chat/rooms/{room}/messages?size=100"),
        };
        let r = c.get(&path).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let d = r.data();
        for m in d["messages"].as_array().unwrap() {
            let parts: Vec<u32> =
                m["content"].as_str().unwrap_or_default().split(':').filter_map(|p| p.parse().ok()).collect();
            if let [p, sender, seq] = parts.as_slice() {
                if *p == phase {
                    seqs.entry(*sender).or_default().push(*seq);
                }
            }
        }
        cursor = match &d["nextCursor"] {
            Value::Null => break,
            Value::String(s) => Some(s.clone()),
            v => Some(v.to_string()),
        };
    }
    let mut n = 0;
    for (sender, mut v) in seqs {
        n += v.len();
        v.reverse(); // newest first → send order
        if v.windows(2).any(|w| w[1] != w[0] + 1) || v.first() != Some(&0) {
            stats.anomaly(format!("phase {phase}: room {room} stores sender {sender}'s messages as {v:?}"));
        }
    }
    n
}

/// A tiny deterministic jitter source (so an action does not land at a fixed
/// point of the SSE poll cycle).
struct Rng(u64);
impl Rng {
    fn below(&mut self, n: u64) -> u64 {
        self.0 ^= self.0 << 13;
        self.0 ^= self.0 >> 7;
        self.0 ^= self.0 << 17;
        self.0 % n.max(1)
    }
}

/// Opens the SSE stream; yields (arrival, NotificationItem) per `notification`
/// event, after one (arrival, Null) for `connect`.
async fn sse_open(srv: &Server, token: &str) -> mpsc::UnboundedReceiver<(Instant, Value)> {
    let url = format!("{}/api/v1/notifications/subscribe?accessToken={token}", srv.url);
    let mut res = reqwest::Client::new().get(url).send().await.unwrap();
    assert_eq!(res.status(), 200);
    let (tx, rx) = mpsc::unbounded_channel();
    tokio::spawn(async move {
        let mut buf: Vec<u8> = Vec::new();
        while let Ok(Some(chunk)) = res.chunk().await {
            let at = Instant::now();
            buf.extend_from_slice(&chunk);
            while let Some(i) = buf.windows(2).position(|w| w == b"\n\n") {
                let block = String::from_utf8_lossy(&buf[..i]).into_owned();
                buf.drain(..i + 2);
                let field = |name: &str| block.lines().find_map(|l| l.strip_prefix(name).map(|v| v.trim_start()));
                let item = match field("event:") {
                    Some("connect") => Value::Null,
                    Some("notification") => {
                        serde_json::from_str(field("data:").unwrap_or_default()).unwrap_or_default()
                    }
                    _ => continue,
                };
                if tx.send((at, item)).is_err() {
                    return;
                }
            }
        }
    });
    rx
}

#[derive(Default)]
struct SseRun {
    request: Vec<Duration>,
    sse_join: Vec<Duration>,
    stomp_join: Vec<Duration>,
    sse_leave: Vec<Duration>,
    stomp_leave: Vec<Duration>,
    missed: Vec<String>,
}

/// `samples` attend/left pairs of one member of the host's FREE group, each
/// after a jitter in [0, poll); times SSE and STOMP arrival from the request's start.
#[allow(clippy::too_many_arguments)]
async fn sse_run(
    srv: &Server,
    hub: &mut Hub,
    host: &Client,
    host_id: i64,
    member: &Client,
    member_id: i64,
    poll_ms: u64,
    samples: usize,
    rng: &mut Rng,
) -> SseRun {
    let token = host.token.clone().unwrap();
    hub.open(&token, &[format!("/sub/user/{host_id}")]).await;
    let mut sse = sse_open(srv, &token).await;
    let first = tokio::time::timeout(Duration::from_secs(5), sse.recv()).await.expect("connect event").unwrap();
    assert!(first.1.is_null(), "connect first");
    let (group, _) = create_group(host, &format!("sse {poll_ms}")).await;
    let mut run = SseRun::default();
    for i in 0..samples * 2 {
        let joining = i % 2 == 0;
        tokio::time::sleep(Duration::from_millis(rng.below(poll_ms))).await;
        let (path, kind) = if joining { ("attend", "GROUP_JOIN") } else { ("left", "GROUP_LEAVE") };
        let t0 = Instant::now();
        let r = member.post(&format!("/api/v2/groups/{group}/{path}"), None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        run.request.push(t0.elapsed());
        let is_it = |n: &Value| n["type"] == kind && n["user"]["id"] == member_id && n["group"]["id"] == group;
        let deadline = tokio::time::Instant::now() + Duration::from_millis(poll_ms + 5000);
        let (mut sse_at, mut stomp_at) = (None, None);
        while sse_at.is_none() || stomp_at.is_none() {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            if left.is_zero() {
                break;
            }
            tokio::select! {
                v = sse.recv() => match v {
                    Some((at, n)) if is_it(&n) => sse_at = Some(at),
                    Some(_) => {}
                    None => break,
                },
                ev = hub.next(left) => match ev {
                    Some(Ev { kind: Kind::User(n), at, .. }) if is_it(&n) => stomp_at = Some(at),
                    _ => {}
                },
            }
        }
        let (sse_v, stomp_v) =
            if joining { (&mut run.sse_join, &mut run.stomp_join) } else { (&mut run.sse_leave, &mut run.stomp_leave) };
        match sse_at {
            Some(at) => sse_v.push(at - t0),
            None => run.missed.push(format!("SSE_POLL_MS={poll_ms}: {path} #{i}: no {kind} on the SSE stream")),
        }
        match stomp_at {
            Some(at) => stomp_v.push(at - t0),
            None => run.missed.push(format!("SSE_POLL_MS={poll_ms}: {path} #{i}: no {kind} on /sub/user")),
        }
    }
    run
}

fn start(bin: &str, poll: &str) -> Server {
    Server::start_with_env(
        bin,
        Engine::Embedded,
        &[("RUST_LOG", "warn"), ("MOIM_SWEEP_INTERVAL_SECS", "0"), ("SSE_POLL_MS", poll)],
    )
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str, default: u32| -> u32 {
        args.iter()
            .position(|a| a == name)
            .and_then(|i| args.get(i + 1))
            .and_then(|v| v.parse().ok())
            .unwrap_or(default)
    };
    let n = arg("--n", 200);
    let warm = arg("--warmup", 20);
    let blast_m = arg("--blast", 300);
    let rooms = arg("--rooms", 100) as usize;
    let room_msgs = arg("--room-msgs", 30);
    let sse_fast = arg("--sse-fast", 30) as usize;
    let sse_slow = arg("--sse-slow", 15) as usize;
    let command = std::iter::once("target/release/chat-bench".to_string())
        .chain(args.iter().skip(1).cloned())
        .collect::<Vec<_>>()
        .join(" ");
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let bin = std::env::var("MOIM_LOCAL_BIN")
        .unwrap_or_else(|_| root.join("target/release/moim-local").to_string_lossy().into_owned());
    let began = Instant::now();
    let mut rng = Rng(0x9E37_79B9_7F4A_7C15);

    // ---- setup: one server (SSE_POLL_MS=250), 12 members + hosts of the other rooms.
    eprintln!("server: {bin}");
    let srv = start(&bin, "250");
    let c = srv.client();
    let t = Instant::now();
    let mut members = Vec::new();
    for i in 0..12 {
        members.push(c.register(&format!("m{i}@bench.com"), &format!("member{i}")).await);
    }
    let mut hosts = Vec::new();
    for i in 0..rooms.saturating_sub(1) {
        hosts.push(c.register(&format!("h{i}@bench.com"), &format!("host{i}")).await);
    }
    let register_time = t.elapsed();
    eprintln!("{} users registered in {:.1} s", members.len() + hosts.len(), register_time.as_secs_f64());
    let (group, room) = create_group(&members[0].0, "chat bench").await;
    for m in &members[1..] {
        attend(&m.0, group).await;
    }
    let dest = vec![format!("/sub/chat/room/{room}")];
    let mut hub = Hub::new(&srv);
    let mut first = Vec::new();
    for m in &members {
        first.push(hub.open(m.0.token.as_deref().unwrap(), &dest).await);
    }

    // ---- 1 + 2 with 1 socket per member.
    eprintln!("latency, 12 sockets");
    let mut lat12 = hub.latency(first[0], room, 1, &first, warm, n).await;
    eprintln!("blast, 12 sockets");
    let senders: Vec<(u32, usize, i64)> = (1..=3).map(|i| (i as u32, first[i], room)).collect();
    let ids: Vec<u32> = senders.iter().map(|s| s.0).collect();
    let b12 = hub.blast(&senders, 2, blast_m, first.len() * 3 * blast_m as usize).await;
    hub.stats.complete(2, &first, &ids, blast_m);

    // ---- 1 + 2 with 4 sockets per member.
    let t = Instant::now();
    let mut all = first.clone();
    for _ in 0..3 {
        for m in &members {
            all.push(hub.open(m.0.token.as_deref().unwrap(), &dest).await);
        }
    }
    let open36 = t.elapsed();
    eprintln!("latency, 48 sockets");
    let mut lat48 = hub.latency(first[0], room, 3, &all, warm, n).await;
    eprintln!("blast, 48 sockets");
    let b48 = hub.blast(&senders, 4, blast_m, all.len() * 3 * blast_m as usize).await;
    hub.stats.complete(4, &all, &ids, blast_m);
    let stored2 = stored(&members[0].0, room, 2, &mut hub.stats).await;
    let stored4 = stored(&members[0].0, room, 4, &mut hub.stats).await;

    // ---- 3: many rooms, one host each (member 1 hosts the first), 2 sockets per room.
    eprintln!("{rooms} rooms");
    let t = Instant::now();
    let mut room_hosts: Vec<&Client> = vec![&members[1].0];
    room_hosts.extend(hosts.iter().map(|h| &h.0));
    let creates =
        room_hosts.iter().enumerate().map(|(i, h)| async move { create_group(h, &format!("room {i}")).await });
    let created: Vec<(i64, i64)> = futures::future::join_all(creates).await;
    let create_time = t.elapsed();
    let t = Instant::now();
    let mut room_senders = Vec::new();
    let mut room_socks = Vec::new();
    for (i, (h, (_, r))) in room_hosts.iter().zip(&created).enumerate() {
        let d = vec![format!("/sub/chat/room/{r}")];
        let a = hub.open(h.token.as_deref().unwrap(), &d).await;
        let b = hub.open(h.token.as_deref().unwrap(), &d).await;
        room_senders.push((i as u32, a, *r));
        room_socks.extend([a, b]);
    }
    let open_rooms = t.elapsed();
    let b_rooms = hub.blast(&room_senders, 5, room_msgs, room_socks.len() * room_msgs as usize).await;
    for (i, (_, a, _)) in room_senders.iter().enumerate() {
        hub.stats.complete(5, &[*a, *a + 1], &[i as u32], room_msgs);
    }
    let mut stored5 = 0;
    for (h, (_, r)) in room_hosts.iter().zip(&created) {
        stored5 += stored(h, *r, 5, &mut hub.stats).await;
    }

    // ---- 4: notifications (host = member 0, toggling member = member 11).
    eprintln!("SSE, SSE_POLL_MS=250");
    let (m11, m11_id) = (&members[11].0, members[11].1);
    let fast = sse_run(&srv, &mut hub, &members[0].0, members[0].1, m11, m11_id, 250, sse_fast, &mut rng).await;
    let stats = std::mem::take(&mut hub.stats);
    drop(hub);
    drop(srv);

    eprintln!("SSE, SSE_POLL_MS=2000");
    let srv_b = start(&bin, "2000");
    let cb = srv_b.client();
    let (bh, bh_id, _) = cb.register("host@bench.com", "host").await;
    let (bm, bm_id, _) = cb.register("member@bench.com", "member").await;
    let mut hub_b = Hub::new(&srv_b);
    let slow = sse_run(&srv_b, &mut hub_b, &bh, bh_id, &bm, bm_id, 2000, sse_slow, &mut rng).await;
    drop(hub_b);
    drop(srv_b);
    let total = began.elapsed();

    // ---- report.
    let (cpu, cores) = moim_blackbox::fixtures::machine();
    let tput = |b: &Blast, stored: usize| {
        let s = b.wall.as_secs_f64();
        format!(
            "{stored} | {} | {:.2} | {:.0} | {:.0} | {:.1} | {:.1} | {:.2}",
            b.delivered,
            s,
            stored as f64 / s,
            b.delivered as f64 / s,
            pct(&b.lat, 0.5),
            pct(&b.lat, 0.99),
            b.sends_done.as_secs_f64(),
        )
    };
    let mut anomalies = String::new();
    if stats.anomaly_count == 0 && fast.missed.is_empty() && slow.missed.is_empty() {
        anomalies.push_str("None: every socket received every message exactly once, in each sender's order; every message was stored once, in send order per sender; every notification arrived on both channels.\n");
    } else {
        anomalies.push_str(&format!(
            "{} chat anomalies (first {} listed):\n\n",
            stats.anomaly_count,
            stats.anomalies.len()
        ));
        for a in stats.anomalies.iter().chain(&fast.missed).chain(&slow.missed) {
            anomalies.push_str(&format!("- {a}\n"));
        }
    }
    let inv = |p: u32| stats.inversions.get(&p).copied().unwrap_or(0);
    let (d2, d4) = (stats.differing_orders(2, &first), stats.differing_orders(4, &all));
    let sse_rows = |r: &mut SseRun, poll: u64| {
        format!(
            "| {poll} | attend → SSE `notification` (GROUP_JOIN) | {} |\n\
             | {poll} | attend → STOMP `/sub/user/{{hostId}}` MESSAGE | {} |\n\
             | {poll} | left → SSE `notification` (GROUP_LEAVE) | {} |\n\
             | {poll} | left → STOMP `/sub/user/{{hostId}}` MESSAGE | {} |\n\
             | {poll} | attend / left request → 200 (for reference) | {} |\n",
            row3(&mut r.sse_join),
            row3(&mut r.stomp_join),
            row3(&mut r.sse_leave),
            row3(&mut r.stomp_leave),
            row3(&mut r.request),
        )
    };
    let (mut fast, mut slow) = (fast, slow);
    let report = format!(
        "# Chat and notifications in real time through moim-local (embedded engine)\n\n\
         {date} — `cargo build --release -p moim-local -p moim-bench && {command}`\n\n\
         Machine: {cores} cores (`nproc`), {cpu}; client (this bench) and server share them. \
         Server: `moim-local serve` release build, embedded store, `RUST_LOG=warn`, `MOIM_SWEEP_INTERVAL_SECS=0`, \
         `SSE_POLL_MS` as stated. Clients: native STOMP 1.2 WebSocket (`/ws`, `v12.stomp`), one tokio task reading each socket \
         and stamping each frame on arrival (`std::time::Instant`); percentiles are nearest-rank over sorted samples. \
         Total wall time {total:.0} s (setup included: {users} users registered one after another in {reg:.1} s — argon2 — \
         and 2 more on the second server).\n\n\
         ## 1. SEND → every subscriber has the MESSAGE (one sender, one message at a time)\n\n\
         Room of a FREE group with 12 members (host + 11 attendees), every socket subscribed to `/sub/chat/room/{{id}}`, \
         the host's first socket sending (and receiving its own copy). Each sample: from the SEND until the last socket \
         received that message; {warm} warm-up messages not counted. (The 36 extra sockets of the second row were opened \
         in {o36:.1} s.)\n\n\
         | sockets | samples | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|\n\
         | 12 (1 per member) | {l12} |\n\
         | 48 (4 per member) | {l48} |\n\n\
         ## 2. One room, 3 senders blasting\n\n\
         Members 1–3 each send {blast_m} messages as fast as their socket takes them (each SEND awaited on the socket, \
         no waiting for replies), all at once, into the room above; every socket (the senders' included) receives. \
         The client's writes finish at once (\"senders done after\"), so the backlog queues in the server and the \
         latencies below are mostly queueing. \
         Wall time = from the start until the last socket got the last message. `stored` = messages of the run read back \
         from `GET /api/v1/chat/rooms/{{id}}/messages`. Latency = each message's SEND until its last socket had it.\n\n\
         | sockets | stored | frames delivered | wall s | stored/s | delivered/s | latency p50 ms | latency p99 ms | senders done after s |\n\
         |---|---|---|---|---|---|---|---|---|\n\
         | 12 | {t12} |\n\
         | 48 | {t48} |\n\n\
         ## 3. {rooms} rooms at once\n\n\
         {rooms} FREE groups, each created by its own host (one group per user: creating is limited to one per user per 5 s), \
         so each room has 1 member; 2 sockets per room (both the host's), {socks} sockets in all (plus the {prev} earlier ones, \
         still open). Every host sends {room_msgs} messages on its first socket, all hosts at once. \
         Setup: {rooms} creates concurrently in {ct:.2} s, {socks} sockets opened (CONNECT + confirmed SUBSCRIBE) one after another in {ot:.1} s.\n\n\
         | rooms | stored | frames delivered | wall s | stored/s | delivered/s | latency p50 ms | latency p99 ms | senders done after s |\n\
         |---|---|---|---|---|---|---|---|---|\n\
         | {rooms} | {tr} |\n\n\
         The distribution of every SEND → last socket latency of 1–3 (one curve per row above; dots at p50 and p99):\n\n\
         ![chat fan-out latency distributions](chat-fanout.svg)\n\n\
         ## 4. attend / left → the host's notification\n\n\
         The host has the SSE stream open (`GET /api/v1/notifications/subscribe?accessToken=`, read as a streaming body, \
         `event: notification` blocks parsed) and a STOMP socket subscribed to `/sub/user/{{hostId}}`. One member toggles \
         attend / left on the host's FREE group ({sse_fast} pairs at 250 ms, {sse_slow} pairs at 2000 ms, each on a fresh \
         server); before each request a pseudo-random pause in [0, SSE_POLL_MS) so requests fall anywhere in the poll cycle. \
         Each sample: from the start of the request until the notification (matched by type, actor and group) arrived. \
         A GROUP_JOIN / GROUP_LEAVE replacing the same actor's unread one (10-minute coalescing) still arrives as a new event.\n\n\
         | SSE_POLL_MS | path | samples | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|---|\n\
         {sse_a}{sse_b}\n\
         The SSE latency is the poll wait (uniform in [0, SSE_POLL_MS)) plus one store query; the STOMP push goes out \
         after the commit, independent of the poll.\n\n\
         ## Delivery checks\n\n\
         {anomalies}\n\
         For information (not a contract): arrivals on a socket with a lower messageId than one it already had \
         (messages of different senders crossing): one room 12 sockets {i2} of {n2}, 48 sockets {i4} of {n4}; {rooms} rooms {i5} \
         (one sender per room, so this must be 0). Sockets of the blasted room that saw the three senders' messages \
         interleaved differently from the room's first socket: {d2} of 12, {d4} of 48. Frames that were neither bench chat messages nor notifications \
         (e.g. SYSTEM messages): {others}.\n",
        date = chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        total = total.as_secs_f64(),
        users = members.len() + hosts.len(),
        reg = register_time.as_secs_f64(),
        o36 = open36.as_secs_f64(),
        l12 = row3(&mut lat12),
        l48 = row3(&mut lat48),
        t12 = tput(&b12, stored2),
        t48 = tput(&b48, stored4),
        tr = tput(&b_rooms, stored5),
        socks = room_socks.len(),
        prev = all.len(),
        ct = create_time.as_secs_f64(),
        ot = open_rooms.as_secs_f64(),
        sse_a = sse_rows(&mut fast, 250),
        sse_b = sse_rows(&mut slow, 2000),
        i2 = inv(2),
        n2 = b12.delivered,
        n4 = b48.delivered,
        i4 = inv(4),
        i5 = inv(5),
        others = stats.others,
    );
    println!("{report}");
    let out = root.join("bench/results/chat.md");
    std::fs::write(&out, report).unwrap();
    let ms = |v: &[Duration]| v.iter().map(|d| d.as_secs_f64() * 1000.0).collect::<Vec<f64>>();
    let rooms_label = format!("{rooms} rooms, 2 sockets each, all blasting");
    let curves = [
        Series { label: "12 sockets, one message at a time", colour: "#1f77b4", ms: ms(&lat12) },
        Series { label: "48 sockets, one message at a time", colour: "#17becf", ms: ms(&lat48) },
        Series { label: "12 sockets, 3 senders blasting", colour: "#d62728", ms: ms(&b12.lat) },
        Series { label: "48 sockets, 3 senders blasting", colour: "#ff7f0e", ms: ms(&b48.lat) },
        Series { label: &rooms_label, colour: "#2ca02c", ms: ms(&b_rooms.lat) },
    ];
    let out_svg = root.join("bench/results/chat-fanout.svg");
    let chart = moim_bench::chart::cdf_log_x(
        "Chat fan-out: SEND → the last subscribed socket has the MESSAGE (moim-local)",
        "latency (log scale)",
        &curves,
    );
    std::fs::write(&out_svg, chart).unwrap();
    eprintln!("wrote {} and {}", out.display(), out_svg.display());
}
