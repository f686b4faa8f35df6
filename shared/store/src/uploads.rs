//! Upload records (`UPLOAD#<imageKey>` / `UPLOAD`) and where an upload's files
//! live in the blob store. An imageKey is single-use because consuming it is an
//! Update conditioned on "ready, owned by the caller, unexpired, not consumed"
//! inside the same transaction as the group or profile write that uses it.

use moim_domain::image::Upload;

use crate::blob::Blobs;
use crate::table::*;
use crate::users::{from_item, to_item};

pub const SK_UPLOAD: &str = "UPLOAD";
/// Originals, written by the API or a presigned PUT; the processor's trigger prefix.
pub const INCOMING_PREFIX: &str = "incoming/";
/// Processed WEBP variants, served to clients.
pub const IMAGES_PREFIX: &str = "images/";

pub fn key(image_key: &str) -> Key {
    Key::new(format!("UPLOAD#{image_key}"), SK_UPLOAD)
}

pub fn source_blob(image_key: &str) -> String {
    format!("{INCOMING_PREFIX}{image_key}")
}

/// The blob key of a variant, e.g. `images/<key>_440x240.webp`.
pub fn variant_blob(image_key: &str, width: u32, height: u32) -> String {
    format!("{IMAGES_PREFIX}{image_key}_{width}x{height}.webp")
}

/// Every blob an upload may have (original and both variants).
pub fn blobs_of(image_key: &str) -> [String; 3] {
    [source_blob(image_key), variant_blob(image_key, 440, 240), variant_blob(image_key, 100, 100)]
}

/// The imageKey a blob belongs to, if it is an upload's file.
pub fn image_key_of_blob(blob: &str) -> Option<&str> {
    if let Some(k) = blob.strip_prefix(INCOMING_PREFIX) {
        return Some(k).filter(|k| !k.is_empty() && !k.contains('/'));
    }
    let rest = blob.strip_prefix(IMAGES_PREFIX)?;
    rest.rsplit_once('_').map(|(k, _)| k).filter(|k| !k.is_empty() && !k.contains('/'))
}

/// Keys come from clients: only UUIDs can name an upload.
pub fn valid_image_key(image_key: &str) -> bool {
    image_key.len() == 36 && uuid::Uuid::try_parse(image_key).is_ok()
}

/// Deletes every file of an upload (absent files are fine).
pub async fn delete_files(blobs: &dyn Blobs, image_key: &str) -> Result<(), StoreError> {
    for blob in blobs_of(image_key) {
        blobs.delete(&blob).await?;
    }
    Ok(())
}

pub async fn get(t: &dyn Table, image_key: &str) -> Result<Option<Upload>, StoreError> {
    if !valid_image_key(image_key) {
        return Ok(None);
    }
    t.get(&key(image_key)).await?.map(from_item).transpose()
}

pub fn put_new(u: &Upload) -> WriteOp {
    WriteOp::put_new(to_item(&key(&u.image_key), u))
}

/// PENDING → READY (the processor's or the upload's mark; a repeat is a no-op failure).
pub fn mark_ready(image_key: &str) -> WriteOp {
    WriteOp::update(key(image_key), Update::new().set("status", "READY"))
        .when(Cond::Exists)
        .when(Cond::equals("status", "PENDING"))
}

/// PENDING → FAILED with the reason: a refused file is not retried forever.
pub fn mark_failed(image_key: &str, reason: &str) -> WriteOp {
    WriteOp::update(key(image_key), Update::new().set("status", "FAILED").set("failure", reason))
        .when(Cond::Exists)
        .when(Cond::equals("status", "PENDING"))
}

/// Uses a key for `consumer` (`GROUP#<id>` / `USER#<id>`): only a ready,
/// unconsumed, unexpired key of `owner` passes; it then has no TTL any more.
pub fn consume(image_key: &str, owner: i64, consumer: &str, now: i64) -> WriteOp {
    WriteOp::update(key(image_key), Update::new().set("consumedBy", consumer).remove(EXPIRES_AT))
        .when(Cond::equals("ownerId", owner))
        .when(Cond::equals("status", "READY"))
        .when(Cond::AttrAbsent("consumedBy".into()))
        .when(Cond::GreaterThan(EXPIRES_AT.into(), now))
}

/// Removes the record of an image taken off its group or profile.
pub fn release(image_key: &str) -> WriteOp {
    WriteOp::delete(key(image_key))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn blob_keys_map_back_to_their_upload() {
        let k = "2f1c0a8e-6f4b-4c1e-9a7d-0e5b8c2d1f3a";
        for b in blobs_of(k) {
            assert_eq!(image_key_of_blob(&b), Some(k), "{b}");
        }
        assert_eq!(image_key_of_blob("defaults/group_440x240.webp"), None);
        assert_eq!(image_key_of_blob("incoming/"), None);
        assert!(valid_image_key(k));
        assert!(!valid_image_key("../x"));
        assert!(!valid_image_key("2f1c0a8e6f4b4c1e9a7d0e5b8c2d1f3a"));
    }
}
