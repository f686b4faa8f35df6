//! Item mappings and write sets for users, sessions, follows and login failures.
//! Each function returns the ops of one `transact`, or reads with the port.

use chrono::{DateTime, Utc};
use moim_domain::user::{Follow, ProfileChange, User};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::{json, Value};

use crate::keys;
use crate::table::*;

/// Serialises a value into an item under `key` (plus extra attributes).
pub fn to_item<T: Serialize>(key: &Key, value: &T) -> Item {
    let mut item = match serde_json::to_value(value) {
        Ok(Value::Object(m)) => m,
        _ => Item::new(),
    };
    item.insert(PK.into(), Value::String(key.pk.clone()));
    item.insert(SK.into(), Value::String(key.sk.clone()));
    item
}

/// Reads a value back from an item (key attributes are ignored).
pub fn from_item<T: DeserializeOwned>(item: Item) -> Result<T, StoreError> {
    serde_json::from_value(Value::Object(item)).map_err(|e| StoreError::Backend(format!("corrupt item: {e}")))
}

// ------------------------------------------------------------------ users

pub async fn get_user(t: &dyn Table, id: i64) -> Result<Option<User>, StoreError> {
    t.get(&keys::user(id)).await?.map(from_item).transpose()
}

async fn owner_of(t: &dyn Table, key: Key) -> Result<Option<i64>, StoreError> {
    Ok(t.get(&key).await?.and_then(|i| i.get("userId").and_then(Value::as_i64)))
}

/// The id holding an email (normalised by the caller).
pub async fn user_id_by_email(t: &dyn Table, email: &str) -> Result<Option<i64>, StoreError> {
    owner_of(t, keys::email(email)).await
}

pub async fn user_id_by_nickname(t: &dyn Table, nick: &str) -> Result<Option<i64>, StoreError> {
    owner_of(t, keys::nickname(nick)).await
}

/// Index of the email-claim op in [`create_user`] (its failure = email taken).
pub const CREATE_USER_EMAIL_OP: usize = 1;
/// Index of the nickname-claim op in [`create_user`] (its failure = nickname taken).
pub const CREATE_USER_NICK_OP: usize = 2;

/// A new user with its unique email and nickname claims, all or nothing.
pub fn create_user(user: &User) -> Vec<WriteOp> {
    vec![
        WriteOp::put_new(to_item(&keys::user(user.user_id), user)),
        WriteOp::put_new(to_item(&keys::email(&user.email), &json!({ "userId": user.user_id }))),
        WriteOp::put_new(to_item(&keys::nickname(&user.nick_name), &json!({ "userId": user.user_id }))),
    ]
}

/// Index of the new-nickname claim in [`change_profile`] when the nickname changes.
pub const CHANGE_PROFILE_NICK_OP: usize = 1;

/// A profile change: only the changed attributes are set (counters move
/// concurrently through ADD), and a new nickname swaps the unique claim.
pub fn change_profile(user: &User, change: &ProfileChange) -> Vec<WriteOp> {
    let mut update = Update::new();
    let mut ops = Vec::new();
    let key = keys::user(user.user_id);
    if let Some(m) = &change.mbti {
        update = update.set("mbti", m.as_str());
    }
    if let Some(m) = &change.profile_message {
        update = update.set("profileMessage", m.as_str());
    }
    let mut user_op_conds = vec![Cond::Exists, Cond::equals("nickName", user.nick_name.as_str())];
    match &change.nick_name {
        Some(n) if *n != user.nick_name => {
            update = update.set("nickName", n.as_str());
            ops.push(WriteOp::Update { key, update, conds: std::mem::take(&mut user_op_conds) });
            ops.push(WriteOp::put_new(to_item(&keys::nickname(n), &json!({ "userId": user.user_id }))));
            ops.push(WriteOp::delete(keys::nickname(&user.nick_name)).when(Cond::equals("userId", user.user_id)));
        }
        _ => ops.push(WriteOp::Update { key, update, conds: user_op_conds }),
    }
    ops
}

/// The imageKey behind a user's current profile photo (kept beside the URL).
pub async fn profile_image_key(t: &dyn Table, user_id: i64) -> Result<Option<String>, StoreError> {
    Ok(t.get(&keys::user(user_id)).await?.and_then(|i| i.get(PROFILE_IMAGE_KEY)?.as_str().map(str::to_string)))
}

const PROFILE_IMAGE_KEY: &str = "profileImageKey";

/// Points the profile photo at a new upload, only if the photo is still the
/// one read (`old`), so two concurrent changes cannot both release one key.
pub fn set_profile_image(user_id: i64, old: Option<&str>, new_key: &str, url: &str) -> WriteOp {
    let op =
        WriteOp::update(keys::user(user_id), Update::new().set("profileImage", url).set(PROFILE_IMAGE_KEY, new_key))
            .when(Cond::Exists);
    match old {
        Some(k) => op.when(Cond::equals(PROFILE_IMAGE_KEY, k)),
        None => op.when(Cond::AttrAbsent(PROFILE_IMAGE_KEY.into())),
    }
}

pub fn set_notification_enabled(user_id: i64, enabled: bool) -> WriteOp {
    WriteOp::update(keys::user(user_id), Update::new().set("isNotificationEnabled", enabled)).when(Cond::Exists)
}

/// Soft delete: the account stays (email and nickname stay taken); sessions go.
pub fn withdraw(user_id: i64, now: DateTime<Utc>, sessions: &[Session]) -> Vec<WriteOp> {
    let mut ops =
        vec![WriteOp::update(keys::user(user_id), Update::new().set("deletedAt", moim_domain::time::format(now)))
            .when(Cond::Exists)
            .when(Cond::AttrAbsent("deletedAt".into()))];
    ops.extend(sessions.iter().map(|s| WriteOp::delete(keys::session(user_id, &s.jti))));
    ops
}

// ------------------------------------------------------------------ sessions

/// A refresh token's server-side record. A rotated one keeps `replacedBy` until
/// it expires, so presenting it again is recognised as reuse.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Session {
    pub jti: String,
    pub user_id: i64,
    /// All sessions descended from one login share a family; reuse revokes it.
    pub family: String,
    /// Absent (not null) until rotated: the rotation's condition is "attribute absent".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub replaced_by: Option<String>,
    pub expires_at: i64,
}

pub fn put_session(s: &Session) -> WriteOp {
    WriteOp::put_new(to_item(&keys::session(s.user_id, &s.jti), s))
}

pub async fn get_session(t: &dyn Table, user_id: i64, jti: &str) -> Result<Option<Session>, StoreError> {
    t.get(&keys::session(user_id, jti)).await?.map(from_item).transpose()
}

/// Every live session of a user (one query; a user has few).
pub async fn sessions(t: &dyn Table, user_id: i64) -> Result<Vec<Session>, StoreError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = t
            .query(
                Query::table(keys::user_pk(user_id))
                    .sk(SkCond::BeginsWith(keys::SESSION_PREFIX.into()))
                    .limit(100)
                    .cursor(cursor),
            )
            .await?;
        for item in page.items {
            out.push(from_item(item)?);
        }
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// Rotation: marks the old session replaced (only if nobody did yet) and adds the new one.
pub fn rotate_session(old: &Session, new: &Session) -> Vec<WriteOp> {
    vec![
        WriteOp::update(keys::session(old.user_id, &old.jti), Update::new().set("replacedBy", new.jti.as_str()))
            .when(Cond::Exists)
            .when(Cond::AttrAbsent("replacedBy".into())),
        put_session(new),
    ]
}

pub fn delete_sessions<'a>(sessions: impl IntoIterator<Item = &'a Session>) -> Vec<WriteOp> {
    sessions.into_iter().map(|s| WriteOp::delete(keys::session(s.user_id, &s.jti))).collect()
}

// ------------------------------------------------------------------ follows

pub async fn get_follow(t: &dyn Table, follower: i64, followee: i64) -> Result<Option<Follow>, StoreError> {
    t.get(&keys::follow(follower, followee)).await?.map(from_item).transpose()
}

/// Index of the relation op in [`follow`] (its failure = already following).
pub const FOLLOW_RELATION_OP: usize = 0;

/// The relation (listed in both directions through GSI1/GSI2), both counters,
/// and the FOLLOW notification, all or nothing.
pub fn follow(f: &Follow, notification: Item) -> Vec<WriteOp> {
    let mut item = to_item(&keys::follow(f.follower_id, f.followee_id), f);
    item.insert(GSI1PK.into(), keys::following_gsi(f.follower_id).into());
    item.insert(GSI1SK.into(), keys::pad(f.follow_id).into());
    item.insert(GSI2PK.into(), keys::followers_gsi(f.followee_id).into());
    item.insert(GSI2SK.into(), keys::pad(f.follow_id).into());
    vec![
        WriteOp::put_new(item),
        WriteOp::update(keys::user(f.follower_id), Update::new().add("followeesCnt", 1)).when(Cond::Exists),
        WriteOp::update(keys::user(f.followee_id), Update::new().add("followersCnt", 1)).when(Cond::Exists),
        WriteOp::put_new(notification),
    ]
}

/// Index of the relation op in [`unfollow`] (its failure = no relation).
pub const UNFOLLOW_RELATION_OP: usize = 0;

pub fn unfollow(follower: i64, followee: i64) -> Vec<WriteOp> {
    vec![
        WriteOp::delete(keys::follow(follower, followee)).when(Cond::Exists),
        WriteOp::update(keys::user(follower), Update::new().add("followeesCnt", -1)).when(Cond::Exists),
        WriteOp::update(keys::user(followee), Update::new().add("followersCnt", -1)).when(Cond::Exists),
    ]
}

/// Which follow list: whom the user follows, or who follows the user.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FollowList {
    Following,
    Followers,
}

/// One page of a follow list, newest first, ids below `before` (the contract's cursor).
/// Returns the relations and whether more follow.
pub async fn follow_page(
    t: &dyn Table,
    user_id: i64,
    list: FollowList,
    before: Option<i64>,
    size: usize,
) -> Result<(Vec<Follow>, bool), StoreError> {
    let q = match list {
        FollowList::Following => Query::gsi1(keys::following_gsi(user_id)),
        FollowList::Followers => Query::gsi2(keys::followers_gsi(user_id)),
    };
    let q = match before {
        Some(b) => q.sk(SkCond::Between(keys::pad(0), keys::pad(b.saturating_sub(1).max(0)))),
        None => q,
    };
    let page = t.query(q.backward().limit(size)).await?;
    let follows = page.items.into_iter().map(from_item).collect::<Result<Vec<Follow>, _>>()?;
    Ok((follows, page.cursor.is_some()))
}

// ------------------------------------------------------------------ login failures

/// The login-failure window of an email: every attempt takes a slot before
/// the password check; a success gives them all back.
pub fn login_window(email: &str) -> crate::limits::SlotWindow {
    crate::limits::SlotWindow::new(
        keys::login_failures_pk(email),
        moim_domain::user::LOGIN_FAILURE_LIMIT,
        moim_domain::user::LOGIN_FAILURE_WINDOW_SECS,
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn user_item_round_trips_and_carries_its_key() {
        let u = User::new(7, "a@b.com", "Beemo", "hash".into(), "2026-01-01T00:00:00Z".parse().unwrap());
        let item = to_item(&keys::user(7), &u);
        assert_eq!(item[PK], "USER#7");
        assert_eq!(item[SK], "PROFILE");
        let back: User = from_item(item).unwrap();
        assert_eq!(back, u);
    }

    #[test]
    fn profile_change_with_new_nickname_swaps_the_claim() {
        let u = User::new(7, "a@b.com", "Beemo", "hash".into(), Utc::now());
        let ops = change_profile(&u, &ProfileChange { nick_name: Some("Jake".into()), ..Default::default() });
        assert_eq!(ops.len(), 3);
        assert_eq!(ops[CHANGE_PROFILE_NICK_OP].key(), Some(keys::nickname("Jake")));
        let same = change_profile(&u, &ProfileChange { nick_name: Some("Beemo".into()), ..Default::default() });
        assert_eq!(same.len(), 1);
    }
}
