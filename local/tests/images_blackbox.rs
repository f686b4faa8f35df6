//! Photos over real HTTP against `moim-local serve` (API.md §4.1, §4.2/§4.6
//! images, §3 profile photo): uploads on every engine (S3 against moto), the
//! variants served and decoded, group writes consuming keys exactly once,
//! files deleted with their images, every bad input refused in the error body.

use std::time::Duration;

use image::{ImageFormat, Rgb, RgbImage};
use moim_blackbox::{engines, Client, Engine, Resp, Server};
use reqwest::Method;
use serde_json::{json, Value};

const BIN: &str = env!("CARGO_BIN_EXE_moim-local");
const UPLOAD: &str = "/api/v2/groups/images/upload";

fn encode(img: &RgbImage, format: ImageFormat) -> Vec<u8> {
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_to(&mut out, format).unwrap();
    out.into_inner()
}

/// A photo-like gradient of the given size.
fn photo(w: u32, h: u32, format: ImageFormat) -> Vec<u8> {
    encode(&RgbImage::from_fn(w, h, |x, y| Rgb([(x * 255 / w) as u8, (y * 255 / h) as u8, 90])), format)
}

/// A PNG that is only a header claiming `w`x`h` (no pixel data).
fn png_header(w: u32, h: u32) -> Vec<u8> {
    let mut ihdr = b"IHDR".to_vec();
    ihdr.extend(w.to_be_bytes());
    ihdr.extend(h.to_be_bytes());
    ihdr.extend([8, 2, 0, 0, 0]);
    let crc = crc32(&ihdr);
    let mut out = vec![0x89, b'P', b'N', b'G', 0x0D, 0x0A, 0x1A, 0x0A, 0, 0, 0, 13];
    out.extend(ihdr);
    out.extend(crc.to_be_bytes());
    out
}

fn crc32(bytes: &[u8]) -> u32 {
    let mut crc = 0xFFFF_FFFFu32;
    for b in bytes {
        crc ^= u32::from(*b);
        for _ in 0..8 {
            crc = if crc & 1 == 1 { (crc >> 1) ^ 0xEDB8_8320 } else { crc >> 1 };
        }
    }
    !crc
}

fn in_days(days: i64) -> String {
    (chrono::Utc::now() + chrono::Duration::days(days)).format("%Y-%m-%dT%H:%M:%S").to_string()
}

fn group_body(images: Value) -> Value {
    json!({
        "title": "사진 모임", "location": "서울", "startTime": in_days(3), "description": "사진과 함께",
        "maxParticipants": 4, "joinPolicy": "FREE", "images": images,
    })
}

async fn upload(c: &Client, files: &[(&str, &str, &[u8])]) -> Resp {
    let parts: Vec<(&str, &str, &str, &[u8])> = files.iter().map(|(n, ct, b)| ("images", *n, *ct, *b)).collect();
    c.multipart(Method::POST, UPLOAD, &parts).await
}

/// Uploads one JPEG and returns its imageKey and the two URLs.
async fn upload_one(c: &Client) -> (String, String, String) {
    let r = upload(c, &[("p.jpg", "image/jpeg", &photo(900, 700, ImageFormat::Jpeg))]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let i = &r.data()["images"][0];
    let s = |k: &str| i[k].as_str().unwrap().to_string();
    (s("imageKey"), s("imageUrl440x240"), s("imageUrl100x100"))
}

/// GET a blob URL: Some(bytes) when it exists.
/// moto keeps the bucket private as S3 does (reads go through the CDN in
/// production); it accepts any signature, so a dummy one reads the object.
/// The local gateway serves blobs publicly and ignores the header.
async fn fetch(url: &str) -> Option<Vec<u8>> {
    let auth = "AWS4-HMAC-SHA256 Credential=test/20260101/us-east-1/s3/aws4_request, SignedHeaders=host, Signature=0";
    let r = reqwest::Client::new().get(url).header("authorization", auth).send().await.unwrap();
    if r.status() != 200 {
        return None;
    }
    Some(r.bytes().await.unwrap().to_vec())
}

/// The blob at `url` is a WEBP of exactly `w`x`h`.
async fn assert_webp(url: &str, w: u32, h: u32) {
    let bytes = fetch(url).await.unwrap_or_else(|| panic!("{url} is not served"));
    assert_eq!(&bytes[..4], b"RIFF", "{url}");
    assert_eq!(&bytes[8..12], b"WEBP", "{url}");
    let img = image::load_from_memory_with_format(&bytes, ImageFormat::WebP).unwrap();
    assert_eq!((img.width(), img.height()), (w, h), "{url}");
}

#[tokio::test]
async fn photos_through_a_groups_life() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (host, _, _) = c.register("host@b.com", "Host").await;
        let (other, _, _) = c.register("other@b.com", "Other").await;

        let jpeg = photo(1600, 1200, ImageFormat::Jpeg);
        let png = photo(300, 500, ImageFormat::Png);
        let webp = photo(60, 40, ImageFormat::WebP);
        let r = upload(
            &host,
            &[("a.jpg", "image/jpeg", &jpeg), ("b.png", "image/png", &png), ("c.webp", "image/webp", &webp)],
        )
        .await;
        assert_eq!(r.status, 201, "{engine:?}: {}", r.text);
        let imgs = r.data()["images"].as_array().unwrap().clone();
        assert_eq!(imgs.len(), 3);
        for (i, img) in imgs.iter().enumerate() {
            assert_eq!(img["sortOrder"], i);
            assert!(uuid_like(img["imageKey"].as_str().unwrap()));
            // Variants exist when the 201 is sent.
            assert_webp(img["imageUrl440x240"].as_str().unwrap(), 440, 240).await;
            assert_webp(img["imageUrl100x100"].as_str().unwrap(), 100, 100).await;
        }
        let key = |i: usize| imgs[i]["imageKey"].as_str().unwrap().to_string();
        let card = |i: usize| imgs[i]["imageUrl440x240"].as_str().unwrap().to_string();

        // Create with two of them, the second as cover.
        let r = host
            .post(
                "/api/v2/groups/create",
                Some(group_body(
                    json!([{ "imageKey": key(0), "sortOrder": 1 }, { "imageKey": key(1), "sortOrder": 0 }]),
                )),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let g = r.data().clone();
        let id = g["id"].as_i64().unwrap();
        assert_eq!(g["defaultImage"], Value::Null);
        let got: Vec<&str> = g["images"].as_array().unwrap().iter().map(|i| i["imageKey"].as_str().unwrap()).collect();
        assert_eq!(got, [key(1), key(0)]);
        let v = &g["images"][0]["variants"];
        assert_eq!(v[0]["type"], "CARD_440_240");
        assert_eq!(v[0]["imageUrl"], card(1), "the group's variants carry the upload's URLs");
        assert_eq!(v[1]["type"], "THUMBNAIL_100_100");

        let list = c.get("/api/v2/groups").await;
        assert_eq!(list.data()["items"][0]["images"], json!([card(1), card(0)]));
        let detail = c.get(&format!("/api/v2/groups/{id}")).await;
        assert_eq!(detail.data()["images"], g["images"]);

        // A consumed key is gone for everyone.
        other
            .post("/api/v2/groups/create", Some(group_body(json!([{ "imageKey": key(0) }]))))
            .await
            .expect(404, "PRE_UPLOADED_IMAGE_NOT_FOUND");

        // Reorder (no sortOrder: request order), then replace one by the third upload.
        let r = host
            .patch(
                &format!("/api/v2/groups/{id}"),
                Some(json!({ "images": [{ "imageKey": key(0) }, { "imageKey": key(1) }] })),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let order: Vec<&str> =
            r.data()["images"].as_array().unwrap().iter().map(|i| i["imageKey"].as_str().unwrap()).collect();
        assert_eq!(order, [key(0), key(1)]);
        let r = host
            .patch(
                &format!("/api/v2/groups/{id}"),
                Some(json!({ "images": [{ "imageKey": key(2) }, { "imageKey": key(0) }] })),
            )
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert_eq!(r.data()["images"][0]["imageKey"], key(2));
        assert!(fetch(&card(1)).await.is_none(), "the removed image's files are deleted");
        assert!(fetch(&card(0)).await.is_some());
        // A removed key cannot come back.
        host.patch(&format!("/api/v2/groups/{id}"), Some(json!({ "images": [{ "imageKey": key(1) }] })))
            .await
            .expect(404, "PRE_UPLOADED_IMAGE_NOT_FOUND");
        // `null` keeps them, `[]` removes all (and the default image returns).
        let r = host.patch(&format!("/api/v2/groups/{id}"), Some(json!({ "title": "제목만", "images": null }))).await;
        assert_eq!(r.data()["images"].as_array().unwrap().len(), 2);
        let r = host.patch(&format!("/api/v2/groups/{id}"), Some(json!({ "images": [] }))).await;
        assert_eq!(r.data()["images"], json!([]));
        assert!(fetch(&card(2)).await.is_none() && fetch(&card(0)).await.is_none());
        assert!(c.get(&format!("/api/v2/groups/{id}")).await.data()["defaultImage"]["imageUrl440x240"].is_string());

        // Delete: the group's files go with it.
        tokio::time::sleep(Duration::from_millis(5100)).await; // creation cooldown
        let (k, card_url, thumb_url) = upload_one(&host).await;
        let r = host.post("/api/v2/groups/create", Some(group_body(json!([{ "imageKey": k }])))).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let id2 = r.data()["id"].as_i64().unwrap();
        assert_eq!(host.delete(&format!("/api/v2/groups/{id2}")).await.status, 204);
        assert!(fetch(&card_url).await.is_none() && fetch(&thumb_url).await.is_none(), "files deleted with the group");
    }
}

fn uuid_like(s: &str) -> bool {
    s.len() == 36 && s.chars().filter(|c| *c == '-').count() == 4
}

#[tokio::test]
async fn keys_are_single_use_owned_and_survive_failed_writes() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (host, _, _) = c.register("host@b.com", "Host").await;
        let (other, _, _) = c.register("other@b.com", "Other").await;
        let (k, _, _) = upload_one(&host).await;

        other
            .post("/api/v2/groups/create", Some(group_body(json!([{ "imageKey": k }]))))
            .await
            .expect(403, "PRE_UPLOADED_IMAGE_OWNER_MISMATCH");
        host.post("/api/v2/groups/create", Some(group_body(json!([{ "imageKey": "not-a-key" }]))))
            .await
            .expect(404, "PRE_UPLOADED_IMAGE_NOT_FOUND");
        // A create failing on its second key consumes neither.
        let unknown = "6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d";
        host.post("/api/v2/groups/create", Some(group_body(json!([{ "imageKey": k }, { "imageKey": unknown }]))))
            .await
            .expect(404, "PRE_UPLOADED_IMAGE_NOT_FOUND");
        let mut bad = group_body(json!([{ "imageKey": k }]));
        bad["endTime"] = json!(in_days(1));
        host.post("/api/v2/groups/create", Some(bad)).await.expect(400, "GROUP_TIME_INVALID_RANGE");

        // The same key in concurrent creates: exactly one 201.
        let body = group_body(json!([{ "imageKey": k }]));
        let results =
            futures::future::join_all((0..8).map(|_| host.post("/api/v2/groups/create", Some(body.clone())))).await;
        let won: Vec<&Resp> = results.iter().filter(|r| r.status == 201).collect();
        assert_eq!(won.len(), 1, "{engine:?}: {:?}", results.iter().map(|r| r.status).collect::<Vec<_>>());
        for r in results.iter().filter(|r| r.status != 201) {
            assert!(
                ["GROUP_CREATE_COOLDOWN_ACTIVE", "PRE_UPLOADED_IMAGE_NOT_FOUND"].contains(&r.error_code()),
                "{}",
                r.text
            );
        }
        let g1 = won[0].data()["id"].as_i64().unwrap();

        // The same new key in concurrent updates of two groups: exactly one takes it.
        tokio::time::sleep(Duration::from_millis(5100)).await;
        let r = host.post("/api/v2/groups/create", Some(group_body(json!([])))).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let g2 = r.data()["id"].as_i64().unwrap();
        let (k2, _, _) = upload_one(&host).await;
        let patch = json!({ "images": [{ "imageKey": k2 }] });
        let (p1, p2) = (format!("/api/v2/groups/{g1}"), format!("/api/v2/groups/{g2}"));
        let (a, b) = tokio::join!(host.patch(&p1, Some(patch.clone())), host.patch(&p2, Some(patch.clone())));
        let statuses = [a.status, b.status];
        assert!(statuses.contains(&200) && statuses.contains(&404), "{engine:?}: {statuses:?} {} {}", a.text, b.text);
        let holders: usize = futures::future::join_all([&p1, &p2].map(|p| c.get(p)))
            .await
            .iter()
            .filter(|d| d.data()["images"].as_array().unwrap().iter().any(|i| i["imageKey"] == k2))
            .count();
        assert_eq!(holders, 1);
    }
}

#[tokio::test]
async fn bad_uploads_are_refused_in_the_error_body_and_store_nothing() {
    let srv = Server::start(BIN, Engine::Embedded);
    let c = srv.client();
    let (u, _, _) = c.register("u@b.com", "Uploader").await;
    let jpeg = photo(800, 600, ImageFormat::Jpeg);

    upload(&c, &[("a.jpg", "image/jpeg", &jpeg)]).await.expect(401, "NOT_FOUND_TOKEN");
    u.post(UPLOAD, Some(json!({}))).await.expect(415, "UNSUPPORTED_MEDIA_TYPE");
    u.multipart(Method::POST, UPLOAD, &[("other", "a.jpg", "image/jpeg", &jpeg)])
        .await
        .expect(400, "NOT_FOUND_PARAMETER");
    u.multipart(Method::POST, UPLOAD, &[("images", "a.jpg", "image/jpeg", b"")])
        .await
        .expect(400, "NOT_FOUND_PARAMETER");
    let four: Vec<(&str, &str, &[u8])> = (0..4).map(|_| ("a.jpg", "image/jpeg", jpeg.as_slice())).collect();
    upload(&u, &four).await.expect(400, "IMAGE_UPLOAD_EXCEED");
    upload(&u, &[("a.gif", "image/gif", &jpeg)]).await.expect(400, "UNSUPPORTED_IMAGE_CONTENT_TYPE");
    upload(&u, &[("photo", "image/jpeg", &jpeg)]).await.expect(400, "MISSING_EXTENSION");
    upload(&u, &[("a.bmp", "image/jpeg", &jpeg)]).await.expect(400, "UNSUPPORTED_EXTENSION");
    let big = vec![0u8; 4 * 1024 * 1024 + 1];
    upload(&u, &[("a.jpg", "image/jpeg", &big)]).await.expect(413, "PAYLOAD_TOO_LARGE");
    // Bytes decide: text named .png, wrong magic, truncated, a 30000x30000 header,
    // 9000 px on a side, 49 MP — and a good file beside a bad one stores nothing.
    upload(&u, &[("a.png", "image/png", b"hello, I am text")]).await.expect(400, "INVALID_IMAGE_FORMAT");
    upload(&u, &[("a.jpg", "image/jpeg", &[0xFF, 0xD9, 0, 1, 2, 3])]).await.expect(400, "INVALID_IMAGE_FORMAT");
    upload(&u, &[("a.jpg", "image/jpeg", &jpeg[..jpeg.len() / 3])]).await.expect(400, "INVALID_IMAGE_FORMAT");
    upload(&u, &[("huge.png", "image/png", &png_header(30000, 30000))]).await.expect(400, "INVALID_IMAGE_FORMAT");
    upload(&u, &[("wide.png", "image/png", &png_header(9000, 100))]).await.expect(400, "INVALID_IMAGE_FORMAT");
    upload(&u, &[("mp.png", "image/png", &png_header(7000, 7000))]).await.expect(400, "INVALID_IMAGE_FORMAT");
    upload(&u, &[("a.jpg", "image/jpeg", &jpeg), ("b.png", "image/png", b"not a png")])
        .await
        .expect(400, "INVALID_IMAGE_FORMAT");
    let stored = walk(&srv.data_dir().join("blobs/objects"));
    assert!(stored.iter().all(|p| p.contains("/defaults/")), "nothing stored: {stored:?}");
    // A PNG sent as image/jpeg is still a PNG: accepted.
    let r = upload(&u, &[("real.jpg", "image/jpeg", &photo(100, 80, ImageFormat::Png))]).await;
    assert_eq!(r.status, 201, "{}", r.text);
    // The refused giants were never decoded: the server's memory stayed small.
    let status = std::fs::read_to_string(format!("/proc/{}/status", srv.pid())).unwrap();
    let hwm_kb: u64 = status
        .lines()
        .find_map(|l| l.strip_prefix("VmHWM:"))
        .and_then(|v| v.trim().trim_end_matches("kB").trim().parse().ok())
        .unwrap();
    assert!(hwm_kb < 300 * 1024, "peak RSS {hwm_kb} kB: something decoded a refused image");
}

fn walk(dir: &std::path::Path) -> Vec<String> {
    let mut out = Vec::new();
    if let Ok(entries) = std::fs::read_dir(dir) {
        for e in entries.flatten() {
            let p = e.path();
            if p.is_dir() {
                out.extend(walk(&p));
            } else {
                out.push(p.to_string_lossy().into_owned());
            }
        }
    }
    out
}

#[tokio::test]
async fn presigned_uploads_are_processed_by_the_trigger() {
    let srv = Server::start(BIN, Engine::Embedded);
    let c = srv.client();
    let (u, _, _) = c.register("u@b.com", "Uploader").await;
    let presign = |name: &str, ct: &str, size: usize| {
        u.post("/api/v2/groups/images/presign", Some(json!({ "fileName": name, "contentType": ct, "size": size })))
    };
    presign("a.jpg", "image/jpeg", 21 * 1024 * 1024).await.expect(400, "INVALID_IMAGE_SIZE");
    presign("a.gif", "image/gif", 10).await.expect(400, "UNSUPPORTED_IMAGE_CONTENT_TYPE");
    presign("a", "image/jpeg", 10).await.expect(400, "MISSING_EXTENSION");
    let r = u.post("/api/v2/groups/images/presign", Some(json!({ "fileName": "a.jpg" }))).await;
    r.expect(400, "INVALID_INPUT_VALUE");
    c.post("/api/v2/groups/images/presign", Some(json!({}))).await.expect(401, "NOT_FOUND_TOKEN");

    let jpeg = photo(3000, 2000, ImageFormat::Jpeg);
    let r = presign("big.jpg", "image/jpeg", jpeg.len()).await;
    assert_eq!(r.status, 201, "{}", r.text);
    let d = r.data().clone();
    let key = d["imageKey"].as_str().unwrap().to_string();
    let url = d["uploadUrl"].as_str().unwrap().to_string();
    assert!(d["expiresAt"].as_str().is_some_and(|t| !t.ends_with('Z')));
    // Not uploaded yet: the key cannot be used.
    u.post("/api/v2/groups/create", Some(group_body(json!([{ "imageKey": key }]))))
        .await
        .expect(404, "PRE_UPLOADED_IMAGE_NOT_FOUND");
    let http = reqwest::Client::new();
    let put = |ct: &str, body: Vec<u8>| http.put(&url).header("content-type", ct).body(body).send();
    assert_eq!(put("image/png", jpeg.clone()).await.unwrap().status(), 403, "signed for another type");
    assert_eq!(put("image/jpeg", jpeg[..100].to_vec()).await.unwrap().status(), 403, "signed for another length");
    assert_eq!(put("image/jpeg", jpeg.clone()).await.unwrap().status(), 200);
    let card = d["imageUrl440x240"].as_str().unwrap();
    let mut served = false;
    for _ in 0..100 {
        if fetch(card).await.is_some() {
            served = true;
            break;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    assert!(served, "the trigger did not process the upload");
    assert_webp(d["imageUrl100x100"].as_str().unwrap(), 100, 100).await;
    let r = u.post("/api/v2/groups/create", Some(group_body(json!([{ "imageKey": key }])))).await;
    assert_eq!(r.status, 201, "{}", r.text);
}

#[tokio::test]
async fn profile_photo_and_profile_changes_reach_every_copy() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (host, _, _) = c.register("host@b.com", "Host").await;
        let (member, member_id, _) = c.register("m@b.com", "Member").await;
        let r = host.post("/api/v2/groups/create", Some(group_body(json!([])))).await;
        let id = r.data()["id"].as_i64().unwrap();
        assert_eq!(member.post(&format!("/api/v2/groups/{id}/attend"), None).await.status, 200);

        let path = "/api/v1/users/profile-image";
        c.multipart(Method::PATCH, path, &[("file", "a.png", "image/png", &photo(10, 10, ImageFormat::Png))])
            .await
            .expect(401, "NOT_FOUND_TOKEN");
        member
            .multipart(Method::PATCH, path, &[("file", "a.png", "image/png", b"text")])
            .await
            .expect(400, "INVALID_IMAGE_FORMAT");
        member
            .multipart(Method::PATCH, path, &[("image", "a.png", "image/png", b"x")])
            .await
            .expect(400, "NOT_FOUND_PARAMETER");
        let r = member
            .multipart(Method::PATCH, path, &[("file", "me.jpg", "image/jpeg", &photo(640, 480, ImageFormat::Jpeg))])
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let first = r.data()["profileImage"].as_str().unwrap().to_string();
        assert!(first.ends_with("_440x240.webp"), "{first}");
        assert_eq!(r.data()["email"], "m@b.com", "the caller's own User");
        assert_webp(&first, 440, 240).await;

        let joined = |d: &Resp| d.data()["joinedMembers"].as_array().unwrap().clone();
        let d = c.get(&format!("/api/v2/groups/{id}")).await;
        let me = joined(&d).into_iter().find(|m| m["userId"] == member_id).unwrap();
        assert_eq!(me["profileImage"], first.as_str(), "the member list shows the new photo");

        // Replacing it deletes the old file.
        let r = member
            .multipart(Method::PATCH, path, &[("file", "me2.png", "image/png", &photo(200, 300, ImageFormat::Png))])
            .await;
        assert_eq!(r.status, 200, "{}", r.text);
        let second = r.data()["profileImage"].as_str().unwrap().to_string();
        assert_ne!(first, second);
        assert!(fetch(&first).await.is_none(), "the old photo is deleted");
        assert_webp(&second, 440, 240).await;

        // Nickname and message changes follow into the member list and the host card.
        assert_eq!(member.patch("/api/v1/users/profile", Some(json!({ "nickName": "Renamed" }))).await.status, 200);
        assert_eq!(
            host.patch("/api/v1/users/profile", Some(json!({ "profileMessage": "반가워요" }))).await.status,
            200
        );
        let d = c.get(&format!("/api/v2/groups/{id}")).await;
        let me = joined(&d).into_iter().find(|m| m["userId"] == member_id).unwrap();
        assert_eq!(me["nickName"], "Renamed");
        assert_eq!(me["profileImage"], second.as_str());
        assert_eq!(d.data()["createdBy"]["profileMessage"], "반가워요");
        let mine = member.get("/api/v2/groups/me").await;
        assert_eq!(mine.data()["items"][0]["id"], id);
    }
}
