//! The pixel pipeline both image functions run: header checks before decoding,
//! variants rendered off the async threads, files written next to each other,
//! the upload marked READY (or FAILED, so a bad file is not retried forever).

use moim_domain::image::{UploadKind, UploadStatus, PRESIGN_MAX_BYTES};
use moim_domain::{DomainError, ErrorCode};
use moim_media::{MediaError, Size, Variant, CARD, THUMB};
use moim_store::{uploads, StoreError};
use moim_web::{ApiError, ApiResult, AppContext};

/// The variants an upload gets: both for group photos, the card for a profile (§3).
pub fn sizes(kind: UploadKind) -> &'static [Size] {
    match kind {
        UploadKind::Group => &[CARD, THUMB],
        UploadKind::Profile => &[CARD],
    }
}

/// The contract's answer for a refused file.
pub fn media_error(e: MediaError) -> ApiError {
    match e {
        MediaError::Encode(why) => ApiError::Domain(DomainError::with_detail(ErrorCode::WEBP_CONVERT_FAILED, why)),
        other => DomainError::with_detail(ErrorCode::INVALID_IMAGE_FORMAT, format!("이미지: {other}")).into(),
    }
}

/// Header-only checks (format sniffed from the bytes, dimensions): cheap, and
/// done for every file of a request before any of them is decoded.
pub fn probe(bytes: &[u8]) -> ApiResult<()> {
    moim_media::probe(bytes).map(|_| ()).map_err(media_error)
}

/// Decodes and renders on the blocking pool (CPU-bound, up to ~100 ms).
pub async fn render(bytes: Vec<u8>, kind: UploadKind) -> Result<Vec<Variant>, MediaError> {
    let sizes = sizes(kind);
    tokio::task::spawn_blocking(move || moim_media::render(&bytes, sizes))
        .await
        .unwrap_or_else(|e| Err(MediaError::Encode(format!("render task failed: {e}"))))
}

/// Writes the variants under their final keys (same key → same bytes, so a
/// repeated run overwrites harmlessly).
pub async fn write_variants(ctx: &AppContext, image_key: &str, variants: &[Variant]) -> Result<(), StoreError> {
    for v in variants {
        ctx.blobs.put(&uploads::variant_blob(image_key, v.width, v.height), v.webp.clone(), "image/webp").await?;
    }
    Ok(())
}

/// What the processor did with one stored original.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum Processed {
    Ready,
    /// The file was refused; the upload is FAILED with this reason.
    Failed(String),
    /// Nothing to do: no record (expired or unknown), or already READY/FAILED.
    Skipped(&'static str),
}

/// Processes `incoming/<imageKey>` as the S3 trigger does. Idempotent: a
/// redelivered event finds the upload READY and stops; a run that died after
/// some variants finds it PENDING and writes them all again.
pub async fn process_stored(ctx: &AppContext, image_key: &str) -> Result<Processed, StoreError> {
    let Some(upload) = uploads::get(&*ctx.table, image_key).await? else {
        return Ok(Processed::Skipped("no upload record"));
    };
    if upload.status != UploadStatus::Pending {
        return Ok(Processed::Skipped("already processed"));
    }
    let Some(blob) = ctx.blobs.get(&uploads::source_blob(image_key)).await? else {
        return Ok(Processed::Skipped("no original"));
    };
    let refused = if blob.bytes.len() as u64 > PRESIGN_MAX_BYTES {
        Some(format!("file of {} bytes is over the limit", blob.bytes.len()))
    } else {
        match render(blob.bytes, upload.kind).await {
            Ok(variants) => {
                write_variants(ctx, image_key, &variants).await?;
                None
            }
            Err(e) => Some(e.to_string()),
        }
    };
    let (op, outcome) = match refused {
        None => (uploads::mark_ready(image_key), Processed::Ready),
        Some(why) => (uploads::mark_failed(image_key, &why), Processed::Failed(why)),
    };
    match ctx.table.transact(vec![op]).await {
        Ok(()) => Ok(outcome),
        // Another delivery of the same event finished first.
        Err(StoreError::ConditionFailed { .. }) => Ok(Processed::Skipped("processed concurrently")),
        Err(e) => Err(e),
    }
}
