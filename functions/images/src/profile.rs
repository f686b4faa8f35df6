//! The profile photo (API.md §3, `PATCH /api/v1/users/profile-image`): the
//! same checks as a group photo, one 440x240 WEBP, swapped in one
//! transaction (new key consumed, old key released, only if the photo is still
//! the one read), the old files deleted after it, then the copies of the
//! profile in groups refreshed.

use chrono::Utc;
use moim_domain::image::{check_file, Upload, UploadKind, MULTIPART_LIMIT};
use moim_store::{groups, uploads, users, StoreError};
use moim_web::{ApiResult, AppContext, Reply, Req};

use crate::{multipart, pipeline};

/// Attempts when another photo change of the same user commits in between.
const SWAP_ATTEMPTS: usize = 5;

pub(crate) async fn profile_image(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller = req.auth(ctx).await?;
    let file = multipart::files(&req, "file").await?.into_iter().next().ok_or_else(|| multipart::missing("file"))?;
    check_file(
        file.bytes.len() as u64,
        MULTIPART_LIMIT as u64,
        file.content_type.as_deref(),
        file.file_name.as_deref(),
    )?;
    pipeline::probe(&file.bytes)?;
    let variants = pipeline::render(file.bytes, UploadKind::Profile).await.map_err(pipeline::media_error)?;

    let record = Upload::new(uuid::Uuid::new_v4().to_string(), caller.id(), UploadKind::Profile, Utc::now());
    let key = record.image_key.as_str();
    ctx.table.transact(vec![uploads::put_new(&record)]).await?;
    pipeline::write_variants(ctx, key, &variants).await?;
    ctx.table.transact(vec![uploads::mark_ready(key)]).await?;

    let url = ctx.blobs.public_url(&uploads::variant_blob(key, 440, 240));
    let consumer = moim_store::keys::user_pk(caller.id());
    let mut swapped = None;
    for _ in 0..SWAP_ATTEMPTS {
        let old = users::profile_image_key(&*ctx.table, caller.id()).await?;
        let mut ops = vec![
            uploads::consume(key, caller.id(), &consumer, Utc::now().timestamp()),
            users::set_profile_image(caller.id(), old.as_deref(), key, &url),
        ];
        ops.extend(old.as_deref().map(uploads::release));
        match ctx.table.transact(ops).await {
            Ok(()) => {
                swapped = Some(old);
                break;
            }
            // The photo changed since it was read: read it again.
            Err(StoreError::ConditionFailed { index: 1 } | StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    let Some(old) = swapped else {
        return Err(moim_domain::ErrorCode::DATA_INTEGRITY_VIOLATION.into());
    };
    if let Some(old) = old {
        if let Err(e) = uploads::delete_files(&*ctx.blobs, &old).await {
            tracing::warn!(image_key = old, error = %e, "old profile photo not deleted; the sweeper will");
        }
    }
    groups::refresh_profile_copies(&*ctx.table, caller.id()).await?;
    let user = users::get_user(&*ctx.table, caller.id()).await?.ok_or(moim_domain::ErrorCode::INVALID_TOKEN)?;
    Ok(Reply::ok(user.own_view()))
}
