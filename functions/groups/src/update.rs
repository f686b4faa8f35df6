//! Update (API.md §4.6) and delete (§4.7) by the host. Images left out of an
//! update, and every image of a deleted group, lose their records in the
//! write's transaction and their files right after it.

use chrono::Utc;
use moim_domain::group::{GroupImage, MemberStatus, Role};
use moim_domain::group_input::parse_patch;
use moim_domain::image;
use moim_domain::notification::NotificationType;
use moim_domain::ErrorCode;
use moim_store::groups as repo;
use moim_store::{keys, notifications, realtime, uploads, Item, StoreError};
use moim_web::{ApiResult, AppContext, Reply, Req};
use serde_json::Value;

use crate::views;
use crate::{committed, images, with_retries, GroupReads};

pub(crate) async fn update(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller_id = req.caller_id(ctx)?;
    let body: Value = req.json()?;
    let id = req.path_id("groupId")?;
    let patch = parse_patch(&body)?;
    let (caller, reads) = GroupReads::with_caller(ctx, caller_id, id).await?;
    let (reply, removed) = with_retries(|| async {
        let state = reads.next(&*ctx.table).await?;
        let now = Utc::now();
        let updated = state.update(caller.id(), &patch, now)?;
        let mut group = updated.group;
        let mut new = Vec::new();
        if let Some(refs) = &updated.images {
            let resolved = images::resolve(ctx, caller.id(), refs, &state.group.images, now).await?;
            group.images = resolved.images;
            new = resolved.new;
        }
        let removed: Vec<GroupImage> = state
            .group
            .images
            .iter()
            .filter(|old| !group.images.iter().any(|i| i.image_key == old.image_key))
            .cloned()
            .collect();
        let mut ops = repo::write_outcome(&group, state.group.version, &[], &[], vec![]);
        let first_image_op = ops.len();
        ops.extend(repo::consume_images(&group, &new, now));
        ops.extend(removed.iter().map(|i| uploads::release(&i.image_key)));
        match ctx.table.transact(ops).await {
            Ok(()) => Ok(Some((Reply::ok(views::updated(&group, now)), removed))),
            // A new key was consumed (or expired) since it was checked.
            Err(StoreError::ConditionFailed { index })
                if (first_image_op..first_image_op + new.len()).contains(&index) =>
            {
                Err(image::not_found(&new[index - first_image_op].image_key).into())
            }
            // Lost the race on META: read again; anything else is an error.
            Err(e) => committed(Err(e)).map(|_| None),
        }
    })
    .await?;
    images::delete_files(ctx, &removed).await;
    Ok(reply)
}

pub(crate) async fn delete(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller_id = req.caller_id(ctx)?;
    let id = req.path_id("groupId")?;
    let (caller, reads) = GroupReads::with_caller(ctx, caller_id, id).await?;
    let (rest, removed, room, notes) = with_retries(|| async {
        let state = reads.next(&*ctx.table).await?;
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
        let (first, rest) = repo::delete(&state, notes.clone());
        let room = state.group.chat_room_id;
        Ok(committed(ctx.table.transact(first).await)?.map(|()| (rest, state.group.images.clone(), room, notes)))
    })
    .await?;
    // The group is gone for readers. Together: its files, its remaining
    // memberships, the room's subscriptions (nobody stays subscribed to a gone
    // room) and the members' notifications.
    let (t, push) = (&*ctx.table, &*ctx.push);
    let room = realtime::room_destination(room);
    let memberships = async {
        for chunk in rest.chunks(moim_store::table::MAX_TRANSACT_OPS) {
            t.transact(chunk.to_vec()).await?;
        }
        Ok::<(), StoreError>(())
    };
    let (memberships, subscriptions, (), ()) = futures::join!(
        memberships,
        realtime::drop_subscriptions(t, &room, |_| true),
        realtime::push_notifications(t, push, &notes),
        images::delete_files(ctx, &removed),
    );
    memberships?;
    subscriptions?;
    Ok(Reply::no_content())
}

// ------------------------------------------------------------------ attendance
