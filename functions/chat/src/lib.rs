//! The chat function (API.md §8, REST side): my rooms, DM rooms, room detail,
//! history pages, read marks, participants and kick. GROUP rooms move with
//! their group (the groups function writes participants and SYSTEM / KICK
//! messages in the group's transaction); a kick in a GROUP room is the group
//! kick. Posting is [`post_message`], used by the STOMP handler.

/// The engines this function links besides the table (push: chat frames and live notifications (a kick is the group kick)).
pub const PORTS: u8 = moim_web::ports::PUSH;

mod rooms;
mod views;
pub mod ws;

use chrono::Utc;
use moim_domain::chat::{self, Message, Participant, Room, RoomType};
use moim_domain::group::{Group, Profile};
use moim_domain::ErrorCode;
use moim_store::chat as repo;
use moim_store::{groups, users, StoreError};
use moim_web::{route, ApiResult, AppContext, Route};
use std::collections::HashMap;

pub static ROUTES: &[Route] = &[
    route!("GET /api/v1/chat/rooms", rooms::list),
    route!("POST /api/v1/chat/dm", rooms::dm),
    route!("GET /api/v1/chat/rooms/{roomId}", rooms::detail),
    route!("GET /api/v1/chat/rooms/{roomId}/messages", rooms::history),
    route!("PUT /api/v1/chat/rooms/{roomId}/read", rooms::read),
    route!("GET /api/v1/chat/rooms/{roomId}/participants", rooms::participants),
    route!("POST /api/v1/chat/rooms/{roomId}/kick", rooms::kick),
];

/// Rooms one list request shows at most (a user's groups are few; DMs too).
const ROOMS_MAX: usize = 200;

/// A room with what its views need: participant rows, their profiles, and the
/// group of a GROUP room.
pub struct LoadedRoom {
    pub room: Room,
    pub parts: Vec<Participant>,
    pub profiles: HashMap<i64, Profile>,
    pub group: Option<Group>,
}

impl LoadedRoom {
    pub fn active(&self) -> impl Iterator<Item = &Participant> {
        self.parts.iter().filter(|p| p.is_active())
    }

    pub fn participant(&self, user_id: i64) -> Option<&Participant> {
        self.parts.iter().find(|p| p.user_id == user_id)
    }

    /// When the room was made (a GROUP room written before rooms kept it: its group's).
    pub fn created_at(&self) -> Option<chrono::DateTime<Utc>> {
        self.room.created_at.or(self.group.as_ref().map(|g| g.created_at))
    }
}

/// Reads a room: 404 CHAT_ROOM_NOT_FOUND when it (or its group) is gone.
/// GROUP rooms take profiles from the group's membership rows (kept current);
/// DM rooms read their two users.
pub async fn load_room(ctx: &AppContext, room_id: i64) -> ApiResult<LoadedRoom> {
    let t = &*ctx.table;
    let (room, parts) = futures::try_join!(repo::get_room(t, room_id), repo::participants(t, room_id))?;
    let room = room.ok_or(ErrorCode::CHAT_ROOM_NOT_FOUND)?;
    let mut profiles = HashMap::new();
    let mut group = None;
    if let (RoomType::Group, Some(gid)) = (room.kind, room.group_id) {
        let state = groups::read_state(t, gid).await?.ok_or(ErrorCode::CHAT_ROOM_NOT_FOUND)?;
        for m in &state.members {
            profiles.insert(m.user_id(), m.user.clone());
        }
        group = Some(state.group);
    }
    let missing: Vec<i64> = parts.iter().map(|p| p.user_id).filter(|u| !profiles.contains_key(u)).collect();
    let found = futures::future::try_join_all(missing.iter().map(|u| users::get_user(t, *u))).await?;
    for u in found.into_iter().flatten() {
        profiles.insert(u.user_id, Profile::of(&u));
    }
    Ok(LoadedRoom { room, parts, profiles, group })
}

/// Loads a room the caller may use: 404 before 403 CHAT_ROOM_ACCESS_DENIED.
pub async fn room_for(ctx: &AppContext, room_id: i64, caller: i64) -> ApiResult<LoadedRoom> {
    let loaded = load_room(ctx, room_id).await?;
    chat::require_active(loaded.participant(caller))?;
    Ok(loaded)
}

/// The cheap access check (two reads): 404 CHAT_ROOM_NOT_FOUND before 403
/// CHAT_ROOM_ACCESS_DENIED.
pub async fn require_participant(ctx: &AppContext, room_id: i64, user_id: i64) -> ApiResult<()> {
    let t = &*ctx.table;
    let (p, room) = futures::try_join!(repo::get_participant(t, room_id, user_id), repo::get_room(t, room_id))?;
    match room {
        None => Err(ErrorCode::CHAT_ROOM_NOT_FOUND.into()),
        Some(_) if p.is_some_and(|p| p.is_active()) => Ok(()),
        Some(_) => Err(ErrorCode::CHAT_ROOM_ACCESS_DENIED.into()),
    }
}

/// Why a user may not use a room, read when a conditional write refused them:
/// 404 when the room is gone, else 403.
pub async fn refusal(ctx: &AppContext, room_id: i64) -> ApiResult<ErrorCode> {
    Ok(match repo::get_room(&*ctx.table, room_id).await? {
        None => ErrorCode::CHAT_ROOM_NOT_FOUND,
        Some(_) => ErrorCode::CHAT_ROOM_ACCESS_DENIED,
    })
}

/// Stores a user's message: one transaction that also checks the sender is an
/// ACTIVE participant. Errors in the contract's order: 404, 403, then 400
/// CHAT_MESSAGE_INVALID (a bad content costs the reads that order needs).
pub async fn post_message(
    ctx: &AppContext,
    sender: &Profile,
    room_id: i64,
    content: Option<&str>,
) -> ApiResult<Message> {
    let content = match chat::validate_content(content) {
        Ok(c) => c,
        Err(invalid) => {
            require_participant(ctx, room_id, sender.user_id).await?;
            return Err(invalid.into());
        }
    };
    // A clash of ids across processes fails the put: take a fresh id.
    for _ in 0..3 {
        let message = Message::text(moim_store::keys::next_id(), room_id, sender, content.clone(), Utc::now());
        match ctx.table.transact(repo::send(&message)).await {
            Ok(()) => return Ok(message),
            Err(StoreError::ConditionFailed { index: repo::SEND_PARTICIPANT_OP }) => {
                return Err(refusal(ctx, room_id).await?.into())
            }
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ErrorCode::DATA_INTEGRITY_VIOLATION.into())
}
