//! Notification items: written in the same transaction as the change they report.

use chrono::{DateTime, Utc};
use moim_domain::notification::{NotificationType, NOTIFICATION_TTL_SECS};
use moim_domain::user::User;
use serde_json::json;

use crate::keys;
use crate::table::*;

/// The item for one notification to `receiver`, with the actor (and group) as
/// they are now, so later renames or deletions do not change it.
pub fn new_item(
    id: i64,
    receiver: i64,
    kind: NotificationType,
    actor: &User,
    group: Option<(i64, &str)>,
    now: DateTime<Utc>,
) -> Item {
    let mut item = crate::users::to_item(
        &keys::notification(id),
        &json!({
            "id": id,
            "receiverId": receiver,
            "type": kind,
            "message": kind.message(&actor.nick_name, group.map(|g| g.1)),
            "readAt": null,
            "createdAt": moim_domain::time::format(now),
            "user": { "id": actor.user_id, "nickname": actor.nick_name, "nickName": actor.nick_name, "profileImage": actor.profile_image },
            "group": group.map(|(gid, title)| json!({ "id": gid, "title": title })),
            "redirectUrl": kind.redirect_url(actor.user_id, group.map(|g| g.0)),
            EXPIRES_AT: now.timestamp() + NOTIFICATION_TTL_SECS,
        }),
    );
    item.insert(GSI1PK.into(), keys::notifications_gsi(receiver).into());
    item.insert(GSI1SK.into(), keys::pad(id).into());
    // Sparse "unread" index: present until read, so counting and read-all touch only unread ones.
    item.insert(GSI2PK.into(), unread_gsi(receiver).into());
    item.insert(GSI2SK.into(), keys::pad(id).into());
    item
}

const VIEW_FIELDS: [&str; 8] = ["id", "type", "message", "readAt", "createdAt", "user", "group", "redirectUrl"];

/// NotificationItem of API.md §1.8 (the REST list and the SSE stream send it).
pub fn view(item: &Item) -> serde_json::Value {
    serde_json::Value::Object(
        VIEW_FIELDS.iter().map(|k| (k.to_string(), item.get(*k).cloned().unwrap_or(serde_json::Value::Null))).collect(),
    )
}

/// GSI2 partition of a user's unread notifications.
pub fn unread_gsi(user_id: i64) -> String {
    format!("UNREAD#{user_id}")
}

/// Whether a notification exists and is unread (it is in the sparse unread index).
pub async fn is_unread(t: &dyn Table, id: i64) -> Result<bool, StoreError> {
    Ok(t.get(&keys::notification(id)).await?.is_some_and(|i| i.get(GSI2PK).is_some_and(|v| v.is_string())))
}

/// Removes a notification that a newer one replaces, only while it is still
/// unread: read (or deleted) in between, the transaction fails and is re-decided.
pub fn delete_unread(id: i64, receiver: i64) -> WriteOp {
    WriteOp::delete(keys::notification(id)).when(Cond::Exists).when(Cond::equals(GSI2PK, unread_gsi(receiver)))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn notifications_expire_after_ninety_days() {
        let now = Utc::now();
        let actor = User::new(9, "a@b.com", "Jake", "hash".into(), now);
        let item = new_item(1, 7, NotificationType::GroupJoin, &actor, Some((3, "t")), now);
        assert_eq!(item[EXPIRES_AT], now.timestamp() + 90 * 24 * 3600);
        assert!(!is_expired(&item, now.timestamp() + 89 * 24 * 3600));
        assert!(is_expired(&item, now.timestamp() + 90 * 24 * 3600));
    }
}
