//! Users and follows over real HTTP against `moim-local serve`, on every engine.

use moim_blackbox::{engines, Engine, Server};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_moim-local");

#[tokio::test]
async fn profile_by_id_and_is_follow() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (a, a_id, _) = c.register("a@b.com", "Alice").await;
        let (_, b_id, _) = c.register("b@b.com", "Bobby").await;
        let anon = c.get(&format!("/api/v1/users/{b_id}")).await;
        assert_eq!(anon.data()["isFollow"], Value::Null);
        assert_eq!(anon.data()["nickName"], "Bobby");
        // Emails are private: another user's (anonymous or logged in) is null, one's own is there.
        assert_eq!(anon.data()["email"], Value::Null);
        assert_eq!(a.get(&format!("/api/v1/users/{b_id}")).await.data()["email"], Value::Null);
        assert_eq!(a.get(&format!("/api/v1/users/{a_id}")).await.data()["email"], "a@b.com");
        assert_eq!(a.get("/api/v1/users/me").await.data()["email"], "a@b.com");
        assert_eq!(a.get(&format!("/api/v1/users/{b_id}")).await.data()["isFollow"], false);
        assert_eq!(a.get(&format!("/api/v1/users/{a_id}")).await.data()["isFollow"], Value::Null, "self");
        assert_eq!(a.post("/api/v1/users/follow?followNickname=Bobby", None).await.status, 201);
        assert_eq!(a.get(&format!("/api/v1/users/{b_id}")).await.data()["isFollow"], true);
        c.get("/api/v1/users/999999").await.expect(404, "USER_NOT_FOUND");
        // Optional auth: a present but bad token is 401, not anonymous.
        c.with_token("bad").get(&format!("/api/v1/users/{b_id}")).await.expect(401, "INVALID_TOKEN");
    }
}

#[tokio::test]
async fn profile_update_rules() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (a, _, _) = c.register("a@b.com", "Alice").await;
        c.register("b@b.com", "Bobby").await;
        let r = a.patch("/api/v1/users/profile", Some(json!({"mbti": "enfp", "profileMessage": "hi"}))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.data()["mbti"], "ENFP");
        assert_eq!(r.data()["profileMessage"], "hi");
        assert_eq!(r.data()["nickName"], "Alice", "absent = unchanged");
        let r = a.patch("/api/v1/users/profile", Some(json!({"nickName": "Alicia", "mbti": null}))).await;
        assert_eq!(r.data()["nickName"], "Alicia");
        assert_eq!(r.data()["mbti"], "ENFP", "null = unchanged");
        // The old nickname is free again, the new one taken.
        assert_eq!(c.get("/api/v1/users/nickname/availability?nickname=Alice").await.data()["available"], true);
        assert_eq!(c.get("/api/v1/users/nickname/availability?nickname=Alicia").await.data()["available"], false);
        a.patch("/api/v1/users/profile", Some(json!({"nickName": "Bobby"})))
            .await
            .expect(400, "ALREADY_EXIST_NICKNAME");
        let bad = a
            .patch(
                "/api/v1/users/profile",
                Some(json!({"nickName": "x", "mbti": "ABCD", "profileMessage": "a".repeat(21)})),
            )
            .await;
        bad.expect(400, "INVALID_INPUT_VALUE");
        assert_eq!(bad.body["data"].as_array().unwrap().len(), 3);
        a.patch("/api/v1/users/profile", Some(json!({"mbti": 5}))).await.expect(400, "INVALID_INPUT_VALUE");
        c.patch("/api/v1/users/profile", Some(json!({}))).await.expect(401, "NOT_FOUND_TOKEN");
        // Keeping one's own nickname is not a conflict.
        assert_eq!(a.patch("/api/v1/users/profile", Some(json!({"nickName": "Alicia"}))).await.status, 200);
    }
}

#[tokio::test]
async fn concurrent_nickname_changes_to_one_name_have_one_winner() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let mut users = Vec::new();
        for i in 0..6 {
            users.push(c.register(&format!("u{i}@b.com"), &format!("user{i}")).await.0);
        }
        let tasks: Vec<_> = users
            .into_iter()
            .map(|u| {
                tokio::spawn(async move { u.patch("/api/v1/users/profile", Some(json!({"nickName": "TheOne"}))).await })
            })
            .collect();
        let results: Vec<_> = futures::future::join_all(tasks).await.into_iter().map(Result::unwrap).collect();
        assert_eq!(results.iter().filter(|r| r.status == 200).count(), 1, "{engine:?}");
        for r in results.iter().filter(|r| r.status != 200) {
            r.expect(400, "ALREADY_EXIST_NICKNAME");
        }
    }
}

#[tokio::test]
async fn notification_setting_and_availability() {
    let srv = Server::start(BIN, Engine::Embedded);
    let c = srv.client();
    let (a, _, _) = c.register("a@b.com", "Alice").await;
    let r = a.patch("/api/v1/users/notification?isNotificationEnabled=true", None).await;
    assert_eq!(r.data()["isNotificationEnabled"], true);
    let r = a.patch("/api/v1/users/notification?isNotificationEnabled=false", None).await;
    assert_eq!(r.data()["isNotificationEnabled"], false);
    a.patch("/api/v1/users/notification", None).await.expect(400, "NOT_FOUND_PARAMETER");
    a.patch("/api/v1/users/notification?isNotificationEnabled=maybe", None).await.expect(400, "INVALID_INPUT_VALUE");
    assert_eq!(c.get("/api/v1/users/email/availability?email=A@B.com").await.data()["available"], false);
    assert_eq!(c.get("/api/v1/users/email/availability?email=new@b.com").await.data()["available"], true);
    c.get("/api/v1/users/email/availability").await.expect(400, "NOT_FOUND_PARAMETER");
    c.get("/api/v1/users/email/availability?email=nope").await.expect(400, "INVALID_INPUT_VALUE");
    assert_eq!(
        c.get("/api/v1/users/nickname/availability?nickname=%EA%B0%80%EB%82%98").await.data()["available"],
        true
    );
}

#[tokio::test]
async fn follow_rules_and_counters() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (a, a_id, _) = c.register("a@b.com", "Alice").await;
        let (b, b_id, _) = c.register("b@b.com", "Bobby").await;
        a.post("/api/v1/users/follow", None).await.expect(400, "NOT_FOUND_PARAMETER");
        a.post("/api/v1/users/follow?followNickname=Nobody", None).await.expect(404, "USER_NOT_FOUND");
        a.post("/api/v1/users/follow?followNickname=Alice", None).await.expect(400, "NOT_SAME_FOLLOW");
        let r = a.post("/api/v1/users/follow?followNickname=Bobby", None).await;
        assert_eq!(r.status, 201);
        assert_eq!(r.data(), "팔로우 성공");
        a.post("/api/v1/users/follow?followNickname=Bobby", None).await.expect(400, "ALREADY_EXIST_FOLLOW");
        let me = a.get("/api/v1/users/me").await;
        assert_eq!(me.data()["followeesCnt"], 1);
        assert_eq!(b.get("/api/v1/users/me").await.data()["followersCnt"], 1);
        c.delete("/api/v1/users/unfollow?unFollowNickname=Bobby").await.expect(401, "NOT_FOUND_TOKEN");
        a.delete("/api/v1/users/unfollow?unFollowNickname=Alice").await.expect(400, "NOT_SAME_UNFOLLOW");
        let r = a.delete("/api/v1/users/unfollow?unFollowNickname=Bobby").await;
        assert_eq!(r.data(), "팔로우 취소 성공");
        a.delete("/api/v1/users/unfollow?unFollowNickname=Bobby").await.expect(400, "NOT_FOUND_FOLLOW");
        assert_eq!(a.get("/api/v1/users/me").await.data()["followeesCnt"], 0);
        assert_eq!(b.get(&format!("/api/v1/users/{b_id}")).await.data()["followersCnt"], 0);
        let _ = a_id;
    }
}

#[tokio::test]
async fn concurrent_follows_count_exactly() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (_, star_id, _) = c.register("star@b.com", "Star").await;
        let mut fans = Vec::new();
        for i in 0..8 {
            fans.push(c.register(&format!("f{i}@b.com"), &format!("fan{i}")).await.0);
        }
        // Every fan follows twice at once: one 201 and one ALREADY_EXIST_FOLLOW each.
        let tasks: Vec<_> = fans
            .iter()
            .flat_map(|f| [f.clone(), f.clone()])
            .map(|f| tokio::spawn(async move { f.post("/api/v1/users/follow?followNickname=Star", None).await.status }))
            .collect();
        let statuses: Vec<u16> = futures::future::join_all(tasks).await.into_iter().map(Result::unwrap).collect();
        assert_eq!(statuses.iter().filter(|s| **s == 201).count(), 8, "{statuses:?}");
        assert_eq!(statuses.iter().filter(|s| **s == 400).count(), 8, "{statuses:?}");
        assert_eq!(c.get(&format!("/api/v1/users/{star_id}")).await.data()["followersCnt"], 8);
    }
}

#[tokio::test]
async fn follow_lists_page_newest_first_without_gaps() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (star, star_id, _) = c.register("star@b.com", "Star").await;
        let mut fan_ids = Vec::new();
        for i in 0..7 {
            let (fan, id, _) = c.register(&format!("f{i}@b.com"), &format!("fan{i}")).await;
            assert_eq!(fan.post("/api/v1/users/follow?followNickname=Star", None).await.status, 201);
            assert_eq!(star.post(&format!("/api/v1/users/follow?followNickname=fan{i}"), None).await.status, 201);
            fan_ids.push(id);
        }
        for list in ["follower", "follow"] {
            let mut seen = Vec::new();
            let mut cursor: Option<i64> = None;
            let mut pages = 0;
            loop {
                let q = match cursor {
                    Some(cur) => format!("/api/v1/users/{star_id}/{list}?size=3&cursor={cur}"),
                    None => format!("/api/v1/users/{star_id}/{list}?size=3"),
                };
                let r = c.get(&q).await;
                let d = r.data();
                let items = d["items"].as_array().unwrap();
                pages += 1;
                for it in items {
                    for k in ["followId", "userId", "nickname", "profileImage", "profileMessage"] {
                        assert!(it.get(k).is_some(), "FollowItem.{k}");
                    }
                    seen.push((it["followId"].as_i64().unwrap(), it["userId"].as_i64().unwrap()));
                }
                match d["nextCursor"].as_i64() {
                    Some(n) => {
                        assert_eq!(items.len(), 3, "only the last page is short");
                        assert_eq!(Some(n), items.last().and_then(|i| i["followId"].as_i64()));
                        cursor = Some(n);
                    }
                    None => break,
                }
            }
            assert_eq!(pages, 3, "{list}: 7 items in pages of 3");
            let follow_ids: Vec<i64> = seen.iter().map(|s| s.0).collect();
            let mut sorted = follow_ids.clone();
            sorted.sort_unstable_by(|a, b| b.cmp(a));
            assert_eq!(follow_ids, sorted, "{list}: newest first");
            let mut users: Vec<i64> = seen.iter().map(|s| s.1).collect();
            users.sort_unstable();
            let mut expected = fan_ids.clone();
            expected.sort_unstable();
            assert_eq!(users, expected, "{list}: every relation exactly once");
        }
        c.get("/api/v1/users/999/follow").await.expect(404, "USER_NOT_FOUND");
        c.get(&format!("/api/v1/users/{star_id}/follow?cursor=abc")).await.expect(400, "INVALID_INPUT_VALUE");
        let huge = c.get(&format!("/api/v1/users/{star_id}/follow?size=100000")).await;
        assert_eq!(huge.data()["items"].as_array().unwrap().len(), 7, "size is clamped, not refused");
    }
}
