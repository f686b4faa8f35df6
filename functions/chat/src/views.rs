//! The JSON shapes of API.md §8: ChatUser, ChatRoomSummary, room detail.

use moim_domain::chat::{self, Message, Participant, RoomType};
use moim_domain::time;
use moim_store::Blobs;
use serde_json::{json, Value};

use crate::LoadedRoom;

/// ChatUser: the participant row with the user's current profile.
pub fn chat_user(room: &LoadedRoom, p: &Participant) -> Value {
    let profile = room.profiles.get(&p.user_id);
    json!({
        "participantId": p.participant_id,
        "userId": p.user_id,
        "nickName": profile.map(|u| u.nick_name.clone()),
        "profileImage": profile.and_then(|u| u.profile_image.clone()),
        "profileMessage": profile.and_then(|u| u.profile_message.clone()),
        "status": p.status,
        "isOwner": p.is_owner,
        "joinedAt": time::format(p.joined_at),
    })
}

/// ACTIVE participants, owner first, then by join time.
pub fn participants(room: &LoadedRoom) -> Vec<Value> {
    let mut active: Vec<&Participant> = room.active().collect();
    chat::order_participants(&mut active, |p| (p.is_owner, p.joined_at, p.participant_id));
    active.into_iter().map(|p| chat_user(room, p)).collect()
}

/// The room's name and thumbnail as `viewer` sees them: a GROUP room shows its
/// group (title, cover 100x100 or the default); a DM room the other user.
fn name_and_thumbnail(room: &LoadedRoom, viewer: i64, blobs: &dyn Blobs) -> (Value, Value) {
    match (room.room.kind, &room.group) {
        (RoomType::Group, Some(g)) => {
            let cover = g.images.iter().min_by_key(|i| i.sort_order).map(|i| i.thumbnail_url.clone());
            let thumb = cover.unwrap_or_else(|| blobs.public_url(moim_groups::DEFAULT_THUMB_KEY));
            (json!(g.title), json!(thumb))
        }
        _ => {
            let other = room.room.user_ids.iter().copied().find(|u| *u != viewer);
            let profile = other.and_then(|u| room.profiles.get(&u));
            (json!(profile.map(|p| p.nick_name.clone())), json!(profile.and_then(|p| p.profile_image.clone())))
        }
    }
}

/// ChatRoomSummary, with the caller's unread count from the newest messages.
pub fn summary(room: &LoadedRoom, viewer: i64, newest_first: &[Message], blobs: &dyn Blobs) -> Value {
    let (name, thumbnail) = name_and_thumbnail(room, viewer, blobs);
    let last_read = room.participant(viewer).and_then(|p| p.last_read_message_id);
    let participants = participants(room);
    json!({
        "chatRoomId": room.room.room_id,
        "chatType": room.room.kind,
        "chatRoomName": name,
        "groupId": room.room.group_id,
        "participantCount": participants.len(),
        "lastMessage": newest_first.first().map(|m| json!({
            "content": m.content,
            "senderName": m.sender_name,
            "timestamp": time::format(m.created_at),
        })),
        "participants": participants,
        "unreadCount": chat::unread_count(newest_first, last_read, viewer),
        "thumbnail": thumbnail,
    })
}

/// GET /rooms/{id}.
pub fn detail(room: &LoadedRoom, viewer: i64, blobs: &dyn Blobs) -> Value {
    let (name, _) = name_and_thumbnail(room, viewer, blobs);
    let participants = participants(room);
    json!({
        "chatRoomId": room.room.room_id,
        "chatRoomName": name,
        "chatType": room.room.kind,
        "createdAt": room.created_at().map(time::format),
        "groupId": room.room.group_id,
        "participantCount": participants.len(),
        "participants": participants,
    })
}
