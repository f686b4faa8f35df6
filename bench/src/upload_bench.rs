//! End-to-end photo upload through `moim-local serve` (embedded engine): the
//! multipart POST of one photo until its 201 (checks, inline render of both
//! variants, records, files), then both variant URLs fetched (200, WEBP) —
//! what a client waits for before it can show the thumbnail.
//!
//!   cargo build --release -p moim-local -p moim-bench
//!   target/release/upload-bench [--runs 30] [--file photo.jpg]
//!
//! Without `--file`, a 4000x3000 noisy JPEG (q90) is made in memory. The server
//! is the release binary (MOIM_LOCAL_BIN, default target/release/moim-local).
//! Uploads run one at a time (a phone uploads its photos in one request).
//! Writes bench/results/upload.md.

use std::time::{Duration, Instant};

use image::{Rgb, RgbImage};
use moim_blackbox::{Engine, Server};

fn synthetic_photo() -> Vec<u8> {
    let (w, h) = (4000u32, 3000u32);
    let mut seed = 0x2545_F491_4F6C_DD1Du64;
    let img = RgbImage::from_fn(w, h, |x, y| {
        seed ^= seed << 13;
        seed ^= seed >> 7;
        seed ^= seed << 17;
        let noise = (seed % 24) as u32;
        let block = if (x / 400 + y / 300) % 3 == 0 { 60 } else { 0 };
        Rgb([((x * 255 / w) + noise).min(255) as u8, ((y * 255 / h) + block).min(255) as u8, (90 + noise) as u8])
    });
    let mut out = std::io::Cursor::new(Vec::new());
    img.write_with_encoder(image::codecs::jpeg::JpegEncoder::new_with_quality(&mut out, 90)).unwrap();
    out.into_inner()
}

fn pct(sorted: &[Duration], p: f64) -> f64 {
    sorted[((sorted.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let runs: usize = arg("--runs").and_then(|v| v.parse().ok()).unwrap_or(30);
    let (photo, source) = match arg("--file") {
        Some(f) => (std::fs::read(&f).expect("--file"), f),
        None => (synthetic_photo(), "synthetic 4000x3000 JPEG q90 (gradients + noise + blocks)".to_string()),
    };
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let bin = std::env::var("MOIM_LOCAL_BIN")
        .unwrap_or_else(|_| root.join("target/release/moim-local").to_string_lossy().into_owned());
    eprintln!("server: {bin}; {runs} uploads of {} bytes ({source})", photo.len());
    let srv =
        Server::start_with_env(&bin, Engine::Embedded, &[("RUST_LOG", "warn"), ("MOIM_SWEEP_INTERVAL_SECS", "0")]);
    let (u, _, _) = srv.client().register("bench@b.com", "bencher").await;
    let http = reqwest::Client::new();

    let (mut post, mut total) = (Vec::new(), Vec::new());
    for i in 0..=runs {
        let t = Instant::now();
        let r = u
            .multipart(
                reqwest::Method::POST,
                "/api/v2/groups/images/upload",
                &[("images", "photo.jpg", "image/jpeg", &photo)],
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let posted = t.elapsed();
        let img = &r.data()["images"][0];
        for k in ["imageUrl440x240", "imageUrl100x100"] {
            let res = http.get(img[k].as_str().unwrap()).send().await.unwrap();
            assert_eq!(res.status(), 200);
            let bytes = res.bytes().await.unwrap();
            assert_eq!(&bytes[8..12], b"WEBP");
        }
        if i > 0 {
            // The first upload warms the server up.
            post.push(posted);
            total.push(t.elapsed());
        }
    }
    post.sort();
    total.sort();
    let report = format!(
        "# Photo upload end to end through moim-local (embedded engine)\n\n\
         {} — `target/release/upload-bench --runs {runs}`; {} cores shared by client and server; input: {source}, {} bytes.\n\n\
         | step | runs | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|\n\
         | POST /api/v2/groups/images/upload → 201 (both variants stored) | {runs} | {:.1} | {:.1} | {:.1} |\n\
         | … + GET both variant URLs → 200 WEBP | {runs} | {:.1} | {:.1} | {:.1} |\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        photo.len(),
        pct(&post, 0.5),
        pct(&post, 0.99),
        pct(&post, 1.0),
        pct(&total, 0.5),
        pct(&total, 0.99),
        pct(&total, 1.0),
    );
    println!("{report}");
    let out = root.join("bench/results/upload.md");
    std::fs::write(&out, report).unwrap();
    eprintln!("wrote {}", out.display());
}
