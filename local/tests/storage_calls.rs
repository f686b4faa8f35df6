//! Storage round trips per endpoint, counted through the real handlers (the
//! same count is the number of DynamoDB calls in production). A change that
//! adds a call fails here; update the budget, docs/DATA_MODEL.md and
//! bench/REPORT.md together.

mod common;

use common::rig;

fn cookie_value(cookies: &[String]) -> String {
    cookies[0].strip_prefix("refreshToken=").unwrap().split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn auth_and_users_endpoints_stay_within_their_storage_budget() {
    let r = rig();
    let auth = moim_auth::ROUTES;
    let users = moim_users::ROUTES;
    let signup = |email: &'static str, nick: &'static str| {
        format!(r#"{{"email":"{email}","password":"password1!","nickName":"{nick}"}}"#)
    };
    // (gets, queries, transacts)
    let (s, _, _, calls) =
        r.call(auth, "POST /api/v1/auth/signup", "/api/v1/auth/signup", "", &[], &signup("a@b.com", "Alice")).await;
    assert_eq!((s, calls), (201, (2, 0, 1)), "signup: email + nickname pre-checks, one transact");
    r.call(auth, "POST /api/v1/auth/signup", "/api/v1/auth/signup", "", &[], &signup("b@b.com", "Bobby")).await;

    let login = r#"{"email":"a@b.com","password":"password1!"}"#;
    let (s, body, cookies, calls) = r.call(auth, "POST /api/v1/auth/login", "/api/v1/auth/login", "", &[], login).await;
    assert_eq!(
        (s, calls),
        (200, (2, 1, 2)),
        "login: failure slots query, slot reserve, email claim, user, session put + slot reset"
    );
    let token = format!("Bearer {}", body["data"]["accessToken"].as_str().unwrap());
    let auth_h = [("authorization", token.as_str())];

    let cookie = format!("refreshToken={}", cookie_value(&cookies));
    let (s, _, _, calls) =
        r.call(auth, "POST /api/v1/auth/refresh", "/api/v1/auth/refresh", "", &[("cookie", &cookie)], "").await;
    assert_eq!((s, calls), (201, (2, 0, 1)), "refresh: session, user, rotate");

    let (s, _, _, calls) = r.call(users, "GET /api/v1/users/me", "/api/v1/users/me", "", &auth_h, "").await;
    assert_eq!((s, calls), (200, (1, 0, 0)), "me: the auth read only");

    let (s, _, _, calls) =
        r.call(users, "POST /api/v1/users/follow", "/api/v1/users/follow", "followNickname=Bobby", &auth_h, "").await;
    assert_eq!(
        (s, calls),
        (201, (3, 1, 1)),
        "follow: caller, nickname claim, target, one transact, the followee's live subscribers"
    );

    let (s, _, _, calls) =
        r.call(users, "GET /api/v1/users/{userId}/follow", "/api/v1/users/1/follow", "", &[], "").await;
    assert_eq!((s, calls), (404, (1, 0, 0)));

    let (s, _, _, calls) = r.call(auth, "POST /api/v1/auth/logout", "/api/v1/auth/logout", "", &[], "").await;
    assert_eq!((s, calls), (204, (0, 0, 0)), "logout without a cookie touches nothing");
}

#[tokio::test]
async fn group_endpoints_stay_within_their_storage_budget() {
    let r = rig();
    let (auth, groups) = (moim_auth::ROUTES, moim_groups::ROUTES);
    let mut tokens = Vec::new();
    for (email, nick) in [("h@b.com", "Host"), ("m@b.com", "Member")] {
        let body = format!(r#"{{"email":"{email}","password":"password1!","nickName":"{nick}"}}"#);
        r.call(auth, "POST /api/v1/auth/signup", "/api/v1/auth/signup", "", &[], &body).await;
        let login = format!(r#"{{"email":"{email}","password":"password1!"}}"#);
        let (_, b, _, _) = r.call(auth, "POST /api/v1/auth/login", "/api/v1/auth/login", "", &[], &login).await;
        tokens.push(format!("Bearer {}", b["data"]["accessToken"].as_str().unwrap()));
    }
    let host = [("authorization", tokens[0].as_str())];
    let member = [("authorization", tokens[1].as_str())];
    let start = (chrono::Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%dT%H:%M:%S").to_string();
    let body = format!(
        r#"{{"title":"t","location":"l","startTime":"{start}","description":"d","maxParticipants":4,"joinPolicy":"FREE"}}"#
    );
    let (s, b, _, calls) =
        r.call(groups, "POST /api/v2/groups/create", "/api/v2/groups/create", "", &host, &body).await;
    assert_eq!((s, calls), (201, (2, 1, 1)), "create: auth, cooldown pre-check, followers, one transact");
    let id = b["data"]["id"].as_i64().unwrap();
    let path = format!("/api/v2/groups/{id}");

    let (s, _, _, calls) = r.call(groups, "GET /api/v2/groups/{groupId}", &path, "", &[], "").await;
    assert_eq!((s, calls), (200, (0, 1, 0)), "detail: one query");

    let attend = format!("{path}/attend");
    let (s, _, _, calls) = r.call(groups, "POST /api/v2/groups/{groupId}/attend", &attend, "", &member, "").await;
    assert_eq!(
        (s, calls),
        (200, (1, 3, 1)),
        "attend: auth, one query, one transact; then the room's and the host's live subscribers (one query each)"
    );

    let (s, _, _, calls) = r.call(groups, "GET /api/v2/groups", "/api/v2/groups", "", &[], "").await;
    assert_eq!((s, calls), (200, (0, 8, 0)), "list page: one query per listing shard, all at once");
}

/// A push engine that records frames and answers 410 for the ids in `gone`
/// (API Gateway itself cannot run here).
#[derive(Default)]
struct RecordingPush {
    posts: std::sync::Mutex<Vec<(String, String)>>,
    gone: std::sync::Mutex<std::collections::HashSet<String>>,
}

#[async_trait::async_trait]
impl moim_store::push::Push for RecordingPush {
    async fn post(&self, id: &str, data: &str) -> Result<(), moim_store::push::PushError> {
        if self.gone.lock().unwrap().contains(id) {
            return Err(moim_store::push::PushError::Gone);
        }
        self.posts.lock().unwrap().push((id.to_string(), data.to_string()));
        Ok(())
    }
    async fn close(&self, _: &str) -> Result<(), moim_store::push::PushError> {
        Ok(())
    }
}

/// A signed-up host with a FREE group: (its `Bearer` header value, the group's room id).
async fn host_with_room(r: &common::Rig) -> (String, i64) {
    let body = r#"{"email":"h@b.com","password":"password1!","nickName":"Host"}"#;
    r.call(moim_auth::ROUTES, "POST /api/v1/auth/signup", "/api/v1/auth/signup", "", &[], body).await;
    let login = r#"{"email":"h@b.com","password":"password1!"}"#;
    let (_, b, _, _) = r.call(moim_auth::ROUTES, "POST /api/v1/auth/login", "/api/v1/auth/login", "", &[], login).await;
    let auth = format!("Bearer {}", b["data"]["accessToken"].as_str().unwrap());
    let start = (chrono::Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%dT%H:%M:%S").to_string();
    let group = format!(
        r#"{{"title":"t","location":"l","startTime":"{start}","description":"d","maxParticipants":4,"joinPolicy":"FREE"}}"#
    );
    let create = ("POST /api/v2/groups/create", "/api/v2/groups/create");
    let (_, g, _, _) = r.call(moim_groups::ROUTES, create.0, create.1, "", &[("authorization", &auth)], &group).await;
    (auth, g["data"]["chatRoomId"].as_i64().unwrap())
}

/// One STOMP frame through the WebSocket handler as API Gateway delivers it.
async fn ws(ctx: &moim_web::AppContext, route: &str, conn: &str, body: Option<String>) {
    let ev = moim_local::event::ws_event(route, conn, Some(&http::HeaderMap::new()), "", body.as_deref(), "rid");
    moim_chat::ws::handle(ctx, ev).await.unwrap();
}

#[tokio::test]
async fn a_send_costs_one_read_one_transact_one_query_and_gone_sockets_are_cleaned_up() {
    let r = rig();
    let push = std::sync::Arc::new(RecordingPush::default());
    let ctx = (*r.ctx).clone().with_push(push.clone());
    let (auth, room) = host_with_room(&r).await;

    // Two tabs of the host, both on the room.
    for conn in ["tab1", "tab2"] {
        ws(&ctx, "$connect", conn, None).await;
        let connect = moim_stomp::Frame::new("CONNECT").with_header("Authorization", &auth).encode();
        ws(&ctx, "$default", conn, Some(connect)).await;
        let sub = moim_stomp::Frame::new("SUBSCRIBE")
            .with_header("id", "0")
            .with_header("destination", format!("/sub/chat/room/{room}"))
            .encode();
        ws(&ctx, "$default", conn, Some(sub)).await;
    }
    let send = |text: &str| {
        moim_stomp::Frame::new("SEND")
            .with_header("destination", "/pub/chat/message")
            .with_body(format!(r#"{{"chatRoomId":{room},"content":"{text}"}}"#))
            .encode()
    };
    push.posts.lock().unwrap().clear();
    r.counts.take();
    ws(&ctx, "$default", "tab1", Some(send("hi"))).await;
    assert_eq!(
        r.counts.take(),
        (1, 1, 1),
        "SEND: the connection record, one transact (participant check + message), one query for the room's subscriptions"
    );
    let posted: Vec<String> = push.posts.lock().unwrap().iter().map(|(c, _)| c.clone()).collect();
    assert_eq!(posted.len(), 2);
    assert!(posted.contains(&"tab1".to_string()) && posted.contains(&"tab2".to_string()));

    // tab2's socket is gone (410): the next fan-out deletes its records.
    push.gone.lock().unwrap().insert("tab2".into());
    ws(&ctx, "$default", "tab1", Some(send("again"))).await;
    let t = &*r.inner;
    let subs = moim_store::realtime::subscribers(t, &format!("/sub/chat/room/{room}")).await.unwrap();
    assert_eq!(subs.iter().map(|s| s.connection_id.as_str()).collect::<Vec<_>>(), ["tab1"]);
    assert!(moim_store::realtime::get_connection(t, "tab2").await.unwrap().is_none());
    assert!(moim_store::realtime::get_connection(t, "tab1").await.unwrap().is_some());
    // $disconnect removes the rest.
    ws(&ctx, "$disconnect", "tab1", None).await;
    assert!(moim_store::realtime::subscribers(t, &format!("/sub/chat/room/{room}")).await.unwrap().is_empty());
    assert!(moim_store::realtime::get_connection(t, "tab1").await.unwrap().is_none());
}

/// WS_SERIALIZE (on AWS): a connection's messages wait in its inbox and one
/// drainer at a time handles them in arrival order, however many invocations run.
#[tokio::test]
async fn serialised_connections_handle_each_message_once_in_arrival_order() {
    for engine in moim_blackbox::engines() {
        serialised_on(common::rig_on(engine, |t| t).await).await;
    }
}

async fn serialised_on(r: common::Rig) {
    let push = std::sync::Arc::new(RecordingPush::default());
    let mut config = (*r.ctx.config).clone();
    config.ws_serialize = true;
    let ctx = std::sync::Arc::new(
        moim_web::AppContext { config: std::sync::Arc::new(config), ..(*r.ctx).clone() }.with_push(push.clone()),
    );
    let (auth, room) = host_with_room(&r).await;
    ws(&ctx, "$connect", "c", None).await;
    ws(&ctx, "$default", "c", Some(moim_stomp::Frame::new("CONNECT").with_header("Authorization", &auth).encode()))
        .await;
    let sub = moim_stomp::Frame::new("SUBSCRIBE")
        .with_header("id", "0")
        .with_header("destination", format!("/sub/chat/room/{room}"));
    ws(&ctx, "$default", "c", Some(sub.encode())).await;
    let send = |i: usize| {
        moim_stomp::Frame::new("SEND")
            .with_header("destination", "/pub/chat/message")
            .with_body(format!(r#"{{"chatRoomId":{room},"content":"{i}"}}"#))
            .encode()
    };
    let delivered = |push: &RecordingPush| -> Vec<usize> {
        push.posts
            .lock()
            .unwrap()
            .iter()
            .filter_map(|(_, f)| {
                let frame = moim_stomp::parse_frames(f).unwrap().remove(0);
                let body: serde_json::Value = serde_json::from_str(&frame.body).ok()?;
                body["content"].as_str()?.parse().ok()
            })
            .collect()
    };

    // Queued out of order (invocations that lost the lease race), then drained by
    // 10 concurrent invocations: each once, in arrival order.
    push.posts.lock().unwrap().clear();
    let base = chrono::Utc::now().timestamp_millis();
    let mut order: Vec<usize> = (0..30).collect();
    order.reverse();
    order.swap(3, 17);
    for i in order {
        moim_store::realtime::inbox_put(
            &*ctx.table,
            "c",
            base + i as i64,
            &format!("m{i}"),
            &send(i),
            chrono::Utc::now(),
        )
        .await
        .unwrap();
    }
    let drains: Vec<_> = (0..10)
        .map(|_| {
            let ctx = ctx.clone();
            tokio::spawn(async move { moim_chat::ws::drain(&ctx, "c").await.unwrap() })
        })
        .collect();
    for d in drains {
        d.await.unwrap();
    }
    assert_eq!(delivered(&push), (0..30).collect::<Vec<_>>());
    assert!(moim_store::realtime::inbox(&*ctx.table, "c", 10).await.unwrap().is_empty());

    // 30 invocations at once, as API Gateway may run them: none lost, none twice.
    push.posts.lock().unwrap().clear();
    let calls: Vec<_> = (100..130)
        .map(|i| {
            let (ctx, frame) = (ctx.clone(), send(i));
            tokio::spawn(async move {
                let mut ev = moim_local::event::ws_event("$default", "c", None, "", Some(&frame), &format!("m{i}"));
                ev["requestContext"]["requestTimeEpoch"] = serde_json::json!(base + 1000 + i as i64);
                moim_chat::ws::handle(&ctx, ev).await.unwrap();
            })
        })
        .collect();
    for c in calls {
        c.await.unwrap();
    }
    let mut got = delivered(&push);
    got.sort();
    assert_eq!(got, (100..130).collect::<Vec<_>>());
    assert!(moim_store::realtime::inbox(&*ctx.table, "c", 10).await.unwrap().is_empty(), "nothing left waiting");
}

#[tokio::test]
async fn account_mail_endpoints_stay_within_their_storage_budget() {
    let r = rig();
    let auth = moim_auth::ROUTES;
    let signup = r#"{"email":"m@b.com","password":"password1!","nickName":"Mailer"}"#;
    let (s, _, _, calls) = r.call(auth, "POST /api/v1/auth/signup", "/api/v1/auth/signup", "", &[], signup).await;
    assert_eq!((s, calls), (201, (2, 0, 1)), "signup: the code rides in the account's transaction");
    let outbox = moim_store::mail::OutboxMailer::new(r.ctx.config.data_dir.join("outbox"));
    let param = moim_blackbox::fixtures::link_param;
    let login = r#"{"email":"m@b.com","password":"password1!"}"#;
    let (_, body, _, _) = r.call(auth, "POST /api/v1/auth/login", "/api/v1/auth/login", "", &[], login).await;
    let bearer = format!("Bearer {}", body["data"]["accessToken"].as_str().unwrap());

    let route = "POST /api/v1/users/signup/verify/resend";
    let (s, _, _, calls) =
        r.call(auth, route, "/api/v1/users/signup/verify/resend", "", &[("authorization", &bearer)], "").await;
    assert_eq!((s, calls), (204, (2, 1, 1)), "resend: auth, user + its code, day slots, one transact");

    let code = param(&outbox.list().await.unwrap()[0].text, "code");
    let route = "POST /api/v1/users/signup/verify";
    let (s, _, _, calls) = r.call(auth, route, "/api/v1/users/signup/verify", &format!("code={code}"), &[], "").await;
    assert_eq!((s, calls), (200, (1, 0, 1)), "verify: the code, one transact");

    let route = "POST /api/v1/users/password/change/link-send";
    let body = r#"{"email":"m@b.com"}"#;
    let (s, _, _, calls) = r.call(auth, route, "/api/v1/users/password/change/link-send", "", &[], body).await;
    assert_eq!((s, calls), (200, (2, 1, 1)), "link-send: email claim, user, hour slots, slot + token");

    let token = param(&outbox.list().await.unwrap()[0].text, "token");
    let route = "POST /api/v1/users/password/change";
    let body = format!(r#"{{"token":"{token}","newPassword":"newpass12!"}}"#);
    let (s, _, _, calls) = r.call(auth, route, "/api/v1/users/password/change", "", &[], &body).await;
    assert_eq!((s, calls), (200, (2, 1, 2)), "change: token, user, one transact, then the sessions query + delete");
}
