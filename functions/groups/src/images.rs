//! A group's photos: resolving the imageKeys of a create or update against the
//! upload records, and deleting the files of removed images after the commit.

use chrono::{DateTime, Utc};
use moim_domain::group::GroupImage;
use moim_domain::group_input::ImageRef;
use moim_domain::image::{self, UploadKind};
use moim_store::{keys, uploads, Blobs};
use moim_web::{ApiResult, AppContext};

/// The images a request asks for, in their final order, and which of them are
/// new (to be consumed in the write's transaction).
pub struct Resolved {
    pub images: Vec<GroupImage>,
    pub new: Vec<GroupImage>,
}

/// Resolves `refs` (already ordered, §4.6): keys already on the group are kept
/// as they are; every other key must be a ready, unexpired, unconsumed group
/// upload of `caller` — checked in request order, 404 before 403.
pub async fn resolve(
    ctx: &AppContext,
    caller: i64,
    refs: &[ImageRef],
    current: &[GroupImage],
    now: DateTime<Utc>,
) -> ApiResult<Resolved> {
    let kept = |r: &ImageRef| current.iter().find(|i| i.image_key == r.image_key);
    // The new keys' uploads are read together, then checked in request order.
    let uploads = futures::future::try_join_all(refs.iter().map(|r| async move {
        match kept(r) {
            Some(_) => Ok(None),
            None => uploads::get(&*ctx.table, &r.image_key).await,
        }
    }))
    .await?;
    let mut images = Vec::with_capacity(refs.len());
    let mut new = Vec::new();
    for ((order, r), upload) in refs.iter().enumerate().zip(uploads) {
        let sort_order = order as i64;
        if let Some(kept) = kept(r) {
            images.push(GroupImage { sort_order, ..kept.clone() });
            continue;
        }
        let upload = upload.filter(|u| u.kind == UploadKind::Group).ok_or_else(|| image::not_found(&r.image_key))?;
        upload.check_usable(caller, now)?;
        let img = group_image(&*ctx.blobs, &r.image_key, sort_order);
        new.push(img.clone());
        images.push(img);
    }
    Ok(Resolved { images, new })
}

fn group_image(blobs: &dyn Blobs, image_key: &str, sort_order: i64) -> GroupImage {
    GroupImage {
        group_image_id: keys::next_id(),
        image_key: image_key.to_string(),
        sort_order,
        card_variant_id: keys::next_id(),
        card_url: blobs.public_url(&uploads::variant_blob(image_key, 440, 240)),
        thumbnail_variant_id: keys::next_id(),
        thumbnail_url: blobs.public_url(&uploads::variant_blob(image_key, 100, 100)),
    }
}

/// Deletes the files of images whose records the committed write removed. A
/// failure is logged, not answered: the sweeper removes orphaned files later.
pub async fn delete_files(ctx: &AppContext, removed: &[GroupImage]) {
    for img in removed {
        if let Err(e) = uploads::delete_files(&*ctx.blobs, &img.image_key).await {
            tracing::warn!(image_key = img.image_key, error = %e, "image files not deleted; the sweeper will");
        }
    }
}
