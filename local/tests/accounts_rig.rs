//! The mail flows through the real handlers on both engines, where a test
//! needs a hand on the store or the mail engine: an expired verification code
//! or reset token is refused (the clock is moved by rewriting the item's
//! expiry), the tenth resend of a day is the last one, a failing mail engine
//! is retried and never undoes the account, and the SES engine's request.

mod common;

use common::rig_on;
use moim_blackbox::engines;
use moim_blackbox::fixtures::link_param as param_in;
use moim_store::accounts::secret_hash;
use moim_store::mail::OutboxMailer;
use moim_store::{Key, Update, WriteOp};

const SIGNUP: &str = r#"{"email":"old@example.com","password":"password1!","nickName":"Oldie"}"#;
const LOGIN: &str = r#"{"email":"old@example.com","password":"password1!"}"#;

async fn newest_mail(rig: &common::Rig) -> (usize, String) {
    let mails = OutboxMailer::new(rig.ctx.config.data_dir.join("outbox")).list().await.unwrap();
    (mails.len(), mails[0].text.clone())
}

/// Moves an item's expiry into the past, as if its lifetime had run out.
async fn expire(rig: &common::Rig, key: Key) {
    let past = chrono::Utc::now().timestamp() - 1;
    rig.inner.transact(vec![WriteOp::update(key, Update::new().set("expiresAt", past))]).await.unwrap();
}

#[tokio::test]
async fn expired_codes_and_tokens_are_refused() {
    for engine in engines() {
        let r = rig_on(engine, |t| t).await;
        let auth = moim_auth::ROUTES;
        r.call(auth, "POST /api/v1/auth/signup", "/api/v1/auth/signup", "", &[], SIGNUP).await;
        let code = param_in(&newest_mail(&r).await.1, "code");
        expire(&r, Key::new(format!("MAILCODE#{}", secret_hash(&code)), "VERIFY")).await;
        let route = "POST /api/v1/users/signup/verify";
        let (s, body, _, _) =
            r.call(auth, route, "/api/v1/users/signup/verify", &format!("code={code}"), &[], "").await;
        assert_eq!((s, body["errorCode"].as_str()), (400, Some("INVALID_TOKEN")), "{engine:?}: expired code");

        let route = "POST /api/v1/users/password/change/link-send";
        r.call(auth, route, "/api/v1/users/password/change/link-send", "", &[], r#"{"email":"old@example.com"}"#).await;
        let token = param_in(&newest_mail(&r).await.1, "token");
        expire(&r, Key::new(format!("MAILCODE#{}", secret_hash(&token)), "RESET")).await;
        let body = format!(r#"{{"token":"{token}","newPassword":"newpass12!"}}"#);
        let route = "POST /api/v1/users/password/change";
        let (s, out, _, _) = r.call(auth, route, "/api/v1/users/password/change", "", &[], &body).await;
        assert_eq!((s, out["errorCode"].as_str()), (400, Some("INVALID_TOKEN")), "{engine:?}: expired token");
        let (s, _, _, _) = r.call(auth, "POST /api/v1/auth/login", "/api/v1/auth/login", "", &[], LOGIN).await;
        assert_eq!(s, 200, "{engine:?}: the password did not change");
    }
}

#[tokio::test]
async fn ten_resends_a_day_and_then_no_more() {
    for engine in engines() {
        let r = rig_on(engine, |t| t).await;
        let auth = moim_auth::ROUTES;
        let (_, body, _, _) = r.call(auth, "POST /api/v1/auth/signup", "/api/v1/auth/signup", "", &[], SIGNUP).await;
        let user_id = body["data"]["userId"].as_i64().unwrap();
        let (_, body, _, _) = r.call(auth, "POST /api/v1/auth/login", "/api/v1/auth/login", "", &[], LOGIN).await;
        let bearer = format!("Bearer {}", body["data"]["accessToken"].as_str().unwrap());
        let headers = [("authorization", bearer.as_str())];
        let route = "POST /api/v1/users/signup/verify/resend";
        let resend = || r.call(auth, route, "/api/v1/users/signup/verify/resend", "", &headers, "");
        for n in 1..=10 {
            let (s, body, _, _) = resend().await;
            assert_eq!(s, 204, "{engine:?}: resend {n}: {body}");
            // Within the minute: refused.
            let (s, body, _, _) = resend().await;
            assert_eq!((s, body["errorCode"].as_str()), (429, Some("TOO_MANY_MAIL_REQUESTS")));
            // A minute passes.
            expire(&r, Key::new(format!("MAILLIMIT#VERIFY1M#{user_id}"), "SLOT#00")).await;
        }
        let (s, body, _, _) = resend().await;
        assert_eq!((s, body["errorCode"].as_str()), (429, Some("TOO_MANY_MAIL_REQUESTS")), "{engine:?}: the 11th");
        assert!(body["detail"].as_str().unwrap().contains("오늘"), "{body}");
        assert_eq!(newest_mail(&r).await.0, 11, "{engine:?}: signup's mail and ten resends");
    }
}

/// The flows' mail through the SES engine (moto behind a recording proxy), on
/// both table engines: the exact SendEmail request, accepted by the emulator.
#[tokio::test]
async fn account_mail_reaches_ses_in_the_documented_request_shape() {
    let Ok(moto) = std::env::var("MOIM_S3_ENDPOINT") else {
        assert!(std::env::var("MOIM_REQUIRE_EMULATORS").is_err(), "MOIM_S3_ENDPOINT is required");
        eprintln!("skipping the SES flow: MOIM_S3_ENDPOINT unset (scripts/test sets it)");
        return;
    };
    let proxy = moim_blackbox::recording::RecordingProxy::start(&moto).await;
    for engine in engines() {
        let sender = format!("noreply-{}@moim.test", moim_store::keys::next_id());
        let ses = moim_store::mail::SesMailer::new(Some(&proxy.url), sender.clone(), None).await;
        ses.client().create_email_identity().email_identity(&sender).send().await.unwrap();
        let base = rig_on(engine, |t| t).await;
        let r = base.with_mailer(std::sync::Arc::new(ses));
        let (s, _, _, _) = r
            .call(
                moim_auth::ROUTES,
                "POST /api/v1/auth/signup",
                "/api/v1/auth/signup",
                "",
                &[("accept-language", "en")],
                SIGNUP,
            )
            .await;
        assert_eq!(s, 201);
        let sent: Vec<_> = proxy.recorded().into_iter().filter(|q| q.path == "/v2/email/outbound-emails").collect();
        let last = sent.last().expect("a SendEmail request");
        assert_eq!((last.method.as_str(), last.status), ("POST", 200), "{engine:?}: moto accepted it: {last:?}");
        let body: serde_json::Value = serde_json::from_str(&last.body).unwrap();
        assert_eq!(body["FromEmailAddress"], sender);
        assert_eq!(body["Destination"]["ToAddresses"], serde_json::json!(["old@example.com"]));
        let simple = &body["Content"]["Simple"];
        assert_eq!(simple["Subject"]["Data"], "[moim] Your email verification code");
        assert_eq!(simple["Subject"]["Charset"], "UTF-8");
        assert!(simple["Body"]["Text"]["Data"].as_str().unwrap().contains("Verification code: "));
        assert!(simple["Body"]["Html"]["Data"].as_str().unwrap().starts_with("<!doctype html>"));
        assert_eq!(simple["Body"]["Html"]["Charset"], "UTF-8");
    }
}

/// Fails the first `failures` sends (transiently), then writes to the outbox.
struct FlakyMailer {
    failures: std::sync::atomic::AtomicUsize,
    attempts: std::sync::atomic::AtomicUsize,
    outbox: OutboxMailer,
}

#[async_trait::async_trait]
impl moim_store::mail::Mailer for FlakyMailer {
    async fn send(&self, mail: &moim_store::mail::Mail) -> Result<String, moim_store::mail::MailError> {
        use std::sync::atomic::Ordering::SeqCst;
        self.attempts.fetch_add(1, SeqCst);
        if self.failures.fetch_update(SeqCst, SeqCst, |n| n.checked_sub(1)).is_ok() {
            return Err(moim_store::mail::MailError::Failed("connection reset".into()));
        }
        self.outbox.send(mail).await
    }
}

#[tokio::test]
async fn a_failing_mail_is_retried_and_never_undoes_the_account() {
    use std::sync::atomic::Ordering::SeqCst;
    for engine in engines() {
        let base = rig_on(engine, |t| t).await;
        let outbox = || OutboxMailer::new(base.ctx.config.data_dir.join("outbox"));
        // Two transient failures: the third attempt delivers.
        let flaky = std::sync::Arc::new(FlakyMailer { failures: 2.into(), attempts: 0.into(), outbox: outbox() });
        let r = base.with_mailer(flaky.clone());
        let (s, _, _, _) =
            r.call(moim_auth::ROUTES, "POST /api/v1/auth/signup", "/api/v1/auth/signup", "", &[], SIGNUP).await;
        assert_eq!((s, flaky.attempts.load(SeqCst)), (201, 3), "{engine:?}");
        assert_eq!(newest_mail(&r).await.0, 1);

        // A mail engine that never works: the account still stands, and a
        // resend tells the caller the mail could not go out.
        let down =
            std::sync::Arc::new(FlakyMailer { failures: usize::MAX.into(), attempts: 0.into(), outbox: outbox() });
        let r = base.with_mailer(down.clone());
        let body = r#"{"email":"down@example.com","password":"password1!","nickName":"Downy"}"#;
        let (s, _, _, _) =
            r.call(moim_auth::ROUTES, "POST /api/v1/auth/signup", "/api/v1/auth/signup", "", &[], body).await;
        assert_eq!((s, down.attempts.load(SeqCst)), (201, 3), "{engine:?}: three attempts, then given up");
        let login = r#"{"email":"down@example.com","password":"password1!"}"#;
        let (s, out, _, _) =
            r.call(moim_auth::ROUTES, "POST /api/v1/auth/login", "/api/v1/auth/login", "", &[], login).await;
        assert_eq!(s, 200, "{engine:?}: the account is whole: {out}");
        let bearer = format!("Bearer {}", out["data"]["accessToken"].as_str().unwrap());
        let route = "POST /api/v1/users/signup/verify/resend";
        let (s, out, _, _) = r
            .call(moim_auth::ROUTES, route, "/api/v1/users/signup/verify/resend", "", &[("authorization", &bearer)], "")
            .await;
        assert_eq!((s, out["errorCode"].as_str()), (502, Some("DEPENDENCY_FAILURE")), "{engine:?}");
        assert_eq!(newest_mail(&r).await.0, 1, "nothing more reached the outbox");
    }
}
