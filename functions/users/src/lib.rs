//! The users function (API.md §3): profiles, availability checks, the
//! notification setting, follow / unfollow and the two follow lists.

/// The engines this function links besides the table (push: live FOLLOW notifications).
pub const PORTS: u8 = moim_web::ports::PUSH;

use chrono::Utc;
use moim_domain::notification::NotificationType;
use moim_domain::user::{self, Follow, User};
use moim_domain::{DomainError, ErrorCode};
use moim_store::users::{self as repo, FollowList};
use moim_store::{keys, notifications, StoreError};
use moim_web::request::{load_maybe_caller, with_caller};
use moim_web::{route, ApiResult, AppContext, Reply, Req, Route};
use serde::Deserialize;
use serde_json::json;

pub static ROUTES: &[Route] = &[
    route!("GET /api/v1/users/me", me),
    route!("GET /api/v1/users/{userId}", user_by_id),
    route!("PATCH /api/v1/users/profile", update_profile),
    route!("PATCH /api/v1/users/notification", notification_setting),
    route!("GET /api/v1/users/email/availability", email_availability),
    route!("GET /api/v1/users/nickname/availability", nickname_availability),
    route!("POST /api/v1/users/follow", follow),
    route!("DELETE /api/v1/users/unfollow", unfollow),
    route!("GET /api/v1/users/{userId}/follow", followees),
    route!("GET /api/v1/users/{userId}/follower", followers),
];

/// Bounded retries of an optimistic write that lost a race.
const RETRIES: usize = 3;
const FOLLOW_PAGE_DEFAULT: usize = 20;
const FOLLOW_PAGE_MAX: usize = 100;

async fn me(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller = req.auth(ctx).await?;
    Ok(Reply::ok(caller.user.own_view()))
}

/// A live (not withdrawn) user, or 404 USER_NOT_FOUND.
async fn live_user(ctx: &AppContext, id: i64) -> ApiResult<User> {
    match repo::get_user(&*ctx.table, id).await? {
        Some(u) if !u.is_withdrawn() => Ok(u),
        _ => Err(ErrorCode::USER_NOT_FOUND.into()),
    }
}

async fn user_by_nickname(ctx: &AppContext, nick: &str) -> ApiResult<User> {
    let id = repo::user_id_by_nickname(&*ctx.table, nick.trim()).await?.ok_or(ErrorCode::USER_NOT_FOUND)?;
    live_user(ctx, id).await
}

async fn user_by_id(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller_id = req.maybe_caller_id(ctx)?;
    let id = req.path_id("userId")?;
    // The caller, the user and the follow edge are independent reads: one round trip.
    let follow = async {
        match caller_id {
            Some(c) if c != id => repo::get_follow(&*ctx.table, c, id).await.map(|f| Some(f.is_some())),
            _ => Ok(None),
        }
    };
    let (caller, user, is_follow) = futures::join!(load_maybe_caller(ctx, caller_id), live_user(ctx, id), follow);
    let caller_id = caller?.map(|c| c.id());
    let user = user?;
    Ok(Reply::ok(user.view_for(caller_id, is_follow?)))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ProfileBody {
    nick_name: Option<String>,
    mbti: Option<String>,
    profile_message: Option<String>,
}

async fn update_profile(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller_id = req.caller_id(ctx)?;
    let body: ProfileBody = req.json()?;
    let change = user::validate_profile_change(
        body.nick_name.as_deref(),
        body.mbti.as_deref(),
        body.profile_message.as_deref(),
    )?;
    let nick_holder = || async {
        match &change.nick_name {
            Some(n) => repo::user_id_by_nickname(&*ctx.table, n).await,
            None => Ok(None),
        }
    };
    // The wanted nickname's holder is read beside the caller: one round trip.
    let (caller, mut holder) = with_caller(ctx, caller_id, nick_holder()).await?;
    let mut current = caller.user;
    for _ in 0..RETRIES {
        if holder.is_some_and(|h| h != current.user_id) {
            return Err(ErrorCode::ALREADY_EXIST_NICKNAME.into());
        }
        match ctx.table.transact(repo::change_profile(&current, &change)).await {
            Ok(()) => {
                // The answer reads the committed user; it need not wait for the copies.
                let (copies, user) = futures::join!(
                    moim_store::groups::refresh_profile_copies(&*ctx.table, current.user_id),
                    live_user(ctx, current.user_id)
                );
                copies?;
                return Ok(Reply::ok(user?.own_view()));
            }
            Err(StoreError::ConditionFailed { index: repo::CHANGE_PROFILE_NICK_OP }) => {
                return Err(ErrorCode::ALREADY_EXIST_NICKNAME.into())
            }
            // The profile changed under us: read it (and the nickname) again and retry.
            Err(StoreError::ConditionFailed { .. }) | Err(StoreError::Conflict) => {
                let (user, h) = futures::join!(live_user(ctx, current.user_id), nick_holder());
                current = user?;
                holder = h?;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ErrorCode::DATA_INTEGRITY_VIOLATION.into())
}

async fn notification_setting(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller = req.auth(ctx).await?;
    let enabled = match req.query_required("isNotificationEnabled")?.as_str() {
        "true" => true,
        "false" => false,
        _ => return Err(DomainError::invalid("isNotificationEnabled", "true 또는 false 여야 합니다.").into()),
    };
    ctx.table.transact(vec![repo::set_notification_enabled(caller.id(), enabled)]).await?;
    Ok(Reply::ok(live_user(ctx, caller.id()).await?.own_view()))
}

async fn email_availability(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let email = req.query_required("email")?;
    if !user::valid_email(&email) {
        return Err(DomainError::invalid("email", "회원 : 이메일 형식이 올바르지 않습니다.").into());
    }
    let taken = repo::user_id_by_email(&*ctx.table, &user::normalize_email(&email)).await?.is_some();
    Ok(Reply::ok(json!({ "available": !taken })))
}

async fn nickname_availability(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let nick = req.query_required("nickname")?;
    if !user::valid_nickname(&nick) {
        return Err(DomainError::invalid("nickname", "회원 : 닉네임은 2~14자여야 합니다.").into());
    }
    let taken = repo::user_id_by_nickname(&*ctx.table, nick.trim()).await?.is_some();
    Ok(Reply::ok(json!({ "available": !taken })))
}

async fn follow(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller_id = req.caller_id(ctx)?;
    let nick = req.query_required("followNickname")?;
    let (caller, target) = with_caller(ctx, caller_id, user_by_nickname(ctx, &nick)).await?;
    if target.user_id == caller.id() {
        return Err(ErrorCode::NOT_SAME_FOLLOW.into());
    }
    for _ in 0..RETRIES {
        let now = Utc::now();
        let f = Follow {
            follow_id: keys::next_id(),
            follower_id: caller.id(),
            followee_id: target.user_id,
            created_at: now,
        };
        let noti =
            notifications::new_item(keys::next_id(), target.user_id, NotificationType::Follow, &caller.user, None, now);
        match ctx.table.transact(repo::follow(&f, noti.clone())).await {
            Ok(()) => {
                moim_store::realtime::push_notifications(&*ctx.table, &*ctx.push, &[noti]).await;
                return Ok(Reply::created("팔로우 성공"));
            }
            Err(StoreError::ConditionFailed { index: repo::FOLLOW_RELATION_OP }) => {
                return Err(ErrorCode::ALREADY_EXIST_FOLLOW.into())
            }
            Err(StoreError::ConditionFailed { .. }) => continue, // notification id clash
            Err(e) => return Err(e.into()),
        }
    }
    Err(ErrorCode::DATA_INTEGRITY_VIOLATION.into())
}

async fn unfollow(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller_id = req.caller_id(ctx)?;
    let nick = req.query_required("unFollowNickname")?;
    let (caller, target) = with_caller(ctx, caller_id, user_by_nickname(ctx, &nick)).await?;
    if target.user_id == caller.id() {
        return Err(ErrorCode::NOT_SAME_UNFOLLOW.into());
    }
    match ctx.table.transact(repo::unfollow(caller.id(), target.user_id)).await {
        Ok(()) => Ok(Reply::ok("팔로우 취소 성공")),
        Err(StoreError::ConditionFailed { index: repo::UNFOLLOW_RELATION_OP }) => {
            Err(ErrorCode::NOT_FOUND_FOLLOW.into())
        }
        Err(e) => Err(e.into()),
    }
}

async fn followees(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    follow_list(ctx, req, FollowList::Following).await
}

async fn followers(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    follow_list(ctx, req, FollowList::Followers).await
}

/// `{items: FollowItem[], nextCursor}`, newest first; the other user's profile
/// is read as it is now (one get per row, concurrently).
async fn follow_list(ctx: &AppContext, req: Req, list: FollowList) -> ApiResult<Reply> {
    let id = req.path_id("userId")?;
    let (cursor, size) = req.page(FOLLOW_PAGE_DEFAULT, FOLLOW_PAGE_MAX)?;
    live_user(ctx, id).await?;
    let (follows, more) = repo::follow_page(&*ctx.table, id, list, cursor, size).await?;
    let others = futures::future::try_join_all(follows.iter().map(|f| {
        let other = if list == FollowList::Following { f.followee_id } else { f.follower_id };
        repo::get_user(&*ctx.table, other)
    }))
    .await?;
    let items: Vec<_> = follows
        .iter()
        .zip(others)
        .filter_map(|(f, u)| {
            let u = u?;
            Some(json!({
                "followId": f.follow_id,
                "userId": u.user_id,
                "nickname": u.nick_name,
                "profileImage": u.profile_image,
                "profileMessage": u.profile_message,
            }))
        })
        .collect();
    let next = if more { follows.last().map(|f| f.follow_id) } else { None };
    Ok(Reply::ok(json!({ "items": items, "nextCursor": next })))
}
