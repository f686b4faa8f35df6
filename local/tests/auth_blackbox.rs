//! Auth over real HTTP against `moim-local serve`, on every configured engine:
//! signup / login / refresh rotation / logout / withdraw, and the attacks.

use base64::Engine as _;
use moim_blackbox::{engines, Client, Engine, Server};
use moim_web::auth::Tokens;
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_moim-local");

fn now() -> i64 {
    chrono::Utc::now().timestamp()
}

#[tokio::test]
async fn signup_login_me() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let r = c
            .post(
                "/api/v1/auth/signup",
                Some(json!({"email": "Beemo@Example.com", "password": "password1!", "nickName": "Beemo", "extra": 1})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let d = r.data();
        assert_eq!(d["userId"], d["id"]);
        assert_eq!(d["email"], "beemo@example.com");
        assert_eq!(d["nickName"], "Beemo");
        assert!(!d["createdAt"].as_str().unwrap().ends_with('Z'));

        let r =
            c.post("/api/v1/auth/login", Some(json!({"email": "beemo@example.com", "password": "password1!"}))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let d = r.data();
        assert_eq!(d["tokenType"], "Bearer");
        assert_eq!(d["expiresIn"], 3600);
        assert!(d.get("refreshToken").is_none(), "refresh token never in a body");
        let set_cookie = r.header("set-cookie").unwrap();
        assert!(
            set_cookie.contains("HttpOnly")
                && set_cookie.contains("SameSite=Strict")
                && set_cookie.contains("Max-Age=604800")
        );
        assert!(!set_cookie.contains("Secure"), "local runs over plain HTTP drop Secure");
        let me = c.with_token(d["accessToken"].as_str().unwrap()).get("/api/v1/users/me").await;
        let u = me.data();
        for key in [
            "userId",
            "email",
            "nickName",
            "mbti",
            "profileImage",
            "profileMessage",
            "followeesCnt",
            "followersCnt",
            "groupJoinedCnt",
            "groupCreatedCnt",
            "isNotificationEnabled",
            "isFollow",
            "emailVerified",
            "createdAt",
        ] {
            assert!(u.get(key).is_some(), "User.{key} missing on {engine:?}");
        }
        assert_eq!(u["isFollow"], serde_json::Value::Null);
    }
}

#[tokio::test]
async fn signup_validation_and_uniqueness() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let r =
            c.post("/api/v1/auth/signup", Some(json!({"email": "nope", "password": "short", "nickName": "x"}))).await;
        r.expect(400, "INVALID_INPUT_VALUE");
        let fields: Vec<&str> =
            r.body["data"].as_array().unwrap().iter().map(|f| f["field"].as_str().unwrap()).collect();
        assert_eq!(fields, ["email", "password", "nickName"]);
        c.post("/api/v1/auth/signup", Some(json!({}))).await.expect(400, "INVALID_INPUT_VALUE");
        c.register("a@b.com", "Beemo").await;
        c.post("/api/v1/auth/signup", Some(json!({"email": "A@B.com", "password": "password1!", "nickName": "Other"})))
            .await
            .expect(400, "ALREADY_EXISTS_USER");
        c.post("/api/v1/auth/signup", Some(json!({"email": "c@d.com", "password": "password1!", "nickName": "Beemo"})))
            .await
            .expect(400, "ALREADY_EXIST_NICKNAME");
    }
}

#[tokio::test]
async fn concurrent_signups_for_one_email_create_one_account() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let tasks: Vec<_> = (0..12)
            .map(|i| {
                let c = c.clone();
                tokio::spawn(async move {
                    c.post(
                        "/api/v1/auth/signup",
                        Some(json!({"email": "race@b.com", "password": "password1!", "nickName": format!("racer{i}")})),
                    )
                    .await
                })
            })
            .collect();
        let results: Vec<_> = futures::future::join_all(tasks).await.into_iter().map(Result::unwrap).collect();
        let created = results.iter().filter(|r| r.status == 201).count();
        assert_eq!(created, 1, "{engine:?}");
        for r in results.iter().filter(|r| r.status != 201) {
            r.expect(400, "ALREADY_EXISTS_USER");
        }
    }
}

#[tokio::test]
async fn malformed_requests_get_4xx_in_the_error_body() {
    let srv = Server::start(BIN, Engine::Embedded);
    let c = srv.client();
    c.post_raw("/api/v1/auth/signup", "application/json", b"{not json".to_vec())
        .await
        .expect(400, "INVALID_INPUT_VALUE");
    c.post_raw("/api/v1/auth/signup", "application/json", b"{\"email\": 5}".to_vec())
        .await
        .expect(400, "INVALID_INPUT_VALUE");
    c.post_raw("/api/v1/auth/signup", "application/xml", b"<a/>".to_vec()).await.expect(415, "UNSUPPORTED_MEDIA_TYPE");
    c.post_raw("/api/v1/auth/signup", "application/json", b"".to_vec()).await.expect(400, "INVALID_INPUT_VALUE");
    let big = format!("{{\"email\":\"{}\"}}", "a".repeat(1024 * 1024 + 10));
    c.post_raw("/api/v1/auth/signup", "application/json", big.into_bytes()).await.expect(413, "PAYLOAD_TOO_LARGE");
    let huge = vec![b'a'; 7 * 1024 * 1024];
    c.post_raw("/api/v1/auth/login", "application/json", huge).await.expect(413, "PAYLOAD_TOO_LARGE");
}

#[tokio::test]
async fn login_errors_in_contract_order_and_lockout() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        c.register("a@b.com", "Beemo").await;
        c.post("/api/v1/auth/login", Some(json!({"email": "x", "password": "password1!"})))
            .await
            .expect(400, "INVALID_INPUT_VALUE");
        c.post("/api/v1/auth/login", Some(json!({"email": "zz@b.com", "password": "password1!"})))
            .await
            .expect(404, "USER_NOT_FOUND");
        for _ in 0..9 {
            c.post("/api/v1/auth/login", Some(json!({"email": "a@b.com", "password": "wrongpass1!"})))
                .await
                .expect(400, "INVALID_PASSWORD_VALUE");
        }
        // One success resets the count.
        assert_eq!(
            c.post("/api/v1/auth/login", Some(json!({"email": "a@b.com", "password": "password1!"}))).await.status,
            200
        );
        for _ in 0..10 {
            c.post("/api/v1/auth/login", Some(json!({"email": "a@b.com", "password": "wrongpass1!"}))).await;
        }
        let locked = c.post("/api/v1/auth/login", Some(json!({"email": "a@b.com", "password": "password1!"}))).await;
        locked.expect(429, "TOO_MANY_LOGIN_ATTEMPTS");
        assert!(locked.body["detail"].as_str().unwrap().contains('초'), "detail says when to retry");
    }
}

/// 30 wrong passwords sent at once: exactly the limit (10) reach the password
/// check, the rest are refused before it; then even the right password waits.
#[tokio::test]
async fn the_lockout_holds_against_parallel_guessing() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        c.register("a@b.com", "Beemo").await;
        let guesses: Vec<_> = (0..30)
            .map(|i| {
                let c = c.clone();
                tokio::spawn(async move {
                    let body = json!({"email": "a@b.com", "password": format!("wrongpass{i}!")});
                    c.post("/api/v1/auth/login", Some(body)).await
                })
            })
            .collect();
        let (mut checked, mut refused) = (0, 0);
        for g in guesses {
            let r = g.await.unwrap();
            match r.status {
                400 => {
                    r.expect(400, "INVALID_PASSWORD_VALUE");
                    checked += 1;
                }
                429 => {
                    r.expect(429, "TOO_MANY_LOGIN_ATTEMPTS");
                    refused += 1;
                }
                other => panic!("{engine:?}: unexpected {other}: {}", r.text),
            }
        }
        assert_eq!((checked, refused), (10, 20), "{engine:?}");
        let right = c.post("/api/v1/auth/login", Some(json!({"email": "a@b.com", "password": "password1!"}))).await;
        right.expect(429, "TOO_MANY_LOGIN_ATTEMPTS");
    }
}

#[tokio::test]
async fn refresh_rotates_and_reuse_revokes_the_login() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (_, _, first) = c.register("a@b.com", "Beemo").await;
        let r = c.refresh(&first).await;
        assert_eq!(r.status, 201, "{}", r.text);
        assert_eq!(r.data()["tokenType"], "Bearer");
        let second = r.refresh_cookie().unwrap();
        assert_ne!(second, first);
        let me = c.with_token(r.data()["accessToken"].as_str().unwrap()).get("/api/v1/users/me").await;
        assert_eq!(me.status, 200);
        // The rotated token comes back: 401, and the current one dies with it.
        c.refresh(&first).await.expect(401, "INVALID_TOKEN");
        c.refresh(&second).await.expect(401, "INVALID_TOKEN");
        // A separate login is a separate family and survives.
        let r = c.post("/api/v1/auth/login", Some(json!({"email": "a@b.com", "password": "password1!"}))).await;
        let other = r.refresh_cookie().unwrap();
        let r = c.refresh(&other).await;
        assert_eq!(r.status, 201, "{engine:?} {}", r.text);
    }
}

#[tokio::test]
async fn concurrent_refreshes_of_one_token_rotate_once() {
    let srv = Server::start(BIN, Engine::Embedded);
    let c = srv.client();
    let (_, _, cookie) = c.register("a@b.com", "Beemo").await;
    let tasks: Vec<_> = (0..8)
        .map(|_| {
            let (c, cookie) = (c.clone(), cookie.clone());
            tokio::spawn(async move { c.refresh(&cookie).await })
        })
        .collect();
    let results: Vec<_> = futures::future::join_all(tasks).await.into_iter().map(Result::unwrap).collect();
    assert_eq!(results.iter().filter(|r| r.status == 201).count(), 1, "exactly one rotation wins");
    for r in results.iter().filter(|r| r.status != 201) {
        r.expect(401, "INVALID_TOKEN");
    }
}

#[tokio::test]
async fn refresh_without_or_with_bad_cookie() {
    let srv = Server::start(BIN, Engine::Embedded);
    let c = srv.client();
    c.post("/api/v1/auth/refresh", None).await.expect(401, "NOT_FOUND_TOKEN");
    c.refresh("garbage").await.expect(401, "INVALID_TOKEN");
    let (user, id, _) = c.register("a@b.com", "Beemo").await;
    let tokens = Tokens::new(&srv.jwt_secret(), "moim");
    // An access token is not a refresh token.
    c.refresh(user.token.as_deref().unwrap()).await.expect(401, "INVALID_TOKEN");
    // Expired refresh token.
    let old = tokens.refresh(id, "jti", now() - 8 * 24 * 3600);
    c.refresh(&old.token).await.expect(401, "EXPIRED_TOKEN");
    // Well signed, but no such session.
    let unknown = tokens.refresh(id, "never-issued", now());
    c.refresh(&unknown.token).await.expect(401, "INVALID_TOKEN");
}

#[tokio::test]
async fn access_token_attacks_are_401() {
    let srv = Server::start(BIN, Engine::Embedded);
    let c = srv.client();
    let (user, id, _) = c.register("a@b.com", "Beemo").await;
    let me = |t: String| {
        let c = c.with_token(&t);
        async move { c.get("/api/v1/users/me").await }
    };
    c.get("/api/v1/users/me").await.expect(401, "NOT_FOUND_TOKEN");
    let good = user.token.clone().unwrap();
    let parts: Vec<&str> = good.split('.').collect();
    let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
    // alg none
    let none = format!("{}.{}.", b64.encode(r#"{"alg":"none","typ":"JWT"}"#), parts[1]);
    me(none).await.expect(401, "INVALID_TOKEN");
    // HS512 with the right key is still refused: the algorithm is pinned.
    let payload = b64.decode(parts[1]).unwrap();
    let claims: serde_json::Value = serde_json::from_slice(&payload).unwrap();
    let hs512 = jsonwebtoken::encode(
        &jsonwebtoken::Header::new(jsonwebtoken::Algorithm::HS512),
        &claims,
        &jsonwebtoken::EncodingKey::from_secret(&srv.jwt_secret()),
    )
    .unwrap();
    me(hs512).await.expect(401, "INVALID_TOKEN");
    // Wrong key
    let forged = Tokens::new(b"an-attacker-key-an-attacker-key-0000", "moim").access(id, now());
    me(forged.token).await.expect(401, "INVALID_TOKEN");
    // Tampered subject
    let other_payload = String::from_utf8(payload.clone()).unwrap().replace(&id.to_string(), "1");
    me(format!("{}.{}.{}", parts[0], b64.encode(other_payload), parts[2])).await.expect(401, "INVALID_TOKEN");
    // Expired
    let expired = Tokens::new(&srv.jwt_secret(), "moim").access(id, now() - 7200);
    me(expired.token).await.expect(401, "EXPIRED_TOKEN");
    // Wrong issuer with the right key
    let wrong_iss = Tokens::new(&srv.jwt_secret(), "not-moim").access(id, now());
    me(wrong_iss.token).await.expect(401, "INVALID_TOKEN");
    // Unknown user with a valid signature
    let ghost = Tokens::new(&srv.jwt_secret(), "moim").access(12345, now());
    me(ghost.token).await.expect(401, "INVALID_TOKEN");
    // Not a bearer token
    let r = c
        .send(c.request(reqwest::Method::GET, "/api/v1/users/me").header("authorization", format!("Basic {good}")))
        .await;
    r.expect(401, "NOT_FOUND_TOKEN");
}

#[tokio::test]
async fn logout_clears_the_cookie_and_revokes_the_session() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (_, _, cookie) = c.register("a@b.com", "Beemo").await;
        // Public route: a bad Authorization header is ignored.
        let r = c
            .send(
                c.request(reqwest::Method::POST, "/api/v1/auth/logout")
                    .header("authorization", "Bearer nonsense")
                    .header("cookie", format!("refreshToken={cookie}")),
            )
            .await;
        assert_eq!(r.status, 204, "{}", r.text);
        assert!(r.text.is_empty());
        assert!(r.header("set-cookie").unwrap().contains("Max-Age=0"));
        c.refresh(&cookie).await.expect(401, "INVALID_TOKEN");
        // Without any cookie it still answers 204.
        assert_eq!(c.post("/api/v1/auth/logout", None).await.status, 204);
    }
}

#[tokio::test]
async fn withdraw_ends_every_way_in() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (user, _, cookie) = c.register("a@b.com", "Beemo").await;
        c.delete("/api/v1/auth/withdraw").await.expect(401, "NOT_FOUND_TOKEN");
        let r = user.delete("/api/v1/auth/withdraw").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.data(), "회원탈퇴 성공");
        assert!(r.header("set-cookie").unwrap().contains("Max-Age=0"));
        user.get("/api/v1/users/me").await.expect(401, "INVALID_TOKEN");
        c.refresh(&cookie).await.expect(401, "INVALID_TOKEN");
        c.post("/api/v1/auth/login", Some(json!({"email": "a@b.com", "password": "password1!"})))
            .await
            .expect(400, "DELETED_USER");
        // Email and nickname stay taken.
        c.post("/api/v1/auth/signup", Some(json!({"email": "a@b.com", "password": "password1!", "nickName": "New"})))
            .await
            .expect(400, "ALREADY_EXISTS_USER");
        let avail = c.get("/api/v1/users/nickname/availability?nickname=Beemo").await;
        assert_eq!(avail.data()["available"], false);
    }
}

#[tokio::test]
async fn client_helper_sends_no_token_when_anonymous() {
    let srv = Server::start(BIN, Engine::Embedded);
    let (user, _, _) = srv.client().register("a@b.com", "Beemo").await;
    let anon: Client = user.anonymous();
    anon.get("/api/v1/users/me").await.expect(401, "NOT_FOUND_TOKEN");
}
