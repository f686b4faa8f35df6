//! Accounts beyond passwords (API.md §2, §2.1): the limits of the mail flows,
//! the mails themselves (template files under `templates/mail/`, Korean and
//! English, text and HTML), the nickname a social login gets, and whether a
//! provider identity may sign in to an existing account.

/// A verification code is good for 24 hours, once.
pub const VERIFY_CODE_TTL_SECS: i64 = 24 * 3600;
/// Resend: at most one a minute and ten a day per user.
pub const RESEND_INTERVAL_SECS: i64 = 60;
pub const RESEND_DAILY_LIMIT: usize = 10;
pub const RESEND_DAY_SECS: i64 = 24 * 3600;
/// A reset token is good for 30 minutes, once.
pub const RESET_TOKEN_TTL_SECS: i64 = 30 * 60;
/// Reset mails: at most five an hour per address.
pub const RESET_MAILS_PER_HOUR: usize = 5;
pub const RESET_WINDOW_SECS: i64 = 3600;

/// The language a mail is written in.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Lang {
    Ko,
    En,
}

impl Lang {
    /// From an `Accept-Language` header: English when the first language the
    /// client names is English, Korean otherwise (the service's own language).
    pub fn from_accept_language(header: Option<&str>) -> Lang {
        let first = header.and_then(|h| h.split(',').next()).map(|l| l.trim().to_ascii_lowercase());
        match first {
            Some(l) if l == "en" || l.starts_with("en-") || l.starts_with("en;") => Lang::En,
            _ => Lang::Ko,
        }
    }

    fn code(self) -> &'static str {
        match self {
            Lang::Ko => "ko",
            Lang::En => "en",
        }
    }
}

/// The mails the service sends.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum MailKind {
    /// `{{nickname}}`, `{{code}}`, `{{link}}`, `{{hours}}`.
    Verify,
    /// `{{nickname}}`, `{{link}}`, `{{minutes}}`.
    Reset,
}

impl MailKind {
    pub fn name(self) -> &'static str {
        match self {
            MailKind::Verify => "verify",
            MailKind::Reset => "reset",
        }
    }

    /// (text, html) templates. The text's first line is the subject.
    fn templates(self, lang: Lang) -> (&'static str, &'static str) {
        match (self, lang) {
            (MailKind::Verify, Lang::Ko) => {
                (include_str!("../templates/mail/verify.ko.txt"), include_str!("../templates/mail/verify.ko.html"))
            }
            (MailKind::Verify, Lang::En) => {
                (include_str!("../templates/mail/verify.en.txt"), include_str!("../templates/mail/verify.en.html"))
            }
            (MailKind::Reset, Lang::Ko) => {
                (include_str!("../templates/mail/reset.ko.txt"), include_str!("../templates/mail/reset.ko.html"))
            }
            (MailKind::Reset, Lang::En) => {
                (include_str!("../templates/mail/reset.en.txt"), include_str!("../templates/mail/reset.en.html"))
            }
        }
    }
}

/// A mail ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RenderedMail {
    pub subject: String,
    pub text: String,
    pub html: String,
}

/// Fills a mail's templates: `{{name}}` placeholders take the values given
/// (HTML-escaped in the HTML part). An unknown placeholder is left as it is.
pub fn render(kind: MailKind, lang: Lang, values: &[(&str, &str)]) -> RenderedMail {
    let (text, html) = kind.templates(lang);
    let (subject, body) = text.split_once('\n').unwrap_or((text, ""));
    let fill = |template: &str, escape: bool| {
        let mut out = template.to_string();
        for (name, value) in values {
            let value = if escape { escape_html(value) } else { value.to_string() };
            out = out.replace(&format!("{{{{{name}}}}}"), &value);
        }
        out
    };
    RenderedMail { subject: fill(subject.trim(), false), text: fill(body, false), html: fill(html, true) }
}

fn escape_html(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
    out
}

/// Which template language a kind/lang pair reads (for logs, never the content).
pub fn template_name(kind: MailKind, lang: Lang) -> String {
    format!("{}.{}", kind.name(), lang.code())
}

/// The nickname a social login proposes on try `attempt` (0, 1, …): the
/// provider's name when it fits the rule (2..14 characters), then that name cut
/// to 9 characters plus a 5-digit `suffix` the caller draws at random.
/// Whitespace and control characters are dropped; an unusable name becomes "moim".
pub fn generated_nickname(provider_name: Option<&str>, attempt: usize, suffix: u32) -> String {
    let cleaned: String = provider_name
        .unwrap_or_default()
        .chars()
        .filter(|c| !c.is_whitespace() && !c.is_control())
        .take(crate::user::NICKNAME_MAX)
        .collect();
    let base = if cleaned.chars().count() >= crate::user::NICKNAME_MIN { cleaned } else { "moim".to_string() };
    if attempt == 0 {
        return base;
    }
    let head: String = base.chars().take(crate::user::NICKNAME_MAX - 5).collect();
    format!("{head}{:05}", suffix % 100_000)
}

/// What a social login does, given who holds the provider identity and who holds its email.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum SocialLogin {
    /// The identity is linked already: sign in as that user.
    SignIn(i64),
    /// Both the provider and the account have verified the email: link the identity, then sign in.
    Link(i64),
    /// Nobody holds the email: create an account.
    Create,
    /// The email is taken and the provider does not vouch for it: no takeover.
    EmailTaken,
    /// The provider vouches for the email, but the account holding it never
    /// proved it (whoever signed up with it may not own it): verify first.
    AccountUnverified,
}

/// `email_owner`: the account holding the provider's email, and whether that
/// account verified it. Linking needs both sides to have proved the address.
pub fn social_login(
    linked_user: Option<i64>,
    email_owner: Option<(i64, bool)>,
    provider_verified_email: bool,
) -> SocialLogin {
    match (linked_user, email_owner) {
        (Some(id), _) => SocialLogin::SignIn(id),
        (None, Some(_)) if !provider_verified_email => SocialLogin::EmailTaken,
        (None, Some((id, true))) => SocialLogin::Link(id),
        (None, Some((_, false))) => SocialLogin::AccountUnverified,
        (None, None) => SocialLogin::Create,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn every_template_renders_with_its_values_and_a_subject() {
        for kind in [MailKind::Verify, MailKind::Reset] {
            for lang in [Lang::Ko, Lang::En] {
                let m = render(
                    kind,
                    lang,
                    &[
                        ("nickname", "<Beemo>"),
                        ("code", "c0de"),
                        ("link", "http://x/?a=1&b=2"),
                        ("hours", "24"),
                        ("minutes", "30"),
                    ],
                );
                assert!(m.subject.starts_with("[moim]"), "{kind:?} {lang:?}");
                assert!(!m.text.contains("{{") && !m.html.contains("{{"), "{kind:?} {lang:?}: unfilled placeholder");
                assert!(m.text.contains("<Beemo>") && m.html.contains("&lt;Beemo&gt;"));
                assert!(m.text.contains("http://x/?a=1&b=2") && m.html.contains("http://x/?a=1&amp;b=2"));
                assert!(!m.text.starts_with("[moim]"), "the subject line is not in the body");
            }
        }
        let ko = render(MailKind::Verify, Lang::Ko, &[("code", "abc")]);
        assert!(ko.text.contains("인증 코드: abc"));
        let en = render(MailKind::Reset, Lang::En, &[]);
        assert_eq!(en.subject, "[moim] Reset your password");
    }

    #[test]
    fn language_follows_the_first_accept_language() {
        assert_eq!(Lang::from_accept_language(None), Lang::Ko);
        assert_eq!(Lang::from_accept_language(Some("en-US,en;q=0.9")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("EN")), Lang::En);
        assert_eq!(Lang::from_accept_language(Some("ko-KR,ko;q=0.9,en;q=0.8")), Lang::Ko);
        assert_eq!(Lang::from_accept_language(Some("english")), Lang::Ko);
    }

    #[test]
    fn generated_nicknames_fit_the_rule() {
        assert_eq!(generated_nickname(Some("Beemo"), 0, 7), "Beemo");
        assert_eq!(generated_nickname(Some("Beemo"), 1, 7), "Beemo00007");
        assert_eq!(generated_nickname(Some(" 김 민수 "), 0, 0), "김민수");
        assert_eq!(generated_nickname(None, 0, 0), "moim");
        assert_eq!(generated_nickname(Some("x"), 2, 123_456), "moim23456");
        let long = generated_nickname(Some("abcdefghijklmnopqrstuvwxyz"), 3, 99_999);
        assert_eq!(long, "abcdefghi99999");
        for attempt in 0..3 {
            for name in [None, Some(""), Some("가나다라마바사아자차카타파하가나다"), Some("a\u{0}b")] {
                let n = generated_nickname(name, attempt, 4_294_967_295);
                assert!(crate::user::valid_nickname(&n), "{n:?}");
            }
        }
    }

    #[test]
    fn a_social_login_links_only_a_vouched_email() {
        assert_eq!(social_login(Some(3), Some((4, false)), false), SocialLogin::SignIn(3));
        assert_eq!(social_login(None, Some((4, true)), true), SocialLogin::Link(4));
        assert_eq!(social_login(None, Some((4, true)), false), SocialLogin::EmailTaken);
        assert_eq!(social_login(None, Some((4, false)), false), SocialLogin::EmailTaken);
        assert_eq!(social_login(None, Some((4, false)), true), SocialLogin::AccountUnverified);
        assert_eq!(social_login(None, None, false), SocialLogin::Create);
    }
}
