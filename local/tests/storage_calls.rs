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
    assert_eq!((s, calls), (200, (2, 1, 1)), "login: failures query, email claim, user, session put");
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
    assert_eq!((s, calls), (201, (3, 0, 1)), "follow: caller, nickname claim, target, one transact");

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
    assert_eq!((s, calls), (200, (1, 1, 1)), "attend: auth, one query, one transact");

    let (s, _, _, calls) = r.call(groups, "GET /api/v2/groups", "/api/v2/groups", "", &[], "").await;
    assert_eq!((s, calls), (200, (0, 1, 0)), "list page: one GSI query");
}
