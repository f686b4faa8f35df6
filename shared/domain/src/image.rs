//! Upload rules for photos (API.md §4.1, §3 profile image, §6.5): which files
//! are accepted before their bytes are looked at, the limits, and the upload
//! record that makes an imageKey single-use. The pixel checks (sniffing,
//! header dimensions) live in `moim-media`, which only the image functions link.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::{DomainError, ErrorCode};

/// Files in one multipart upload.
pub const MAX_FILES: usize = 3;
/// A multipart request through the API (Lambda's payload is 6 MB with base64).
pub const MULTIPART_LIMIT: usize = 4 * 1024 * 1024;
/// A presigned direct upload.
pub const PRESIGN_MAX_BYTES: u64 = 20 * 1024 * 1024;
/// An unconsumed imageKey is usable this long.
pub const UPLOAD_TTL_SECS: i64 = 2 * 3600;
/// A presigned PUT URL is valid this long.
pub const PRESIGN_URL_TTL_SECS: i64 = 15 * 60;

/// Content types accepted at the door (the bytes decide the real format later).
const CONTENT_TYPES: [&str; 4] = ["image/jpeg", "image/jpg", "image/png", "image/webp"];
const EXTENSIONS: [&str; 4] = ["jpg", "jpeg", "png", "webp"];

/// The checks on a file before its bytes, in the contract's order: size,
/// Content-Type, extension. `max` is the size limit of the path it came by.
pub fn check_file(size: u64, max: u64, content_type: Option<&str>, file_name: Option<&str>) -> Result<(), DomainError> {
    if size > max {
        return Err(DomainError::with_detail(
            ErrorCode::INVALID_IMAGE_SIZE,
            format!("이미지: 파일 크기는 최대 {}MB 입니다.", max / (1024 * 1024)),
        ));
    }
    let ct = content_type.map(|c| c.split(';').next().unwrap_or_default().trim().to_ascii_lowercase());
    if !ct.as_deref().is_some_and(|c| CONTENT_TYPES.contains(&c)) {
        return Err(ErrorCode::UNSUPPORTED_IMAGE_CONTENT_TYPE.into());
    }
    let ext = file_name.and_then(|n| n.rsplit_once('.')).map(|(_, e)| e.trim().to_ascii_lowercase());
    match ext {
        None => Err(ErrorCode::MISSING_EXTENSION.into()),
        Some(e) if e.is_empty() => Err(ErrorCode::MISSING_EXTENSION.into()),
        Some(e) if !EXTENSIONS.contains(&e.as_str()) => Err(ErrorCode::UNSUPPORTED_EXTENSION.into()),
        Some(_) => Ok(()),
    }
}

/// What an upload is for: group photos get both variants, a profile photo one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UploadKind {
    Group,
    Profile,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum UploadStatus {
    /// Recorded; the variants are not written yet.
    Pending,
    /// Both variants exist: the key can be consumed.
    Ready,
    /// The file was refused by the processor (corrupt, disguised, too large).
    Failed,
}

/// The record behind an imageKey. `expires_at` is the explicit validity (and
/// the table TTL) while unconsumed; consuming removes it and sets `consumed_by`.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Upload {
    pub image_key: String,
    pub owner_id: i64,
    pub kind: UploadKind,
    pub status: UploadStatus,
    /// Position of the file in its upload request (0 for presign and profile).
    #[serde(default)]
    pub sort_order: i64,
    #[serde(with = "crate::time::wire")]
    pub created_at: DateTime<Utc>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub expires_at: Option<i64>,
    /// `GROUP#<id>` or `USER#<id>` once used. Absent (not null) before: the
    /// consume condition is "attribute absent".
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub consumed_by: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub failure: Option<String>,
}

impl Upload {
    pub fn new(image_key: String, owner_id: i64, kind: UploadKind, now: DateTime<Utc>) -> Upload {
        Upload {
            image_key,
            owner_id,
            kind,
            status: UploadStatus::Pending,
            sort_order: 0,
            created_at: now,
            expires_at: Some(now.timestamp() + UPLOAD_TTL_SECS),
            consumed_by: None,
            failure: None,
        }
    }

    /// The caller may use this key now: ready, unconsumed, unexpired. The
    /// answers of §4.2 in order: 404 first, then 403 for another's key.
    pub fn check_usable(&self, caller: i64, now: DateTime<Utc>) -> Result<(), DomainError> {
        let live = self.expires_at.is_some_and(|e| e > now.timestamp());
        if self.status != UploadStatus::Ready || self.consumed_by.is_some() || !live {
            return Err(not_found(&self.image_key));
        }
        if self.owner_id != caller {
            return Err(ErrorCode::PRE_UPLOADED_IMAGE_OWNER_MISMATCH.into());
        }
        Ok(())
    }
}

pub fn not_found(image_key: &str) -> DomainError {
    DomainError::with_detail(
        ErrorCode::PRE_UPLOADED_IMAGE_NOT_FOUND,
        format!("모임: 업로드된 이미지를 찾을 수 없습니다: {image_key}"),
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    const MB: u64 = 1024 * 1024;

    #[test]
    fn file_checks_run_in_the_contract_order() {
        let ok = check_file(10, 4 * MB, Some("image/jpeg"), Some("a.JPG"));
        assert!(ok.is_ok());
        let code = |r: Result<(), DomainError>| r.unwrap_err().code;
        // size wins over a bad type and name
        assert_eq!(code(check_file(5 * MB, 4 * MB, Some("text/plain"), None)), ErrorCode::INVALID_IMAGE_SIZE);
        assert_eq!(
            code(check_file(1, MB, Some("text/plain"), Some("a.png"))),
            ErrorCode::UNSUPPORTED_IMAGE_CONTENT_TYPE
        );
        assert_eq!(code(check_file(1, MB, None, Some("a.png"))), ErrorCode::UNSUPPORTED_IMAGE_CONTENT_TYPE);
        assert_eq!(code(check_file(1, MB, Some("image/png"), Some("photo"))), ErrorCode::MISSING_EXTENSION);
        assert_eq!(code(check_file(1, MB, Some("image/png"), Some("photo."))), ErrorCode::MISSING_EXTENSION);
        assert_eq!(code(check_file(1, MB, Some("image/png"), None)), ErrorCode::MISSING_EXTENSION);
        assert_eq!(code(check_file(1, MB, Some("image/png"), Some("a.gif"))), ErrorCode::UNSUPPORTED_EXTENSION);
        assert!(check_file(1, MB, Some("image/webp; charset=x"), Some("x.webp")).is_ok());
    }

    #[test]
    fn a_key_is_usable_once_by_its_owner_while_fresh() {
        let now = Utc::now();
        let mut u = Upload::new("k".into(), 7, UploadKind::Group, now);
        assert_eq!(u.check_usable(7, now).unwrap_err().code, ErrorCode::PRE_UPLOADED_IMAGE_NOT_FOUND, "pending");
        u.status = UploadStatus::Ready;
        assert!(u.check_usable(7, now).is_ok());
        assert_eq!(u.check_usable(8, now).unwrap_err().code, ErrorCode::PRE_UPLOADED_IMAGE_OWNER_MISMATCH);
        let later = now + chrono::Duration::seconds(UPLOAD_TTL_SECS);
        assert_eq!(u.check_usable(7, later).unwrap_err().code, ErrorCode::PRE_UPLOADED_IMAGE_NOT_FOUND, "expired");
        u.consumed_by = Some("GROUP#1".into());
        assert_eq!(u.check_usable(7, now).unwrap_err().code, ErrorCode::PRE_UPLOADED_IMAGE_NOT_FOUND, "consumed");
        u.consumed_by = None;
        u.status = UploadStatus::Failed;
        assert_eq!(u.check_usable(8, now).unwrap_err().code, ErrorCode::PRE_UPLOADED_IMAGE_NOT_FOUND, "404 before 403");
    }
}
