//! Pre-upload of group photos (API.md §4.1): multipart through the API, and
//! presigned direct uploads for large files.
//!
//! The multipart path processes inline: every file is checked (size, type,
//! extension, bytes, header dimensions) and rendered before anything is
//! stored, so one bad file stores nothing; then the records are written
//! PENDING, the variants, the records READY, and last the originals under
//! `incoming/` — the S3 trigger fired by those finds the work done. The 201
//! therefore carries URLs that already serve.

use std::time::Duration;

use chrono::Utc;
use moim_domain::image::{
    check_file, Upload, UploadKind, MAX_FILES, MULTIPART_LIMIT, PRESIGN_MAX_BYTES, PRESIGN_URL_TTL_SECS,
};
use moim_domain::{time, ErrorCode, Fields};
use moim_store::uploads;
use moim_web::{ApiResult, AppContext, Reply, Req};
use serde::Deserialize;
use serde_json::{json, Value};

use crate::{multipart, pipeline};

fn urls(ctx: &AppContext, image_key: &str) -> (String, String) {
    (
        ctx.blobs.public_url(&uploads::variant_blob(image_key, 440, 240)),
        ctx.blobs.public_url(&uploads::variant_blob(image_key, 100, 100)),
    )
}

fn new_key() -> String {
    uuid::Uuid::new_v4().to_string()
}

pub(crate) async fn upload(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller = req.auth(ctx).await?;
    let files = multipart::files(&req, "images").await?;
    if files.is_empty() {
        return Err(multipart::missing("images"));
    }
    if files.len() > MAX_FILES {
        return Err(ErrorCode::IMAGE_UPLOAD_EXCEED.into());
    }
    for f in &files {
        check_file(f.bytes.len() as u64, MULTIPART_LIMIT as u64, f.content_type.as_deref(), f.file_name.as_deref())?;
        pipeline::probe(&f.bytes)?;
    }
    let mut rendered = Vec::with_capacity(files.len());
    for f in &files {
        rendered.push(pipeline::render(f.bytes.clone(), UploadKind::Group).await.map_err(pipeline::media_error)?);
    }

    let now = Utc::now();
    let records: Vec<Upload> = (0..files.len())
        .map(|i| Upload { sort_order: i as i64, ..Upload::new(new_key(), caller.id(), UploadKind::Group, now) })
        .collect();
    ctx.table.transact(records.iter().map(uploads::put_new).collect()).await?;
    for (u, variants) in records.iter().zip(&rendered) {
        pipeline::write_variants(ctx, &u.image_key, variants).await?;
    }
    ctx.table.transact(records.iter().map(|u| uploads::mark_ready(&u.image_key)).collect()).await?;
    for (u, f) in records.iter().zip(files) {
        let ct = f.content_type.unwrap_or_else(|| "application/octet-stream".into());
        ctx.blobs.put(&uploads::source_blob(&u.image_key), f.bytes, &ct).await?;
    }

    let images: Vec<Value> = records
        .iter()
        .map(|u| {
            let (card, thumb) = urls(ctx, &u.image_key);
            json!({ "imageKey": u.image_key, "sortOrder": u.sort_order, "imageUrl440x240": card, "imageUrl100x100": thumb })
        })
        .collect();
    Ok(Reply::created(json!({ "images": images })))
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct PresignBody {
    file_name: Option<Value>,
    content_type: Option<Value>,
    size: Option<Value>,
}

pub(crate) async fn presign(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller = req.auth(ctx).await?;
    let body: PresignBody = req.json()?;
    let file_name = body.file_name.as_ref().and_then(Value::as_str).map(str::trim).unwrap_or_default();
    let content_type = body.content_type.as_ref().and_then(Value::as_str).map(str::trim).unwrap_or_default();
    let size = body.size.as_ref().and_then(Value::as_u64);
    Fields::new()
        .check(!file_name.is_empty(), "fileName", "이미지: 파일 이름은 필수입니다.")
        .check(!content_type.is_empty(), "contentType", "이미지: Content-Type 은 필수입니다.")
        .check(size.is_some_and(|s| s > 0), "size", "이미지: 파일 크기는 1 이상의 정수여야 합니다.")
        .finish()?;
    let size = size.unwrap_or_default();
    check_file(size, PRESIGN_MAX_BYTES, Some(content_type), Some(file_name))?;

    let now = Utc::now();
    let record = Upload::new(new_key(), caller.id(), UploadKind::Group, now);
    let ttl = Duration::from_secs(PRESIGN_URL_TTL_SECS as u64);
    let upload_url = ctx.blobs.presign_put(&uploads::source_blob(&record.image_key), content_type, size, ttl).await?;
    ctx.table.transact(vec![uploads::put_new(&record)]).await?;
    let (card, thumb) = urls(ctx, &record.image_key);
    let expires = now + chrono::Duration::seconds(PRESIGN_URL_TTL_SECS);
    Ok(Reply::created(json!({
        "imageKey": record.image_key,
        "uploadUrl": upload_url,
        "expiresAt": time::format(expires),
        "imageUrl440x240": card,
        "imageUrl100x100": thumb,
    })))
}
