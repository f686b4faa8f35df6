//! Items and write sets of chat rooms (see docs/DATA_MODEL.md "Chat"). A room
//! is a partition `ROOM#<id>`: META, one `PART#<userId>` per participant, and
//! `MSG#<padded id>` per message, so history pages are one query by sort key.
//! A participant row is in GSI1 (`ROOMS#<userId>`) only while ACTIVE, which
//! lists a user's rooms.

use chrono::{DateTime, Utc};
use moim_domain::chat::{Message, Participant, ParticipantStatus, Room, RoomChange, RoomType};
use serde_json::{json, Value};

use crate::groups::room_key;
use crate::keys;
use crate::table::*;
use crate::users::{from_item, to_item};

pub const PART_PREFIX: &str = "PART#";
pub const MSG_PREFIX: &str = "MSG#";

pub fn room_pk(room_id: i64) -> String {
    format!("ROOM#{room_id}")
}
pub fn participant_key(room_id: i64, user_id: i64) -> Key {
    Key::new(room_pk(room_id), format!("{PART_PREFIX}{user_id}"))
}
pub fn message_key(room_id: i64, message_id: i64) -> Key {
    Key::new(room_pk(room_id), format!("{MSG_PREFIX}{}", keys::pad(message_id)))
}
/// The claim that makes a pair of users have one DM room (ids in ascending order).
pub fn dm_key(a: i64, b: i64) -> Key {
    let (lo, hi) = if a < b { (a, b) } else { (b, a) };
    Key::new(format!("DM#{lo}#{hi}"), "DM")
}
/// GSI1 partition of a user's ACTIVE rooms.
pub fn rooms_gsi(user_id: i64) -> String {
    format!("ROOMS#{user_id}")
}

pub fn room_item(r: &Room) -> Item {
    to_item(&room_key(r.room_id), r)
}

pub fn participant_item(p: &Participant) -> Item {
    let mut item = to_item(&participant_key(p.room_id, p.user_id), p);
    if p.is_active() {
        item.insert(GSI1PK.into(), rooms_gsi(p.user_id).into());
        item.insert(GSI1SK.into(), keys::pad(p.room_id).into());
    }
    item
}

pub fn message_item(m: &Message) -> Item {
    to_item(&message_key(m.chat_room_id, m.message_id), m)
}

/// A new GROUP room's META and its owner (the host) as the first participant.
pub fn group_room_ops(room_id: i64, group_id: i64, host: i64, now: DateTime<Utc>) -> Vec<WriteOp> {
    let room = Room {
        room_id,
        kind: RoomType::Group,
        group_id: Some(group_id),
        owner_id: Some(host),
        user_ids: vec![],
        created_at: Some(now),
    };
    let owner = Participant {
        participant_id: keys::next_id(),
        room_id,
        user_id: host,
        status: ParticipantStatus::Active,
        is_owner: true,
        joined_at: now,
        last_read_message_id: None,
    };
    vec![WriteOp::put_new(room_item(&room)), WriteOp::put_new(participant_item(&owner))]
}

/// The room side of a group write: each change's participant row and its
/// SYSTEM / KICK message. A (re)joining member has read up to their own
/// join message, so history stays readable without counting as unread.
pub fn change_ops(room_id: i64, changes: &[RoomChange], now: DateTime<Utc>) -> (Vec<WriteOp>, Vec<Message>) {
    let mut ops = Vec::new();
    let mut messages = Vec::new();
    for change in changes {
        let message = change.message(keys::next_id(), room_id, now);
        let p = Participant {
            participant_id: keys::next_id(),
            room_id,
            user_id: change.user_id(),
            status: if change.removes() { ParticipantStatus::Inactive } else { ParticipantStatus::Active },
            is_owner: false,
            joined_at: now,
            last_read_message_id: Some(message.message_id),
        };
        // A removal keeps the row, INACTIVE and out of the rooms index.
        let part = WriteOp::put(participant_item(&p));
        ops.push(part);
        ops.push(WriteOp::put_new(message_item(&message)));
        messages.push(message);
    }
    (ops, messages)
}

/// Deleting a group room: META goes in the group's first delete transaction;
/// these remove the participant rows with the memberships.
pub fn participant_deletes(room_id: i64, user_ids: impl IntoIterator<Item = i64>) -> Vec<WriteOp> {
    user_ids.into_iter().map(|u| WriteOp::delete(participant_key(room_id, u))).collect()
}

/// A condition-check that `user_id` is an ACTIVE participant of the room.
pub fn active_check(room_id: i64, user_id: i64) -> WriteOp {
    WriteOp::check(participant_key(room_id, user_id), Cond::equals("status", json!(ParticipantStatus::Active)))
}

/// Index of the participant check in [`send`]: its failure = not (or no longer) ACTIVE.
pub const SEND_PARTICIPANT_OP: usize = 0;

/// Posting a message: only while the sender is an ACTIVE participant, checked
/// in the same transaction as the put (a kick racing a send cannot let it in).
pub fn send(m: &Message) -> Vec<WriteOp> {
    let sender = m.sender_id.unwrap_or_default();
    vec![
        WriteOp::check(
            participant_key(m.chat_room_id, sender),
            Cond::equals("status", json!(ParticipantStatus::Active)),
        ),
        WriteOp::put_new(message_item(m)),
    ]
}

/// Marks everything up to `message_id` read (only for an ACTIVE participant).
pub fn mark_read(room_id: i64, user_id: i64, message_id: Option<i64>) -> WriteOp {
    WriteOp::update(participant_key(room_id, user_id), Update::new().set("lastReadMessageId", json!(message_id)))
        .when(Cond::equals("status", json!(ParticipantStatus::Active)))
}

/// Index of the DM claim op in [`create_dm`]: its failure = the pair already has a room.
pub const DM_CLAIM_OP: usize = 0;

/// A new DM room between `a` (the caller) and `b`: the pair's claim, META and both participants.
pub fn create_dm(room_id: i64, a: i64, b: i64, now: DateTime<Utc>) -> Vec<WriteOp> {
    let room = Room {
        room_id,
        kind: RoomType::Dm,
        group_id: None,
        owner_id: None,
        user_ids: vec![a, b],
        created_at: Some(now),
    };
    let part = |user_id| Participant {
        participant_id: keys::next_id(),
        room_id,
        user_id,
        status: ParticipantStatus::Active,
        is_owner: false,
        joined_at: now,
        last_read_message_id: None,
    };
    vec![
        WriteOp::put_new(to_item(&dm_key(a, b), &json!({ "roomId": room_id }))),
        WriteOp::put_new(room_item(&room)),
        WriteOp::put_new(participant_item(&part(a))),
        WriteOp::put_new(participant_item(&part(b))),
    ]
}

/// The DM room of a pair, if they have one.
pub async fn dm_room_id(t: &dyn Table, a: i64, b: i64) -> Result<Option<i64>, StoreError> {
    Ok(t.get(&dm_key(a, b)).await?.and_then(|i| i.get("roomId").and_then(Value::as_i64)))
}

pub async fn get_room(t: &dyn Table, room_id: i64) -> Result<Option<Room>, StoreError> {
    t.get(&room_key(room_id)).await?.map(from_item).transpose()
}

pub async fn get_participant(t: &dyn Table, room_id: i64, user_id: i64) -> Result<Option<Participant>, StoreError> {
    t.get(&participant_key(room_id, user_id)).await?.map(from_item).transpose()
}

/// Every participant row of a room (ACTIVE and INACTIVE).
pub async fn participants(t: &dyn Table, room_id: i64) -> Result<Vec<Participant>, StoreError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let q = Query::table(room_pk(room_id)).sk(SkCond::BeginsWith(PART_PREFIX.into())).limit(100).cursor(cursor);
        let page = t.query(q).await?;
        for item in page.items {
            out.push(from_item(item)?);
        }
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

/// A user's ACTIVE participations (one per room), at most `max`.
pub async fn my_participations(t: &dyn Table, user_id: i64, max: usize) -> Result<Vec<Participant>, StoreError> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = t.query(Query::gsi1(rooms_gsi(user_id)).backward().limit(100).cursor(cursor)).await?;
        for item in page.items {
            out.push(from_item(item)?);
        }
        match page.cursor {
            Some(c) if out.len() < max => cursor = Some(c),
            _ => {
                out.truncate(max);
                return Ok(out);
            }
        }
    }
}

/// Newest-first messages with ids below `before` (all when None): the page and
/// whether older ones follow.
pub async fn messages_before(
    t: &dyn Table,
    room_id: i64,
    before: Option<i64>,
    size: usize,
) -> Result<(Vec<Message>, bool), StoreError> {
    let hi = match before {
        Some(b) => format!("{MSG_PREFIX}{}", keys::pad(b.saturating_sub(1).max(0))),
        None => format!("{MSG_PREFIX}~"),
    };
    let q = Query::table(room_pk(room_id))
        .sk(SkCond::Between(format!("{MSG_PREFIX}{}", keys::pad(0)), hi))
        .backward()
        .limit(size + 1);
    let page = t.query(q).await?;
    let mut messages = page.items.into_iter().map(from_item).collect::<Result<Vec<Message>, _>>()?;
    let more = messages.len() > size;
    messages.truncate(size);
    Ok((messages, more))
}

/// The newest message of a room.
pub async fn latest_message(t: &dyn Table, room_id: i64) -> Result<Option<Message>, StoreError> {
    Ok(messages_before(t, room_id, None, 1).await?.0.into_iter().next())
}
