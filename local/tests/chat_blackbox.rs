//! Chat REST (API.md §8) over real HTTP against `moim-local serve`, on every
//! engine: GROUP rooms following their group (participants, SYSTEM / KICK
//! messages, access), DM rooms, history pages, read marks, kick.

use moim_blackbox::{engines, Client, Server};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_moim-local");

fn group_body(title: &str, max: i64, policy: &str) -> Value {
    let start = (chrono::Utc::now() + chrono::Duration::days(3)).format("%Y-%m-%dT%H:%M:%S").to_string();
    json!({
        "title": title, "location": "서울", "startTime": start, "tags": [],
        "description": "같이 해요", "maxParticipants": max, "joinPolicy": policy,
    })
}

/// Creates a group; returns (group id, chat room id).
async fn create(c: &Client, title: &str, max: i64, policy: &str) -> (i64, i64) {
    let r = c.post("/api/v2/groups/create", Some(group_body(title, max, policy))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    (r.data()["id"].as_i64().unwrap(), r.data()["chatRoomId"].as_i64().unwrap())
}

async fn rooms(c: &Client) -> Vec<Value> {
    let r = c.get("/api/v1/chat/rooms").await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.data()["chatRooms"].as_array().unwrap().clone()
}

fn room_in(list: &[Value], room: i64) -> Option<Value> {
    list.iter().find(|r| r["chatRoomId"] == room).cloned()
}

async fn history(c: &Client, room: i64, cursor: Option<i64>, size: usize) -> Value {
    let q = cursor.map(|c| format!("&cursor={c}")).unwrap_or_default();
    let r = c.get(&format!("/api/v1/chat/rooms/{room}/messages?size={size}{q}")).await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.data().clone()
}

fn user_ids(participants: &Value) -> Vec<i64> {
    participants.as_array().unwrap().iter().map(|p| p["userId"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn a_group_room_follows_its_members() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (host, host_id, _) = c.register("host@b.com", "Host").await;
        let (a, a_id, _) = c.register("a@b.com", "Alice").await;
        let (b, b_id, _) = c.register("b@b.com", "Bob").await;
        let (stranger, _, _) = c.register("s@b.com", "Stranger").await;
        let (gid, room) = create(&host, "자바 스터디", 4, "FREE").await;

        // The host is in the room from the start, without a message.
        let list = rooms(&host).await;
        let r = room_in(&list, room).expect("host's room");
        assert_eq!(
            (r["chatType"].clone(), r["chatRoomName"].clone(), r["groupId"].clone()),
            (json!("GROUP"), json!("자바 스터디"), json!(gid))
        );
        assert_eq!(r["participantCount"], 1);
        assert_eq!(r["lastMessage"], Value::Null);
        assert_eq!(r["unreadCount"], 0);
        assert!(r["thumbnail"].as_str().unwrap().ends_with("/defaults/group_100x100.webp"), "{r}");
        assert!(rooms(&a).await.is_empty());

        // Alice joins: ACTIVE participant, a SYSTEM message, unread for the host only.
        assert_eq!(a.post(&format!("/api/v2/groups/{gid}/attend"), None).await.status, 200);
        let d = a.get(&format!("/api/v1/chat/rooms/{room}")).await;
        assert_eq!(d.status, 200, "{}", d.text);
        let d = d.data();
        assert_eq!(d["chatType"], "GROUP");
        assert_eq!(d["participantCount"], 2);
        assert_eq!(user_ids(&d["participants"]), [host_id, a_id]);
        assert_eq!(d["participants"][0]["isOwner"], true);
        assert_eq!(d["participants"][1]["nickName"], "Alice");
        assert_eq!(d["participants"][1]["status"], "ACTIVE");
        let h = history(&host, room, None, 20).await;
        let msgs = h["messages"].as_array().unwrap();
        assert_eq!(msgs.len(), 1);
        assert_eq!(msgs[0]["messageType"], "SYSTEM");
        assert_eq!(msgs[0]["senderId"], Value::Null);
        assert_eq!(msgs[0]["content"], "Alice님이 입장했습니다.");
        assert_eq!(msgs[0]["createdAt"], msgs[0]["timestamp"]);
        assert_eq!((h["hasNext"].clone(), h["nextCursor"].clone()), (json!(false), Value::Null));
        let hr = room_in(&rooms(&host).await, room).unwrap();
        assert_eq!(hr["unreadCount"], 1);
        assert_eq!(hr["lastMessage"]["content"], "Alice님이 입장했습니다.");
        assert_eq!(room_in(&rooms(&a).await, room).unwrap()["unreadCount"], 0, "joining reads up to one's own join");

        // Read marks.
        let read = host.put(&format!("/api/v1/chat/rooms/{room}/read")).await;
        assert_eq!(read.status, 200, "{}", read.text);
        assert_eq!(read.data()["lastReadMessageId"], msgs[0]["messageId"]);
        assert_eq!(read.data()["unreadCount"], 0);
        assert_eq!(room_in(&rooms(&host).await, room).unwrap()["unreadCount"], 0);

        // Strangers and unknown rooms.
        stranger.get(&format!("/api/v1/chat/rooms/{room}")).await.expect(403, "CHAT_ROOM_ACCESS_DENIED");
        stranger.get(&format!("/api/v1/chat/rooms/{room}/messages")).await.expect(403, "CHAT_ROOM_ACCESS_DENIED");
        stranger.put(&format!("/api/v1/chat/rooms/{room}/read")).await.expect(403, "CHAT_ROOM_ACCESS_DENIED");
        stranger.get(&format!("/api/v1/chat/rooms/{room}/participants")).await.expect(403, "CHAT_ROOM_ACCESS_DENIED");
        host.get("/api/v1/chat/rooms/123456789").await.expect(404, "CHAT_ROOM_NOT_FOUND");
        c.get(&format!("/api/v1/chat/rooms/{room}")).await.expect(401, "NOT_FOUND_TOKEN");

        // Bob joins, Alice leaves: she is out of the room and its list.
        assert_eq!(b.post(&format!("/api/v2/groups/{gid}/attend"), None).await.status, 200);
        assert_eq!(a.post(&format!("/api/v2/groups/{gid}/left"), None).await.status, 200);
        assert!(room_in(&rooms(&a).await, room).is_none());
        a.get(&format!("/api/v1/chat/rooms/{room}/messages")).await.expect(403, "CHAT_ROOM_ACCESS_DENIED");
        let p = host.get(&format!("/api/v1/chat/rooms/{room}/participants")).await;
        assert_eq!(p.data()["totalCount"], 2);
        assert_eq!(user_ids(&p.data()["participants"]), [host_id, b_id]);
        assert_eq!(room_in(&rooms(&host).await, room).unwrap()["unreadCount"], 2);

        // Kick through the chat API is the group kick.
        let k = b.post(&format!("/api/v1/chat/rooms/{room}/kick"), Some(json!({"targetUserId": host_id}))).await;
        k.expect(403, "NO_PERMISSION_TO_KICK");
        let k = host.post(&format!("/api/v1/chat/rooms/{room}/kick"), Some(json!({"targetUserId": host_id}))).await;
        k.expect(400, "GROUP_CANNOT_KICK_SELF");
        host.post(&format!("/api/v1/chat/rooms/{room}/kick"), Some(json!({}))).await.expect(400, "INVALID_INPUT_VALUE");
        let k = host.post(&format!("/api/v1/chat/rooms/{room}/kick"), Some(json!({"targetUserId": b_id}))).await;
        assert_eq!(k.status, 200, "{}", k.text);
        assert_eq!(k.data(), &json!({"chatRoomId": room, "targetUserId": b_id, "participantCount": 1}));
        let g = host.get(&format!("/api/v2/groups/{gid}")).await;
        assert_eq!(g.data()["participantCount"], 1);
        let m = b.get(&format!("/api/v2/groups/{gid}")).await;
        assert_eq!(m.data()["myMembership"]["status"], "KICKED");
        b.get(&format!("/api/v1/chat/rooms/{room}")).await.expect(403, "CHAT_ROOM_ACCESS_DENIED");
        let h = history(&host, room, None, 20).await;
        let kick = &h["messages"][0];
        assert_eq!((kick["messageType"].clone(), kick["targetUserId"].clone()), (json!("KICK"), json!(b_id)));
        let contents: Vec<&str> =
            h["messages"].as_array().unwrap().iter().map(|m| m["content"].as_str().unwrap()).collect();
        assert_eq!(
            contents,
            ["Bob님이 강퇴되었습니다.", "Alice님이 퇴장했습니다.", "Bob님이 입장했습니다.", "Alice님이 입장했습니다."]
        );

        // A deleted group takes its room with it.
        assert_eq!(host.delete(&format!("/api/v2/groups/{gid}")).await.status, 204);
        host.get(&format!("/api/v1/chat/rooms/{room}")).await.expect(404, "CHAT_ROOM_NOT_FOUND");
        host.post(&format!("/api/v1/chat/rooms/{room}/kick"), Some(json!({"targetUserId": b_id})))
            .await
            .expect(404, "CHAT_ROOM_NOT_FOUND");
        assert!(room_in(&rooms(&host).await, room).is_none());
    }
}

#[tokio::test]
async fn a_join_request_is_not_in_the_room_until_approved() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (host, _, _) = c.register("host@b.com", "Host").await;
        let (a, a_id, _) = c.register("a@b.com", "Alice").await;
        let (gid, room) = create(&host, "승인 모임", 4, "APPROVAL_REQUIRED").await;
        let r = a.post(&format!("/api/v2/groups/{gid}/attend"), Some(json!({"message": "hi"}))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        a.get(&format!("/api/v1/chat/rooms/{room}")).await.expect(403, "CHAT_ROOM_ACCESS_DENIED");
        assert!(history(&host, room, None, 20).await["messages"].as_array().unwrap().is_empty());
        let r = host.post(&format!("/api/v2/groups/{gid}/attendance/{a_id}/approve"), None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let d = a.get(&format!("/api/v1/chat/rooms/{room}")).await;
        assert_eq!(d.status, 200, "{}", d.text);
        assert_eq!(d.data()["participantCount"], 2);
        assert_eq!(history(&a, room, None, 20).await["messages"][0]["content"], "Alice님이 입장했습니다.");
    }
}

#[tokio::test]
async fn dm_rooms_are_one_per_pair_even_when_opened_at_once() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (a, a_id, _) = c.register("a@b.com", "Alice").await;
        let (b, b_id, _) = c.register("b@b.com", "Bob").await;
        let (stranger, _, _) = c.register("s@b.com", "Stranger").await;

        a.post("/api/v1/chat/dm", Some(json!({"targetUserId": a_id}))).await.expect(400, "CHAT_CANNOT_DM_SELF");
        a.post("/api/v1/chat/dm", Some(json!({"targetUserId": 987654321}))).await.expect(404, "USER_NOT_FOUND");
        a.post("/api/v1/chat/dm", Some(json!({}))).await.expect(400, "INVALID_INPUT_VALUE");

        // Both sides open it at once, several times: one room, one 201.
        let mut calls = Vec::new();
        for i in 0..10 {
            let (c, target) = if i % 2 == 0 { (a.clone(), b_id) } else { (b.clone(), a_id) };
            calls.push(tokio::spawn(
                async move { c.post("/api/v1/chat/dm", Some(json!({"targetUserId": target}))).await },
            ));
        }
        let mut ids = std::collections::HashSet::new();
        let mut created = 0;
        for call in calls {
            let r = call.await.unwrap();
            assert!(r.status == 200 || r.status == 201, "{}", r.text);
            created += usize::from(r.status == 201);
            ids.insert(r.data()["chatRoomId"].as_i64().unwrap());
        }
        assert_eq!((ids.len(), created), (1, 1));
        let room = *ids.iter().next().unwrap();

        let r = a.post("/api/v1/chat/dm", Some(json!({"targetUserId": b_id}))).await;
        assert_eq!(r.status, 200);
        let s = r.data();
        assert_eq!(
            (s["chatType"].clone(), s["chatRoomName"].clone(), s["groupId"].clone()),
            (json!("DM"), json!("Bob"), Value::Null)
        );
        assert_eq!(s["participantCount"], 2);
        let other = b.get(&format!("/api/v1/chat/rooms/{room}")).await;
        assert_eq!(other.data()["chatRoomName"], "Alice");
        assert!(room_in(&rooms(&a).await, room).is_some());
        assert!(room_in(&rooms(&b).await, room).is_some());
        stranger.get(&format!("/api/v1/chat/rooms/{room}")).await.expect(403, "CHAT_ROOM_ACCESS_DENIED");
        let k = a.post(&format!("/api/v1/chat/rooms/{room}/kick"), Some(json!({"targetUserId": b_id}))).await;
        k.expect(400, "CHAT_KICK_NOT_ALLOWED");
        let read = a.put(&format!("/api/v1/chat/rooms/{room}/read")).await;
        assert_eq!(read.data()["lastReadMessageId"], Value::Null);
    }
}

#[tokio::test]
async fn history_pages_have_no_gaps_or_repeats() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (host, _, _) = c.register("host@b.com", "Host").await;
        let (a, _, _) = c.register("a@b.com", "Alice").await;
        let (gid, room) = create(&host, "토글", 4, "FREE").await;
        // Each attend / left posts one SYSTEM message: 25 in all.
        for i in 0..25 {
            let path = if i % 2 == 0 { "attend" } else { "left" };
            let r = a.post(&format!("/api/v2/groups/{gid}/{path}"), None).await;
            assert_eq!(r.status, 200, "{}", r.text);
        }
        let mut seen = Vec::new();
        let mut cursor = None;
        loop {
            let page = history(&host, room, cursor, 10).await;
            let msgs = page["messages"].as_array().unwrap();
            seen.extend(msgs.iter().map(|m| m["messageId"].as_i64().unwrap()));
            assert_eq!(page["hasNext"], page["nextCursor"].is_i64());
            match page["nextCursor"].as_i64() {
                Some(next) => {
                    assert_eq!(msgs.len(), 10);
                    assert_eq!(Some(next), msgs.last().unwrap()["messageId"].as_i64());
                    cursor = Some(next);
                }
                None => break,
            }
        }
        assert_eq!(seen.len(), 25);
        assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first, no repeats: {seen:?}");
        let r = host.get(&format!("/api/v1/chat/rooms/{room}/messages")).await;
        assert_eq!(r.data()["messages"].as_array().unwrap().len(), 25, "the default page is 50 (API.md §1.7)");
        assert_eq!(r.data()["nextCursor"], serde_json::Value::Null);
        let r = host.get(&format!("/api/v1/chat/rooms/{room}/messages?size=0")).await;
        assert_eq!(r.data()["messages"].as_array().unwrap().len(), 1, "size is clamped to 1..=100");
        host.get(&format!("/api/v1/chat/rooms/{room}/messages?cursor=abc")).await.expect(400, "INVALID_INPUT_VALUE");
    }
}
