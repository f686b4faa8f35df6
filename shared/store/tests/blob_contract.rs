//! One contract suite for the blob port: the filesystem engine in a temp dir and
//! the S3 engine against moto's server (`MOIM_S3_ENDPOINT`, started by scripts/test).

use std::time::Duration;

use moim_store::blob::{Blob, Blobs, FsBlobs, S3Blobs};

struct Engine {
    blobs: Box<dyn Blobs>,
    fs: Option<FsBlobs>,
    _dir: Option<tempfile::TempDir>,
}

fn fs_engine() -> Engine {
    let dir = tempfile::tempdir().unwrap();
    let fs = FsBlobs::new(dir.path(), "http://127.0.0.1:3000", b"test-secret".to_vec());
    Engine { blobs: Box::new(fs.clone()), fs: Some(fs), _dir: Some(dir) }
}

async fn s3_engine() -> Option<Engine> {
    let Ok(endpoint) = std::env::var("MOIM_S3_ENDPOINT") else {
        assert!(std::env::var("MOIM_REQUIRE_EMULATORS").is_err(), "MOIM_S3_ENDPOINT is required");
        eprintln!("skipping S3 engine: MOIM_S3_ENDPOINT unset (scripts/test sets it)");
        return None;
    };
    let bucket =
        format!("contract-{}", std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
    let s3 = S3Blobs::new(moim_store::blob::s3_client(Some(&endpoint)).await, &bucket, format!("{endpoint}/{bucket}"));
    s3.ensure_bucket().await.unwrap();
    Some(Engine { blobs: Box::new(s3), fs: None, _dir: None })
}

async fn put_get_delete_list(b: &dyn Blobs) {
    assert_eq!(b.get("img/a.webp").await.unwrap(), None);
    b.put("img/a.webp", vec![1, 2, 3], "image/webp").await.unwrap();
    b.put("img/b.webp", vec![4], "image/webp").await.unwrap();
    b.put("other/c.png", vec![5], "image/png").await.unwrap();
    assert_eq!(
        b.get("img/a.webp").await.unwrap(),
        Some(Blob { bytes: vec![1, 2, 3], content_type: "image/webp".into() })
    );
    assert_eq!(b.list("img/").await.unwrap(), ["img/a.webp", "img/b.webp"]);
    assert_eq!(b.list("").await.unwrap().len(), 3);
    b.delete("img/a.webp").await.unwrap();
    b.delete("img/a.webp").await.unwrap(); // absent: still fine
    assert_eq!(b.get("img/a.webp").await.unwrap(), None);
    assert_eq!(b.list("img/").await.unwrap(), ["img/b.webp"]);
    assert!(b.public_url("img/b.webp").ends_with("/img/b.webp"));
}

async fn unsafe_keys_are_refused(b: &dyn Blobs) {
    for key in ["../etc/passwd", "a/../../b", "/abs", "a//b", "", "sp ace"] {
        assert!(b.put(key, vec![1], "image/png").await.is_err(), "{key}");
    }
}

/// Uploads through a presigned URL the way a client would, returning the HTTP status.
async fn presigned_upload(e: &Engine, url: &str, key: &str, content_type: &str, body: Vec<u8>) -> u16 {
    match &e.fs {
        // The filesystem engine's URL is served by moim-local; its check is this call.
        Some(fs) => {
            let query = url.split_once('?').map(|(_, q)| q).unwrap_or("");
            match fs.accept_presigned_put(key, query, content_type, body).await {
                Ok(()) => 200,
                Err(_) => 403,
            }
        }
        None => reqwest::Client::new()
            .put(url)
            .header("content-type", content_type)
            .body(body)
            .send()
            .await
            .unwrap()
            .status()
            .as_u16(),
    }
}

async fn presigned_put(e: &Engine) {
    let b = &*e.blobs;
    let url = b.presign_put("incoming/k1", "image/jpeg", 4, Duration::from_secs(900)).await.unwrap();
    assert!(url.contains("incoming/k1"));
    assert_eq!(presigned_upload(e, &url, "incoming/k1", "image/jpeg", vec![9, 9, 9, 9]).await, 200);
    assert_eq!(b.get("incoming/k1").await.unwrap().unwrap().bytes, vec![9, 9, 9, 9]);
}

/// Signature checks only the filesystem engine can prove here: moto does not verify SigV4.
async fn fs_presigned_put_is_bound_to_what_was_signed(e: &Engine) {
    let b = &*e.blobs;
    let url = b.presign_put("incoming/k2", "image/png", 3, Duration::from_secs(900)).await.unwrap();
    assert_eq!(presigned_upload(e, &url, "incoming/k2", "image/jpeg", vec![1, 2, 3]).await, 403, "other type");
    assert_eq!(presigned_upload(e, &url, "incoming/k2", "image/png", vec![1, 2]).await, 403, "other length");
    assert_eq!(presigned_upload(e, &url, "incoming/other", "image/png", vec![1, 2, 3]).await, 403, "other key");
    let tampered = url.replace("length=3", "length=4");
    assert_eq!(presigned_upload(e, &tampered, "incoming/k2", "image/png", vec![1, 2, 3, 4]).await, 403);
    let expired = b.presign_put("incoming/k3", "image/png", 1, Duration::from_secs(0)).await.unwrap();
    tokio::time::sleep(Duration::from_millis(1100)).await;
    assert_eq!(presigned_upload(e, &expired, "incoming/k3", "image/png", vec![1]).await, 403, "expired");
    assert_eq!(b.get("incoming/k2").await.unwrap(), None);
}

#[tokio::test]
async fn fs_put_get_delete_list() {
    put_get_delete_list(&*fs_engine().blobs).await;
}
#[tokio::test]
async fn fs_unsafe_keys_are_refused() {
    unsafe_keys_are_refused(&*fs_engine().blobs).await;
}
#[tokio::test]
async fn fs_presigned_put() {
    presigned_put(&fs_engine()).await;
}
#[tokio::test]
async fn fs_presigned_put_checks_signature() {
    fs_presigned_put_is_bound_to_what_was_signed(&fs_engine()).await;
}
#[tokio::test]
async fn s3_put_get_delete_list() {
    let Some(e) = s3_engine().await else { return };
    put_get_delete_list(&*e.blobs).await;
}
#[tokio::test]
async fn s3_unsafe_keys_are_refused() {
    let Some(e) = s3_engine().await else { return };
    unsafe_keys_are_refused(&*e.blobs).await;
}
#[tokio::test]
async fn s3_presigned_put() {
    let Some(e) = s3_engine().await else { return };
    presigned_put(&e).await;
}
