//! HTTP benchmark through `moim-local serve` on the embedded engine: detail,
//! list page and attend/left, with a bare axum "hello" server measured in the
//! same run as the reference ratio.
//!
//!   cargo build --release -p moim-local -p moim-bench
//!   target/release/http-bench [--secs 8] [--concurrency 16]
//!
//! The server is the real release binary (MOIM_LOCAL_BIN, default
//! target/release/moim-local) on a temp data dir; load comes from this process
//! over loopback with keep-alive connections. Writes bench/results/http.md.

use std::time::{Duration, Instant};

use moim_blackbox::{Client, Engine, Server};
use serde_json::json;

struct Stats {
    name: String,
    requests: usize,
    errors: usize,
    secs: f64,
    lat: Vec<Duration>,
}

impl Stats {
    fn pct(&self, p: f64) -> f64 {
        if self.lat.is_empty() {
            return 0.0;
        }
        self.lat[((self.lat.len() - 1) as f64 * p).round() as usize].as_secs_f64() * 1000.0
    }
    fn rps(&self) -> f64 {
        self.requests as f64 / self.secs
    }
}

/// Runs `concurrency` workers for `secs`; worker `w` calls `f(w, i)` repeatedly.
async fn load<F, Fut>(name: &str, secs: u64, concurrency: usize, f: F) -> Stats
where
    F: Fn(usize, usize) -> Fut + Clone + Send + 'static,
    Fut: std::future::Future<Output = bool> + Send,
{
    let deadline = Instant::now() + Duration::from_secs(secs);
    let started = Instant::now();
    let tasks: Vec<_> = (0..concurrency)
        .map(|w| {
            let f = f.clone();
            tokio::spawn(async move {
                let (mut lat, mut errors, mut i) = (Vec::new(), 0usize, 0usize);
                while Instant::now() < deadline {
                    let t = Instant::now();
                    if !f(w, i).await {
                        errors += 1;
                    }
                    lat.push(t.elapsed());
                    i += 1;
                }
                (lat, errors)
            })
        })
        .collect();
    let mut lat = Vec::new();
    let mut errors = 0;
    for t in tasks {
        let (l, e) = t.await.unwrap();
        lat.extend(l);
        errors += e;
    }
    let secs = started.elapsed().as_secs_f64();
    lat.sort();
    eprintln!("  {name}: {} requests, {errors} errors", lat.len());
    Stats { name: name.to_string(), requests: lat.len(), errors, secs, lat }
}

async fn hello_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}", listener.local_addr().unwrap());
    tokio::spawn(async move {
        let app = axum::Router::new().route("/", axum::routing::get(|| async { "hello" }));
        axum::serve(listener, app).await.unwrap();
    });
    url
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| {
        args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).and_then(|v| v.parse::<u64>().ok())
    };
    let secs = arg("--secs").unwrap_or(8);
    let concurrency = arg("--concurrency").unwrap_or(16) as usize;
    let root = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let bin = std::env::var("MOIM_LOCAL_BIN")
        .unwrap_or_else(|_| root.join("target/release/moim-local").to_string_lossy().into_owned());
    eprintln!("server: {bin}; {concurrency} connections, {secs} s per scenario");
    let srv = Server::start_with_env(&bin, Engine::Embedded, &[("RUST_LOG", "warn")]);
    let c = srv.client();

    eprintln!("setup: {concurrency} hosts with a group each, {concurrency} members, 40 more groups");
    let start = (chrono::Utc::now() + chrono::Duration::days(7)).format("%Y-%m-%dT%H:%M:%S").to_string();
    let mut groups = Vec::new();
    let mut members: Vec<Client> = Vec::new();
    for i in 0..(concurrency + 40) {
        let (h, _, _) = c.register(&format!("h{i}@b.com"), &format!("host{i}")).await;
        let body = json!({"title": format!("벤치 모임 {i}"), "location": "서울", "startTime": start, "description": "bench",
                          "maxParticipants": 12, "joinPolicy": "FREE", "tags": ["bench"]});
        let r = h.post("/api/v2/groups/create", Some(body)).await;
        assert_eq!(r.status, 201, "{}", r.text);
        groups.push(r.data()["id"].as_i64().unwrap());
        if i < concurrency {
            members.push(c.register(&format!("m{i}@b.com"), &format!("member{i}")).await.0);
        }
    }

    let hello = hello_server().await;
    let http = reqwest::Client::new();
    let mut runs = Vec::new();
    eprintln!("running");
    {
        let http = http.clone();
        let url = format!("{hello}/");
        runs.push(
            load("bare axum hello (reference)", secs, concurrency, move |_, _| {
                let (http, url) = (http.clone(), url.clone());
                async move { http.get(&url).send().await.is_ok_and(|r| r.status() == 200) }
            })
            .await,
        );
    }
    {
        let (http, base, gs) = (http.clone(), srv.url.clone(), groups.clone());
        runs.push(
            load("GET /api/v2/groups/{id} (detail)", secs, concurrency, move |w, _| {
                let (http, url) = (http.clone(), format!("{base}/api/v2/groups/{}", gs[w % gs.len()]));
                async move { http.get(&url).send().await.is_ok_and(|r| r.status() == 200) }
            })
            .await,
        );
    }
    {
        let (http, base) = (http.clone(), srv.url.clone());
        runs.push(
            load("GET /api/v2/groups?size=20 (list page)", secs, concurrency, move |_, _| {
                let (http, url) = (http.clone(), format!("{base}/api/v2/groups?size=20"));
                async move { http.get(&url).send().await.is_ok_and(|r| r.status() == 200) }
            })
            .await,
        );
    }
    {
        let (gs, ms) = (groups.clone(), members.clone());
        runs.push(
            load("POST attend / left (alternating, one group per worker)", secs, concurrency, move |w, i| {
                let (m, g) = (ms[w].clone(), gs[w]);
                async move {
                    let path = if i % 2 == 0 {
                        format!("/api/v2/groups/{g}/attend")
                    } else {
                        format!("/api/v2/groups/{g}/left")
                    };
                    m.post(&path, None).await.status == 200
                }
            })
            .await,
        );
    }

    let reference = runs[0].rps();
    let mut report = format!(
        "# HTTP benchmark through moim-local (embedded engine)\n\n{} — `target/release/http-bench --secs {secs} --concurrency {concurrency}`; \
         {} cores; load generator, moim-local (release) and the reference server share the machine.\n\n\
         | scenario | requests | errors | req/s | p50 ms | p99 ms | vs hello |\n|---|---|---|---|---|---|---|\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    );
    for r in &runs {
        report += &format!(
            "| {} | {} | {} | {:.0} | {:.2} | {:.2} | {:.2} |\n",
            r.name,
            r.requests,
            r.errors,
            r.rps(),
            r.pct(0.5),
            r.pct(0.99),
            r.rps() / reference
        );
    }
    println!("{report}");
    let out = root.join("bench/results/http.md");
    std::fs::write(&out, report).unwrap();
    eprintln!("wrote {}", out.display());
}
