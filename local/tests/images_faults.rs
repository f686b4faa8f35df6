//! Faults and time around photos, driven in-process (the handlers through the
//! Lambda event path, the processor and sweeper with their real events) on
//! both table engines: a processor dying midway, a disguised file, a blob
//! delete failing after the commit, an upload left to expire.

mod common;

use std::sync::Arc;

use common::{rig_on, Rig};
use image::{ImageFormat, Rgb, RgbImage};
use moim_blackbox::engines;
use moim_blackbox::faults::FaultyBlobs;
use moim_domain::image::UploadStatus;
use moim_store::{uploads, Blobs, Update, WriteOp};
use moim_web::AppContext;
use serde_json::{json, Value};

fn jpeg(w: u32, h: u32) -> Vec<u8> {
    let img = RgbImage::from_fn(w, h, |x, y| Rgb([(x % 256) as u8, (y % 256) as u8, 60]));
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, ImageFormat::Jpeg).unwrap();
    out.into_inner()
}

async fn signup(rig: &Rig) -> (String, i64) {
    let body = json!({"email": "a@b.com", "password": "password1!", "nickName": "Beemo"}).to_string();
    let (s, _, _, _) =
        rig.call(moim_auth::ROUTES, "POST /api/v1/auth/signup", "/api/v1/auth/signup", "", &[], &body).await;
    assert_eq!(s, 201);
    let body = json!({"email": "a@b.com", "password": "password1!"}).to_string();
    let (_, b, _, _) =
        rig.call(moim_auth::ROUTES, "POST /api/v1/auth/login", "/api/v1/auth/login", "", &[], &body).await;
    (format!("Bearer {}", b["data"]["accessToken"].as_str().unwrap()), b["data"]["user"]["userId"].as_i64().unwrap())
}

/// A presigned upload record plus its original in `incoming/` (as the PUT would leave them).
async fn presigned_original(rig: &Rig, auth: &str, bytes: &[u8]) -> String {
    let body = json!({"fileName": "p.jpg", "contentType": "image/jpeg", "size": bytes.len()}).to_string();
    let route = "POST /api/v2/groups/images/presign";
    let (s, b, _, _) = rig
        .call(moim_images::ROUTES, route, "/api/v2/groups/images/presign", "", &[("authorization", auth)], &body)
        .await;
    assert_eq!(s, 201, "{b}");
    let key = b["data"]["imageKey"].as_str().unwrap().to_string();
    rig.ctx.blobs.put(&uploads::source_blob(&key), bytes.to_vec(), "image/jpeg").await.unwrap();
    key
}

/// Delivers the S3 event for an original, as the trigger does.
async fn deliver(ctx: &AppContext, key: &str) -> Result<Value, String> {
    let blob = uploads::source_blob(key);
    moim_image_processor::handle(ctx, moim_local::event::s3_object_created("bucket", &blob, 1)).await
}

fn with_blobs(rig: &Rig, blobs: Arc<dyn Blobs>) -> AppContext {
    AppContext { blobs, ..(*rig.ctx).clone() }
}

async fn exists(rig: &Rig, blob: &str) -> bool {
    rig.ctx.blobs.get(blob).await.unwrap().is_some()
}

async fn status(rig: &Rig, key: &str) -> Option<UploadStatus> {
    uploads::get(&*rig.ctx.table, key).await.unwrap().map(|u| u.status)
}

async fn create_with(rig: &Rig, auth: &str, key: &str) -> (u64, Value) {
    let start = (chrono::Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%dT%H:%M:%S").to_string();
    let body = json!({
        "title": "t", "location": "l", "startTime": start, "description": "d",
        "maxParticipants": 4, "joinPolicy": "FREE", "images": [{ "imageKey": key }],
    })
    .to_string();
    let route = "POST /api/v2/groups/create";
    let (s, b, _, _) =
        rig.call(moim_groups::ROUTES, route, "/api/v2/groups/create", "", &[("authorization", auth)], &body).await;
    (s, b)
}

#[tokio::test]
async fn a_processor_dying_midway_is_completed_by_the_redelivered_event() {
    for engine in engines() {
        let rig = rig_on(engine, |t| t).await;
        let (auth, _) = signup(&rig).await;
        let key = presigned_original(&rig, &auth, &jpeg(1200, 900)).await;
        let card = uploads::variant_blob(&key, 440, 240);
        let thumb = uploads::variant_blob(&key, 100, 100);

        let dying = FaultyBlobs {
            inner: rig.ctx.blobs.clone(),
            fail_puts_containing: Some("_100x100".into()),
            fail_deletes: false,
        };
        let err = deliver(&with_blobs(&rig, Arc::new(dying)), &key).await.unwrap_err();
        assert!(err.contains("injected"), "{err}");
        assert!(exists(&rig, &card).await && !exists(&rig, &thumb).await, "{engine:?}: one variant written");
        assert_eq!(status(&rig, &key).await, Some(UploadStatus::Pending));
        assert_eq!(create_with(&rig, &auth, &key).await.0, 404, "not ready: not usable");

        let out = deliver(&rig.ctx, &key).await.unwrap();
        assert_eq!(out["processed"][0]["status"], "READY", "{out}");
        assert!(exists(&rig, &card).await && exists(&rig, &thumb).await);
        let out = deliver(&rig.ctx, &key).await.unwrap();
        assert_eq!(out["processed"][0]["status"], "SKIPPED", "a third delivery is a no-op: {out}");
        assert_eq!(create_with(&rig, &auth, &key).await.0, 201);
    }
}

#[tokio::test]
async fn a_disguised_file_marks_the_upload_failed_once() {
    for engine in engines() {
        let rig = rig_on(engine, |t| t).await;
        let (auth, _) = signup(&rig).await;
        for bad in [b"<?php echo 'not a photo'; ?>".to_vec(), jpeg(400, 300)[..300].to_vec()] {
            let key = presigned_original(&rig, &auth, &bad).await;
            let out = deliver(&rig.ctx, &key).await.unwrap();
            assert_eq!(out["processed"][0]["status"], "FAILED", "{engine:?}: {out}");
            assert_eq!(status(&rig, &key).await, Some(UploadStatus::Failed));
            let out = deliver(&rig.ctx, &key).await.unwrap();
            assert_eq!(out["processed"][0]["status"], "SKIPPED", "not retried: {out}");
            let (s, b) = create_with(&rig, &auth, &key).await;
            assert_eq!((s, b["errorCode"].as_str()), (404, Some("PRE_UPLOADED_IMAGE_NOT_FOUND")));
            assert!(!exists(&rig, &uploads::variant_blob(&key, 440, 240)).await);
        }
    }
}

#[tokio::test]
async fn files_left_by_a_failed_delete_or_an_expired_upload_are_swept() {
    for engine in engines() {
        let rig = rig_on(engine, |t| t).await;
        let (auth, user_id) = signup(&rig).await;
        let used = presigned_original(&rig, &auth, &jpeg(800, 600)).await;
        deliver(&rig.ctx, &used).await.unwrap();
        let (s, b) = create_with(&rig, &auth, &used).await;
        assert_eq!(s, 201, "{b}");
        let id = b["data"]["id"].as_i64().unwrap();
        let unused = presigned_original(&rig, &auth, &jpeg(640, 480)).await;
        deliver(&rig.ctx, &unused).await.unwrap();

        // The storage fails every delete right after the group's commit.
        let broken = FaultyBlobs { inner: rig.ctx.blobs.clone(), fail_puts_containing: None, fail_deletes: true };
        let broken_rig = rig.with_blobs(Arc::new(broken));
        let path = format!("/api/v2/groups/{id}");
        let (s, _, _, _) = broken_rig
            .call(moim_groups::ROUTES, "DELETE /api/v2/groups/{groupId}", &path, "", &[("authorization", &auth)], "")
            .await;
        assert_eq!(s, 204, "the delete succeeds: files are not its answer");
        let (s, _, _, _) = rig.call(moim_groups::ROUTES, "GET /api/v2/groups/{groupId}", &path, "", &[], "").await;
        assert_eq!(s, 404);
        assert!(exists(&rig, &uploads::variant_blob(&used, 440, 240)).await, "{engine:?}: orphaned files remain");

        // An unexpired unconsumed upload is kept; once expired it is swept.
        let report = moim_sweeper::sweep(&rig.ctx).await.unwrap();
        assert_eq!(report.keys_swept, 1, "{engine:?}: {report:?}");
        for blob in uploads::blobs_of(&used) {
            assert!(!exists(&rig, &blob).await, "{blob} swept");
        }
        assert!(exists(&rig, &uploads::variant_blob(&unused, 100, 100)).await, "a live upload is kept");
        let past = chrono::Utc::now().timestamp() - 1;
        let expire = WriteOp::update(uploads::key(&unused), Update::new().set("expiresAt", past));
        let no_cooldown = WriteOp::delete(moim_store::groups::cooldown_key(user_id));
        rig.inner.transact(vec![expire, no_cooldown]).await.unwrap();
        let (s, b) = create_with(&rig, &auth, &unused).await;
        assert_eq!((s, b["errorCode"].as_str()), (404, Some("PRE_UPLOADED_IMAGE_NOT_FOUND")), "expired");
        let report = moim_sweeper::sweep(&rig.ctx).await.unwrap();
        assert_eq!(report.keys_swept, 1, "{report:?}");
        for blob in uploads::blobs_of(&unused) {
            assert!(!exists(&rig, &blob).await, "{blob} swept");
        }
        assert_eq!(moim_sweeper::sweep(&rig.ctx).await.unwrap().files_deleted, 0, "nothing left");
    }
}

#[tokio::test]
async fn a_sweep_budget_reaches_every_key_over_runs() {
    let rig = rig_on(moim_blackbox::Engine::Embedded, |t| t).await;
    let (auth, _) = signup(&rig).await;
    // A live upload, and an orphan whose key sorts after it.
    let live = presigned_original(&rig, &auth, &jpeg(200, 100)).await;
    let orphan = format!("{}-0000-4000-8000-000000000000", "ffffffff");
    rig.ctx.blobs.put(&uploads::variant_blob(&orphan, 100, 100), vec![1], "image/webp").await.unwrap();
    let mut runs = 0;
    while exists(&rig, &uploads::variant_blob(&orphan, 100, 100)).await {
        runs += 1;
        assert!(runs <= 40, "a one-key budget never reached the second key");
        moim_sweeper::sweep_at_most(&rig.ctx, 1).await.unwrap();
    }
    assert!(exists(&rig, &uploads::source_blob(&live)).await, "the live upload is kept");
}
