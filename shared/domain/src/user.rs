//! Users and follows: the stored user, its wire view, and the field rules of
//! signup, login and profile updates (API.md §2–§3).

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, ErrorCode, Fields};

pub const EMAIL_MAX: usize = 50;
pub const PASSWORD_MIN: usize = 8;
pub const PASSWORD_MAX: usize = 20;
pub const PASSWORD_SPECIALS: &str = "!@#$%^&*";
pub const NICKNAME_MIN: usize = 2;
pub const NICKNAME_MAX: usize = 14;
pub const PROFILE_MESSAGE_MAX: usize = 20;
pub const MBTI_TYPES: [&str; 16] = [
    "ISTJ", "ISFJ", "INFJ", "INTJ", "ISTP", "ISFP", "INFP", "INTP", "ESTP", "ESFP", "ENFP", "ENTP", "ESTJ", "ESFJ",
    "ENFJ", "ENTJ",
];
/// Failed logins per email that lock further attempts, and the window they count in.
pub const LOGIN_FAILURE_LIMIT: usize = 10;
pub const LOGIN_FAILURE_WINDOW_SECS: i64 = 15 * 60;

/// A user as stored. `deletedAt` set = withdrawn (soft delete).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct User {
    pub user_id: i64,
    pub email: String,
    pub nick_name: String,
    pub password_hash: String,
    pub mbti: Option<String>,
    pub profile_image: Option<String>,
    pub profile_message: Option<String>,
    pub followees_cnt: i64,
    pub followers_cnt: i64,
    pub group_joined_cnt: i64,
    pub group_created_cnt: i64,
    pub is_notification_enabled: bool,
    pub email_verified: bool,
    #[serde(with = "crate::time::wire")]
    pub created_at: DateTime<Utc>,
    /// Absent (not null) while active: withdrawal is conditioned on "attribute absent".
    #[serde(default, skip_serializing_if = "Option::is_none", with = "crate::time::wire_opt")]
    pub deleted_at: Option<DateTime<Utc>>,
}

impl User {
    /// A fresh account: every counter 0, notifications off, unverified.
    pub fn new(user_id: i64, email: &str, nick_name: &str, password_hash: String, now: DateTime<Utc>) -> Self {
        User {
            user_id,
            email: email.to_string(),
            nick_name: nick_name.to_string(),
            password_hash,
            mbti: None,
            profile_image: None,
            profile_message: None,
            followees_cnt: 0,
            followers_cnt: 0,
            group_joined_cnt: 0,
            group_created_cnt: 0,
            is_notification_enabled: false,
            email_verified: false,
            created_at: now,
            deleted_at: None,
        }
    }

    pub fn is_withdrawn(&self) -> bool {
        self.deleted_at.is_some()
    }

    /// The User object of API.md §1.8. `is_follow`: None when anonymous or self.
    /// The caller's own User: with `email` (API.md §1.8).
    pub fn own_view(&self) -> UserView {
        UserView { email: Some(self.email.clone()), ..self.public_view(None) }
    }

    /// Another user's User as `viewer` sees it: `email` is private (null).
    pub fn view_for(&self, viewer: Option<i64>, is_follow: Option<bool>) -> UserView {
        if viewer == Some(self.user_id) {
            self.own_view()
        } else {
            self.public_view(is_follow)
        }
    }

    fn public_view(&self, is_follow: Option<bool>) -> UserView {
        UserView {
            user_id: self.user_id,
            email: None,
            nick_name: self.nick_name.clone(),
            mbti: self.mbti.clone(),
            profile_image: self.profile_image.clone(),
            profile_message: self.profile_message.clone(),
            followees_cnt: self.followees_cnt,
            followers_cnt: self.followers_cnt,
            group_joined_cnt: self.group_joined_cnt,
            group_created_cnt: self.group_created_cnt,
            is_notification_enabled: self.is_notification_enabled,
            is_follow,
            email_verified: self.email_verified,
            created_at: self.created_at,
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct UserView {
    pub user_id: i64,
    /// Only in the caller's own User.
    pub email: Option<String>,
    pub nick_name: String,
    pub mbti: Option<String>,
    pub profile_image: Option<String>,
    pub profile_message: Option<String>,
    pub followees_cnt: i64,
    pub followers_cnt: i64,
    pub group_joined_cnt: i64,
    pub group_created_cnt: i64,
    pub is_notification_enabled: bool,
    pub is_follow: Option<bool>,
    pub email_verified: bool,
    #[serde(with = "crate::time::wire")]
    pub created_at: DateTime<Utc>,
}

/// A follow relation as stored (`followId` orders the follow lists).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Follow {
    pub follow_id: i64,
    pub follower_id: i64,
    pub followee_id: i64,
    #[serde(with = "crate::time::wire")]
    pub created_at: DateTime<Utc>,
}

/// Email as stored and compared: trimmed, lower-case.
pub fn normalize_email(email: &str) -> String {
    email.trim().to_lowercase()
}

pub fn valid_email(email: &str) -> bool {
    let email = email.trim();
    if email.is_empty() || email.chars().count() > EMAIL_MAX || email.chars().any(char::is_whitespace) {
        return false;
    }
    let Some((local, domain)) = email.split_once('@') else { return false };
    !local.is_empty()
        && !domain.contains('@')
        && domain.contains('.')
        && !domain.starts_with('.')
        && !domain.ends_with('.')
        && !domain.contains("..")
}

pub fn valid_password(password: &str) -> bool {
    let n = password.chars().count();
    (PASSWORD_MIN..=PASSWORD_MAX).contains(&n) && password.chars().any(|c| PASSWORD_SPECIALS.contains(c))
}

pub fn valid_nickname(nick: &str) -> bool {
    let n = nick.trim().chars().count();
    (NICKNAME_MIN..=NICKNAME_MAX).contains(&n)
}

pub const EMAIL_REASON: &str = "회원 : 이메일 형식이 올바르지 않습니다. (50자 이하)";
pub const PASSWORD_REASON: &str = "회원 : 비밀번호는 8~20자이며 특수문자(!@#$%^&*)를 하나 이상 포함해야 합니다.";
const NICKNAME_REASON: &str = "회원 : 닉네임은 2~14자여야 합니다.";

/// Checks a signup request; every failing field is listed.
pub fn validate_signup(email: Option<&str>, password: Option<&str>, nick: Option<&str>) -> Result<(), DomainError> {
    Fields::new()
        .check(email.is_some_and(valid_email), "email", EMAIL_REASON)
        .check(password.is_some_and(valid_password), "password", PASSWORD_REASON)
        .check(nick.is_some_and(valid_nickname), "nickName", NICKNAME_REASON)
        .finish()
}

/// Checks a login request (same email and password rules as signup).
pub fn validate_login(email: Option<&str>, password: Option<&str>) -> Result<(), DomainError> {
    Fields::new()
        .check(email.is_some_and(valid_email), "email", EMAIL_REASON)
        .check(password.is_some_and(valid_password), "password", PASSWORD_REASON)
        .finish()
}

/// A validated profile change: `None` = unchanged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct ProfileChange {
    pub nick_name: Option<String>,
    pub mbti: Option<String>,
    pub profile_message: Option<String>,
}

/// Validates PATCH /profile: nickname 2..14 (trimmed), MBTI one of 16 (stored
/// upper-case), message ≤ 20 characters.
pub fn validate_profile_change(
    nick: Option<&str>,
    mbti: Option<&str>,
    message: Option<&str>,
) -> Result<ProfileChange, DomainError> {
    let mbti_up = mbti.map(|m| m.trim().to_uppercase());
    Fields::new()
        .check(nick.is_none_or(valid_nickname), "nickName", NICKNAME_REASON)
        .check(
            mbti_up.as_deref().is_none_or(|m| MBTI_TYPES.contains(&m)),
            "mbti",
            "회원 : MBTI 형식이 올바르지 않습니다.",
        )
        .check(
            message.is_none_or(|m| m.chars().count() <= PROFILE_MESSAGE_MAX),
            "profileMessage",
            "회원 : 상태 메시지는 20자 이하여야 합니다.",
        )
        .finish()?;
    Ok(ProfileChange {
        nick_name: nick.map(|n| n.trim().to_string()),
        mbti: mbti_up,
        profile_message: message.map(str::to_string),
    })
}

/// The lock-out rule: with `failures_in_window` recent failures, may another attempt run?
/// Returns the 429 error (with when to retry) when locked.
pub fn check_login_lock(failure_times: &[i64], now: i64) -> Result<(), DomainError> {
    let recent: Vec<i64> = failure_times.iter().copied().filter(|t| *t > now - LOGIN_FAILURE_WINDOW_SECS).collect();
    if recent.len() < LOGIN_FAILURE_LIMIT {
        return Ok(());
    }
    let oldest = recent.iter().min().copied().unwrap_or(now);
    let retry_in = (oldest + LOGIN_FAILURE_WINDOW_SECS - now).max(1);
    Err(DomainError::with_detail(
        ErrorCode::TOO_MANY_LOGIN_ATTEMPTS,
        format!("회원 : 로그인 시도가 너무 많습니다. {retry_in}초 후에 다시 시도해 주세요."),
    ))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn email_rules() {
        assert!(valid_email("a@b.com"));
        assert!(valid_email(" A@B.co.kr "));
        for bad in ["", "a", "a@b", "@b.com", "a@@b.com", "a b@c.com", "a@.com", "a@b.", "a@b..com"] {
            assert!(!valid_email(bad), "{bad}");
        }
        let long = format!("{}@b.com", "a".repeat(45));
        assert!(!valid_email(&long));
        assert_eq!(normalize_email(" A@B.Com "), "a@b.com");
    }

    #[test]
    fn password_needs_length_and_a_special_character() {
        assert!(valid_password("abcdef1!"));
        assert!(!valid_password("abcdefg1"));
        assert!(!valid_password("ab1!"));
        assert!(!valid_password(&format!("{}!", "a".repeat(20))));
    }

    #[test]
    fn signup_lists_every_failing_field() {
        let e = validate_signup(Some("x"), None, Some("a")).unwrap_err();
        let names: Vec<_> = e.fields.iter().map(|f| f.field.as_str()).collect();
        assert_eq!(names, ["email", "password", "nickName"]);
        assert!(validate_signup(Some("a@b.com"), Some("password1!"), Some("Beemo")).is_ok());
    }

    #[test]
    fn nickname_counts_characters_not_bytes() {
        assert!(valid_nickname("가나"));
        assert!(valid_nickname("가나다라마바사아자차카타파하"));
        assert!(!valid_nickname("가나다라마바사아자차카타파하가"));
        assert!(!valid_nickname("   "));
    }

    #[test]
    fn profile_change_normalises_mbti_and_checks_lengths() {
        let c = validate_profile_change(None, Some("intj"), Some("hi")).unwrap();
        assert_eq!(c.mbti.as_deref(), Some("INTJ"));
        assert_eq!(c.nick_name, None);
        let e = validate_profile_change(Some("x"), Some("ABCD"), Some(&"a".repeat(21))).unwrap_err();
        assert_eq!(e.fields.len(), 3);
    }

    #[test]
    fn login_locks_after_ten_recent_failures_until_the_oldest_ages_out() {
        let now = 10_000;
        let nine: Vec<i64> = (0..9).map(|i| now - 100 + i).collect();
        assert!(check_login_lock(&nine, now).is_ok());
        let mut ten = nine.clone();
        ten.push(now - 1);
        let e = check_login_lock(&ten, now).unwrap_err();
        assert_eq!(e.code, ErrorCode::TOO_MANY_LOGIN_ATTEMPTS);
        // Once the oldest failure is 15 minutes old, an attempt may run again.
        assert!(check_login_lock(&ten, now - 100 + LOGIN_FAILURE_WINDOW_SECS).is_ok());
    }

    #[test]
    fn new_user_starts_empty() {
        let u = User::new(1, "a@b.com", "Beemo", "h".into(), Utc::now());
        let v = serde_json::to_value(u.own_view()).unwrap();
        for k in ["mbti", "profileImage", "profileMessage", "isFollow"] {
            assert!(v[k].is_null(), "{k}");
        }
        assert_eq!(v["followersCnt"], 0);
        assert_eq!(v["isNotificationEnabled"], false);
        assert!(v.get("passwordHash").is_none());
    }
}
