//! multipart/form-data bodies (the whole body is in the Lambda event already),
//! parsed with `multer`; the contract's 413 / 415 / 400 for a bad request.

use moim_domain::image::MULTIPART_LIMIT;
use moim_domain::{DomainError, ErrorCode};
use moim_web::{ApiResult, Req};

/// One file part of the form.
pub struct FilePart {
    pub file_name: Option<String>,
    pub content_type: Option<String>,
    pub bytes: Vec<u8>,
}

/// The non-empty parts named `field`, in order. Checks: body over 4 MB → 413,
/// not multipart/form-data → 415, a malformed body → 400.
pub async fn files(req: &Req, field: &str) -> ApiResult<Vec<FilePart>> {
    let body = req.body();
    if body.len() > MULTIPART_LIMIT {
        return Err(ErrorCode::PAYLOAD_TOO_LARGE.into());
    }
    let content_type = req.header("content-type").unwrap_or_default();
    if !content_type.trim().to_ascii_lowercase().starts_with("multipart/form-data") {
        return Err(ErrorCode::UNSUPPORTED_MEDIA_TYPE.into());
    }
    let boundary = multer::parse_boundary(content_type).map_err(|_| ErrorCode::UNSUPPORTED_MEDIA_TYPE)?;
    let data = bytes::Bytes::copy_from_slice(body);
    let stream = futures::stream::once(async move { Ok::<_, std::io::Error>(data) });
    let mut form = multer::Multipart::new(stream, boundary);
    let mut out = Vec::new();
    loop {
        let part = match form.next_field().await {
            Ok(Some(p)) => p,
            Ok(None) => break,
            Err(e) => return Err(malformed(e)),
        };
        if part.name() != Some(field) {
            continue;
        }
        let file_name = part.file_name().map(str::to_string);
        let content_type = part.content_type().map(|m| m.essence_str().to_string());
        let bytes = part.bytes().await.map_err(malformed)?;
        // Empty parts are skipped (a form may send an empty file input).
        if !bytes.is_empty() {
            out.push(FilePart { file_name, content_type, bytes: bytes.to_vec() });
        }
    }
    Ok(out)
}

fn malformed(e: multer::Error) -> moim_web::ApiError {
    DomainError::with_detail(ErrorCode::INVALID_INPUT_VALUE, format!("multipart 본문이 올바르지 않습니다: {e}")).into()
}

/// The 400 for a form without the expected part.
pub fn missing(field: &str) -> moim_web::ApiError {
    DomainError::with_detail(ErrorCode::NOT_FOUND_PARAMETER, format!("필수 파라미터 {field}가 없습니다.")).into()
}
