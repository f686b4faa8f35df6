//! The blob port (images) with an S3 engine and a filesystem engine.
//!
//! Presigned PUT: S3 signs with SigV4; the filesystem engine signs the same
//! facts (key, content type, length, expiry) with HMAC-SHA256 and the local
//! gateway checks them in [`FsBlobs::accept_presigned_put`] before writing.

use std::path::{Path, PathBuf};
use std::time::Duration;

use async_trait::async_trait;
use aws_sdk_s3::presigning::PresigningConfig;
use aws_sdk_s3::primitives::ByteStream;

use crate::table::StoreError;

#[derive(Debug, Clone, PartialEq)]
pub struct Blob {
    pub bytes: Vec<u8>,
    pub content_type: String,
}

#[async_trait]
pub trait Blobs: Send + Sync {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), StoreError>;
    async fn get(&self, key: &str) -> Result<Option<Blob>, StoreError>;
    /// Deleting an absent key is not an error.
    async fn delete(&self, key: &str) -> Result<(), StoreError>;
    /// Keys under a prefix, sorted.
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError>;
    /// A URL a client can PUT exactly this content type and length to, until `expires_in` passes.
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        length: u64,
        expires_in: Duration,
    ) -> Result<String, StoreError>;
    /// Where a stored blob is publicly readable.
    fn public_url(&self, key: &str) -> String;
}

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Keys are slash-separated relative paths of safe characters; nothing may climb out.
pub fn valid_key(key: &str) -> bool {
    !key.is_empty()
        && key.len() <= 512
        && key.split('/').all(|seg| !seg.is_empty() && seg != "." && seg != "..")
        && key.chars().all(|c| c.is_ascii_alphanumeric() || "-_./".contains(c))
}

fn check_key(key: &str) -> Result<(), StoreError> {
    if valid_key(key) {
        Ok(())
    } else {
        Err(StoreError::Invalid(format!("invalid blob key {key:?}")))
    }
}

// ---------------------------------------------------------------- filesystem

#[derive(Clone)]
pub struct FsBlobs {
    root: PathBuf,
    /// Base URL of the local gateway, e.g. `http://127.0.0.1:3000`.
    base_url: String,
    secret: Vec<u8>,
}

/// Path prefix under which the local gateway serves and accepts blobs.
pub const FS_BLOB_PATH: &str = "/_blobs/";

impl FsBlobs {
    pub fn new(root: impl Into<PathBuf>, base_url: impl Into<String>, secret: impl Into<Vec<u8>>) -> Self {
        FsBlobs {
            root: root.into(),
            base_url: base_url.into().trim_end_matches('/').to_string(),
            secret: secret.into(),
        }
    }

    fn object_path(&self, key: &str) -> PathBuf {
        self.root.join("objects").join(key)
    }
    fn meta_path(&self, key: &str) -> PathBuf {
        self.root.join("meta").join(key)
    }

    fn signature(&self, key: &str, content_type: &str, length: u64, expires: i64) -> String {
        let k = aws_lc_rs::hmac::Key::new(aws_lc_rs::hmac::HMAC_SHA256, &self.secret);
        let msg = format!("PUT\n{key}\n{content_type}\n{length}\n{expires}");
        let tag = aws_lc_rs::hmac::sign(&k, msg.as_bytes());
        tag.as_ref().iter().map(|b| format!("{b:02x}")).collect()
    }

    /// Checks a presigned upload (`key`, the URL's query string, the request's
    /// content type and body length) against what was signed. Errors say why,
    /// for a 403 from the gateway.
    pub fn verify_presigned_put(
        &self,
        key: &str,
        query: &str,
        content_type: &str,
        body_len: usize,
    ) -> Result<(), StoreError> {
        let param =
            |name: &str| query.split('&').find_map(|kv| kv.strip_prefix(name).and_then(|v| v.strip_prefix('=')));
        let denied = |why: &str| StoreError::Invalid(format!("presigned upload refused: {why}"));
        let expires: i64 = param("expires").and_then(|v| v.parse().ok()).ok_or_else(|| denied("no expiry"))?;
        let length: u64 = param("length").and_then(|v| v.parse().ok()).ok_or_else(|| denied("no length"))?;
        let sig = param("signature").ok_or_else(|| denied("no signature"))?;
        if crate::table::now_epoch() > expires {
            return Err(denied("expired"));
        }
        let expected = self.signature(key, content_type, length, expires);
        if !constant_time_eq(expected.as_bytes(), sig.as_bytes()) {
            return Err(denied("signature does not match (key, content type or expiry differ)"));
        }
        if body_len as u64 != length {
            return Err(denied("length differs from the signed length"));
        }
        Ok(())
    }

    /// [`Self::verify_presigned_put`], then stores the body.
    pub async fn accept_presigned_put(
        &self,
        key: &str,
        query: &str,
        content_type: &str,
        body: Vec<u8>,
    ) -> Result<(), StoreError> {
        self.verify_presigned_put(key, query, content_type, body.len())?;
        self.put(key, body, content_type).await
    }
}

fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
    a.len() == b.len() && a.iter().zip(b).fold(0u8, |acc, (x, y)| acc | (x ^ y)) == 0
}

async fn write_atomically(path: &Path, bytes: &[u8]) -> Result<(), StoreError> {
    if let Some(dir) = path.parent() {
        tokio::fs::create_dir_all(dir).await.map_err(backend)?;
    }
    let tmp = path.with_extension(format!("tmp-{}", rand::random::<u64>()));
    tokio::fs::write(&tmp, bytes).await.map_err(backend)?;
    tokio::fs::rename(&tmp, path).await.map_err(backend)
}

#[async_trait]
impl Blobs for FsBlobs {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), StoreError> {
        check_key(key)?;
        write_atomically(&self.meta_path(key), content_type.as_bytes()).await?;
        write_atomically(&self.object_path(key), &bytes).await
    }

    async fn get(&self, key: &str) -> Result<Option<Blob>, StoreError> {
        check_key(key)?;
        match tokio::fs::read(self.object_path(key)).await {
            Ok(bytes) => {
                let content_type = tokio::fs::read_to_string(self.meta_path(key))
                    .await
                    .unwrap_or_else(|_| "application/octet-stream".into());
                Ok(Some(Blob { bytes, content_type }))
            }
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(None),
            Err(e) => Err(backend(e)),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        check_key(key)?;
        for p in [self.object_path(key), self.meta_path(key)] {
            match tokio::fs::remove_file(p).await {
                Ok(()) => {}
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(e) => return Err(backend(e)),
            }
        }
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let root = self.root.join("objects");
        let prefix = prefix.to_string();
        tokio::task::spawn_blocking(move || {
            let mut out = Vec::new();
            let mut stack = vec![root.clone()];
            while let Some(dir) = stack.pop() {
                let entries = match std::fs::read_dir(&dir) {
                    Ok(e) => e,
                    Err(e) if e.kind() == std::io::ErrorKind::NotFound => continue,
                    Err(e) => return Err(backend(e)),
                };
                for entry in entries {
                    let path = entry.map_err(backend)?.path();
                    if path.is_dir() {
                        stack.push(path);
                    } else if let Ok(rel) = path.strip_prefix(&root) {
                        let key = rel.to_string_lossy().replace('\\', "/");
                        if key.starts_with(&prefix) && !key.contains(".tmp-") {
                            out.push(key);
                        }
                    }
                }
            }
            out.sort();
            Ok(out)
        })
        .await
        .map_err(backend)?
    }

    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        length: u64,
        expires_in: Duration,
    ) -> Result<String, StoreError> {
        check_key(key)?;
        let expires = crate::table::now_epoch() + expires_in.as_secs() as i64;
        let sig = self.signature(key, content_type, length, expires);
        Ok(format!("{}{FS_BLOB_PATH}{key}?expires={expires}&length={length}&signature={sig}", self.base_url))
    }

    fn public_url(&self, key: &str) -> String {
        format!("{}{FS_BLOB_PATH}{key}", self.base_url)
    }
}

// ---------------------------------------------------------------- URLs only

/// The blob port of a function that links no blob store: it names public URLs
/// (image views) like the store it stands for, and refuses every read and write.
pub struct UrlsOnly {
    url: Box<dyn Fn(&str) -> String + Send + Sync>,
}

impl UrlsOnly {
    /// URLs as [`S3Blobs`] under `public_base` names them.
    pub fn public_base(public_base: &str) -> UrlsOnly {
        let base = public_base.trim_end_matches('/').to_string();
        UrlsOnly { url: Box::new(move |key| format!("{base}/{key}")) }
    }

    /// URLs as `store` names them.
    pub fn of(store: std::sync::Arc<dyn Blobs>) -> UrlsOnly {
        UrlsOnly { url: Box::new(move |key| store.public_url(key)) }
    }
}

fn not_linked() -> StoreError {
    StoreError::Backend("this function links no blob store (moim_web::ports::BLOBS)".into())
}

#[async_trait]
impl Blobs for UrlsOnly {
    async fn put(&self, _: &str, _: Vec<u8>, _: &str) -> Result<(), StoreError> {
        Err(not_linked())
    }
    async fn get(&self, _: &str) -> Result<Option<Blob>, StoreError> {
        Err(not_linked())
    }
    async fn delete(&self, _: &str) -> Result<(), StoreError> {
        Err(not_linked())
    }
    async fn list(&self, _: &str) -> Result<Vec<String>, StoreError> {
        Err(not_linked())
    }
    async fn presign_put(&self, _: &str, _: &str, _: u64, _: Duration) -> Result<String, StoreError> {
        Err(not_linked())
    }
    fn public_url(&self, key: &str) -> String {
        (self.url)(key)
    }
}

// ---------------------------------------------------------------- S3

#[derive(Clone)]
pub struct S3Blobs {
    client: aws_sdk_s3::Client,
    bucket: String,
    /// Public base for reads (a CloudFront domain in production).
    public_base: String,
}

/// Builds an S3 client; `endpoint` (moto locally) switches to path-style addressing.
pub async fn s3_client(endpoint: Option<&str>) -> aws_sdk_s3::Client {
    s3_client_from(&crate::aws::default_chain().await, endpoint)
}

/// An S3 client over a given SDK configuration (see [`crate::aws`]).
pub fn s3_client_from(sdk: &aws_types::sdk_config::SdkConfig, endpoint: Option<&str>) -> aws_sdk_s3::Client {
    let mut conf = aws_sdk_s3::config::Builder::from(sdk).force_path_style(endpoint.is_some());
    if let Some(ep) = endpoint {
        conf = conf.endpoint_url(ep);
    }
    aws_sdk_s3::Client::from_conf(conf.build())
}

impl S3Blobs {
    pub fn new(client: aws_sdk_s3::Client, bucket: impl Into<String>, public_base: impl Into<String>) -> Self {
        S3Blobs { client, bucket: bucket.into(), public_base: public_base.into().trim_end_matches('/').to_string() }
    }

    /// Creates the bucket if it does not exist (emulator and first-run setup).
    pub async fn ensure_bucket(&self) -> Result<(), StoreError> {
        if self.client.head_bucket().bucket(&self.bucket).send().await.is_ok() {
            return Ok(());
        }
        self.client
            .create_bucket()
            .bucket(&self.bucket)
            .send()
            .await
            .map_err(|e| backend(aws_sdk_s3::error::DisplayErrorContext(&e)))?;
        Ok(())
    }
}

#[async_trait]
impl Blobs for S3Blobs {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), StoreError> {
        check_key(key)?;
        self.client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .body(ByteStream::from(bytes))
            .send()
            .await
            .map_err(|e| backend(aws_sdk_s3::error::DisplayErrorContext(&e)))?;
        Ok(())
    }

    async fn get(&self, key: &str) -> Result<Option<Blob>, StoreError> {
        check_key(key)?;
        match self.client.get_object().bucket(&self.bucket).key(key).send().await {
            Ok(out) => {
                let content_type = out.content_type.clone().unwrap_or_else(|| "application/octet-stream".into());
                let bytes = out.body.collect().await.map_err(backend)?.into_bytes().to_vec();
                Ok(Some(Blob { bytes, content_type }))
            }
            Err(e) if e.as_service_error().is_some_and(|s| s.is_no_such_key()) => Ok(None),
            Err(e) => Err(backend(aws_sdk_s3::error::DisplayErrorContext(&e))),
        }
    }

    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        check_key(key)?;
        self.client
            .delete_object()
            .bucket(&self.bucket)
            .key(key)
            .send()
            .await
            .map_err(|e| backend(aws_sdk_s3::error::DisplayErrorContext(&e)))?;
        Ok(())
    }

    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        let mut out = Vec::new();
        let mut token = None;
        loop {
            let page = self
                .client
                .list_objects_v2()
                .bucket(&self.bucket)
                .prefix(prefix)
                .set_continuation_token(token.take())
                .send()
                .await
                .map_err(|e| backend(aws_sdk_s3::error::DisplayErrorContext(&e)))?;
            out.extend(page.contents().iter().filter_map(|o| o.key().map(str::to_string)));
            match page.next_continuation_token {
                Some(t) if page.is_truncated == Some(true) => token = Some(t),
                _ => break,
            }
        }
        out.sort();
        Ok(out)
    }

    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        length: u64,
        expires_in: Duration,
    ) -> Result<String, StoreError> {
        check_key(key)?;
        let conf = PresigningConfig::expires_in(expires_in).map_err(backend)?;
        let req = self
            .client
            .put_object()
            .bucket(&self.bucket)
            .key(key)
            .content_type(content_type)
            .content_length(length as i64)
            .presigned(conf)
            .await
            .map_err(|e| backend(aws_sdk_s3::error::DisplayErrorContext(&e)))?;
        Ok(req.uri().to_string())
    }

    fn public_url(&self, key: &str) -> String {
        format!("{}/{key}", self.public_base)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn urls_only_names_what_its_store_names_and_refuses_io() {
        let sdk = aws_types::sdk_config::SdkConfig::builder()
            .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
            .region(aws_types::region::Region::new("us-east-1"))
            .build();
        let s3 = S3Blobs::new(s3_client_from(&sdk, None), "bucket", "https://cdn.example/");
        let key = "groups/k/440x240.webp";
        assert_eq!(UrlsOnly::public_base("https://cdn.example/").public_url(key), s3.public_url(key));
        let dir = tempfile::tempdir().unwrap();
        let fs: std::sync::Arc<dyn Blobs> =
            std::sync::Arc::new(FsBlobs::new(dir.path().to_path_buf(), "http://127.0.0.1:3000", vec![7; 32]));
        let urls = UrlsOnly::of(fs.clone());
        assert_eq!(urls.public_url(key), fs.public_url(key));
        assert!(matches!(urls.put(key, vec![1], "image/webp").await, Err(StoreError::Backend(_))));
        assert!(matches!(urls.get(key).await, Err(StoreError::Backend(_))));
        assert!(matches!(urls.list("groups/").await, Err(StoreError::Backend(_))));
        assert!(matches!(urls.delete(key).await, Err(StoreError::Backend(_))));
        assert!(urls.presign_put(key, "image/png", 1, Duration::from_secs(60)).await.is_err());
        assert!(fs.get(key).await.unwrap().is_none(), "nothing was written");
    }
}
