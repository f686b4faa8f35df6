//! One contract suite for the mail port: the outbox engine in a temp dir and the
//! SES v2 engine against moto's server (`MOIM_S3_ENDPOINT`: moto serves every
//! service on one port; started by scripts/test).

use moim_store::mail::{Mail, MailError, Mailer, OutboxMailer, SesMailer};

fn mail(to: &str, subject: &str) -> Mail {
    Mail {
        to: to.into(),
        subject: subject.into(),
        text: "인증 코드: 1234\nYour code: 1234".into(),
        html: "<p>인증 코드: <b>1234</b></p><p>Your code: <b>1234</b></p>".into(),
    }
}

/// What every engine does: accept a mail to an address, refuse a non-address.
async fn contract(m: &dyn Mailer) {
    let id = m.send(&mail("user@example.com", "모임 이메일 인증 / Verify your email")).await.unwrap();
    assert!(!id.is_empty());
    assert!(matches!(m.send(&mail("not-an-address", "x")).await, Err(MailError::Rejected(_))));
}

#[tokio::test]
async fn the_outbox_keeps_each_mail_whole_newest_first() {
    let dir = tempfile::tempdir().unwrap();
    let outbox = OutboxMailer::new(dir.path().join("outbox"));
    assert!(outbox.list().await.unwrap().is_empty(), "no folder yet: empty");
    contract(&outbox).await;
    tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    outbox.send(&mail("second@example.com", "두 번째")).await.unwrap();
    let list = outbox.list().await.unwrap();
    assert_eq!(list.len(), 2, "the refused one is not kept");
    assert_eq!((list[0].to.as_str(), list[0].subject.as_str()), ("second@example.com", "두 번째"));
    assert_eq!(list[1].to, "user@example.com");
    assert_eq!(list[1].text, mail("x", "y").text, "Korean text kept as is");
    assert!(list[1].html.contains("<b>1234</b>"));
    assert!(!list[0].created_at.is_empty() && list[0].id != list[1].id);
    // Only whole files: no temporary file is left behind.
    let names: Vec<String> = std::fs::read_dir(dir.path().join("outbox"))
        .unwrap()
        .map(|e| e.unwrap().file_name().into_string().unwrap())
        .collect();
    assert!(names.iter().all(|n| n.ends_with(".json") && !n.starts_with('.')), "{names:?}");
}

/// moto's SES counts what it accepted (GetSendQuota of the v1 API; moto reads
/// the service from the credential scope and checks no signature).
async fn sent_last_24h(endpoint: &str) -> f64 {
    let body = reqwest::Client::new()
        .post(endpoint)
        .header("content-type", "application/x-www-form-urlencoded")
        .header(
            "authorization",
            "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/ses/aws4_request, SignedHeaders=host, Signature=0",
        )
        .body("Action=GetSendQuota&Version=2010-12-01")
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let start = body.find("<SentLast24Hours>").expect("GetSendQuota answer") + "<SentLast24Hours>".len();
    let end = body[start..].find('<').unwrap() + start;
    body[start..end].parse().unwrap()
}

#[tokio::test]
async fn ses_sends_from_the_verified_sender_only() {
    let Ok(endpoint) = std::env::var("MOIM_S3_ENDPOINT") else {
        assert!(std::env::var("MOIM_REQUIRE_EMULATORS").is_err(), "MOIM_S3_ENDPOINT is required");
        eprintln!("skipping SES engine: MOIM_S3_ENDPOINT unset (scripts/test sets it)");
        return;
    };
    // A sender of its own: the emulator may be shared with earlier runs.
    let sender = format!("noreply-{}@moim.test", moim_store::keys::next_id());
    let ses = SesMailer::new(Some(&endpoint), sender.clone(), None).await;
    // SES refuses a sender identity that is not verified, and so does moto.
    assert!(matches!(ses.send(&mail("user@example.com", "x")).await, Err(MailError::Rejected(_))));
    ses.client().create_email_identity().email_identity(&sender).send().await.unwrap();
    let before = sent_last_24h(&endpoint).await;
    contract(&ses).await;
    assert_eq!(sent_last_24h(&endpoint).await, before + 1.0, "exactly the one accepted mail was sent");
}
