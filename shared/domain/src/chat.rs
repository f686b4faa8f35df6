//! Chat (API.md §8): rooms, participants, messages, and how a group's
//! membership changes move its room. A GROUP room's ACTIVE participants are the
//! group's ATTEND members; the group's write transaction carries the room's
//! changes (participant rows and SYSTEM / KICK messages) so the two never disagree.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, ErrorCode as E};
use crate::group::{GroupState, MemberStatus, Membership, Profile};

/// Longest message content, in characters, after trimming.
pub const MESSAGE_MAX_CHARS: usize = 1000;
pub const HISTORY_PAGE_DEFAULT: usize = 50;
pub const HISTORY_PAGE_MAX: usize = 100;
/// Unread messages counted per room; past it the count shows this many
/// (a room list costs one bounded query per room however much is unread).
pub const UNREAD_COUNT_CAP: usize = 300;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum RoomType {
    Group,
    Dm,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum ParticipantStatus {
    Active,
    Inactive,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MessageType {
    Text,
    System,
    Kick,
}

/// A room's META: a GROUP room belongs to its group (owner = host), a DM room
/// to its two users.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Room {
    pub room_id: i64,
    #[serde(rename = "type")]
    pub kind: RoomType,
    #[serde(default)]
    pub group_id: Option<i64>,
    #[serde(default)]
    pub owner_id: Option<i64>,
    /// The two users of a DM room.
    #[serde(default)]
    pub user_ids: Vec<i64>,
    #[serde(default, with = "crate::time::wire_opt")]
    pub created_at: Option<DateTime<Utc>>,
}

/// One user's place in a room: status, and the last message they have read.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Participant {
    pub participant_id: i64,
    pub room_id: i64,
    pub user_id: i64,
    pub status: ParticipantStatus,
    pub is_owner: bool,
    #[serde(with = "crate::time::wire")]
    pub joined_at: DateTime<Utc>,
    #[serde(default)]
    pub last_read_message_id: Option<i64>,
}

impl Participant {
    pub fn is_active(&self) -> bool {
        self.status == ParticipantStatus::Active
    }
}

/// A stored message; the sender's name and photo are kept as they were when it was sent.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Message {
    pub message_id: i64,
    pub chat_room_id: i64,
    pub sender_id: Option<i64>,
    pub sender_name: Option<String>,
    pub sender_profile_image: Option<String>,
    pub content: String,
    pub message_type: MessageType,
    #[serde(with = "crate::time::wire")]
    pub created_at: DateTime<Utc>,
    pub target_user_id: Option<i64>,
}

impl Message {
    /// A user's message, content already validated.
    pub fn text(id: i64, room_id: i64, sender: &Profile, content: String, now: DateTime<Utc>) -> Message {
        Message {
            message_id: id,
            chat_room_id: room_id,
            sender_id: Some(sender.user_id),
            sender_name: Some(sender.nick_name.clone()),
            sender_profile_image: sender.profile_image.clone(),
            content,
            message_type: MessageType::Text,
            created_at: now,
            target_user_id: None,
        }
    }

    fn system(
        id: i64,
        room_id: i64,
        kind: MessageType,
        content: String,
        target: Option<i64>,
        now: DateTime<Utc>,
    ) -> Self {
        Message {
            message_id: id,
            chat_room_id: room_id,
            sender_id: None,
            sender_name: None,
            sender_profile_image: None,
            content,
            message_type: kind,
            created_at: now,
            target_user_id: target,
        }
    }

    /// ChatMessage of API.md §8 (`createdAt` and `timestamp` are the same value).
    pub fn view(&self) -> serde_json::Value {
        let at = crate::time::format(self.created_at);
        serde_json::json!({
            "messageId": self.message_id,
            "chatRoomId": self.chat_room_id,
            "senderId": self.sender_id,
            "senderName": self.sender_name,
            "senderProfileImage": self.sender_profile_image,
            "content": self.content,
            "messageType": self.message_type,
            "createdAt": at,
            "timestamp": at,
            "targetUserId": self.target_user_id,
        })
    }
}

/// Message content: trimmed, 1..=1000 characters.
pub fn validate_content(raw: Option<&str>) -> Result<String, DomainError> {
    let content = raw.unwrap_or_default().trim();
    let n = content.chars().count();
    if n == 0 || n > MESSAGE_MAX_CHARS {
        return Err(DomainError::with_detail(
            E::CHAT_MESSAGE_INVALID,
            format!("채팅: 메시지는 1자 이상 {MESSAGE_MAX_CHARS}자 이하로 입력해 주세요."),
        ));
    }
    Ok(content.to_string())
}

/// A change of a GROUP room that a group write causes.
#[derive(Debug, Clone, PartialEq)]
pub enum RoomChange {
    /// Became ATTEND (attend in a FREE group, approval): ACTIVE, with a SYSTEM message.
    Joined(Profile),
    /// ATTEND → LEFT: INACTIVE, with a SYSTEM message.
    Left(Profile),
    /// ATTEND → KICKED / BANNED: INACTIVE, with a KICK message naming them.
    Removed(Profile),
}

impl RoomChange {
    pub fn user_id(&self) -> i64 {
        match self {
            RoomChange::Joined(p) | RoomChange::Left(p) | RoomChange::Removed(p) => p.user_id,
        }
    }

    /// Whether the user stops being an ACTIVE participant (their subscriptions go).
    pub fn removes(&self) -> bool {
        !matches!(self, RoomChange::Joined(_))
    }

    /// The SYSTEM / KICK message this change posts in the room.
    pub fn message(&self, id: i64, room_id: i64, now: DateTime<Utc>) -> Message {
        let (kind, text, target) = match self {
            RoomChange::Joined(p) => (MessageType::System, format!("{}님이 입장했습니다.", p.nick_name), None),
            RoomChange::Left(p) => (MessageType::System, format!("{}님이 퇴장했습니다.", p.nick_name), None),
            RoomChange::Removed(p) => {
                (MessageType::Kick, format!("{}님이 강퇴되었습니다.", p.nick_name), Some(p.user_id))
            }
        };
        Message::system(id, room_id, kind, text, target, now)
    }
}

/// What the changed memberships of a group write do to its room: only moves
/// into or out of ATTEND matter (a PENDING request is not in the room).
pub fn room_changes(before: &GroupState, changed: &[Membership]) -> Vec<RoomChange> {
    changed
        .iter()
        .filter_map(|m| {
            let was = before.member(m.user_id()).map(|old| old.status);
            let was_in = was == Some(MemberStatus::Attend);
            match (was_in, m.status) {
                (false, MemberStatus::Attend) => Some(RoomChange::Joined(m.user.clone())),
                (true, MemberStatus::Left) => Some(RoomChange::Left(m.user.clone())),
                (true, MemberStatus::Kicked | MemberStatus::Banned) => Some(RoomChange::Removed(m.user.clone())),
                _ => None,
            }
        })
        .collect()
}

/// Messages after the last read one that others sent, from a newest-first
/// slice (stops at the last read message; capped at [`UNREAD_COUNT_CAP`]).
pub fn unread_count(newest_first: &[Message], last_read: Option<i64>, me: i64) -> usize {
    newest_first
        .iter()
        .take_while(|m| last_read.is_none_or(|r| m.message_id > r))
        .filter(|m| m.sender_id != Some(me))
        .count()
        .min(UNREAD_COUNT_CAP)
}

/// Who may read and post: an ACTIVE participant. 404 when the room does not
/// exist comes first (the caller checks it).
pub fn require_active(p: Option<&Participant>) -> Result<&Participant, DomainError> {
    p.filter(|p| p.is_active()).ok_or_else(|| DomainError::new(E::CHAT_ROOM_ACCESS_DENIED))
}

/// ChatUser ordering: the owner first, then by `joinedAt`.
pub fn order_participants<T>(items: &mut [T], key: impl Fn(&T) -> (bool, DateTime<Utc>, i64)) {
    items.sort_by_key(|t| {
        let (owner, joined, id) = key(t);
        (!owner, joined, id)
    });
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::group::{Group, GroupImage, GroupStatus, JoinPolicy, Role};

    fn profile(id: i64) -> Profile {
        Profile { user_id: id, nick_name: format!("u{id}"), profile_image: None, profile_message: None }
    }

    fn member(id: i64, status: MemberStatus) -> Membership {
        Membership {
            group_user_id: 100 + id,
            group_id: 1,
            role: if id == 1 { Role::Host } else { Role::Member },
            status,
            user: profile(id),
            joined_at: Utc::now(),
            left_at: None,
            join_request_message: None,
            host_notice: None,
        }
    }

    fn state(members: Vec<Membership>) -> GroupState {
        let now = Utc::now();
        let images: Vec<GroupImage> = vec![];
        GroupState {
            group: Group {
                id: 1,
                chat_room_id: 2,
                title: "t".into(),
                location: "l".into(),
                location_detail: None,
                start_time: now,
                end_time: None,
                tags: vec![],
                description: "d".into(),
                max_participants: 12,
                join_policy: JoinPolicy::Free,
                status: GroupStatus::Recruiting,
                host: profile(1),
                participant_count: 1,
                images,
                created_at: now,
                updated_at: now,
                version: 1,
            },
            members,
        }
    }

    #[test]
    fn only_moves_into_or_out_of_attend_touch_the_room() {
        let before = state(vec![
            member(1, MemberStatus::Attend),
            member(2, MemberStatus::Pending),
            member(3, MemberStatus::Attend),
            member(4, MemberStatus::Attend),
            member(5, MemberStatus::Attend),
            member(6, MemberStatus::Left),
        ]);
        let changed = vec![
            member(2, MemberStatus::Attend),    // approved
            member(3, MemberStatus::Left),      // left
            member(4, MemberStatus::Kicked),    // kicked
            member(5, MemberStatus::Banned),    // banned
            member(6, MemberStatus::Pending),   // re-requested: not in the room yet
            member(7, MemberStatus::Attend),    // new FREE attend
            member(8, MemberStatus::Cancelled), // never attended
        ];
        let changes = room_changes(&before, &changed);
        assert_eq!(
            changes,
            vec![
                RoomChange::Joined(profile(2)),
                RoomChange::Left(profile(3)),
                RoomChange::Removed(profile(4)),
                RoomChange::Removed(profile(5)),
                RoomChange::Joined(profile(7)),
            ]
        );
        let kick = changes[2].message(9, 2, Utc::now());
        assert_eq!((kick.message_type, kick.target_user_id, kick.sender_id), (MessageType::Kick, Some(4), None));
        let left = changes[1].message(9, 2, Utc::now());
        assert_eq!((left.message_type, left.target_user_id), (MessageType::System, None));
        assert!(changes[1].removes() && changes[2].removes() && !changes[0].removes());
    }

    #[test]
    fn content_is_trimmed_and_bounded_in_characters() {
        assert_eq!(validate_content(Some("  hi \n")).unwrap(), "hi");
        assert_eq!(validate_content(Some(&"가".repeat(1000))).unwrap().chars().count(), 1000);
        for bad in [None, Some(""), Some("   \n\t"), Some(&*"가".repeat(1001))] {
            assert_eq!(validate_content(bad).unwrap_err().code, E::CHAT_MESSAGE_INVALID);
        }
    }

    #[test]
    fn unread_counts_others_messages_after_the_last_read_one() {
        let now = Utc::now();
        let msg = |id: i64, from: i64| Message::text(id, 2, &profile(from), "x".into(), now);
        let newest_first = vec![msg(9, 5), msg(8, 7), msg(7, 5), msg(6, 5), msg(5, 6)];
        assert_eq!(unread_count(&newest_first, Some(6), 7), 2);
        assert_eq!(unread_count(&newest_first, None, 7), 4);
        assert_eq!(unread_count(&newest_first, Some(9), 7), 0);
        let many: Vec<Message> = (0..400).rev().map(|i| msg(i, 5)).collect();
        assert_eq!(unread_count(&many, None, 7), UNREAD_COUNT_CAP);
    }

    #[test]
    fn the_owner_comes_first_then_by_join_time() {
        let t = Utc::now();
        let mut v = vec![
            (false, t, 3),
            (true, t + chrono::Duration::seconds(5), 1),
            (false, t - chrono::Duration::seconds(1), 2),
        ];
        order_participants(&mut v, |x| *x);
        assert_eq!(v.iter().map(|x| x.2).collect::<Vec<_>>(), [1, 2, 3]);
    }

    #[test]
    fn messages_serialise_with_both_time_fields() {
        let m = Message::text(5, 2, &profile(3), "hi".into(), Utc::now());
        let v = m.view();
        assert_eq!(v["createdAt"], v["timestamp"]);
        assert_eq!(v["messageType"], "TEXT");
        assert_eq!(v["senderName"], "u3");
    }
}
