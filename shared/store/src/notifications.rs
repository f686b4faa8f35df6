//! Notification items: written in the same transaction as the change they report.

use chrono::{DateTime, Utc};
use moim_domain::notification::NotificationType;
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
        }),
    );
    item.insert(GSI1PK.into(), keys::notifications_gsi(receiver).into());
    item.insert(GSI1SK.into(), keys::pad(id).into());
    // Sparse "unread" index: present until read, so counting and read-all touch only unread ones.
    item.insert(GSI2PK.into(), unread_gsi(receiver).into());
    item.insert(GSI2SK.into(), keys::pad(id).into());
    item
}

/// GSI2 partition of a user's unread notifications.
pub fn unread_gsi(user_id: i64) -> String {
    format!("UNREAD#{user_id}")
}
