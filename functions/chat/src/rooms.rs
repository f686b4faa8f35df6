//! The REST handlers of §8.

use chrono::{DateTime, Utc};
use futures::{StreamExt, TryStreamExt};
use moim_domain::chat::{RoomType, HISTORY_PAGE_DEFAULT, HISTORY_PAGE_MAX, UNREAD_COUNT_CAP};
use moim_domain::group::HostAction;
use moim_domain::{DomainError, ErrorCode};
use moim_store::chat as repo;
use moim_store::{keys, users, StoreError};
use moim_web::request::{load_caller, with_caller};
use moim_web::{ApiError, ApiResult, AppContext, Reply, Req};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{load_room, refusal, require_participant, room_for, views, ROOMS_MAX};

/// Rooms summarised at once when listing (each costs a few reads).
const LIST_CONCURRENCY: usize = 8;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct TargetBody {
    target_user_id: Option<i64>,
}

fn target_of(body: TargetBody) -> ApiResult<i64> {
    body.target_user_id
        .ok_or_else(|| ApiError::from(DomainError::invalid("targetUserId", "대상 회원 ID는 필수입니다.")))
}

/// The summary of one room for `viewer`: its newest messages give the last
/// message and the unread count (one bounded query, read beside the room).
async fn summarise(ctx: &AppContext, room_id: i64, viewer: i64) -> ApiResult<(Value, DateTime<Utc>)> {
    let newest = repo::messages_before(&*ctx.table, room_id, None, UNREAD_COUNT_CAP + 1);
    let (room, newest) = futures::join!(load_room(ctx, room_id), newest);
    let (room, (newest, _)) = (room?, newest?);
    let at = newest.first().map(|m| m.created_at).or(room.created_at()).unwrap_or_default();
    Ok((views::summary(&room, viewer, &newest, &*ctx.blobs), at))
}

pub(crate) async fn list(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let me = req.caller_id(ctx)?;
    // The caller beside their rooms; the rooms are used once the caller is.
    let (_, mine) = with_caller(ctx, me, repo::my_participations(&*ctx.table, me, ROOMS_MAX)).await?;
    let mut rooms: Vec<(Value, DateTime<Utc>)> = futures::stream::iter(mine)
        .map(|p| async move {
            match summarise(ctx, p.room_id, me).await {
                Ok(summary) => Ok(Some(summary)),
                // A room whose group was just deleted: not listed.
                Err(ApiError::Domain(e)) if e.code == ErrorCode::CHAT_ROOM_NOT_FOUND => Ok(None),
                Err(e) => Err(e),
            }
        })
        .buffer_unordered(LIST_CONCURRENCY)
        .try_filter_map(|r| async move { Ok(r) })
        .try_collect()
        .await?;
    rooms.sort_by_key(|r| std::cmp::Reverse(r.1));
    let rooms: Vec<Value> = rooms.into_iter().map(|(v, _)| v).collect();
    Ok(Reply::ok(json!({ "chatRooms": rooms })))
}

/// POST /dm: the pair's room, created on first use (201) or found (200).
pub(crate) async fn dm(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller = req.auth(ctx).await?;
    let target = target_of(req.json()?)?;
    if target == caller.id() {
        return Err(ErrorCode::CHAT_CANNOT_DM_SELF.into());
    }
    match users::get_user(&*ctx.table, target).await? {
        Some(u) if !u.is_withdrawn() => {}
        _ => return Err(ErrorCode::USER_NOT_FOUND.into()),
    }
    let t = &*ctx.table;
    let mut created = false;
    let room_id = match repo::dm_room_id(t, caller.id(), target).await? {
        Some(id) => id,
        None => {
            let id = keys::next_id();
            match t.transact(repo::create_dm(id, caller.id(), target, Utc::now())).await {
                Ok(()) => {
                    created = true;
                    id
                }
                // The other side (or a double click) created it first.
                Err(StoreError::ConditionFailed { index: repo::DM_CLAIM_OP }) => {
                    repo::dm_room_id(t, caller.id(), target).await?.ok_or(ErrorCode::DATA_INTEGRITY_VIOLATION)?
                }
                Err(e) => return Err(e.into()),
            }
        }
    };
    let (summary, _) = summarise(ctx, room_id, caller.id()).await?;
    Ok(if created { Reply::created(summary) } else { Reply::ok(summary) })
}

pub(crate) async fn detail(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let me = req.caller_id(ctx)?;
    let room_id = req.path_id("roomId")?;
    let (_, room) = with_caller(ctx, me, room_for(ctx, room_id, me)).await?;
    Ok(Reply::ok(views::detail(&room, me, &*ctx.blobs)))
}

/// History, newest first; `cursor` is the oldest messageId of the previous page.
pub(crate) async fn history(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let me = req.caller_id(ctx)?;
    let room_id = req.path_id("roomId")?;
    let (cursor, size) = req.page(HISTORY_PAGE_DEFAULT, HISTORY_PAGE_MAX)?;
    // The caller, the access check and the page at once; the page is answered
    // only when both allow it.
    let (caller, access, page) = futures::join!(
        load_caller(ctx, me),
        require_participant(ctx, room_id, me),
        repo::messages_before(&*ctx.table, room_id, cursor, size)
    );
    caller?;
    access?;
    let (messages, more) = page?;
    let next = if more { messages.last().map(|m| m.message_id) } else { None };
    let messages: Vec<Value> = messages.iter().map(|m| m.view()).collect();
    Ok(Reply::ok(json!({ "messages": messages, "nextCursor": next, "hasNext": next.is_some() })))
}

/// PUT /read: everything up to the newest message is read.
pub(crate) async fn read(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller = req.auth(ctx).await?;
    let room_id = req.path_id("roomId")?;
    require_participant(ctx, room_id, caller.id()).await?;
    let newest = repo::latest_message(&*ctx.table, room_id).await?.map(|m| m.message_id);
    match ctx.table.transact(vec![repo::mark_read(room_id, caller.id(), newest)]).await {
        Ok(()) => {}
        // Removed from the room in between.
        Err(StoreError::ConditionFailed { .. }) => return Err(refusal(ctx, room_id).await?.into()),
        Err(e) => return Err(e.into()),
    }
    Ok(Reply::ok(json!({ "chatRoomId": room_id, "lastReadMessageId": newest, "unreadCount": 0 })))
}

pub(crate) async fn participants(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller = req.auth(ctx).await?;
    let room_id = req.path_id("roomId")?;
    let room = room_for(ctx, room_id, caller.id()).await?;
    let list = views::participants(&room);
    Ok(Reply::ok(json!({ "chatRoomId": room_id, "totalCount": list.len(), "participants": list })))
}

/// POST /kick: in a GROUP room it is the group kick (§5's checks and effects).
pub(crate) async fn kick(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller_id = req.caller_id(ctx)?;
    let room_id = req.path_id("roomId")?;
    let target = target_of(req.json()?)?;
    let (caller, room) = with_caller(ctx, caller_id, repo::get_room(&*ctx.table, room_id)).await?;
    let room = room.ok_or(ErrorCode::CHAT_ROOM_NOT_FOUND)?;
    let group_id = match (room.kind, room.group_id) {
        (RoomType::Group, Some(g)) => g,
        _ => return Err(ErrorCode::CHAT_KICK_NOT_ALLOWED.into()),
    };
    let (outcome, _) =
        moim_groups::moderate_member(ctx, moim_groups::Caller::Read(&caller), group_id, target, HostAction::Kick)
            .await
            .map_err(|e| match e {
                // The room's group is gone: for the chat API the room is.
                ApiError::Domain(d) if d.code == ErrorCode::GROUP_NOT_FOUND_BY_ID => {
                    ErrorCode::CHAT_ROOM_NOT_FOUND.into()
                }
                other => other,
            })?;
    Ok(Reply::ok(json!({
        "chatRoomId": room_id,
        "targetUserId": target,
        "participantCount": outcome.group.participant_count,
    })))
}
