//! Real time over real WebSockets against `moim-local serve`, on every engine
//! (API.md §9–§10.1): STOMP on the native endpoint and through SockJS, room
//! fan-out in send order, kicks, refusals, live notifications, many tabs.

use std::time::Duration;

use moim_blackbox::stomp::StompClient;
use moim_blackbox::{engines, Client, Server};
use moim_stomp::Frame;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_moim-local");

fn group_body(title: &str, max: i64) -> Value {
    let start = (chrono::Utc::now() + chrono::Duration::days(3)).format("%Y-%m-%dT%H:%M:%S").to_string();
    json!({
        "title": title, "location": "서울", "startTime": start, "tags": [],
        "description": "같이 해요", "maxParticipants": max, "joinPolicy": "FREE",
    })
}

async fn create(c: &Client, title: &str, max: i64) -> (i64, i64) {
    let r = c.post("/api/v2/groups/create", Some(group_body(title, max))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    (r.data()["id"].as_i64().unwrap(), r.data()["chatRoomId"].as_i64().unwrap())
}

fn token(c: &Client) -> String {
    c.token.clone().unwrap()
}

fn ws_url(srv: &Server) -> String {
    format!("{}/ws", srv.url.replacen("http", "ws", 1))
}

/// A connected client on the native endpoint (or SockJS), subscribed to the
/// room and to its own queue (both confirmed by receipts).
async fn member_socket(srv: &Server, c: &Client, user: i64, room: Option<i64>, sockjs: bool) -> StompClient {
    let mut s = if sockjs {
        StompClient::sockjs(&format!("{}/ws-chat", srv.url)).await
    } else {
        StompClient::native(&ws_url(srv)).await
    };
    let f = s.connect(&token(c)).await;
    assert_eq!(f.command, "CONNECTED", "{f:?}");
    s.subscribe_confirmed("me", &format!("/sub/user/{user}")).await;
    if let Some(room) = room {
        s.subscribe_confirmed("room", &format!("/sub/chat/room/{room}")).await;
    }
    s
}

/// The next `n` MESSAGE frames, sorted by subscription id ("me" before "room"):
/// a write's room messages and its notifications go out together, so their
/// order across the two subscriptions is not fixed.
async fn by_subscription(s: &mut StompClient, n: usize) -> Vec<(String, Value)> {
    let mut got = Vec::new();
    for _ in 0..n {
        let (f, m) = s.message().await;
        got.push((f.header("subscription").unwrap_or_default().to_string(), m));
    }
    got.sort_by(|x, y| x.0.cmp(&y.0));
    got
}

/// A member's own socket sending `n` messages `"{k}:{i}"` into a room, then
/// DISCONNECT; its receipt proves every SEND was handled.
fn spawn_sender(url: String, token: String, room: i64, k: usize, n: usize) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut s = StompClient::native(&url).await;
        assert_eq!(s.connect(&token).await.command, "CONNECTED");
        for i in 0..n {
            s.chat(room, &format!("{k}:{i}")).await;
        }
        s.send(Frame::new("DISCONNECT").with_header("receipt", "done")).await;
        // Generous: the receipt follows the fan-out of every message to all 48 tabs,
        // which a loaded 2-core debug build can take more than the usual WAIT for.
        let receipt = s.next_within(Duration::from_secs(60)).await.expect("DISCONNECT receipt");
        assert_eq!(receipt.header("receipt-id"), Some("done"));
    })
}

async fn history(c: &Client, room: i64) -> Vec<Value> {
    let r = c.get(&format!("/api/v1/chat/rooms/{room}/messages?size=100")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.data()["messages"].as_array().unwrap().clone()
}

#[tokio::test]
async fn two_clients_chat_in_a_room_over_native_stomp_and_sockjs() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (host, host_id, _) = c.register("host@b.com", "Host").await;
        let (a, a_id, _) = c.register("a@b.com", "Alice").await;
        let (gid, room) = create(&host, "채팅 모임", 4).await;
        assert_eq!(a.post(&format!("/api/v2/groups/{gid}/attend"), None).await.status, 200);

        // The native endpoint echoes the STOMP subprotocol and answers CONNECTED 1.2 without heart-beats.
        let mut h = StompClient::native(&ws_url(&srv)).await;
        assert_eq!(h.protocol.as_deref(), Some("v12.stomp"));
        let connected = h.connect(&token(&host)).await;
        assert_eq!(connected.command, "CONNECTED");
        assert_eq!((connected.header("version"), connected.header("heart-beat")), (Some("1.2"), Some("0,0")));
        h.subscribe_confirmed("room", &format!("/sub/chat/room/{room}")).await;
        // Alice comes through SockJS, as the frontend does.
        let info = c.get("/ws-chat/info?t=1").await;
        assert_eq!(info.status, 200);
        assert_eq!((info.body["websocket"].clone(), info.body["cookie_needed"].clone()), (json!(true), json!(false)));
        let mut s = member_socket(&srv, &a, a_id, Some(room), true).await;

        // Turn-taking sends: everyone (the sender too) gets each once.
        for i in 0..5 {
            h.chat(room, &format!("host {i}")).await;
            for client in [&mut h, &mut s] {
                let (f, m) = client.message().await;
                assert_eq!(f.header("destination"), Some(format!("/sub/chat/room/{room}").as_str()));
                assert_eq!(f.header("subscription"), Some("room"));
                assert_eq!(f.header("content-type"), Some("application/json"));
                assert_eq!(
                    (m["content"].as_str(), m["senderId"].as_i64()),
                    (Some(format!("host {i}").as_str()), Some(host_id))
                );
                assert_eq!(m["messageType"], "TEXT");
                assert_eq!(m["chatRoomId"], room);
                assert_eq!(m["senderName"], "Host");
            }
            s.chat(room, &format!("  alice {i}  ")).await;
            for client in [&mut h, &mut s] {
                let (_, m) = client.message().await;
                assert_eq!(m["content"], format!("alice {i}"), "content is trimmed");
                assert_eq!(m["senderId"], a_id);
            }
        }
        h.quiet(Duration::from_millis(300)).await;
        // Several frames in one WebSocket message are handled in order.
        let two = [Frame::new("SEND"), Frame::new("SEND")]
            .into_iter()
            .enumerate()
            .map(|(i, f)| {
                f.with_header("destination", "/pub/chat/message")
                    .with_body(json!({"chatRoomId": room, "content": format!("batch {i}")}).to_string())
                    .encode()
            })
            .collect::<String>();
        h.send_raw(&two).await;
        assert_eq!(h.message().await.1["content"], "batch 0");
        assert_eq!(h.message().await.1["content"], "batch 1");
        assert_eq!(s.message().await.1["content"], "batch 0");
        assert_eq!(s.message().await.1["content"], "batch 1");

        // History has them all, newest first; unread counts others' messages.
        let texts: Vec<String> = history(&host, room)
            .await
            .iter()
            .filter(|m| m["messageType"] == "TEXT")
            .map(|m| m["content"].as_str().unwrap().to_string())
            .collect();
        assert_eq!(texts.len(), 12);
        assert_eq!(texts[0], "batch 1");
        let list = a.get("/api/v1/chat/rooms").await;
        let mine =
            list.data()["chatRooms"].as_array().unwrap().iter().find(|r| r["chatRoomId"] == room).unwrap().clone();
        assert_eq!(mine["unreadCount"], 7, "5 + 2 from the host since Alice joined");
        assert_eq!(mine["lastMessage"]["content"], "batch 1");
        assert_eq!(a.put(&format!("/api/v1/chat/rooms/{room}/read")).await.data()["unreadCount"], 0);

        // UNSUBSCRIBE stops delivery; DISCONNECT answers its receipt and closes.
        s.send(Frame::new("UNSUBSCRIBE").with_header("id", "room").with_header("receipt", "u1")).await;
        assert_eq!(s.next().await.unwrap().header("receipt-id"), Some("u1"));
        h.chat(room, "after unsubscribe").await;
        assert_eq!(h.message().await.1["content"], "after unsubscribe");
        s.quiet(Duration::from_millis(300)).await;
        h.send(Frame::new("DISCONNECT").with_header("receipt", "bye")).await;
        assert_eq!(h.next().await.unwrap().header("receipt-id"), Some("bye"));
        assert!(h.next().await.is_none(), "closed after DISCONNECT");
    }
}

#[tokio::test]
async fn a_kicked_member_gets_the_kick_then_nothing_and_cannot_come_back() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (host, host_id, _) = c.register("host@b.com", "Host").await;
        let (b, b_id, _) = c.register("b@b.com", "Bob").await;
        let (gid, room) = create(&host, "강퇴 모임", 4).await;
        assert_eq!(b.post(&format!("/api/v2/groups/{gid}/attend"), None).await.status, 200);
        let mut hs = member_socket(&srv, &host, host_id, Some(room), false).await;
        let mut bs = member_socket(&srv, &b, b_id, Some(room), false).await;

        let r = host.post(&format!("/api/v2/groups/{gid}/attendance/{b_id}/kick"), None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        // Bob: the KICK message on the room, and his GROUP_JOIN_KICKED notification on his queue.
        let got = by_subscription(&mut bs, 2).await;
        let (noti, kick) = (&got[0], &got[1]);
        assert_eq!((noti.0.as_str(), kick.0.as_str()), ("me", "room"));
        assert_eq!((kick.1["messageType"].clone(), kick.1["targetUserId"].clone()), (json!("KICK"), json!(b_id)));
        assert_eq!(noti.1["type"], "GROUP_JOIN_KICKED");
        assert_eq!(hs.message().await.1["messageType"], "KICK");

        // Then nothing more reaches him from the room.
        hs.chat(room, "after the kick").await;
        assert_eq!(hs.message().await.1["content"], "after the kick");
        bs.quiet(Duration::from_millis(500)).await;
        let before = history(&host, room).await.len();
        // His SEND and re-SUBSCRIBE are refused on his own queue; nothing is stored.
        bs.chat(room, "let me back").await;
        let (f, e) = bs.message().await;
        assert_eq!(f.header("subscription"), Some("me"));
        assert_eq!((e["errorCode"].as_str(), e["status"].as_u64()), (Some("CHAT_ROOM_ACCESS_DENIED"), Some(403)));
        assert_eq!(e["instance"], "/pub/chat/message");
        bs.subscribe("again", &format!("/sub/chat/room/{room}")).await;
        let (_, e) = bs.message().await;
        assert_eq!(e["errorCode"], "CHAT_ROOM_ACCESS_DENIED");
        assert_eq!(e["instance"], format!("/sub/chat/room/{room}"));
        hs.chat(room, "still alone").await;
        assert_eq!(hs.message().await.1["content"], "still alone");
        bs.quiet(Duration::from_millis(500)).await;
        assert_eq!(history(&host, room).await.len(), before + 1);

        // A member who leaves stops receiving at once: not even their own leave message.
        let (l, l_id, _) = c.register("l@b.com", "Leaver").await;
        assert_eq!(l.post(&format!("/api/v2/groups/{gid}/attend"), None).await.status, 200);
        let got = by_subscription(&mut hs, 2).await;
        assert_eq!(
            (got[0].1["type"].as_str(), got[1].1["content"].as_str()),
            (Some("GROUP_JOIN"), Some("Leaver님이 입장했습니다."))
        );
        let mut ls = member_socket(&srv, &l, l_id, Some(room), false).await;
        assert_eq!(l.post(&format!("/api/v2/groups/{gid}/left"), None).await.status, 200);
        let got = by_subscription(&mut hs, 2).await;
        assert_eq!(
            (got[0].1["type"].as_str(), got[1].1["content"].as_str()),
            (Some("GROUP_LEAVE"), Some("Leaver님이 퇴장했습니다."))
        );
        ls.quiet(Duration::from_millis(500)).await;
    }
}

#[tokio::test]
async fn strangers_bad_tokens_and_bad_frames_are_refused() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (host, host_id, _) = c.register("host@b.com", "Host").await;
        let (x, x_id, _) = c.register("x@b.com", "Stranger").await;
        let (_, room) = create(&host, "비공개", 4).await;

        let mut s = member_socket(&srv, &x, x_id, None, false).await;
        s.subscribe("r", &format!("/sub/chat/room/{room}")).await;
        let (_, e) = s.message().await;
        assert_eq!((e["errorCode"].as_str(), e["status"].as_u64()), (Some("CHAT_ROOM_ACCESS_DENIED"), Some(403)));
        s.subscribe("u", &format!("/sub/user/{host_id}")).await;
        assert_eq!(s.message().await.1["errorCode"], "USER_ACCESS_DENIED");
        s.subscribe("n", "/sub/chat/room/987654321").await;
        assert_eq!(s.message().await.1["errorCode"], "CHAT_ROOM_NOT_FOUND");
        s.chat(room, "hello?").await;
        assert_eq!(s.message().await.1["errorCode"], "CHAT_ROOM_ACCESS_DENIED");
        assert!(history(&host, room).await.is_empty(), "no message stored");
        // The host's own content checks: blank and too long.
        let mut h = member_socket(&srv, &host, host_id, Some(room), false).await;
        // The refused SUBSCRIBEs stored nothing: the room's messages do not reach the stranger.
        h.chat(room, "private").await;
        assert_eq!(h.message().await.1["content"], "private");
        s.quiet(Duration::from_millis(300)).await;
        h.chat(room, "   ").await;
        assert_eq!(h.message().await.1["errorCode"], "CHAT_MESSAGE_INVALID");
        h.chat(room, &"가".repeat(1001)).await;
        assert_eq!(h.message().await.1["errorCode"], "CHAT_MESSAGE_INVALID");
        h.chat(room, &"가".repeat(1000)).await;
        assert_eq!(h.message().await.1["content"].as_str().unwrap().chars().count(), 1000);
        h.send(Frame::new("SEND").with_header("destination", "/pub/chat/message").with_body("not json")).await;
        assert_eq!(h.message().await.1["errorCode"], "INVALID_INPUT_VALUE");

        // A bad token at CONNECT: ERROR, then the socket closes.
        let mut bad = StompClient::native(&ws_url(&srv)).await;
        let f = bad.connect("not-a-token").await;
        assert_eq!((f.command.as_str(), f.header("message")), ("ERROR", Some("INVALID_TOKEN")));
        assert!(bad.next().await.is_none(), "closed after ERROR");
        // Any frame before CONNECT: the same.
        let mut early = StompClient::sockjs(&format!("{}/ws-chat", srv.url)).await;
        early.subscribe("r", &format!("/sub/chat/room/{room}")).await;
        assert_eq!(early.next().await.unwrap().command, "ERROR");
        assert!(early.next().await.is_none());
        // A frame that does not parse.
        let mut junk = StompClient::native(&ws_url(&srv)).await;
        junk.send_raw("SEND\ndestination:/pub/chat/message\n\nno terminator").await;
        assert_eq!(junk.next().await.unwrap().command, "ERROR");
        assert!(junk.next().await.is_none());
        // SockJS HTTP fallbacks are not served.
        assert_eq!(c.get("/ws-chat/123/abcdefgh/xhr_streaming").await.status, 404);
    }
}

#[tokio::test]
async fn notifications_and_room_events_arrive_live() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (host, host_id, _) = c.register("host@b.com", "Host").await;
        let (a, a_id, _) = c.register("a@b.com", "Alice").await;
        let (gid, room) = create(&host, "알림 모임", 4).await;
        let mut hs = member_socket(&srv, &host, host_id, Some(room), true).await;
        // Two tabs of the host: both get the pushes.
        let mut tab = member_socket(&srv, &host, host_id, None, false).await;

        assert_eq!(a.post(&format!("/api/v2/groups/{gid}/attend"), None).await.status, 200);
        let got = by_subscription(&mut hs, 2).await;
        assert_eq!(got[0].0, "me");
        assert_eq!(got[0].1["type"], "GROUP_JOIN");
        assert_eq!(got[0].1["user"]["nickname"], "Alice");
        assert_eq!(got[0].1["group"]["id"], gid);
        assert_eq!(got[1].0, "room");
        assert_eq!(got[1].1["content"], "Alice님이 입장했습니다.");
        assert_eq!(tab.message().await.1["type"], "GROUP_JOIN");

        // FOLLOW is pushed too.
        assert_eq!(a.post("/api/v1/users/follow?followNickname=Host", None).await.status, 201);
        assert_eq!(hs.message().await.1["type"], "FOLLOW");
        assert_eq!(tab.message().await.1["type"], "FOLLOW");
        // Deleting the group: members' subscriptions to the room go.
        let mut asock = member_socket(&srv, &a, a_id, Some(room), false).await;
        assert_eq!(host.delete(&format!("/api/v2/groups/{gid}")).await.status, 204);
        let (f, m) = asock.message().await;
        assert_eq!((f.header("subscription"), m["type"].as_str()), (Some("me"), Some("GROUP_DELETE")));
        hs.chat(room, "anyone?").await;
        assert_eq!(hs.message().await.1["errorCode"], "CHAT_ROOM_NOT_FOUND");
        asock.quiet(Duration::from_millis(300)).await;
    }
}

/// 12 members with 4 tabs each (48 sockets); 3 members send 20 messages each
/// at once: every socket gets all 60, each sender's in its order.
#[tokio::test]
async fn a_full_room_with_many_tabs_gets_every_message_in_order() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (host, host_id, _) = c.register("host@b.com", "Host").await;
        let (gid, room) = create(&host, "만석", 12).await;
        let mut members = vec![(host.clone(), host_id)];
        for i in 0..11 {
            let (m, id, _) = c.register(&format!("m{i}@b.com"), &format!("m{i}")).await;
            assert_eq!(m.post(&format!("/api/v2/groups/{gid}/attend"), None).await.status, 200);
            members.push((m, id));
        }
        let mut sockets = Vec::new();
        for (m, id) in &members {
            for tab in 0..4 {
                sockets.push((*id, member_socket(&srv, m, *id, Some(room), tab % 2 == 1).await));
            }
        }
        assert_eq!(sockets.len(), 48);
        let sends: Vec<_> = members[..3]
            .iter()
            .enumerate()
            .map(|(k, (m, _))| spawn_sender(ws_url(&srv), token(m), room, k, 20))
            .collect();
        for s in sends {
            s.await.unwrap();
        }
        let readers: Vec<_> = sockets
            .into_iter()
            .map(|(_, mut s)| {
                tokio::spawn(async move {
                    let mut next = [0usize; 3];
                    for _ in 0..60 {
                        let (_, m) = s.message().await;
                        let text = m["content"].as_str().unwrap().to_string();
                        let (k, i) = text.split_once(':').unwrap();
                        let (k, i): (usize, usize) = (k.parse().unwrap(), i.parse().unwrap());
                        assert_eq!(i, next[k], "sender {k} out of order: {text}");
                        next[k] += 1;
                    }
                    s.quiet(Duration::from_millis(200)).await;
                    next
                })
            })
            .collect();
        for r in readers {
            assert_eq!(r.await.unwrap(), [20, 20, 20]);
        }
    }
}

/// History pages read while 3 members send at once. Ids are taken before the
/// commit, so a message can land just below one already read; a pass may only
/// miss such in-flight messages (allocated at most 5 s before the pass
/// began), never older ones, and never shows one twice or one not stored.
#[tokio::test]
async fn history_pages_have_no_gaps_under_concurrent_sends() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (host, _, _) = c.register("host@b.com", "Host").await;
        let (gid, room) = create(&host, "동시 전송", 4).await;
        let mut members = vec![host.clone()];
        for i in 0..2 {
            let (m, _, _) = c.register(&format!("m{i}@b.com"), &format!("m{i}")).await;
            assert_eq!(m.post(&format!("/api/v2/groups/{gid}/attend"), None).await.status, 200);
            members.push(m);
        }
        let sends: Vec<_> =
            members.iter().enumerate().map(|(k, m)| spawn_sender(ws_url(&srv), token(m), room, k, 30)).collect();
        let mut passes: Vec<(i64, Vec<i64>)> = Vec::new();
        while passes.len() < 3 || !sends.iter().all(|s| s.is_finished()) {
            let started_ms = chrono::Utc::now().timestamp_millis();
            let mut ids = Vec::new();
            let mut cursor: Option<i64> = None;
            loop {
                let q = cursor.map(|c| format!("&cursor={c}")).unwrap_or_default();
                let r = host.get(&format!("/api/v1/chat/rooms/{room}/messages?size=7{q}")).await;
                let page = r.data();
                ids.extend(page["messages"].as_array().unwrap().iter().map(|m| m["messageId"].as_i64().unwrap()));
                match page["nextCursor"].as_i64() {
                    Some(n) => cursor = Some(n),
                    None => break,
                }
            }
            passes.push((started_ms, ids));
        }
        for s in sends {
            s.await.unwrap();
        }
        let all: Vec<i64> = history(&host, room).await.iter().map(|m| m["messageId"].as_i64().unwrap()).collect();
        assert_eq!(all.len(), 90 + 2, "90 texts and 2 join messages");
        // Milliseconds since the epoch encoded in an id (shared/store/src/keys.rs).
        let id_ms = |id: i64| (id >> 11) + 1_735_689_600_000;
        for (started_ms, ids) in passes {
            assert!(ids.windows(2).all(|w| w[0] > w[1]), "newest first, no repeats");
            assert!(ids.iter().all(|id| all.contains(id)), "only stored messages");
            let top = ids.first().copied().unwrap_or(i64::MAX);
            for missed in all.iter().filter(|id| **id < top && !ids.contains(id)) {
                assert!(id_ms(*missed) >= started_ms - 5000, "pass missed an old message {missed}");
            }
        }
    }
}
