//! The groups function (API.md §4–§6): create with cooldown, list, my groups,
//! detail, update, delete, attend / left and the host's moderation. Rules are
//! in `moim_domain::group`; every write is one transaction conditioned on the
//! version it read, retried a bounded number of times when it loses a race.

mod views;

use std::time::Duration;

use chrono::{DateTime, Utc};
use moim_domain::group::{
    status_set, Group, GroupState, GroupStatus, HostAction, MemberStatus, Membership, Outcome, Profile, Role,
    StatusFilter, CREATE_COOLDOWN_SECS,
};
use moim_domain::group_input::{parse_patch, validate_create, validate_join_message, ImageRef};
use moim_domain::notification::NotificationType;
use moim_domain::user::User;
use moim_domain::{DomainError, ErrorCode};
use moim_store::groups as repo;
use moim_store::users::{self as user_repo, FollowList};
use moim_store::{keys, notifications, Item, StoreError, Table};
use moim_web::{route, ApiError, ApiResult, AppContext, AuthUser, Reply, Req, Route};
use serde::Deserialize;
use serde_json::{json, Value};
use views::Urls;

pub use views::{DEFAULT_CARD_KEY, DEFAULT_THUMB_KEY};

pub static ROUTES: &[Route] = &[
    route!("POST /api/v2/groups/create", create),
    route!("GET /api/v2/groups", list),
    route!("GET /api/v2/groups/me", my_groups),
    route!("GET /api/v2/groups/{groupId}", detail),
    route!("PATCH /api/v2/groups/{groupId}", update),
    route!("DELETE /api/v2/groups/{groupId}", delete),
    route!("POST /api/v2/groups/{groupId}/attend", attend),
    route!("POST /api/v2/groups/{groupId}/left", left),
    route!("GET /api/v2/groups/{groupId}/attendance", attendance_list),
    route!("POST /api/v2/groups/{groupId}/attendance/{targetUserId}/approve", approve),
    route!("POST /api/v2/groups/{groupId}/attendance/{targetUserId}/reject", reject),
    route!("POST /api/v2/groups/{groupId}/attendance/{targetUserId}/kick", kick),
    route!("POST /api/v2/groups/{groupId}/attendance/{targetUserId}/ban", ban),
    route!("POST /api/v2/groups/{groupId}/attendance/{targetUserId}/unban", unban),
    route!("GET /api/v2/groups/{groupId}/attendance/kick-targets", kick_targets),
    route!("GET /api/v2/groups/{groupId}/attendance/ban-targets", ban_targets),
    route!("GET /api/v2/groups/{groupId}/attendance/banned-targets", banned_targets),
];

/// Attempts of an optimistic write before answering 409 DATA_INTEGRITY_VIOLATION.
/// Generous because a popular group's last seats are contended by design; each
/// retry re-reads, so a loser soon sees FULL and stops with its real answer.
const WRITE_ATTEMPTS: u32 = 60;
const PAGE_DEFAULT: usize = 20;
const PAGE_MAX: usize = 50;
/// Items one list request may read while filtering (status / keyword); a page
/// cut short by it still carries a cursor. See docs/DATA_MODEL.md.
const LIST_SCAN_BUDGET: usize = 1000;
/// GROUP_CREATE notifications written inside the create transaction; more
/// followers are notified in follow-up transactions right after it.
const INLINE_FANOUT: usize = 80;
/// Followers read for the GROUP_CREATE fan-out.
const FANOUT_MAX: usize = 1000;

fn profile(u: &User) -> Profile {
    Profile {
        user_id: u.user_id,
        nick_name: u.nick_name.clone(),
        profile_image: u.profile_image.clone(),
        profile_message: u.profile_message.clone(),
    }
}

async fn backoff(attempt: u32) {
    let cap = (2 + attempt * 3).min(40) as u64;
    tokio::time::sleep(Duration::from_millis(rand::random_range(1..=cap))).await;
}

async fn load(t: &dyn Table, id: i64) -> ApiResult<GroupState> {
    Ok(repo::read_state(t, id).await?.ok_or(ErrorCode::GROUP_NOT_FOUND_BY_ID)?)
}

fn notification_items(outcome: &Outcome, actor: &User, now: DateTime<Utc>) -> Vec<Item> {
    let g = &outcome.group;
    outcome
        .notify
        .iter()
        .map(|(receiver, kind)| {
            notifications::new_item(keys::next_id(), *receiver, *kind, actor, Some((g.id, &g.title)), now)
        })
        .collect()
}

/// Runs one optimistic attempt until it commits: an attempt returns `Ok(None)`
/// when its transaction lost a race (condition failed or conflict) and is then
/// retried after a jittered pause, at most WRITE_ATTEMPTS times in all.
async fn with_retries<T, F, Fut>(mut attempt: F) -> ApiResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ApiResult<Option<T>>>,
{
    for n in 0..WRITE_ATTEMPTS {
        if let Some(done) = attempt().await? {
            return Ok(done);
        }
        backoff(n).await;
    }
    Err(ErrorCode::DATA_INTEGRITY_VIOLATION.into())
}

/// Maps a transaction result for [`with_retries`]: a lost race is `None`.
fn committed(r: Result<(), StoreError>) -> ApiResult<Option<()>> {
    match r {
        Ok(()) => Ok(Some(())),
        Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Reads the group, lets the domain decide, writes the outcome at the version
/// read; on a lost race it reads again (bounded). Returns the outcome written.
async fn mutate(
    ctx: &AppContext,
    group_id: i64,
    actor: &User,
    decide: impl Fn(&GroupState, DateTime<Utc>) -> Result<Outcome, DomainError>,
) -> ApiResult<(Outcome, DateTime<Utc>)> {
    with_retries(|| async {
        let state = load(&*ctx.table, group_id).await?;
        let now = Utc::now();
        let outcome = decide(&state, now)?;
        let ops = repo::write_outcome(
            &outcome.group,
            state.group.version,
            &outcome.changed,
            &outcome.joined,
            notification_items(&outcome, actor, now),
        );
        Ok(committed(ctx.table.transact(ops).await)?.map(|()| (outcome, now)))
    })
    .await
}

// ------------------------------------------------------------------ create

async fn create(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller = req.auth(ctx).await?;
    let body: Value = req.json()?;
    let now = Utc::now();
    let new = validate_create(&body, now)?;
    check_cooldown(ctx, caller.id(), now).await?;
    check_new_image_keys(&new.images, &[])?;

    let recipients = followers_to_notify(ctx, caller.id()).await?;
    with_retries(|| async {
        let now = Utc::now();
        let host = profile(&caller.user);
        let group = Group {
            id: keys::next_id(),
            chat_room_id: keys::next_id(),
            title: new.title.clone(),
            location: new.location.clone(),
            location_detail: new.location_detail.clone(),
            start_time: new.start_time,
            end_time: new.end_time,
            tags: new.tags.clone(),
            description: new.description.clone(),
            max_participants: new.max_participants,
            join_policy: new.join_policy,
            status: GroupStatus::Recruiting,
            host: host.clone(),
            participant_count: 1,
            images: vec![],
            created_at: now,
            updated_at: now,
            version: 1,
        };
        let membership = Membership {
            group_user_id: keys::next_id(),
            group_id: group.id,
            role: Role::Host,
            status: MemberStatus::Attend,
            user: host,
            joined_at: now,
            left_at: None,
            join_request_message: None,
        };
        let notify = |ids: &[i64]| -> Vec<Item> {
            ids.iter()
                .map(|r| {
                    notifications::new_item(
                        keys::next_id(),
                        *r,
                        NotificationType::GroupCreate,
                        &caller.user,
                        Some((group.id, &group.title)),
                        now,
                    )
                })
                .collect()
        };
        let (inline, later) = recipients.split_at(recipients.len().min(INLINE_FANOUT));
        let ops = repo::create(&group, &membership, now, CREATE_COOLDOWN_SECS, notify(inline));
        match ctx.table.transact(ops).await {
            Ok(()) => {
                for chunk in later.chunks(100) {
                    let ops = notify(chunk).into_iter().map(moim_store::WriteOp::put_new).collect();
                    if let Err(e) = ctx.table.transact(ops).await {
                        tracing::warn!(group_id = group.id, error = %e, "GROUP_CREATE fan-out chunk failed");
                    }
                }
                let state = GroupState { group, members: vec![membership] };
                let urls = Urls(&*ctx.blobs);
                Ok(Some(Reply::created(views::detail(&state, Some(caller.id()), now, &urls))))
            }
            // Another create of this user won: the cooldown is running.
            Err(StoreError::ConditionFailed { index: repo::CREATE_COOLDOWN_OP }) => {
                Err(cooldown_error(CREATE_COOLDOWN_SECS).into())
            }
            // An id clash, or a concurrent transaction on the same items: try again
            // (the next attempt sees the winner's cooldown if there was one).
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => Ok(None),
            Err(e) => Err(e.into()),
        }
    })
    .await
}

fn cooldown_error(remaining: i64) -> DomainError {
    DomainError::with_detail(
        ErrorCode::GROUP_CREATE_COOLDOWN_ACTIVE,
        format!("모임: 모임 생성은 {}초 후에 다시 시도해 주세요.", remaining.max(1)),
    )
}

/// The early cooldown answer (the create transaction re-checks it atomically).
async fn check_cooldown(ctx: &AppContext, user_id: i64, now: DateTime<Utc>) -> ApiResult<()> {
    if let Some(item) = ctx.table.get(&repo::cooldown_key(user_id)).await? {
        let until = item.get("expiresAt").and_then(Value::as_i64).unwrap_or_default();
        return Err(cooldown_error(until - now.timestamp()).into());
    }
    Ok(())
}

/// Image keys not already on the group must be pre-uploaded. Upload records
/// come with the images capability; until then no key can resolve, and the
/// answer is the contract's 404 for the first such key.
fn check_new_image_keys(images: &[ImageRef], current: &[String]) -> ApiResult<()> {
    match images.iter().find(|i| !current.contains(&i.image_key)) {
        Some(i) => Err(DomainError::with_detail(
            ErrorCode::PRE_UPLOADED_IMAGE_NOT_FOUND,
            format!("모임: 업로드된 이미지를 찾을 수 없습니다: {}", i.image_key),
        )
        .into()),
        None => Ok(()),
    }
}

/// Followers of the host who enabled notifications (GROUP_CREATE is the only
/// type gated by the setting).
async fn followers_to_notify(ctx: &AppContext, host: i64) -> ApiResult<Vec<i64>> {
    let mut ids = Vec::new();
    let mut before = None;
    loop {
        let (page, more) = user_repo::follow_page(&*ctx.table, host, FollowList::Followers, before, 100).await?;
        before = page.last().map(|f| f.follow_id);
        let users =
            futures::future::try_join_all(page.iter().map(|f| user_repo::get_user(&*ctx.table, f.follower_id))).await?;
        ids.extend(
            users.into_iter().flatten().filter(|u| u.is_notification_enabled && !u.is_withdrawn()).map(|u| u.user_id),
        );
        if !more || ids.len() >= FANOUT_MAX {
            return Ok(ids);
        }
    }
}

// ------------------------------------------------------------------ reads

async fn detail(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller = req.maybe_auth(ctx).await?;
    let id = req.path_id("groupId")?;
    let state = load(&*ctx.table, id).await?;
    let urls = Urls(&*ctx.blobs);
    Ok(Reply::ok(views::detail(&state, caller.map(|c| c.id()), Utc::now(), &urls)))
}

fn parse_statuses(req: &Req, name: &str) -> ApiResult<Vec<GroupStatus>> {
    req.query_all(name)
        .iter()
        .flat_map(|v| v.split(','))
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            GroupStatus::parse(v.trim())
                .ok_or_else(|| ApiError::from(DomainError::invalid(name, "모임: 알 수 없는 상태입니다.")))
        })
        .collect()
}

fn parse_filter(req: &Req, default: StatusFilter) -> ApiResult<Vec<GroupStatus>> {
    let filter = match req.query("filter").filter(|f| !f.trim().is_empty()) {
        None => default,
        Some(f) => StatusFilter::parse(f.trim()).ok_or_else(|| {
            ApiError::from(DomainError::invalid("filter", "모임: filter 는 ACTIVE, ARCHIVED, ALL 중 하나입니다."))
        })?,
    };
    Ok(status_set(filter, &parse_statuses(req, "includeStatuses")?, &parse_statuses(req, "excludeStatuses")?))
}

async fn list(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let (cursor, size) = req.page(PAGE_DEFAULT, PAGE_MAX)?;
    let statuses = parse_filter(&req, StatusFilter::Active)?;
    let keyword = req.query("keyword").unwrap_or_default();
    let now = Utc::now();
    if statuses.is_empty() {
        return Ok(Reply::ok(json!({ "items": [], "nextCursor": null })));
    }
    let (groups, next) =
        repo::scan_listing(&*ctx.table, moim_store::Query::gsi1(repo::LISTING), cursor, size, LIST_SCAN_BUDGET, |g| {
            statuses.contains(&g.effective_status(now)) && moim_domain::group::matches_keyword(g, &keyword)
        })
        .await?;
    let urls = Urls(&*ctx.blobs);
    let items: Vec<Value> = groups.iter().map(|g| views::list_item(g, now, &urls, None)).collect();
    Ok(Reply::ok(json!({ "items": items, "nextCursor": next })))
}

async fn my_groups(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller = req.auth(ctx).await?;
    let kind = req.query("type").unwrap_or_else(|| "current".into());
    let default_filter = match kind.as_str() {
        "current" | "myPost" => StatusFilter::Active,
        "past" => StatusFilter::Archived,
        _ => return Err(ErrorCode::INVALID_MY_GROUP_TYPE.into()),
    };
    let (cursor, size) = req.page(PAGE_DEFAULT, PAGE_MAX)?;
    let statuses = parse_filter(&req, default_filter)?;
    let now = Utc::now();
    let urls = Urls(&*ctx.blobs);
    if statuses.is_empty() {
        return Ok(Reply::ok(json!({ "items": [], "nextCursor": null })));
    }
    if kind == "myPost" {
        let (groups, next) = repo::scan_listing(
            &*ctx.table,
            moim_store::Query::gsi2(repo::hosted_gsi(caller.id())),
            cursor,
            size,
            LIST_SCAN_BUDGET,
            |g| statuses.contains(&g.effective_status(now)),
        )
        .await?;
        let mut items = Vec::new();
        for g in &groups {
            let m = moim_store::users::from_item::<Membership>(
                ctx.table.get(&repo::member_key(g.id, caller.id())).await?.ok_or(ErrorCode::GROUP_USER_NOT_FOUND)?,
            )?;
            items.push(views::list_item(g, now, &urls, Some(&m)));
        }
        return Ok(Reply::ok(json!({ "items": items, "nextCursor": next })));
    }
    let my_statuses = parse_member_statuses(&req)?;
    let (rows, next) = repo::member_groups(
        &*ctx.table,
        caller.id(),
        cursor,
        size,
        LIST_SCAN_BUDGET,
        |m| my_statuses.contains(&m.status),
        |g| statuses.contains(&g.effective_status(now)),
    )
    .await?;
    let items: Vec<Value> = rows.iter().map(|(m, g)| views::list_item(g, now, &urls, Some(m))).collect();
    Ok(Reply::ok(json!({ "items": items, "nextCursor": next })))
}

/// `myStatuses` (repeatable or comma-separated), default `[ATTEND]`.
fn parse_member_statuses(req: &Req) -> ApiResult<Vec<MemberStatus>> {
    let raw: Vec<String> = req
        .query_all("myStatuses")
        .iter()
        .flat_map(|v| v.split(',').map(|s| s.trim().to_string()).collect::<Vec<_>>())
        .filter(|v| !v.is_empty())
        .collect();
    if raw.is_empty() {
        return Ok(vec![MemberStatus::Attend]);
    }
    raw.iter()
        .map(|v| {
            MemberStatus::parse(v)
                .ok_or_else(|| ApiError::from(DomainError::invalid("myStatuses", "모임: 알 수 없는 참여 상태입니다.")))
        })
        .collect()
}

// ------------------------------------------------------------------ update / delete

async fn update(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller = req.auth(ctx).await?;
    let body: Value = req.json()?;
    let id = req.path_id("groupId")?;
    let patch = parse_patch(&body)?;
    with_retries(|| async {
        let state = load(&*ctx.table, id).await?;
        let now = Utc::now();
        let updated = state.update(caller.id(), &patch, now)?;
        let mut group = updated.group;
        if let Some(images) = &updated.images {
            let current: Vec<String> = state.group.images.iter().map(|i| i.image_key.clone()).collect();
            check_new_image_keys(images, &current)?;
            // Only keys already on the group can be here: keep them in the requested order.
            group.images = images
                .iter()
                .enumerate()
                .filter_map(|(i, r)| {
                    let img = state.group.images.iter().find(|x| x.image_key == r.image_key)?;
                    Some(moim_domain::group::GroupImage { sort_order: i as i64, ..img.clone() })
                })
                .collect();
        }
        let ops = repo::write_outcome(&group, state.group.version, &[], &[], vec![]);
        Ok(committed(ctx.table.transact(ops).await)?.map(|()| Reply::ok(views::updated(&group, now))))
    })
    .await
}

async fn delete(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller = req.auth(ctx).await?;
    let id = req.path_id("groupId")?;
    let (rest, _) = with_retries(|| async {
        let state = load(&*ctx.table, id).await?;
        if !state.is_host(caller.id()) {
            return Err(ErrorCode::GROUP_ONLY_HOST_CAN_UPDATE.into());
        }
        let now = Utc::now();
        let g = &state.group;
        let notes: Vec<Item> = state
            .members
            .iter()
            .filter(|m| m.status == MemberStatus::Attend && m.role != Role::Host)
            .map(|m| {
                notifications::new_item(
                    keys::next_id(),
                    m.user_id(),
                    NotificationType::GroupDelete,
                    &caller.user,
                    Some((g.id, &g.title)),
                    now,
                )
            })
            .collect();
        let (first, rest) = repo::delete(&state, notes);
        Ok(committed(ctx.table.transact(first).await)?.map(|()| (rest, ())))
    })
    .await?;
    // The group is gone for readers; its remaining memberships follow.
    for chunk in rest.chunks(moim_store::table::MAX_TRANSACT_OPS) {
        ctx.table.transact(chunk.to_vec()).await?;
    }
    Ok(Reply::no_content())
}

// ------------------------------------------------------------------ attendance

#[derive(Deserialize, Default)]
struct AttendBody {
    message: Option<String>,
}

async fn attend(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller = req.auth(ctx).await?;
    let body: AttendBody = req.json_opt()?.unwrap_or_default();
    let id = req.path_id("groupId")?;
    validate_join_message(body.message.as_deref())?;
    let me = profile(&caller.user);
    let group_user_id = keys::next_id();
    let (outcome, now) =
        mutate(ctx, id, &caller.user, |s, now| s.attend(&me, body.message.clone(), group_user_id, now)).await?;
    Ok(Reply::ok(views::attendance(&outcome.group, &outcome.changed[0], now)))
}

async fn left(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller = req.auth(ctx).await?;
    let id = req.path_id("groupId")?;
    let (outcome, now) = mutate(ctx, id, &caller.user, |s, now| s.leave(caller.id(), now)).await?;
    Ok(Reply::ok(views::attendance(&outcome.group, &outcome.changed[0], now)))
}

async fn moderate(ctx: &AppContext, req: Req, action: HostAction) -> ApiResult<Reply> {
    let caller: AuthUser = req.auth(ctx).await?;
    let id = req.path_id("groupId")?;
    let target = req.path_id("targetUserId")?;
    if target == caller.id() {
        if let Some(code) = action.self_error() {
            return Err(code.into());
        }
    }
    let (outcome, now) = mutate(ctx, id, &caller.user, |s, now| s.moderate(action, caller.id(), target, now)).await?;
    Ok(Reply::ok(views::target_result(&outcome.group, &outcome.changed[0], now)))
}

async fn approve(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    moderate(ctx, req, HostAction::Approve).await
}
async fn reject(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    moderate(ctx, req, HostAction::Reject).await
}
async fn kick(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    moderate(ctx, req, HostAction::Kick).await
}
async fn ban(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    moderate(ctx, req, HostAction::Ban).await
}
async fn unban(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
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

async fn attendance_list(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
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

async fn kick_targets(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let state = host_view(ctx, &req, ErrorCode::NO_PERMISSION_TO_VIEW_KICK_TARGETS).await?;
    Ok(Reply::ok(views::targets(&state, false, Utc::now())))
}
async fn ban_targets(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let state = host_view(ctx, &req, ErrorCode::NO_PERMISSION_TO_VIEW_BAN_TARGETS).await?;
    Ok(Reply::ok(views::targets(&state, false, Utc::now())))
}
async fn banned_targets(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let state = host_view(ctx, &req, ErrorCode::NO_PERMISSION_TO_VIEW_BANNED_TARGETS).await?;
    Ok(Reply::ok(views::targets(&state, true, Utc::now())))
}
