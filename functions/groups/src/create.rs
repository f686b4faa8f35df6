//! Create (API.md §4.2): the cooldown, the imageKeys consumed and the host's
//! membership, room, counters and GROUP_CREATE fan-out in one transaction.

use chrono::{DateTime, Utc};
use moim_domain::group::{
    Group, GroupState, GroupStatus, MemberStatus, Membership, Profile, Role, CREATE_COOLDOWN_SECS,
};
use moim_domain::group_input::validate_create;
use moim_domain::image;
use moim_domain::notification::NotificationType;
use moim_domain::{DomainError, ErrorCode};
use moim_store::groups as repo;
use moim_store::users::{self as user_repo, FollowList};
use moim_store::{keys, notifications, realtime, Item, StoreError};
use moim_web::request::with_caller;
use moim_web::{ApiResult, AppContext, Reply, Req};
use serde_json::Value;

use crate::views::{self, Urls};
use crate::{images, with_retries, FANOUT_MAX, INLINE_FANOUT};

pub(crate) async fn create(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let me = req.caller_id(ctx)?;
    let body: Value = req.json()?;
    let now = Utc::now();
    let new = validate_create(&body, now)?;
    // Independent reads, together; answered in this order: the caller, the
    // cooldown, the photos, then the followers to notify.
    let checks = async {
        let (cooldown, images, recipients) = futures::join!(
            check_cooldown(ctx, me, now),
            images::resolve(ctx, me, &new.images, &[], now),
            followers_to_notify(ctx, me),
        );
        cooldown?;
        ApiResult::Ok((images?.images, recipients?))
    };
    let (caller, (images, recipients)) = with_caller(ctx, me, checks).await?;
    with_retries(|| async {
        let now = Utc::now();
        let host = Profile::of(&caller.user);
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
            images: images.clone(),
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
            host_notice: None,
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
        let inline_items = notify(inline);
        let ops = repo::create(&group, &membership, now, CREATE_COOLDOWN_SECS, inline_items.clone());
        match ctx.table.transact(ops).await {
            Ok(()) => {
                realtime::push_notifications(&*ctx.table, &*ctx.push, &inline_items).await;
                for chunk in later.chunks(100) {
                    let items = notify(chunk);
                    let ops = items.iter().cloned().map(moim_store::WriteOp::put_new).collect();
                    match ctx.table.transact(ops).await {
                        Ok(()) => realtime::push_notifications(&*ctx.table, &*ctx.push, &items).await,
                        Err(e) => tracing::warn!(group_id = group.id, error = %e, "GROUP_CREATE fan-out chunk failed"),
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
            // A key was consumed (or expired) since it was checked.
            Err(StoreError::ConditionFailed { index })
                if (repo::CREATE_FIRST_IMAGE_OP..repo::CREATE_FIRST_IMAGE_OP + images.len()).contains(&index) =>
            {
                Err(image::not_found(&images[index - repo::CREATE_FIRST_IMAGE_OP].image_key).into())
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
