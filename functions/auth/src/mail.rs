//! Sending the account mails after their writes have committed: rendered from
//! the template files, retried on transient failures, logged without content
//! (a code or link in a log line would be a credential in the logs).

use std::time::Duration;

use moim_domain::account::{render, template_name, Lang, MailKind};
use moim_store::mail::{Mail, MailError};
use moim_web::{AppContext, Req};

/// Attempts per mail; the waits between them grow 200 ms, 800 ms.
const SEND_ATTEMPTS: u32 = 3;

/// The language of the mails answering `req` (its `Accept-Language`).
pub(crate) fn lang_of(req: &Req) -> Lang {
    Lang::from_accept_language(req.header("accept-language"))
}

/// Renders and sends one mail. Returns whether it was handed to the provider;
/// a failure is logged, and the caller decides what the client hears.
pub(crate) async fn send(ctx: &AppContext, kind: MailKind, lang: Lang, to: &str, values: &[(&str, &str)]) -> bool {
    let rendered = render(kind, lang, values);
    let mail = Mail { to: to.to_string(), subject: rendered.subject, text: rendered.text, html: rendered.html };
    let template = template_name(kind, lang);
    for attempt in 1..=SEND_ATTEMPTS {
        match ctx.mailer.send(&mail).await {
            Ok(id) => {
                tracing::info!(template, to = %masked(to), message_id = %id, attempt, "mail sent");
                return true;
            }
            Err(MailError::Rejected(e)) => {
                tracing::error!(template, to = %masked(to), error = %e, "mail rejected; not retried");
                return false;
            }
            Err(MailError::Failed(e)) if attempt < SEND_ATTEMPTS => {
                tracing::warn!(template, to = %masked(to), error = %e, attempt, "mail failed; retrying");
                tokio::time::sleep(Duration::from_millis(200 * 4u64.pow(attempt - 1))).await;
            }
            Err(MailError::Failed(e)) => {
                tracing::error!(template, to = %masked(to), error = %e, attempt, "mail failed; giving up");
            }
        }
    }
    false
}

/// `b***@example.com`: enough to follow a case in the logs, not to harvest addresses.
fn masked(address: &str) -> String {
    match address.split_once('@') {
        Some((local, domain)) => format!("{}***@{domain}", local.chars().next().unwrap_or('*')),
        None => "***".into(),
    }
}

/// `base?name=value` (or `&name=` when the base has a query already).
pub(crate) fn link(base: &str, name: &str, value: &str) -> String {
    let sep = if base.contains('?') { '&' } else { '?' };
    format!("{base}{sep}{name}={value}")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_are_masked_and_links_keep_their_query() {
        assert_eq!(masked("beemo@example.com"), "b***@example.com");
        assert_eq!(masked("nope"), "***");
        assert_eq!(link("http://x/verify", "code", "abc"), "http://x/verify?code=abc");
        assert_eq!(link("http://x/verify?lang=en", "code", "abc"), "http://x/verify?lang=en&code=abc");
    }
}
