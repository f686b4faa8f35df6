//! Attendance (attend / left) and the host's moderation and member lists.

use chrono::{DateTime, Utc};
use moim_domain::group::{GroupState, HostAction, MemberStatus, Outcome, Profile};
use moim_domain::group_input::validate_join_message;
use moim_domain::{DomainError, ErrorCode};
use moim_store::keys;
use moim_web::{ApiError, ApiResult, AppContext, Reply, Req};
use serde::Deserialize;

use crate::views;
use crate::{load, mutate, Caller};

#[derive(Deserialize, Default)]
struct AttendBody {
    message: Option<String>,
}

pub(crate) async fn attend(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller_id = req.caller_id(ctx)?;
    let body: AttendBody = req.json_opt()?.unwrap_or_default();
    let id = req.path_id("groupId")?;
    validate_join_message(body.message.as_deref())?;
    let group_user_id = keys::next_id();
    let (outcome, now) = mutate(ctx, id, Caller::Id(caller_id), |s, caller, now| {
        s.attend(&Profile::of(caller), body.message.clone(), group_user_id, now)
    })
    .await?;
    Ok(Reply::ok(views::attendance(&outcome.group, &outcome.changed[0], now)))
}

pub(crate) async fn left(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller_id = req.caller_id(ctx)?;
    let id = req.path_id("groupId")?;
    let (outcome, now) = mutate(ctx, id, Caller::Id(caller_id), |s, _, now| s.leave(caller_id, now)).await?;
    Ok(Reply::ok(views::attendance(&outcome.group, &outcome.changed[0], now)))
}

async fn moderate(ctx: &AppContext, req: Req, action: HostAction) -> ApiResult<Reply> {
    let caller_id = req.caller_id(ctx)?;
    let id = req.path_id("groupId")?;
    let target = req.path_id("targetUserId")?;
    let (outcome, now) = moderate_member(ctx, Caller::Id(caller_id), id, target, action).await?;
    Ok(Reply::ok(views::target_result(&outcome.group, &outcome.changed[0], now)))
}

/// A host's action on a member, with every check of §5 (the self-check first);
/// the chat function's kick in a GROUP room is this, too.
pub async fn moderate_member(
    ctx: &AppContext,
    caller: Caller<'_>,
    group_id: i64,
    target: i64,
    action: HostAction,
) -> ApiResult<(Outcome, DateTime<Utc>)> {
    let caller_id = match caller {
        Caller::Id(id) => id,
        Caller::Read(c) => c.id(),
    };
    if target == caller_id {
        if let Some(code) = action.self_error() {
            return Err(code.into());
        }
    }
    mutate(ctx, group_id, caller, |s, _, now| s.moderate(action, caller_id, target, now)).await
}

pub(crate) async fn approve(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    moderate(ctx, req, HostAction::Approve).await
}
pub(crate) async fn reject(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    moderate(ctx, req, HostAction::Reject).await
}
pub(crate) async fn kick(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    moderate(ctx, req, HostAction::Kick).await
}
pub(crate) async fn ban(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    moderate(ctx, req, HostAction::Ban).await
}
pub(crate) async fn unban(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    moderate(ctx, req, HostAction::Unban).await
}

/// A host-only read of the group: 404, then 403 with the given code.
async fn host_view(ctx: &AppContext, req: &Req, denied: ErrorCode) -> ApiResult<GroupState> {
    let caller = req.auth(ctx).await?;
    let id = req.path_id("groupId")?;
    let state = load(&*ctx.table, id).await?;
    if !state.is_host(caller.id()) {
        return Err(denied.into());
    }
    Ok(state)
}

pub(crate) async fn attendance_list(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller = req.auth(ctx).await?;
    let status = match req.query("status").filter(|s| !s.trim().is_empty()) {
        None => MemberStatus::Pending,
        Some(s) => MemberStatus::parse(s.trim())
            .ok_or_else(|| ApiError::from(DomainError::invalid("status", "모임: 알 수 없는 참여 상태입니다.")))?,
    };
    let id = req.path_id("groupId")?;
    let state = load(&*ctx.table, id).await?;
    if !state.is_host(caller.id()) {
        return Err(ErrorCode::NO_PERMISSION_TO_VIEW_JOIN_REQUESTS.into());
    }
    Ok(Reply::ok(views::join_requests(&state, status, Utc::now())))
}

pub(crate) async fn kick_targets(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let state = host_view(ctx, &req, ErrorCode::NO_PERMISSION_TO_VIEW_KICK_TARGETS).await?;
    Ok(Reply::ok(views::targets(&state, false, Utc::now())))
}
pub(crate) async fn ban_targets(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let state = host_view(ctx, &req, ErrorCode::NO_PERMISSION_TO_VIEW_BAN_TARGETS).await?;
    Ok(Reply::ok(views::targets(&state, false, Utc::now())))
}
pub(crate) async fn banned_targets(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let state = host_view(ctx, &req, ErrorCode::NO_PERMISSION_TO_VIEW_BANNED_TARGETS).await?;
    Ok(Reply::ok(views::targets(&state, true, Utc::now())))
}
