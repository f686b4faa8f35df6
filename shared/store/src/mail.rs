//! The mail port: sending one message (plain text + HTML) to one address.
//! Production: Amazon SES v2 (`aws-sdk-sesv2`). Local: an outbox folder in the
//! data dir, one JSON file per mail, never sent anywhere (moim-local lists it
//! at `GET /dev/outbox`).

use std::path::PathBuf;

use async_trait::async_trait;
use serde::{Deserialize, Serialize};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Mail {
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
}

#[derive(Debug, thiserror::Error)]
pub enum MailError {
    /// The provider refused this message (bad address, unverified sender): retrying will not help.
    #[error("mail rejected: {0}")]
    Rejected(String),
    #[error("mail failed: {0}")]
    Failed(String),
}

#[async_trait]
pub trait Mailer: Send + Sync {
    /// Sends one mail; returns the provider's message id.
    async fn send(&self, mail: &Mail) -> Result<String, MailError>;
}

/// A mail as the outbox keeps it (and `GET /dev/outbox` shows it).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct OutboxEntry {
    pub id: String,
    pub to: String,
    pub subject: String,
    pub text: String,
    pub html: String,
    pub created_at: String,
}

/// The local engine: `<dir>/<epoch ms>-<uuid>.json` per mail.
#[derive(Debug, Clone)]
pub struct OutboxMailer {
    dir: PathBuf,
}

impl OutboxMailer {
    pub fn new(dir: impl Into<PathBuf>) -> OutboxMailer {
        OutboxMailer { dir: dir.into() }
    }

    /// Every mail in the outbox, newest first.
    pub async fn list(&self) -> Result<Vec<OutboxEntry>, MailError> {
        let failed = |e: std::io::Error| MailError::Failed(format!("{}: {e}", self.dir.display()));
        let mut names = Vec::new();
        match tokio::fs::read_dir(&self.dir).await {
            Ok(mut rd) => {
                while let Some(e) = rd.next_entry().await.map_err(failed)? {
                    let name = e.file_name().to_string_lossy().into_owned();
                    if name.ends_with(".json") {
                        names.push(name);
                    }
                }
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(vec![]),
            Err(e) => return Err(failed(e)),
        }
        // Names start with the zero-padded time: newest first is reverse name order.
        names.sort_unstable_by(|a, b| b.cmp(a));
        let mut out = Vec::new();
        for name in names {
            let bytes = tokio::fs::read(self.dir.join(&name)).await.map_err(failed)?;
            match serde_json::from_slice(&bytes) {
                Ok(entry) => out.push(entry),
                Err(e) => tracing::warn!(file = name, error = %e, "skipping an unreadable outbox file"),
            }
        }
        Ok(out)
    }
}

#[async_trait]
impl Mailer for OutboxMailer {
    async fn send(&self, mail: &Mail) -> Result<String, MailError> {
        let failed = |e: std::io::Error| MailError::Failed(format!("{}: {e}", self.dir.display()));
        if !mail.to.contains('@') {
            return Err(MailError::Rejected(format!("not an address: {}", mail.to)));
        }
        tokio::fs::create_dir_all(&self.dir).await.map_err(failed)?;
        let now = chrono::Utc::now();
        let id = uuid::Uuid::new_v4().to_string();
        let entry = OutboxEntry {
            id: id.clone(),
            to: mail.to.clone(),
            subject: mail.subject.clone(),
            text: mail.text.clone(),
            html: mail.html.clone(),
            created_at: moim_domain::time::format(now),
        };
        let name = format!("{:015}-{id}.json", now.timestamp_millis());
        let bytes = serde_json::to_vec_pretty(&entry).map_err(|e| MailError::Failed(e.to_string()))?;
        // Written under a temporary name and renamed, so a reader never sees half a mail.
        let tmp = self.dir.join(format!(".{name}.tmp"));
        tokio::fs::write(&tmp, bytes).await.map_err(failed)?;
        tokio::fs::rename(&tmp, self.dir.join(&name)).await.map_err(failed)?;
        tracing::info!(to = mail.to, subject = mail.subject, outbox = %self.dir.join(&name).display(), "mail written to the outbox");
        Ok(id)
    }
}

/// A deployment without a sender (`MAIL_FROM` unset on AWS): every mail is
/// refused, so the flows log it instead of writing to a read-only disk.
pub struct NoMail;

#[async_trait]
impl Mailer for NoMail {
    async fn send(&self, _mail: &Mail) -> Result<String, MailError> {
        Err(MailError::Rejected("MAIL_FROM is not set: this deployment sends no mail".into()))
    }
}

/// Amazon SES v2: a simple (text + HTML, UTF-8) message from the configured sender.
pub struct SesMailer {
    client: aws_sdk_sesv2::Client,
    from: String,
    configuration_set: Option<String>,
}

impl SesMailer {
    /// `endpoint` only for an emulator; built once per container.
    pub async fn new(endpoint: Option<&str>, from: String, configuration_set: Option<String>) -> SesMailer {
        Self::from_sdk(&crate::aws::default_chain().await, endpoint, from, configuration_set)
    }

    /// Over a given SDK configuration (see [`crate::aws`]).
    pub fn from_sdk(
        sdk: &aws_types::sdk_config::SdkConfig,
        endpoint: Option<&str>,
        from: String,
        configuration_set: Option<String>,
    ) -> SesMailer {
        let mut conf = aws_sdk_sesv2::config::Builder::from(sdk);
        if let Some(ep) = endpoint {
            conf = conf.endpoint_url(ep);
        }
        SesMailer { client: aws_sdk_sesv2::Client::from_conf(conf.build()), from, configuration_set }
    }

    pub fn client(&self) -> &aws_sdk_sesv2::Client {
        &self.client
    }
}

#[async_trait]
impl Mailer for SesMailer {
    async fn send(&self, mail: &Mail) -> Result<String, MailError> {
        use aws_sdk_sesv2::types::{Body, Content, Destination, EmailContent, Message};
        let content = |data: &str| {
            Content::builder().data(data).charset("UTF-8").build().map_err(|e| MailError::Failed(e.to_string()))
        };
        let message = Message::builder()
            .subject(content(&mail.subject)?)
            .body(Body::builder().text(content(&mail.text)?).html(content(&mail.html)?).build())
            .build();
        let out = self
            .client
            .send_email()
            .from_email_address(&self.from)
            .destination(Destination::builder().to_addresses(&mail.to).build())
            .content(EmailContent::builder().simple(message).build())
            .set_configuration_set_name(self.configuration_set.clone())
            .send()
            .await;
        match out {
            Ok(o) => Ok(o.message_id.unwrap_or_default()),
            Err(e) => {
                let code =
                    e.as_service_error().and_then(aws_sdk_sesv2::error::ProvideErrorMetadata::code).map(str::to_string);
                let text = aws_sdk_sesv2::error::DisplayErrorContext(&e).to_string();
                match code.as_deref() {
                    // BadRequestException is SES v2's invalid address; moto names it InvalidParameterValue.
                    Some(
                        "MessageRejected"
                        | "BadRequestException"
                        | "InvalidParameterValue"
                        | "MailFromDomainNotVerifiedException",
                    ) => Err(MailError::Rejected(text)),
                    _ => Err(MailError::Failed(text)),
                }
            }
        }
    }
}
