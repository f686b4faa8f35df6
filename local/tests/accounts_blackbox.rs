//! Accounts beyond passwords, over real HTTP against `moim-local serve` on
//! every engine (API.md §2, §2.1): verification and reset end to end through
//! the outbox, their limits under concurrent requests, and Google / Kakao
//! login against a stand-in provider on loopback.

use futures::future::join_all;
use moim_blackbox::oauth::StandIn;
use moim_blackbox::{engines, Client, Server};
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_moim-local");

async fn outbox(c: &Client) -> Vec<Value> {
    let r = c.get("/dev/outbox").await;
    assert_eq!(r.status, 200, "{}", r.text);
    r.data().as_array().cloned().unwrap_or_default()
}

/// The mails sent to `to`, newest first.
async fn mails_to(c: &Client, to: &str) -> Vec<Value> {
    outbox(c).await.into_iter().filter(|m| m["to"] == to).collect()
}

/// The value after `name=` in a mail's text link.
fn param_in(mail: &Value, name: &str) -> String {
    moim_blackbox::fixtures::link_param(mail["text"].as_str().unwrap(), name)
}

async fn signup(c: &Client, email: &str, nick: &str, password: &str) -> i64 {
    let r = c.post("/api/v1/auth/signup", Some(json!({"email": email, "password": password, "nickName": nick}))).await;
    assert_eq!(r.status, 201, "{}", r.text);
    r.data()["userId"].as_i64().unwrap()
}

async fn login(c: &Client, email: &str, password: &str) -> moim_blackbox::Resp {
    c.post("/api/v1/auth/login", Some(json!({"email": email, "password": password}))).await
}

fn token_of(r: &moim_blackbox::Resp) -> String {
    r.data()["accessToken"].as_str().unwrap().to_string()
}

#[tokio::test]
async fn signup_mails_a_code_that_verifies_once() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        signup(&c, "Beemo@Example.com", "Beemo", "password1!").await;
        let mails = mails_to(&c, "beemo@example.com").await;
        assert_eq!(mails.len(), 1, "{engine:?}: one mail at signup");
        let mail = &mails[0];
        assert_eq!(mail["subject"], "[moim] 이메일 인증 코드");
        assert!(mail["html"].as_str().unwrap().contains("<a href=\"http://localhost:3000/verify-email?code="));
        let code = param_in(mail, "code");
        assert!(code.len() >= 22, "at least 128 bits: {code}");
        assert!(mail["text"].as_str().unwrap().contains(&format!("인증 코드: {code}")));

        let me = c.with_token(&token_of(&login(&c, "beemo@example.com", "password1!").await));
        assert_eq!(me.get("/api/v1/users/me").await.data()["emailVerified"], false);

        c.post("/api/v1/users/signup/verify", None).await.expect(400, "NOT_FOUND_PARAMETER");
        c.post("/api/v1/users/signup/verify?code=forged-code-forged-code", None).await.expect(400, "INVALID_TOKEN");
        let r = c.post(&format!("/api/v1/users/signup/verify?code={code}"), None).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.data(), "이메일 인증이 완료되었습니다.");
        assert_eq!(me.get("/api/v1/users/me").await.data()["emailVerified"], true);
        c.post(&format!("/api/v1/users/signup/verify?code={code}"), None).await.expect(400, "INVALID_TOKEN");
        // Verified: nothing left to resend.
        me.post("/api/v1/users/signup/verify/resend", None).await.expect(400, "EMAIL_ALREADY_VERIFIED");
        c.post("/api/v1/users/signup/verify/resend", None).await.expect(401, "NOT_FOUND_TOKEN");

        // No code, token or link ever reaches the log.
        let log = srv.log.lock().unwrap().join("\n");
        assert!(!log.contains(&code), "{engine:?}: the code is in the log");
    }
}

#[tokio::test]
async fn a_resent_code_replaces_the_old_one_and_20_concurrent_resends_send_one() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        signup(&c, "jake@example.com", "Jake", "password1!").await;
        let first = param_in(&mails_to(&c, "jake@example.com").await[0], "code");
        let me = c.with_token(&token_of(&login(&c, "jake@example.com", "password1!").await));

        let results = join_all((0..20).map(|_| me.post("/api/v1/users/signup/verify/resend", None))).await;
        let sent = results.iter().filter(|r| r.status == 204).count();
        for r in results.iter().filter(|r| r.status != 204) {
            r.expect(429, "TOO_MANY_MAIL_REQUESTS");
        }
        assert_eq!(sent, 1, "{engine:?}: exactly one resend within the minute");
        let mails = mails_to(&c, "jake@example.com").await;
        assert_eq!(mails.len(), 2, "{engine:?}: signup's mail and one resend");
        let second = param_in(&mails[0], "code");
        assert_ne!(first, second);

        // The old code was replaced: it no longer verifies; the new one does.
        c.post(&format!("/api/v1/users/signup/verify?code={first}"), None).await.expect(400, "INVALID_TOKEN");
        let r = c.post(&format!("/api/v1/users/signup/verify?code={second}"), None).await;
        assert_eq!(r.status, 200, "{}", r.text);
    }
}

#[tokio::test]
async fn login_can_require_a_verified_address() {
    for engine in engines() {
        let srv = Server::start_with_env(BIN, engine, &[("REQUIRE_EMAIL_VERIFICATION", "true")]);
        let c = srv.client();
        signup(&c, "finn@example.com", "Finn", "password1!").await;
        login(&c, "finn@example.com", "wrong-pass1!").await.expect(400, "INVALID_PASSWORD_VALUE");
        login(&c, "finn@example.com", "password1!").await.expect(403, "EMAIL_NOT_VERIFIED");
        let code = param_in(&mails_to(&c, "finn@example.com").await[0], "code");
        assert_eq!(c.post(&format!("/api/v1/users/signup/verify?code={code}"), None).await.status, 200);
        let r = login(&c, "finn@example.com", "password1!").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.data()["user"]["emailVerified"], true);
    }
}

#[tokio::test]
async fn a_forgotten_password_is_reset_from_the_mailed_link() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        signup(&c, "bmo@example.com", "BMO", "password1!").await;
        let old_session = login(&c, "bmo@example.com", "password1!").await.refresh_cookie().unwrap();

        // The same answer whether or not the account exists; only a real one gets mail.
        for email in ["bmo@example.com", "nobody@example.com"] {
            let r = c
                .send(
                    c.request(reqwest::Method::POST, "/api/v1/users/password/change/link-send")
                        .header("accept-language", "en-US,en;q=0.9")
                        .json(&json!({"email": email})),
                )
                .await;
            assert_eq!((r.status, r.data().clone()), (200, Value::Null), "{}", r.text);
        }
        assert!(mails_to(&c, "nobody@example.com").await.is_empty());
        c.post("/api/v1/users/password/change/link-send", Some(json!({"email": "not-an-address"})))
            .await
            .expect(400, "INVALID_INPUT_VALUE");
        let mail = mails_to(&c, "bmo@example.com").await[0].clone();
        assert_eq!(mail["subject"], "[moim] Reset your password", "Accept-Language: en");
        let link = mail["text"].as_str().unwrap();
        assert!(link.contains("http://localhost:3000/password-reset?token="));
        let token = param_in(&mail, "token");

        let change = |token: String, password: &str| {
            c.post("/api/v1/users/password/change", Some(json!({"token": token, "newPassword": password})))
        };
        change(token.clone(), "short").await.expect(400, "INVALID_INPUT_VALUE");
        change("forged".into(), "newpass12!").await.expect(400, "INVALID_TOKEN");
        let r = change(token.clone(), "newpass12!").await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.data(), "비밀번호가 변경되었습니다.");
        change(token, "another12!").await.expect(400, "INVALID_TOKEN");

        login(&c, "bmo@example.com", "password1!").await.expect(400, "INVALID_PASSWORD_VALUE");
        assert_eq!(login(&c, "bmo@example.com", "newpass12!").await.status, 200);
        c.refresh(&old_session).await.expect(401, "INVALID_TOKEN");
        // The mail reached the address's owner: it counts as verified.
        let me = c.with_token(&token_of(&login(&c, "bmo@example.com", "newpass12!").await));
        assert_eq!(me.get("/api/v1/users/me").await.data()["emailVerified"], true);
    }
}

#[tokio::test]
async fn a_changed_password_voids_every_older_link() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        signup(&c, "pb@example.com", "PB", "password1!").await;
        for _ in 0..2 {
            c.post("/api/v1/users/password/change/link-send", Some(json!({"email": "pb@example.com"}))).await;
        }
        let mails = mails_to(&c, "pb@example.com").await;
        let (newer, older) = (param_in(&mails[0], "token"), param_in(&mails[1], "token"));
        let body = |t: &str| Some(json!({"token": t, "newPassword": "newpass12!"}));
        assert_eq!(c.post("/api/v1/users/password/change", body(&older)).await.status, 200);
        c.post("/api/v1/users/password/change", body(&newer)).await.expect(400, "INVALID_TOKEN");
    }
}

#[tokio::test]
async fn twenty_concurrent_link_sends_mail_exactly_five() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        signup(&c, "ice@example.com", "IceKing", "password1!").await;
        let results = join_all(
            (0..20)
                .map(|_| c.post("/api/v1/users/password/change/link-send", Some(json!({"email": "ice@example.com"})))),
        )
        .await;
        assert!(results.iter().all(|r| r.status == 200), "always 200");
        let resets: Vec<Value> = mails_to(&c, "ice@example.com")
            .await
            .into_iter()
            .filter(|m| m["subject"] != "[moim] 이메일 인증 코드")
            .collect();
        assert_eq!(resets.len(), 5, "{engine:?}: at most five reset mails an hour");
    }
}

// ------------------------------------------------------------------ OAuth

fn google_profile(sub: &str, email: &str, verified: bool, name: &str) -> Value {
    json!({"sub": sub, "email": email, "email_verified": verified, "name": name, "picture": format!("https://pics.example/{sub}.png")})
}

fn kakao_profile(id: i64, email: &str, verified: bool, nickname: &str) -> Value {
    json!({"id": id, "kakao_account": {"email": email, "is_email_verified": verified, "is_email_valid": true,
        "profile": {"nickname": nickname, "profile_image_url": format!("https://k.example/{id}.jpg")}}})
}

async fn start_with_provider(engine: moim_blackbox::Engine) -> (Server, StandIn) {
    let provider = StandIn::start().await;
    let mut env = provider.env();
    env.push(("OAUTH_TIMEOUT_MS".into(), "700".into()));
    env.push(("FRONTEND_URL".into(), "http://front.test".into()));
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
    (Server::start_with_env(BIN, engine, &env), provider)
}

async fn google(c: &Client, code: &str) -> moim_blackbox::Resp {
    c.post(
        "/api/v1/auth/google",
        Some(json!({"authorizationCode": code, "redirectUri": "http://front.test/oauth/google"})),
    )
    .await
}

#[tokio::test]
async fn google_login_creates_signs_in_and_links_only_verified_accounts() {
    for engine in engines() {
        let (srv, provider) = start_with_provider(engine).await;
        let c = srv.client();

        // A new person: a new account with the provider's name and picture.
        provider.grant("code-new", google_profile("g-1", "new@example.com", true, "구글 사용자"));
        let r = google(&c, "code-new").await;
        assert_eq!(r.status, 200, "{}", r.text);
        let user = r.data()["user"].clone();
        assert_eq!(user["email"], "new@example.com");
        assert_eq!(user["nickName"], "구글사용자");
        assert_eq!(user["profileImage"], "https://pics.example/g-1.png");
        assert_eq!(user["emailVerified"], true);
        let cookie = r.refresh_cookie().expect("refresh cookie");
        assert_eq!(c.refresh(&cookie).await.status, 201);
        let (_, form) = provider.token_requests().last().cloned().unwrap();
        assert_eq!(form["client_id"], "google-client-id");
        assert_eq!(form["client_secret"], "google-client-secret");
        assert_eq!(form["redirect_uri"], "http://front.test/oauth/google");
        assert_eq!(form["code"], "code-new");

        // The same identity again: the same account.
        provider.grant("code-again", google_profile("g-1", "new@example.com", true, "구글 사용자"));
        assert_eq!(google(&c, "code-again").await.data()["user"]["userId"], user["userId"]);

        // A verified account with the same verified email is linked.
        let id = signup(&c, "linked@example.com", "Linked", "password1!").await;
        let code = param_in(&mails_to(&c, "linked@example.com").await[0], "code");
        assert_eq!(c.post(&format!("/api/v1/users/signup/verify?code={code}"), None).await.status, 200);
        provider.grant("code-link", google_profile("g-2", "Linked@Example.com", true, "Someone"));
        let r = google(&c, "code-link").await;
        assert_eq!(r.data()["user"]["userId"], id, "{}", r.text);
        assert_eq!(r.data()["user"]["nickName"], "Linked");
        // Its password still works.
        assert_eq!(login(&c, "linked@example.com", "password1!").await.status, 200);

        // An unverified provider email does not take over an account.
        let victim = signup(&c, "victim@example.com", "Victim", "password1!").await;
        provider.grant("code-takeover", google_profile("g-3", "victim@example.com", false, "Mallory"));
        let r = google(&c, "code-takeover").await;
        r.expect(400, "ALREADY_EXISTS_USER");
        assert!(r.refresh_cookie().is_none());
        // Nor does a verified one take an account that never proved its address.
        provider.grant("code-unproved", google_profile("g-4", "victim@example.com", true, "Mallory"));
        google(&c, "code-unproved").await.expect(403, "EMAIL_NOT_VERIFIED");
        let me = c.with_token(&token_of(&login(&c, "victim@example.com", "password1!").await));
        assert_eq!(me.get("/api/v1/users/me").await.data()["userId"], victim);

        // Provider failures and bad input.
        google(&c, "refused").await.expect(401, "OAUTH_EXCHANGE_FAILED");
        google(&c, "slow").await.expect(401, "OAUTH_EXCHANGE_FAILED");
        c.post("/api/v1/auth/google", Some(json!({"redirectUri": "http://x"})))
            .await
            .expect(400, "INVALID_INPUT_VALUE");
        // No email granted: nothing to sign in with.
        provider.grant("code-noemail", json!({"sub": "g-5", "name": "No Mail"}));
        google(&c, "code-noemail").await.expect(401, "OAUTH_EXCHANGE_FAILED");

        let log = srv.log.lock().unwrap().join("\n");
        for secret in ["code-new", "at-code-new", "google-client-secret", &cookie] {
            assert!(!log.contains(secret), "{engine:?}: {secret} is in the log");
        }
    }
}

#[tokio::test]
async fn a_taken_nickname_gets_a_generated_one() {
    for engine in engines() {
        let (srv, provider) = start_with_provider(engine).await;
        let c = srv.client();
        signup(&c, "beemo@example.com", "Beemo", "password1!").await;
        provider.grant("code-1", google_profile("g-9", "other@example.com", true, "Beemo"));
        let r = google(&c, "code-1").await;
        assert_eq!(r.status, 200, "{}", r.text);
        let nick = r.data()["user"]["nickName"].as_str().unwrap().to_string();
        assert!(nick.starts_with("Beemo") && nick != "Beemo" && nick.chars().count() <= 14, "{nick}");
        // Ten people named alike at once: ten distinct accounts, ten distinct nicknames.
        for i in 0..10 {
            provider.grant(
                &format!("same-{i}"),
                google_profile(&format!("s-{i}"), &format!("s{i}@example.com"), true, "Jake"),
            );
        }
        let codes: Vec<String> = (0..10).map(|i| format!("same-{i}")).collect();
        let results = join_all(codes.iter().map(|code| google(&c, code))).await;
        let mut nicks: Vec<String> = results
            .iter()
            .map(|r| {
                assert_eq!(r.status, 200, "{}", r.text);
                r.data()["user"]["nickName"].as_str().unwrap().to_string()
            })
            .collect();
        nicks.sort();
        nicks.dedup();
        assert_eq!(nicks.len(), 10, "{nicks:?}");
    }
}

#[tokio::test]
async fn kakao_login_by_app_callback_and_by_redirect_with_state() {
    for engine in engines() {
        let (srv, provider) = start_with_provider(engine).await;
        let c = srv.client();

        // The app flow: POST the code.
        provider.grant("k-code", kakao_profile(4242, "kakao@example.com", true, "카카오친구"));
        let r = c.post("/api/v1/oauth/kakao/callback", Some(json!({"code": "k-code"}))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.data()["user"]["nickName"], "카카오친구");
        assert_eq!(r.data()["user"]["profileImage"], "https://k.example/4242.jpg");
        let (which, form) = provider.token_requests().last().cloned().unwrap();
        assert_eq!(which, "kakao");
        assert_eq!(form["client_id"], "kakao-client-id");
        assert_eq!(form["redirect_uri"], "http://127.0.0.1:9/api/v1/oauth/kakao/callback", "configured redirect URI");
        c.post("/api/v1/oauth/kakao/callback", Some(json!({"code": "refused"})))
            .await
            .expect(401, "OAUTH_EXCHANGE_FAILED");

        // The redirect flow: authorize sets a state cookie and sends the browser to Kakao.
        let browser = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().unwrap();
        let r = browser.get(format!("{}/api/v1/oauth/kakao/authorize", srv.url)).send().await.unwrap();
        assert_eq!(r.status(), 302);
        let location = r.headers()["location"].to_str().unwrap().to_string();
        assert!(location.starts_with(&format!("{}/kakao/authorize?", provider.url)), "{location}");
        assert!(location.contains("client_id=kakao-client-id") && location.contains("response_type=code"));
        let state = location.split("state=").nth(1).unwrap().split('&').next().unwrap().to_string();
        let set_cookie = r.headers()["set-cookie"].to_str().unwrap().to_string();
        assert!(set_cookie.starts_with(&format!("oauthState={state};")) && set_cookie.contains("HttpOnly"));

        let callback = |query: String, cookie: Option<String>| {
            let mut req = browser.get(format!("{}/api/v1/oauth/kakao/callback?{query}", srv.url));
            if let Some(c) = cookie {
                req = req.header("cookie", c);
            }
            req.send()
        };
        provider.grant("k-redirect", kakao_profile(4343, "redirect@example.com", true, "리다이렉트"));
        // A state that is not this browser's: refused, before any exchange.
        let before = provider.token_requests().len();
        for (query, cookie) in [
            (format!("code=k-redirect&state=forged{state}"), Some(format!("oauthState={state}"))),
            (format!("code=k-redirect&state={state}"), None),
            ("code=k-redirect".to_string(), Some(format!("oauthState={state}"))),
        ] {
            let r = callback(query, cookie).await.unwrap();
            assert_eq!(r.status(), 400);
            let body: Value = r.json().await.unwrap();
            assert_eq!(body["errorCode"], "INVALID_INPUT_VALUE");
        }
        assert_eq!(provider.token_requests().len(), before, "no exchange on a bad state");

        let r = callback(format!("code=k-redirect&state={state}"), Some(format!("oauthState={state}"))).await.unwrap();
        assert_eq!(r.status(), 302);
        assert_eq!(r.headers()["location"], "http://front.test");
        let refresh = r
            .headers()
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix("refreshToken="))
            .map(|c| c.split(';').next().unwrap().to_string())
            .expect("session cookie");
        let r = c.refresh(&refresh).await;
        assert_eq!(r.status, 201, "{}", r.text);

        // A provider failure in the redirect flow goes back to the frontend.
        let r = callback(format!("code=refused&state={state}"), Some(format!("oauthState={state}"))).await.unwrap();
        assert_eq!(r.status(), 302);
        assert_eq!(r.headers()["location"], "http://front.test/?error=OAUTH_EXCHANGE_FAILED");
    }
}
