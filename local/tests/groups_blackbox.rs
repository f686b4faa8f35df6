//! Groups V2 over real HTTP against `moim-local serve`, on every engine: the
//! scenarios of API.md §4–§6 and the concurrency guarantees.

use moim_blackbox::{engines, Client, Engine, Server};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_moim-local");

fn in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn group_body(title: &str, max: i64, policy: &str) -> Value {
    json!({
        "title": title, "location": "서울 강남구", "locationDetail": "강남역 2번 출구",
        "startTime": in_days(3), "endTime": null, "tags": ["자바", "스터디"],
        "description": "같이 공부해요", "maxParticipants": max, "joinPolicy": policy,
    })
}

async fn create(c: &Client, title: &str, max: i64, policy: &str) -> i64 {
    let r = c.post("/api/v2/groups/create", Some(group_body(title, max, policy))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.data()["id"].as_i64().unwrap()
}

/// Registers `n` users named `{prefix}{i}` (sequentially: signup hashes a password).
async fn users(c: &Client, prefix: &str, n: usize) -> Vec<(Client, i64)> {
    let mut out = Vec::new();
    for i in 0..n {
        let (u, id, _) = c.register(&format!("{prefix}{i}@b.com"), &format!("{prefix}{i}")).await;
        out.push((u, id));
    }
    out
}

#[tokio::test]
async fn create_and_detail_views() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (host, host_id, _) = c.register("host@b.com", "Host").await;
        let r = host.post("/api/v2/groups/create", Some(group_body("자바 스터디", 4, "FREE"))).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let d = r.data();
        let id = d["id"].as_i64().unwrap();
        assert!(d["chatRoomId"].as_i64().is_some());
        assert_eq!(d["status"], "RECRUITING");
        assert_eq!(d["participantCount"], 1);
        assert_eq!(d["address"]["locationDetail"], "강남역 2번 출구");
        assert_eq!(d["myMembership"]["role"], "HOST");
        assert_eq!(d["images"], json!([]));
        let card = d["defaultImage"]["imageUrl440x240"].as_str().unwrap().to_string();
        assert!(card.ends_with("/defaults/group_440x240.webp"), "{card}");
        if engine == Engine::Embedded {
            // The gateway serves the embedded blob store: the default is real WEBP.
            // (On S3 the bucket is private; reads go through the CDN in production.)
            let img = reqwest::get(&card).await.unwrap();
            assert_eq!(img.status(), 200, "{card}");
            assert_eq!(img.headers()["content-type"], "image/webp");
            assert_eq!(&img.bytes().await.unwrap()[8..12], b"WEBP");
        }

        let anon = c.get(&format!("/api/v2/groups/{id}")).await;
        let a = anon.data();
        for k in [
            "id",
            "chatRoomId",
            "title",
            "joinPolicy",
            "status",
            "address",
            "startTime",
            "endTime",
            "images",
            "defaultImage",
            "tags",
            "description",
            "participantCount",
            "maxParticipants",
            "remainingSeats",
            "joinable",
            "createdBy",
            "createdAt",
            "updatedAt",
            "myMembership",
            "joinedMembers",
        ] {
            assert!(a.get(k).is_some(), "detail.{k}");
        }
        assert_eq!(a["myMembership"], Value::Null);
        assert_eq!(a["remainingSeats"], 3);
        assert_eq!(a["joinable"], true);
        assert_eq!(a["createdBy"]["userId"], host_id);
        assert_eq!(a["joinedMembers"].as_array().unwrap().len(), 1);
        assert!(!a["startTime"].as_str().unwrap().ends_with('Z'));
        c.get("/api/v2/groups/999").await.expect(404, "GROUP_NOT_FOUND_BY_ID");
        c.get("/api/v2/groups/x1").await.expect(400, "INVALID_INPUT_VALUE");
        assert_eq!(host.get("/api/v1/users/me").await.data()["groupCreatedCnt"], 1);
        assert_eq!(host.get("/api/v1/users/me").await.data()["groupJoinedCnt"], 1);
    }
}

#[tokio::test]
async fn create_validation_cooldown_and_images() {
    let srv = Server::start(BIN, Engine::Embedded);
    let c = srv.client();
    let (host, _, _) = c.register("host@b.com", "Host").await;
    c.post("/api/v2/groups/create", Some(group_body("x", 4, "FREE"))).await.expect(401, "NOT_FOUND_TOKEN");
    let mut b = group_body("", 13, "FREE");
    b["startTime"] = json!("2020-01-01T00:00:00");
    let r = host.post("/api/v2/groups/create", Some(b)).await;
    r.expect(400, "INVALID_INPUT_VALUE");
    let fields: Vec<&str> = r.body["data"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
    assert_eq!(fields, ["title", "startTime", "maxParticipants"]);
    host.post("/api/v2/groups/create", Some(group_body("t", 4, "INVITE_ONLY")))
        .await
        .expect(400, "INVALID_JOIN_POLICY");
    let mut b = group_body("t", 4, "FREE");
    b["tags"] = json!(["a", "a "]);
    host.post("/api/v2/groups/create", Some(b)).await.expect(400, "TAG_DUPLICATED");
    let mut b = group_body("t", 4, "FREE");
    b["images"] = json!([{"imageKey": "2f1c0000-0000-4000-8000-000000000000"}]);
    host.post("/api/v2/groups/create", Some(b)).await.expect(404, "PRE_UPLOADED_IMAGE_NOT_FOUND");
    // Failed creates started no cooldown; a success does.
    create(&host, "first", 4, "FREE").await;
    let r = host.post("/api/v2/groups/create", Some(group_body("second", 4, "FREE"))).await;
    r.expect(429, "GROUP_CREATE_COOLDOWN_ACTIVE");
    assert!(r.body["detail"].as_str().unwrap().contains('초'));
    tokio::time::sleep(std::time::Duration::from_millis(5200)).await;
    create(&host, "third", 4, "FREE").await;
}

#[tokio::test]
async fn concurrent_creates_by_one_user_yield_one_group() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (host, _, _) = c.register("host@b.com", "Host").await;
        let tasks: Vec<_> = (0..20)
            .map(|i| {
                let h = host.clone();
                tokio::spawn(async move {
                    h.post("/api/v2/groups/create", Some(group_body(&format!("g{i}"), 4, "FREE"))).await
                })
            })
            .collect();
        let results: Vec<_> = futures::future::join_all(tasks).await.into_iter().map(Result::unwrap).collect();
        assert_eq!(results.iter().filter(|r| r.status == 201).count(), 1, "{engine:?}");
        for r in results.iter().filter(|r| r.status != 201) {
            r.expect(429, "GROUP_CREATE_COOLDOWN_ACTIVE");
        }
        let me = host.get("/api/v2/groups/me?type=myPost").await;
        assert_eq!(me.data()["items"].as_array().unwrap().len(), 1);
        assert_eq!(host.get("/api/v1/users/me").await.data()["groupCreatedCnt"], 1);
    }
}

#[tokio::test]
async fn hundred_concurrent_attends_fill_exactly_the_seats() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (host, _, _) = c.register("host@b.com", "Host").await;
        let id = create(&host, "인기 모임", 12, "FREE").await;
        let members = users(&c, "m", 100).await;
        let tasks: Vec<_> = members
            .iter()
            .map(|(u, _)| {
                let u = u.clone();
                tokio::spawn(async move { u.post(&format!("/api/v2/groups/{id}/attend"), None).await })
            })
            .collect();
        let results: Vec<_> = futures::future::join_all(tasks).await.into_iter().map(Result::unwrap).collect();
        let ok: Vec<usize> = results.iter().enumerate().filter(|(_, r)| r.status == 200).map(|(i, _)| i).collect();
        assert_eq!(ok.len(), 11, "{engine:?}: {:?}", results.iter().map(|r| r.status).collect::<Vec<_>>());
        for r in results.iter().filter(|r| r.status != 200) {
            let code = r.error_code();
            assert!(code == "GROUP_NOT_RECRUITING" || code == "GROUP_IS_FULL", "{}", r.text);
        }
        let d = c.get(&format!("/api/v2/groups/{id}")).await;
        let d = d.data();
        assert_eq!((d["participantCount"].as_i64(), d["status"].as_str()), (Some(12), Some("FULL")));
        assert_eq!(d["joinedMembers"].as_array().unwrap().len(), 12);
        assert_eq!(d["joinable"], false);
        // One leaves: the group recruits again.
        let leaver = &members[ok[0]].0;
        let r = leaver.post(&format!("/api/v2/groups/{id}/left"), None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.data()["myMembership"]["status"], "LEFT");
        let d = c.get(&format!("/api/v2/groups/{id}")).await;
        assert_eq!(
            (d.data()["participantCount"].as_i64(), d.data()["status"].as_str()),
            (Some(11), Some("RECRUITING"))
        );
    }
}

#[tokio::test]
async fn approval_flow_and_moderation() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (host, host_id, _) = c.register("host@b.com", "Host").await;
        let id = create(&host, "승인 모임", 3, "APPROVAL_REQUIRED").await;
        let us = users(&c, "u", 3).await;
        let (a, a_id) = &us[0];
        let (b, b_id) = &us[1];
        let (z, z_id) = &us[2];
        let base = format!("/api/v2/groups/{id}");
        host.post(&format!("{base}/attend"), None).await.expect(400, "GROUP_HOST_CANNOT_ATTEND");
        let r = a.post(&format!("{base}/attend"), Some(json!({"message": "잘 부탁드려요"}))).await;
        assert_eq!(r.data()["myMembership"]["status"], "PENDING");
        assert_eq!(r.data()["participantCount"], 1);
        a.post(&format!("{base}/attend"), None).await.expect(400, "ALREADY_REQUESTED_TO_JOIN");
        b.post(&format!("{base}/attend"), Some(json!({"message": "x".repeat(51)})))
            .await
            .expect(400, "INVALID_INPUT_VALUE");
        b.post(&format!("{base}/attend"), None).await;
        z.post(&format!("{base}/attend"), None).await;
        // Join requests: host only, oldest first, with the message.
        a.get(&format!("{base}/attendance")).await.expect(403, "NO_PERMISSION_TO_VIEW_JOIN_REQUESTS");
        host.get(&format!("{base}/attendance?status=NOPE")).await.expect(400, "INVALID_INPUT_VALUE");
        let reqs = host.get(&format!("{base}/attendance")).await;
        let items = reqs.data()["items"].as_array().unwrap().clone();
        assert_eq!(reqs.data()["count"], 3);
        assert_eq!(items[0]["userId"], *a_id);
        assert_eq!(items[0]["joinRequestMessage"], "잘 부탁드려요");
        // Approve / reject.
        host.post(&format!("{base}/attendance/{host_id}/approve"), None).await.expect(400, "CANNOT_APPROVE_SELF");
        a.post(&format!("{base}/attendance/{b_id}/approve"), None).await.expect(403, "NO_PERMISSION_TO_APPROVE_JOIN");
        let r = host.post(&format!("{base}/attendance/{a_id}/approve"), None).await;
        assert_eq!(r.data()["targetMembership"]["status"], "ATTEND");
        host.post(&format!("{base}/attendance/{a_id}/approve"), None)
            .await
            .expect(400, "GROUP_USER_STATUS_NOT_ALLOWED_TO_APPROVE");
        host.post(&format!("{base}/attendance/{z_id}/reject"), None).await;
        z.post(&format!("{base}/left"), None).await.expect(403, "GROUP_REJECTED_USER");
        let r = host.post(&format!("{base}/attendance/{b_id}/approve"), None).await;
        assert_eq!(r.data()["groupStatus"], "FULL", "the last seat turns the group FULL");
        // Kick / ban / unban.
        let targets = host.get(&format!("{base}/attendance/kick-targets")).await;
        let t: Vec<i64> =
            targets.data()["targets"].as_array().unwrap().iter().map(|t| t["userId"].as_i64().unwrap()).collect();
        assert_eq!(t, [*b_id, *a_id], "newest join first, host excluded");
        host.post(&format!("{base}/attendance/{host_id}/kick"), None).await.expect(400, "GROUP_CANNOT_KICK_SELF");
        a.post(&format!("{base}/attendance/{b_id}/kick"), None).await.expect(403, "NO_PERMISSION_TO_KICK");
        let r = host.post(&format!("{base}/attendance/{a_id}/kick"), None).await;
        assert_eq!(
            (r.data()["groupStatus"].as_str(), r.data()["participantCount"].as_i64()),
            (Some("RECRUITING"), Some(2))
        );
        a.post(&format!("{base}/left"), None).await.expect(403, "GROUP_KICKED_USER");
        host.post(&format!("{base}/attendance/{b_id}/ban"), None).await;
        b.post(&format!("{base}/attend"), None).await.expect(400, "GROUP_BANNED_USER");
        let banned = host.get(&format!("{base}/attendance/banned-targets")).await;
        assert_eq!(banned.data()["targets"][0]["userId"], *b_id);
        host.post(&format!("{base}/attendance/{b_id}/unban"), None).await;
        let r = b.post(&format!("{base}/attend"), None).await;
        assert_eq!(r.data()["myMembership"]["status"], "PENDING", "unbanned users may re-join");
        host.post(&format!("{base}/attendance/999/kick"), None).await.expect(404, "GROUP_USER_NOT_FOUND");
        // Notifications reached the host and the targets.
        let n = host.get("/api/v1/notifications?size=100").await;
        let types: Vec<&str> =
            n.data()["notifications"].as_array().unwrap().iter().map(|x| x["type"].as_str().unwrap()).collect();
        assert!(types.contains(&"GROUP_JOIN_REQUEST"), "{types:?}");
        let n = a.get("/api/v1/notifications").await;
        let first = &n.data()["notifications"][0];
        assert_eq!(first["type"], "GROUP_JOIN_KICKED");
        assert_eq!(first["redirectUrl"], "/groups");
        assert_eq!(first["group"]["id"], id);
        assert_eq!(first["user"]["nickname"], "Host");
    }
}

#[tokio::test]
async fn concurrent_approve_leave_and_kick_end_consistent() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (host, _, _) = c.register("host@b.com", "Host").await;
        let id = create(&host, "경쟁", 5, "APPROVAL_REQUIRED").await;
        let (m, m_id) = users(&c, "m", 1).await.remove(0);
        for round in 0..5 {
            let base = format!("/api/v2/groups/{id}");
            let r = m.post(&format!("{base}/attend"), None).await;
            assert_eq!(r.status, 200, "round {round}: {}", r.text);
            let (h1, h2, mm) = (host.clone(), host.clone(), m.clone());
            let (b1, b2, b3) = (base.clone(), base.clone(), base.clone());
            let approve = tokio::spawn(async move { h1.post(&format!("{b1}/attendance/{m_id}/approve"), None).await });
            let leave = tokio::spawn(async move { mm.post(&format!("{b2}/left"), None).await });
            let kick = tokio::spawn(async move { h2.post(&format!("{b3}/attendance/{m_id}/kick"), None).await });
            let (a, l, k) = (approve.await.unwrap(), leave.await.unwrap(), kick.await.unwrap());
            let d = host.get(&base).await;
            let d = d.data();
            let status = host.get(&format!("{base}/attendance?status=ATTEND")).await;
            let attending = status.data()["count"].as_i64().unwrap();
            // Seats always equal ATTEND rows; the member ends in a state some order explains.
            assert_eq!(d["participantCount"].as_i64().unwrap(), attending);
            let mine = m.get(&base).await.data()["myMembership"]["status"].as_str().unwrap().to_string();
            let explained = match mine.as_str() {
                "CANCELLED" => l.status == 200 && a.status != 200,
                "LEFT" => a.status == 200 && l.status == 200 && k.status != 200,
                "KICKED" => a.status == 200 && k.status == 200 && l.status != 200,
                "ATTEND" => a.status == 200 && l.status != 200 && k.status != 200,
                _ => false,
            };
            assert!(explained, "round {round}: {mine} from approve {} left {} kick {}", a.status, l.status, k.status);
            // Leave the member re-joinable for the next round.
            if mine == "ATTEND" {
                m.post(&format!("{base}/left"), None).await;
            }
        }
    }
}

#[tokio::test]
async fn update_and_delete() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (host, _, _) = c.register("host@b.com", "Host").await;
        let (other, _, _) = c.register("o@b.com", "Other").await;
        let id = create(&host, "원래 제목", 4, "FREE").await;
        let base = format!("/api/v2/groups/{id}");
        other.post(&format!("{base}/attend"), None).await;
        other.patch(&base, Some(json!({"title": "x"}))).await.expect(403, "GROUP_ONLY_HOST_CAN_UPDATE");
        host.patch(&base, Some(json!({"title": " "}))).await.expect(400, "GROUP_TITLE_REQUIRED");
        host.patch(&base, Some(json!({"maxParticipants": 13}))).await.expect(400, "INVALID_MAX_PARTICIPANTS");
        host.patch(&base, Some(json!({"status": "RECRUITING"}))).await.expect(400, "GROUP_STATUS_TRANSFER_IMPOSSIBLE");
        host.patch(&base, Some(json!({"images": [{"imageKey": "nope"}]})))
            .await
            .expect(404, "PRE_UPLOADED_IMAGE_NOT_FOUND");
        host.patch(&base, Some(json!({"maxParticipants": "four"}))).await.expect(400, "INVALID_INPUT_VALUE");
        let r =
            host.patch(&base, Some(json!({"title": "새 제목", "tags": [], "maxParticipants": 2, "images": []}))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let d = r.data();
        assert_eq!(
            (d["title"].as_str(), d["status"].as_str(), d["tags"].clone()),
            (Some("새 제목"), Some("FULL"), json!([]))
        );
        host.patch(&base, Some(json!({"maxParticipants": 12, "status": "CLOSED"}))).await;
        let d = c.get(&base).await;
        assert_eq!(d.data()["status"], "CLOSED");
        host.patch(&base, Some(json!({"status": "CANCELLED"}))).await;
        host.patch(&base, Some(json!({"title": "t"}))).await.expect(409, "GROUP_CANNOT_UPDATE_IN_STATUS");
        other.delete(&base).await.expect(403, "GROUP_ONLY_HOST_CAN_UPDATE");
        let r = host.delete(&base).await;
        assert_eq!(r.status, 204, "{}", r.text);
        c.get(&base).await.expect(404, "GROUP_NOT_FOUND_BY_ID");
        host.delete(&base).await.expect(404, "GROUP_NOT_FOUND_BY_ID");
        assert_eq!(host.get("/api/v1/users/me").await.data()["groupCreatedCnt"], 0);
        let n = other.get("/api/v1/notifications").await;
        let d = &n.data()["notifications"][0];
        assert_eq!((d["type"].as_str(), d["group"]["title"].as_str()), (Some("GROUP_DELETE"), Some("새 제목")));
    }
}

#[tokio::test]
async fn list_filters_keyword_and_paging() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        // One host per group: the creation cooldown is per user.
        let hosts = users(&c, "h", 7).await;
        let mut ids = Vec::new();
        for (i, (h, _)) in hosts.iter().enumerate() {
            let title = if i % 2 == 0 { format!("Rust 모임 {i}") } else { format!("자바 모임 {i}") };
            ids.push(create(h, &title, 4, "FREE").await);
        }
        ids.reverse();
        // Pages of 3, newest first, no duplicates or gaps.
        let mut seen = Vec::new();
        let mut cursor: Option<i64> = None;
        loop {
            let q = match cursor {
                Some(cur) => format!("/api/v2/groups?size=3&cursor={cur}"),
                None => "/api/v2/groups?size=3".to_string(),
            };
            let r = c.get(&q).await;
            let items = r.data()["items"].as_array().unwrap().clone();
            seen.extend(items.iter().map(|i| i["id"].as_i64().unwrap()));
            match r.data()["nextCursor"].as_i64() {
                Some(n) => {
                    assert_eq!(items.len(), 3);
                    cursor = Some(n);
                }
                None => break,
            }
        }
        assert_eq!(seen, ids);
        let rust = c.get("/api/v2/groups?keyword=%20rust%20").await;
        assert_eq!(rust.data()["items"].as_array().unwrap().len(), 4, "case-insensitive, trimmed");
        let item = &rust.data()["items"][0];
        for k in [
            "id",
            "title",
            "joinPolicy",
            "status",
            "location",
            "locationDetail",
            "startTime",
            "endTime",
            "images",
            "tags",
            "description",
            "participantCount",
            "maxParticipants",
            "remainingSeats",
            "joinable",
            "createdBy",
            "createdAt",
            "updatedAt",
            "defaultImage",
        ] {
            assert!(item.get(k).is_some(), "list item.{k}");
        }
        assert_eq!(c.get("/api/v2/groups?keyword=강남역").await.data()["items"].as_array().unwrap().len(), 7);
        // Cancel the oldest: ACTIVE hides it, ARCHIVED and includeStatuses show it.
        let (h0, _) = &hosts[0];
        let oldest = ids[ids.len() - 1];
        assert_eq!(
            h0.patch(&format!("/api/v2/groups/{oldest}"), Some(json!({"status": "CANCELLED"}))).await.status,
            200
        );
        assert_eq!(c.get("/api/v2/groups").await.data()["items"].as_array().unwrap().len(), 6);
        assert_eq!(c.get("/api/v2/groups?filter=ARCHIVED").await.data()["items"].as_array().unwrap().len(), 1);
        assert_eq!(
            c.get("/api/v2/groups?filter=ALL&excludeStatuses=CANCELLED&excludeStatuses=FULL").await.data()["items"]
                .as_array()
                .unwrap()
                .len(),
            6
        );
        assert_eq!(
            c.get("/api/v2/groups?includeStatuses=CANCELLED").await.data()["items"].as_array().unwrap().len(),
            1
        );
        c.get("/api/v2/groups?filter=SOME").await.expect(400, "INVALID_INPUT_VALUE");
        c.get("/api/v2/groups?includeStatuses=NOPE").await.expect(400, "INVALID_INPUT_VALUE");
        c.get("/api/v2/groups?size=abc").await.expect(400, "INVALID_INPUT_VALUE");
    }
}

#[tokio::test]
async fn my_groups_current_mypost_and_past() {
    let srv = Server::start(BIN, Engine::Embedded);
    let c = srv.client();
    let (host, _, _) = c.register("host@b.com", "Host").await;
    let (m, _, _) = c.register("m@b.com", "Member").await;
    let soon = (chrono::Utc::now() + chrono::Duration::seconds(3)).format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string();
    let mut b = group_body("곧 끝나는 모임", 4, "FREE");
    b["startTime"] = json!(soon);
    let r = host.post("/api/v2/groups/create", Some(b)).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let soon_id = r.data()["id"].as_i64().unwrap();
    m.post(&format!("/api/v2/groups/{soon_id}/attend"), None).await;
    tokio::time::sleep(std::time::Duration::from_millis(5200)).await;
    let later = create(&host, "승인 모임", 4, "APPROVAL_REQUIRED").await;
    m.post(&format!("/api/v2/groups/{later}/attend"), None).await;
    c.get("/api/v2/groups/me").await.expect(401, "NOT_FOUND_TOKEN");
    m.get("/api/v2/groups/me?type=weird").await.expect(400, "INVALID_MY_GROUP_TYPE");
    let ids = |r: &moim_blackbox::Resp| {
        r.data()["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()).collect::<Vec<_>>()
    };
    // The first group has started: FINISHED on read, so it is past, not current.
    assert!(ids(&m.get("/api/v2/groups/me").await).is_empty());
    let cur = m.get("/api/v2/groups/me?type=current&myStatuses=ATTEND&myStatuses=PENDING").await;
    assert_eq!(ids(&cur), [later]);
    assert_eq!(cur.data()["items"][0]["myMembership"]["status"], "PENDING");
    assert!(cur.data()["items"][0]["createdBy"].get("profileMessage").is_some());
    let past = m.get("/api/v2/groups/me?type=past").await;
    assert_eq!(ids(&past), [soon_id]);
    assert_eq!(past.data()["items"][0]["status"], "FINISHED");
    let mine = host.get("/api/v2/groups/me?type=myPost&filter=ACTIVE&excludeStatuses=CLOSED").await;
    assert_eq!(ids(&mine), [later]);
    // A bad myStatuses is refused for every type, also where it does not apply (the fuzzer's find).
    host.get("/api/v2/groups/me?type=myPost&myStatuses=false").await.expect(400, "INVALID_INPUT_VALUE");
    let detail = c.get(&format!("/api/v2/groups/{soon_id}")).await;
    assert_eq!(detail.data()["status"], "FINISHED");
    m.post(&format!("/api/v2/groups/{soon_id}/left"), None).await.expect(400, "GROUP_CANNOT_LEAVE_IN_STATUS");
}

#[tokio::test]
async fn notifications_rest() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (host, _, _) = c.register("host@b.com", "Host").await;
        let fans = users(&c, "f", 3).await;
        for (f, _) in &fans {
            f.post("/api/v1/users/follow?followNickname=Host", None).await;
        }
        // Only followers with notifications on hear about a new group.
        fans[0].0.patch("/api/v1/users/notification?isNotificationEnabled=true", None).await;
        let id = create(&host, "알림 모임", 4, "FREE").await;
        let n = fans[0].0.get("/api/v1/notifications").await;
        assert_eq!(n.data()["notifications"][0]["type"], "GROUP_CREATE");
        assert_eq!(n.data()["notifications"][0]["redirectUrl"], format!("/groups/{id}"));
        assert!(fans[1].0.get("/api/v1/notifications").await.data()["notifications"].as_array().unwrap().is_empty());
        // The host: 3 FOLLOW notifications, all unread.
        assert_eq!(host.get("/api/v1/notifications/unread-count").await.data(), 3);
        let list = host.get("/api/v1/notifications?size=2").await;
        let items = list.data()["notifications"].as_array().unwrap().clone();
        assert_eq!(items.len(), 2);
        assert_eq!(items[0]["type"], "FOLLOW");
        assert_eq!(items[0]["user"]["nickName"], items[0]["user"]["nickname"]);
        assert_eq!(items[0]["group"], Value::Null);
        let cursor = list.data()["nextCursor"].as_i64().unwrap();
        let rest = host.get(&format!("/api/v1/notifications?size=2&cursor={cursor}")).await;
        assert_eq!(rest.data()["notifications"].as_array().unwrap().len(), 1);
        assert_eq!(rest.data()["nextCursor"], Value::Null);
        let first = items[0]["id"].as_i64().unwrap();
        fans[0].0.post(&format!("/api/v1/notifications/{first}/read"), None).await.expect(403, "USER_ACCESS_DENIED");
        fans[0].0.post("/api/v1/notifications/1/read", None).await.expect(404, "NOT_FOUND_NOTIFICATION");
        assert_eq!(host.post(&format!("/api/v1/notifications/{first}/read"), None).await.status, 204);
        assert_eq!(
            host.post(&format!("/api/v1/notifications/{first}/read"), None).await.status,
            204,
            "again: still 204"
        );
        assert_eq!(host.get("/api/v1/notifications/unread-count").await.data(), 2);
        let again = host.get("/api/v1/notifications").await;
        assert!(again.data()["notifications"][0]["readAt"].is_string());
        assert_eq!(host.post("/api/v1/notifications/read-all", None).await.status, 204);
        assert_eq!(host.get("/api/v1/notifications/unread-count").await.data(), 0);
        assert_eq!(host.delete(&format!("/api/v1/notifications/{first}")).await.status, 204);
        host.delete(&format!("/api/v1/notifications/{first}")).await.expect(404, "NOT_FOUND_NOTIFICATION");
        assert_eq!(host.delete("/api/v1/notifications").await.status, 204);
        assert!(host.get("/api/v1/notifications").await.data()["notifications"].as_array().unwrap().is_empty());
    }
}

#[tokio::test]
async fn list_paging_under_concurrent_inserts_has_no_duplicates_or_gaps() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let hosts = users(&c, "h", 24).await;
        let mut existing = Vec::new();
        for (h, _) in &hosts[..12] {
            existing.push(create(h, "기존 모임", 4, "FREE").await);
        }
        // New groups arrive while a reader pages through the list.
        let writers: Vec<_> = hosts[12..]
            .iter()
            .map(|(h, _)| {
                let h = h.clone();
                tokio::spawn(async move { create(&h, "새 모임", 4, "FREE").await })
            })
            .collect();
        let mut seen = Vec::new();
        let mut cursor: Option<i64> = None;
        loop {
            let q = match cursor {
                Some(cur) => format!("/api/v2/groups?size=2&cursor={cur}"),
                None => "/api/v2/groups?size=2".to_string(),
            };
            let r = c.get(&q).await;
            seen.extend(r.data()["items"].as_array().unwrap().iter().map(|i| i["id"].as_i64().unwrap()));
            match r.data()["nextCursor"].as_i64() {
                Some(n) => cursor = Some(n),
                None => break,
            }
        }
        futures::future::join_all(writers).await;
        let unique: std::collections::HashSet<i64> = seen.iter().copied().collect();
        assert_eq!(unique.len(), seen.len(), "{engine:?}: duplicates in {seen:?}");
        assert!(seen.windows(2).all(|w| w[0] > w[1]), "newest first");
        for id in &existing {
            assert!(unique.contains(id), "{engine:?}: group {id} that existed before paging was skipped");
        }
    }
}

#[tokio::test]
async fn group_create_reaches_every_opted_in_follower_past_the_inline_limit() {
    let srv = Server::start(BIN, Engine::Embedded);
    let c = srv.client();
    let (host, _, _) = c.register("host@b.com", "Host").await;
    // 90 opted-in followers: more than ride in the create transaction (80).
    let fans = users(&c, "f", 92).await;
    for (i, (f, _)) in fans.iter().enumerate() {
        assert_eq!(f.post("/api/v1/users/follow?followNickname=Host", None).await.status, 201);
        if i < 90 {
            f.patch("/api/v1/users/notification?isNotificationEnabled=true", None).await;
        }
    }
    let id = create(&host, "팬 모임", 4, "FREE").await;
    for (i, (f, _)) in fans.iter().enumerate() {
        let n = f.get("/api/v1/notifications").await;
        let got = n.data()["notifications"]
            .as_array()
            .unwrap()
            .iter()
            .any(|x| x["type"] == "GROUP_CREATE" && x["group"]["id"] == id);
        assert_eq!(got, i < 90, "follower {i}");
    }
}

#[tokio::test]
async fn toggling_members_cannot_flood_the_host() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (host, _, _) = c.register("host@b.com", "Host").await;
        let id = create(&host, "토글 모임", 12, "FREE").await;
        let members = users(&c, "t", 8).await;
        // 8 members toggle attend / left 9 times each, all at once: each ends attending.
        futures::future::join_all(members.iter().map(|(m, _)| async move {
            for i in 0..9 {
                let path = if i % 2 == 0 {
                    format!("/api/v2/groups/{id}/attend")
                } else {
                    format!("/api/v2/groups/{id}/left")
                };
                assert_eq!(m.post(&path, None).await.status, 200);
            }
        }))
        .await;
        let list = host.get("/api/v1/notifications?size=100").await;
        let items = list.data()["notifications"].as_array().unwrap().clone();
        assert_eq!(items.len(), 8, "{engine:?}: one notification per member: {items:#?}");
        let mut actors: Vec<i64> = items.iter().map(|n| n["user"]["id"].as_i64().unwrap()).collect();
        actors.sort();
        let mut expected: Vec<i64> = members.iter().map(|(_, id)| *id).collect();
        expected.sort();
        assert_eq!(actors, expected);
        for n in &items {
            assert_eq!(n["type"], "GROUP_JOIN", "the latest action wins: {n}");
            assert_eq!(n["readAt"], Value::Null);
        }
        assert_eq!(host.get("/api/v1/notifications/unread-count").await.data(), 8);

        // Once read, the next action is news again.
        assert_eq!(host.post("/api/v1/notifications/read-all", None).await.status, 204);
        let (m0, m0_id) = &members[0];
        assert_eq!(m0.post(&format!("/api/v2/groups/{id}/left"), None).await.status, 200);
        assert_eq!(m0.post(&format!("/api/v2/groups/{id}/attend"), None).await.status, 200);
        let list = host.get("/api/v1/notifications?size=100").await;
        let items = list.data()["notifications"].as_array().unwrap().clone();
        assert_eq!(items.len(), 9, "{items:#?}");
        assert_eq!(items[0]["user"]["id"], *m0_id);
        assert_eq!(items[0]["type"], "GROUP_JOIN");
        assert_eq!(host.get("/api/v1/notifications/unread-count").await.data(), 1);

        // The host reads while members toggle: never two unread from one member.
        let toggles = futures::future::join_all(members.iter().map(|(m, _)| async move {
            for i in 0..6 {
                let path = if i % 2 == 0 {
                    format!("/api/v2/groups/{id}/left")
                } else {
                    format!("/api/v2/groups/{id}/attend")
                };
                assert_eq!(m.post(&path, None).await.status, 200);
            }
        }));
        let reads = async {
            for _ in 0..10 {
                assert_eq!(host.post("/api/v1/notifications/read-all", None).await.status, 204);
            }
        };
        tokio::join!(toggles, reads);
        let items =
            host.get("/api/v1/notifications?size=100").await.data()["notifications"].as_array().unwrap().clone();
        let unread: Vec<&Value> = items.iter().filter(|n| n["readAt"].is_null()).collect();
        for (_, mid) in &members {
            assert!(unread.iter().filter(|n| n["user"]["id"] == *mid).count() <= 1, "{engine:?}: {unread:#?}");
        }
        assert_eq!(host.get("/api/v1/notifications/unread-count").await.data(), unread.len());
    }
}

/// A profile change reaches the member lists of all the user's groups (more
/// groups than the refresh writes at once), and of two racing changes the one
/// that committed last is what every group shows.
#[tokio::test]
async fn racing_profile_changes_end_current_in_every_group() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let hosts = users(&c, "host", 10).await;
        let (member, member_id, _) = c.register("m@b.com", "Member").await;
        let mut groups = Vec::new();
        for (i, (h, _)) in hosts.iter().enumerate() {
            let id = create(h, &format!("모임 {i}"), 4, "FREE").await;
            assert_eq!(member.post(&format!("/api/v2/groups/{id}/attend"), None).await.status, 200);
            groups.push(id);
        }
        let rename = |nick: &'static str| member.patch("/api/v1/users/profile", Some(json!({ "nickName": nick })));
        let (a, b) = futures::future::join(rename("Racer1"), rename("Racer2")).await;
        assert_eq!((a.status, b.status), (200, 200), "{engine:?}: {} / {}", a.text, b.text);
        let last = member.get("/api/v1/users/me").await.data()["nickName"].clone();
        assert!(last == "Racer1" || last == "Racer2", "{last}");
        for id in groups {
            let d = c.get(&format!("/api/v2/groups/{id}")).await;
            let joined = d.data()["joinedMembers"].as_array().unwrap().clone();
            let me = joined.iter().find(|m| m["userId"] == member_id).expect("the member is listed");
            assert_eq!(me["nickName"], last, "{engine:?}: group {id}");
        }
    }
}
