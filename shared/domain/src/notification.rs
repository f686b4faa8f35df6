//! Notification types and their texts (API.md §7): what the receiver sees and
//! where the frontend sends them when they click.

use serde::{Deserialize, Serialize};

/// A GROUP_JOIN / GROUP_LEAVE / GROUP_JOIN_REQUEST replaces the same actor's
/// unread one of those about the same group within this window (§7, no floods).
pub const COALESCE_WINDOW_SECS: i64 = 600;
/// Notifications expire (table TTL) this long after creation.
pub const NOTIFICATION_TTL_SECS: i64 = 90 * 24 * 3600;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum NotificationType {
    Follow,
    GroupCreate,
    GroupJoin,
    GroupJoinRequest,
    GroupJoinApproved,
    GroupJoinRejected,
    GroupLeave,
    GroupJoinKicked,
    GroupDelete,
}

impl NotificationType {
    /// The original Korean sentence for an actor and (for group types) a group title.
    pub fn message(self, actor: &str, group: Option<&str>) -> String {
        let g = group.unwrap_or_default();
        match self {
            Self::Follow => format!("{actor}님이 회원님을 팔로우했어요."),
            Self::GroupCreate => format!("{actor}님이 \"{g}\" 모임을 만들었어요."),
            Self::GroupJoin => format!("{actor}님이 \"{g}\" 모임에 참여했어요."),
            Self::GroupJoinRequest => format!("{actor}님이 \"{g}\" 모임에 참여를 요청했어요."),
            Self::GroupJoinApproved => format!("\"{g}\" 모임 참여가 승인되었어요."),
            Self::GroupJoinRejected => format!("\"{g}\" 모임 참여가 거절되었어요."),
            Self::GroupLeave => format!("{actor}님이 \"{g}\" 모임을 떠났어요."),
            Self::GroupJoinKicked => format!("\"{g}\" 모임에서 내보내졌어요."),
            Self::GroupDelete => format!("\"{g}\" 모임이 삭제되었어요."),
        }
    }

    /// The types that coalesce: what one member's attend / leave toggling produces.
    pub fn coalesces(self) -> bool {
        matches!(self, Self::GroupJoin | Self::GroupLeave | Self::GroupJoinRequest)
    }

    /// Where the frontend navigates (as the original backend).
    pub fn redirect_url(self, actor_id: i64, group_id: Option<i64>) -> String {
        let g = group_id.unwrap_or_default();
        match self {
            Self::Follow => format!("/profile/{actor_id}"),
            Self::GroupJoinRequest => format!("/groups/{g}/attend"),
            Self::GroupDelete | Self::GroupJoinKicked => "/groups".into(),
            _ => format!("/groups/{g}"),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn redirects_follow_the_original() {
        assert_eq!(NotificationType::Follow.redirect_url(9, None), "/profile/9");
        assert_eq!(NotificationType::GroupJoinRequest.redirect_url(9, Some(12)), "/groups/12/attend");
        assert_eq!(NotificationType::GroupDelete.redirect_url(9, Some(12)), "/groups");
        assert_eq!(NotificationType::GroupJoin.redirect_url(9, Some(12)), "/groups/12");
        assert_eq!(
            NotificationType::GroupJoin.message("Jake", Some("자바 스터디")),
            "Jake님이 \"자바 스터디\" 모임에 참여했어요."
        );
    }
}
