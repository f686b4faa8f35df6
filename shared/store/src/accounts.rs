//! Items of the account flows (API.md §2.1): verification codes and reset
//! tokens (stored as SHA-256 of the secret, never the secret; TTL'd), the mail
//! limits, and social identities (`OAUTH#<provider>#<subject>` → user).

use base64::Engine as _;
use moim_domain::account::*;
use moim_domain::user::User;
use serde::{Deserialize, Serialize};
use serde_json::json;

use crate::keys;
use crate::limits::SlotWindow;
use crate::table::*;
use crate::users::{create_user, from_item, login_window, to_item};

/// A fresh secret for a mail: 256 random bits, URL-safe; and the hash kept of it.
pub fn new_secret() -> (String, String) {
    let token = base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(rand::random::<[u8; 32]>());
    let hash = secret_hash(&token);
    (token, hash)
}

/// The stored form of a mailed secret. A plain digest is enough: the secret
/// has 256 bits of entropy, so there is nothing to brute-force.
pub fn secret_hash(token: &str) -> String {
    let digest = aws_lc_rs::digest::digest(&aws_lc_rs::digest::SHA256, token.as_bytes());
    digest.as_ref().iter().map(|b| format!("{b:02x}")).collect()
}

fn code_key(hash: &str) -> Key {
    Key::new(format!("MAILCODE#{hash}"), "VERIFY")
}

fn reset_key(hash: &str) -> Key {
    Key::new(format!("MAILCODE#{hash}"), "RESET")
}

/// The user's current verification code (its hash); a new code replaces it.
const VERIFY_CODE_ATTR: &str = "verifyCodeHash";

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
struct MailCode {
    user_id: i64,
}

fn code_item(hash: &str, user_id: i64, now: i64) -> Item {
    let mut item = to_item(&code_key(hash), &MailCode { user_id });
    item.insert(EXPIRES_AT.into(), json!(now + VERIFY_CODE_TTL_SECS));
    item
}

/// Index of the email claim in [`create_user_with_code`] (as in `create_user`).
pub const SIGNUP_EMAIL_OP: usize = crate::users::CREATE_USER_EMAIL_OP;
pub const SIGNUP_NICK_OP: usize = crate::users::CREATE_USER_NICK_OP;

/// Signup: the user, its claims and its first verification code, all or nothing.
pub fn create_user_with_code(user: &User, code_hash: &str, now: i64) -> Vec<WriteOp> {
    let mut ops = create_user(user);
    if let Some(WriteOp::Put { item, .. }) = ops.first_mut() {
        item.insert(VERIFY_CODE_ATTR.into(), json!(code_hash));
    }
    ops.push(WriteOp::put_new(code_item(code_hash, user.user_id, now)));
    ops
}

/// The user and the hash of its current code (if one is outstanding), in one read.
pub async fn user_with_code(t: &dyn Table, user_id: i64) -> Result<Option<(User, Option<String>)>, StoreError> {
    let Some(item) = t.get(&keys::user(user_id)).await? else {
        return Ok(None);
    };
    let code = item.get(VERIFY_CODE_ATTR).and_then(|v| v.as_str()).map(str::to_string);
    Ok(Some((from_item(item)?, code)))
}

/// The minute and day windows of verification resends.
pub fn resend_windows(user_id: i64) -> (SlotWindow, SlotWindow) {
    (
        SlotWindow::new(format!("MAILLIMIT#VERIFY1M#{user_id}"), 1, RESEND_INTERVAL_SECS),
        SlotWindow::new(format!("MAILLIMIT#VERIFY1D#{user_id}"), RESEND_DAILY_LIMIT, RESEND_DAY_SECS),
    )
}

/// Index of the minute slot in [`resend_code`] (its failure = too soon).
pub const RESEND_MINUTE_OP: usize = 0;
/// Index of the day slot in [`resend_code`] (its failure = that slot was just taken).
pub const RESEND_DAY_OP: usize = 1;

/// A resend: both limit slots, the new code, and the user pointing at it
/// instead of `previous` (whose item goes), all or nothing.
pub fn resend_code(user_id: i64, day_slot: usize, new_hash: &str, previous: Option<&str>, now: i64) -> Vec<WriteOp> {
    let (minute, day) = resend_windows(user_id);
    let point = WriteOp::update(keys::user(user_id), Update::new().set(VERIFY_CODE_ATTR, new_hash))
        .when(Cond::Exists)
        .when(Cond::equals("emailVerified", false))
        .when(match previous {
            Some(p) => Cond::equals(VERIFY_CODE_ATTR, p),
            None => Cond::AttrAbsent(VERIFY_CODE_ATTR.into()),
        });
    let mut ops = vec![
        minute.reserve(0, now),
        day.reserve(day_slot, now),
        WriteOp::put_new(code_item(new_hash, user_id, now)),
        point,
    ];
    if let Some(p) = previous {
        ops.push(WriteOp::delete(code_key(p)));
    }
    ops
}

/// Whose code this is (None when unknown, used or expired).
pub async fn code_owner(t: &dyn Table, hash: &str) -> Result<Option<i64>, StoreError> {
    t.get(&code_key(hash)).await?.map(|i| from_item::<MailCode>(i).map(|c| c.user_id)).transpose()
}

/// Using a code: it goes (only while unexpired) and the user is verified (only
/// if this is still the user's current code). A second use finds no item.
pub fn verify_email(user_id: i64, hash: &str, now: i64) -> Vec<WriteOp> {
    vec![
        WriteOp::delete(code_key(hash)).when(Cond::GreaterThan(EXPIRES_AT.into(), now)),
        WriteOp::update(keys::user(user_id), Update::new().set("emailVerified", true).remove(VERIFY_CODE_ATTR))
            .when(Cond::equals(VERIFY_CODE_ATTR, hash)),
    ]
}

// ------------------------------------------------------------------ password reset

/// Reset mails to one address within the hour.
pub fn reset_window(email: &str) -> SlotWindow {
    SlotWindow::new(format!("MAILLIMIT#RESET#{email}"), RESET_MAILS_PER_HOUR, RESET_WINDOW_SECS)
}

/// A reset token as stored: whose, and the password it may replace (a change
/// of password by any means makes every older token useless).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct ResetToken {
    pub user_id: i64,
    pub password_hash: String,
}

/// A reset mail's writes: its limit slot and the token.
pub fn issue_reset(email: &str, slot: usize, hash: &str, user: &User, now: i64) -> Vec<WriteOp> {
    let mut item =
        to_item(&reset_key(hash), &ResetToken { user_id: user.user_id, password_hash: user.password_hash.clone() });
    item.insert(EXPIRES_AT.into(), json!(now + RESET_TOKEN_TTL_SECS));
    vec![reset_window(email).reserve(slot, now), WriteOp::put_new(item)]
}

/// Index of the slot in [`issue_reset`].
pub const RESET_SLOT_OP: usize = 0;

pub async fn reset_token(t: &dyn Table, hash: &str) -> Result<Option<ResetToken>, StoreError> {
    t.get(&reset_key(hash)).await?.map(from_item).transpose()
}

/// Using a reset token: it goes (only while unexpired), the password changes
/// (only from the one the token was issued against, on an active account), the
/// address counts as verified (the mail reached its owner), and the login
/// failures are forgotten. Sessions are revoked after this commits.
pub fn change_password(hash: &str, token: &ResetToken, email: &str, new_hash: &str, now: i64) -> Vec<WriteOp> {
    let mut ops = vec![
        WriteOp::delete(reset_key(hash)).when(Cond::GreaterThan(EXPIRES_AT.into(), now)),
        WriteOp::update(
            keys::user(token.user_id),
            Update::new().set("passwordHash", new_hash).set("emailVerified", true).remove(VERIFY_CODE_ATTR),
        )
        .when(Cond::equals("passwordHash", token.password_hash.as_str()))
        .when(Cond::AttrAbsent("deletedAt".into())),
    ];
    ops.extend(login_window(email).clear());
    ops
}

// ------------------------------------------------------------------ social identities

fn identity_key(provider: &str, subject: &str) -> Key {
    Key::new(format!("OAUTH#{provider}#{subject}"), "IDENTITY")
}

/// The user a provider identity signs in as.
pub async fn identity_owner(t: &dyn Table, provider: &str, subject: &str) -> Result<Option<i64>, StoreError> {
    Ok(t.get(&identity_key(provider, subject)).await?.and_then(|i| i.get("userId")?.as_i64()))
}

fn identity(provider: &str, subject: &str, user_id: i64) -> WriteOp {
    WriteOp::put_new(to_item(&identity_key(provider, subject), &json!({ "userId": user_id })))
}

/// Index of the identity claim in [`create_social_user`] and [`link_identity`]
/// (its failure = the identity was linked concurrently).
pub const SOCIAL_IDENTITY_OP: usize = 3;
pub const LINK_IDENTITY_OP: usize = 0;

/// A new account from a provider identity (claims as in `create_user`).
pub fn create_social_user(user: &User, provider: &str, subject: &str) -> Vec<WriteOp> {
    let mut ops = create_user(user);
    ops.push(identity(provider, subject, user.user_id));
    ops
}

/// Links an identity to an active, verified account.
pub fn link_identity(provider: &str, subject: &str, user_id: i64) -> Vec<WriteOp> {
    vec![
        identity(provider, subject, user_id),
        WriteOp::check(keys::user(user_id), Cond::equals("emailVerified", true))
            .when(Cond::AttrAbsent("deletedAt".into())),
    ]
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_are_256_bits_and_only_their_hash_is_kept() {
        let (a, ha) = new_secret();
        let (b, _) = new_secret();
        assert_ne!(a, b);
        assert_eq!(a.len(), 43, "32 bytes, base64url without padding");
        assert_eq!(ha.len(), 64);
        assert_eq!(ha, secret_hash(&a));
        assert!(!ha.contains(&a));
        let user = User::new(7, "a@b.com", "Beemo", "h".into(), chrono::Utc::now());
        let ops = create_user_with_code(&user, &ha, 0);
        let text = format!("{ops:?}");
        assert!(text.contains(&ha) && !text.contains(&a), "the secret itself is never written");
    }

    #[test]
    fn a_resend_takes_both_limits_and_replaces_the_code() {
        let ops = resend_code(7, 3, "new", Some("old"), 100);
        assert_eq!(ops.len(), 5);
        assert_eq!(ops[RESEND_MINUTE_OP].key().unwrap().pk, "MAILLIMIT#VERIFY1M#7");
        assert_eq!(ops[RESEND_DAY_OP].key().unwrap().sk, "SLOT#03");
        assert_eq!(ops[4].key(), Some(code_key("old")));
        assert_eq!(resend_code(7, 0, "new", None, 100).len(), 4);
    }
}
