//! The group list and keyword search at scale through `moim-local serve`
//! (embedded engine): 100 → 10,000 → 100,000 groups.
//!
//!   cargo build --release -p moim-local -p moim-bench
//!   target/release/search-bench [--sizes 100,10000,100000] [--requests 300] [--warmup 30] [--creates 10]
//!
//! For each N, on a fresh server:
//! 1. N groups are written straight into its table (`EmbeddedTable` on
//!    `<data>/moim.sqlite3`, transactions of 50 puts of `groups::meta_item`),
//!    ids `1_000_000 + n` growing with age. One old group (among the oldest
//!    1%) has the rare word 바오밥나무 in its description; the rest share a few
//!    common descriptions; ~90% RECRUITING in the future, ~5% CANCELLED, ~5%
//!    with a past start (FINISHED, archived).
//! 2. The server is stopped, `search.sqlite3` removed, and the server started
//!    again on the same data: it back-fills the index from the table before it
//!    listens. The bench starts that process itself (not `Server::restart`)
//!    to stamp every log line as it arrives and to wait longer than the
//!    harness's 60 s for the listening line.
//! 3. The rare keyword must find the old group on the first page.
//! 4. p50 / p99 of sequential pages (`size=20`): the plain list, a rare
//!    keyword, a common keyword, 1-character keywords.
//! 5. Indexing lag: a group created over HTTP with a unique word, searched for
//!    (polled) from the moment the create is sent until a page has it.
//!
//! Writes bench/results/search.md and bench/results/search-latency.svg.

use moim_blackbox::fixtures::urlencode;
use std::io::{BufRead, BufReader};
use std::path::{Path, PathBuf};
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use chrono::{DateTime, Utc};
use moim_blackbox::{Client, Engine, Resp, Server};
use moim_domain::group::*;
use moim_store::{EmbeddedTable, Table, WriteOp};
use serde_json::json;

const BASE_ID: i64 = 1_000_000;
const RARE_WORD: &str = "바오밥나무";
const RARE_KEYWORD: &str = "바오밥";
const COMMON_KEYWORD: &str = "운동";
const ONE_CHAR_COMMON: &str = "책";
const ONE_CHAR_RARE: &str = "밥";
const BATCH: usize = 50;

/// (title, description, location) of the ordinary groups, cycled through by id.
const TOPICS: [(&str, &str, &str); 8] = [
    ("주말 등산 모임", "북한산 같이 올라요 초보 환영", "서울 은평구"),
    ("퇴근 후 운동", "같이 운동해요 헬스장 앞에서", "서울 강남구"),
    ("책 읽는 밤", "한 달에 한 권 책 이야기", "서울 마포구"),
    ("보드게임 번개", "보드게임 카페에서 만나요", "서울 마포구"),
    ("한강 러닝 크루", "5km 같이 뛰고 운동해요", "서울 영등포구"),
    ("코딩 스터디", "러스트 스터디 같이 공부해요", "서울 강남구"),
    ("을지로 맛집 탐방", "노포 맛집 투어", "서울 중구"),
    ("사진 출사", "주말 아침 출사 같이 가요", "서울 종로구"),
];

/// The position (1-based, oldest first) of the group with the rare word: within the oldest 1%.
fn rare_position(n: usize) -> usize {
    (n / 200).max(1)
}

#[derive(Clone, Copy, PartialEq)]
enum Kind {
    Active,
    Cancelled,
    Past,
}

fn kind_of(pos: usize, n: usize) -> Kind {
    if pos == rare_position(n) {
        return Kind::Active;
    }
    match pos % 20 {
        3 => Kind::Cancelled,
        13 => Kind::Past,
        _ => Kind::Active,
    }
}

fn seeded_group(pos: usize, n: usize, now: DateTime<Utc>) -> Group {
    let id = BASE_ID + pos as i64;
    let (title, description, location) = if pos == rare_position(n) {
        ("책 모임".to_string(), format!("{RARE_WORD} 아래에서 책 읽기"), "서울 용산구")
    } else {
        let (t, d, l) = TOPICS[pos % TOPICS.len()];
        (format!("{t} {pos}"), d.to_string(), l)
    };
    let kind = kind_of(pos, n);
    // Created one minute apart, the newest just now.
    let created_at = now - chrono::Duration::minutes((n - pos) as i64 + 1);
    let start_time = match kind {
        Kind::Past => now - chrono::Duration::days(1 + (pos % 30) as i64),
        _ => now + chrono::Duration::days(1 + (pos % 30) as i64),
    };
    Group {
        title,
        location: location.into(),
        start_time,
        description,
        status: if kind == Kind::Cancelled { GroupStatus::Cancelled } else { GroupStatus::Recruiting },
        created_at,
        updated_at: created_at,
        ..moim_blackbox::fixtures::group(id)
    }
}

fn matches(pos: usize, n: usize, keyword: &str, now: DateTime<Utc>) -> bool {
    let g = seeded_group(pos, n, now);
    [g.title, g.location, g.description].iter().any(|f| f.contains(keyword))
}

/// The ids of the newest `k` active groups (among all, or those matching `keyword`).
fn expected_first_page(n: usize, keyword: Option<&str>, k: usize, now: DateTime<Utc>) -> Vec<i64> {
    (1..=n)
        .rev()
        .filter(|p| kind_of(*p, n) == Kind::Active)
        .filter(|p| keyword.is_none_or(|w| matches(*p, n, w, now)))
        .take(k)
        .map(|p| BASE_ID + p as i64)
        .collect()
}

fn ids(r: &Resp) -> Vec<i64> {
    r.data()["items"].as_array().map(|a| a.iter().filter_map(|g| g["id"].as_i64()).collect()).unwrap_or_default()
}

fn pct(sorted: &[f64], p: f64) -> f64 {
    if sorted.is_empty() {
        return f64::NAN;
    }
    sorted[((sorted.len() - 1) as f64 * p).round() as usize]
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

fn file_size(p: &Path) -> u64 {
    std::fs::metadata(p).map(|m| m.len()).unwrap_or(0)
}

/// The main file and its WAL (what the store occupies on disk right now).
fn db_size(data: &Path, name: &str) -> (u64, u64) {
    (file_size(&data.join(name)), file_size(&data.join(format!("{name}-wal"))))
}

fn mib(bytes: u64) -> String {
    format!("{:.1}", bytes as f64 / (1024.0 * 1024.0))
}

/// A `moim-local serve` process this bench started on an existing data dir;
/// every line it prints is kept with the instant it arrived.
struct Proc {
    child: Child,
    url: String,
    lines: Arc<Mutex<Vec<(Instant, String)>>>,
}

impl Proc {
    fn spawn(bin: &str, data: &Path, env: &[(&str, &str)], wait: Duration) -> (Proc, Instant) {
        let mut cmd = Command::new(bin);
        cmd.args(["serve", "--addr", "127.0.0.1:0", "--data"]).arg(data);
        cmd.env_remove("MOIM_STORE");
        for (k, v) in env {
            cmd.env(k, v);
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let started = Instant::now();
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {bin}: {e}"));
        let lines: Arc<Mutex<Vec<(Instant, String)>>> = Arc::default();
        let (tx, rx) = std::sync::mpsc::channel();
        let (out, err) = (child.stdout.take().unwrap(), child.stderr.take().unwrap());
        let l1 = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(out).lines().map_while(Result::ok) {
                let at = Instant::now();
                if let Some(k) = line.strip_prefix("moim-local: indexing groups for search: ") {
                    if k.trim().parse::<usize>().is_ok_and(|k| k.is_multiple_of(10_000)) {
                        eprintln!(
                            "  backfill: {} groups indexed after {:.1} s",
                            k.trim(),
                            (at - started).as_secs_f64()
                        );
                    }
                }
                let url = line.strip_prefix("moim-local listening on ").map(|u| u.trim().to_string());
                // Kept before the listening URL is handed over, so the caller finds its line.
                l1.lock().unwrap().push((at, line));
                if let Some(url) = url {
                    let _ = tx.send(url);
                }
            }
        });
        let l2 = lines.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(err).lines().map_while(Result::ok) {
                l2.lock().unwrap().push((Instant::now(), line));
            }
        });
        let url = match rx.recv_timeout(wait) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                let log: Vec<String> = lines.lock().unwrap().iter().map(|(_, l)| l.clone()).collect();
                panic!("moim-local did not listen within {wait:?}: {log:?}");
            }
        };
        (Proc { child, url, lines }, started)
    }

    /// The instant of the first line containing `needle`.
    fn line_at(&self, needle: &str) -> Option<(Instant, String)> {
        self.lines.lock().unwrap().iter().find(|(_, l)| l.contains(needle)).cloned()
    }
}

impl Drop for Proc {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

struct Series {
    name: &'static str,
    path: String,
    items: usize,
    p50: f64,
    p99: f64,
    max: f64,
}

struct SizeRun {
    n: usize,
    seed: Duration,
    first_start: Duration,
    backfill: Duration,
    to_listen: Duration,
    indexed: Option<usize>,
    search_bytes: (u64, u64),
    table_bytes: (u64, u64),
    rare_found: bool,
    rare_detail: String,
    checks: Vec<String>,
    series: Vec<Series>,
    creates: Vec<f64>,
    lags: Vec<f64>,
    polls: Vec<usize>,
    visible_at_answer: usize,
}

async fn time_page(c: &Client, path: &str, warm: usize, n: usize) -> (Vec<f64>, usize) {
    let mut items = 0;
    for _ in 0..warm {
        let r = c.get(path).await;
        assert_eq!(r.status, 200, "{path}: {}", r.text);
    }
    let mut v = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        let r = c.get(path).await;
        v.push(ms(t.elapsed()));
        assert_eq!(r.status, 200, "{path}: {}", r.text);
        items = ids(&r).len();
    }
    v.sort_by(f64::total_cmp);
    (v, items)
}

async fn run_size(bin: &str, n: usize, requests: usize, warm: usize, creates: usize) -> SizeRun {
    let env = [("RUST_LOG", "warn"), ("MOIM_SWEEP_INTERVAL_SECS", "0")];
    eprintln!("== N = {n}");
    let t = Instant::now();
    let mut srv = Server::start_with_env(bin, Engine::Embedded, &env);
    let first_start = t.elapsed();
    let data: PathBuf = srv.data_dir().to_path_buf();

    // ---- seed straight into the table, 50 puts per transaction.
    let now = Utc::now();
    let table = EmbeddedTable::open(data.join("moim.sqlite3")).unwrap();
    let t = Instant::now();
    let positions: Vec<usize> = (1..=n).collect();
    for chunk in positions.chunks(BATCH) {
        let ops =
            chunk.iter().map(|p| WriteOp::put(moim_store::groups::meta_item(&seeded_group(*p, n, now)))).collect();
        table.transact(ops).await.unwrap();
        let done = chunk[chunk.len() - 1];
        if done.is_multiple_of(10_000) {
            eprintln!("  seeded {done} / {n} groups in {:.1} s", t.elapsed().as_secs_f64());
        }
    }
    let seed = t.elapsed();
    drop(table);
    eprintln!("  seeded {n} groups in {:.1} s", seed.as_secs_f64());

    // ---- a fresh index: stop, remove search.sqlite3, start again (the back-fill runs before listening).
    assert!(srv.interrupt().is_some(), "moim-local did not stop on SIGINT");
    for f in ["search.sqlite3", "search.sqlite3-wal", "search.sqlite3-shm"] {
        let _ = std::fs::remove_file(data.join(f));
    }
    let (proc, started) = Proc::spawn(bin, &data, &env, Duration::from_secs(1200));
    let listening = proc.line_at("moim-local listening on").map(|(at, _)| at).unwrap();
    let (done_at, indexed) = match proc.line_at("moim-local: indexed ") {
        Some((at, l)) => {
            (at, l.trim_start_matches("moim-local: indexed ").split(' ').next().and_then(|k| k.parse().ok()))
        }
        None => (listening, None),
    };
    let backfill = done_at - started;
    let to_listen = listening - started;
    eprintln!(
        "  back-filled {indexed:?} groups in {:.1} s (listening after {:.1} s)",
        backfill.as_secs_f64(),
        to_listen.as_secs_f64()
    );
    let search_bytes = db_size(&data, "search.sqlite3");
    let table_bytes = db_size(&data, "moim.sqlite3");
    let c = Client::new(&proc.url);
    let mut checks = Vec::new();
    if indexed != Some(n) {
        checks.push(format!("the back-fill reported {indexed:?} groups, expected {n}"));
    }

    // ---- 1. the rare word on the first page.
    let rare_id = BASE_ID + rare_position(n) as i64;
    let r = c.get(&format!("/api/v2/groups?keyword={}&size=20", urlencode(RARE_KEYWORD))).await;
    assert_eq!(r.status, 200, "{}", r.text);
    let got = ids(&r);
    let rare_found = got.contains(&rare_id);
    let rare_detail = format!("{got:?}, nextCursor {}", r.data()["nextCursor"]);
    if !rare_found {
        eprintln!("  FAIL: {RARE_KEYWORD} did not find group {rare_id} on the first page: {}", r.text);
    }
    // The other pages are checked against the seeding plan once.
    let expect = [
        ("plain list", "/api/v2/groups?size=20".to_string(), expected_first_page(n, None, 20, now)),
        (
            "common keyword",
            format!("/api/v2/groups?keyword={}&size=20", urlencode(COMMON_KEYWORD)),
            expected_first_page(n, Some(COMMON_KEYWORD), 20, now),
        ),
        (
            "1-char common",
            format!("/api/v2/groups?keyword={}&size=20", urlencode(ONE_CHAR_COMMON)),
            expected_first_page(n, Some(ONE_CHAR_COMMON), 20, now),
        ),
        ("1-char rare", format!("/api/v2/groups?keyword={}&size=20", urlencode(ONE_CHAR_RARE)), vec![rare_id]),
    ];
    for (name, path, want) in &expect {
        let got = ids(&c.get(path).await);
        if &got != want {
            checks.push(format!("{name}: first page {got:?}, expected {want:?}"));
        }
    }

    // ---- 2. latency of sequential pages.
    let pages: [(&'static str, String); 5] = [
        ("plain list", "/api/v2/groups?size=20".into()),
        ("rare keyword `바오밥`", format!("/api/v2/groups?keyword={}&size=20", urlencode(RARE_KEYWORD))),
        ("common keyword `운동`", format!("/api/v2/groups?keyword={}&size=20", urlencode(COMMON_KEYWORD))),
        ("1-char keyword `책` (common)", format!("/api/v2/groups?keyword={}&size=20", urlencode(ONE_CHAR_COMMON))),
        ("1-char keyword `밥` (rare)", format!("/api/v2/groups?keyword={}&size=20", urlencode(ONE_CHAR_RARE))),
    ];
    let mut series = Vec::new();
    for (name, path) in pages {
        let (v, items) = time_page(&c, &path, warm, requests).await;
        eprintln!("  {name}: p50 {:.2} ms, p99 {:.2} ms ({items} items)", pct(&v, 0.5), pct(&v, 0.99));
        let shown = path.split('?').next().unwrap_or_default().to_string()
            + "?"
            + &form_urlencoded::parse(path.split('?').nth(1).unwrap_or_default().as_bytes())
                .map(|(k, v)| format!("{k}={v}"))
                .collect::<Vec<_>>()
                .join("&");
        series.push(Series { name, path: shown, items, p50: pct(&v, 0.5), p99: pct(&v, 0.99), max: pct(&v, 1.0) });
    }

    // ---- 3. indexing lag of groups created over HTTP (one per user: 5 s cooldown).
    let mut users = Vec::new();
    for i in 0..creates {
        users.push(c.register(&format!("lag{i}@bench.com"), &format!("lag{i}")).await.0);
    }
    let (mut create_ms, mut lags, mut polls, mut visible_at_answer) = (Vec::new(), Vec::new(), Vec::new(), 0);
    for (i, host) in users.into_iter().enumerate() {
        let word = format!("무지개{i}송어");
        let search = format!("/api/v2/groups?keyword={}&size=20", urlencode(&word));
        let body = json!({
            "title": format!("{word} 낚시"), "location": "서울 강동구", "locationDetail": null,
            "startTime": (Utc::now() + chrono::Duration::days(3)).format("%Y-%m-%dT%H:%M:%S").to_string(),
            "endTime": null, "tags": [], "description": "같이 낚시해요", "maxParticipants": 6, "joinPolicy": "FREE",
        });
        let t0 = Instant::now();
        let create = tokio::spawn(async move {
            let r = host.post("/api/v2/groups/create", Some(body)).await;
            (r, Instant::now())
        });
        let mut found = None;
        let mut k = 0;
        while found.is_none() && t0.elapsed() < Duration::from_secs(10) {
            let r = c.get(&search).await;
            k += 1;
            if !ids(&r).is_empty() {
                found = Some(Instant::now());
            } else {
                tokio::time::sleep(Duration::from_millis(1)).await;
            }
        }
        let (r, answered) = create.await.unwrap();
        assert_eq!(r.status, 201, "{}", r.text);
        let id = r.data()["id"].as_i64().unwrap();
        // A search sent after the answer must have it.
        let after = ids(&c.get(&search).await);
        if after == vec![id] {
            visible_at_answer += 1;
        } else {
            checks.push(format!("create #{i}: a search after the 201 returned {after:?}, expected [{id}]"));
        }
        create_ms.push(ms(answered - t0));
        match found {
            Some(at) => lags.push(ms(at - t0)),
            None => checks.push(format!("create #{i}: not found by search within 10 s")),
        }
        polls.push(k);
    }
    create_ms.sort_by(f64::total_cmp);
    lags.sort_by(f64::total_cmp);
    polls.sort();
    drop(proc);
    drop(srv);
    SizeRun {
        n,
        seed,
        first_start,
        backfill,
        to_listen,
        indexed,
        search_bytes,
        table_bytes,
        rare_found,
        rare_detail,
        checks,
        series,
        creates: create_ms,
        lags,
        polls,
        visible_at_answer,
    }
}

/// p50 and p99 of the plain list and the rare keyword against N (log x-axis).
fn svg(runs: &[SizeRun]) -> String {
    let (w, h) = (640.0, 400.0);
    let (left, right, top, bottom) = (70.0, 170.0, 40.0, 60.0);
    let (pw, ph) = (w - left - right, h - top - bottom);
    let lines: [(usize, bool, &str, &str); 4] = [
        (0, false, "list p50", "#1f77b4"),
        (0, true, "list p99", "#1f77b4"),
        (1, false, "바오밥 p50", "#d62728"),
        (1, true, "바오밥 p99", "#d62728"),
    ];
    let value = |r: &SizeRun, s: usize, p99: bool| if p99 { r.series[s].p99 } else { r.series[s].p50 };
    let ymax_raw = runs
        .iter()
        .flat_map(|r| lines.iter().map(move |(s, p, _, _)| value(r, *s, *p)))
        .fold(0.0f64, f64::max)
        .max(0.1);
    // A round top: 1, 2 or 5 times a power of ten.
    let mag = 10f64.powf(ymax_raw.log10().floor());
    let ymax = [1.0, 2.0, 5.0, 10.0].iter().map(|m| m * mag).find(|v| *v >= ymax_raw).unwrap_or(10.0 * mag);
    let (xmin, xmax) = (
        (runs.iter().map(|r| r.n).min().unwrap_or(1) as f64).log10().floor(),
        (runs.iter().map(|r| r.n).max().unwrap_or(10) as f64).log10().ceil(),
    );
    let xmax = if xmax <= xmin { xmin + 1.0 } else { xmax };
    let x = |n: usize| left + ((n as f64).log10() - xmin) / (xmax - xmin) * pw;
    let y = |v: f64| top + ph - v / ymax * ph;
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" viewBox=\"0 0 {w} {h}\" \
         font-family=\"sans-serif\" font-size=\"12\">\n\
         <rect width=\"{w}\" height=\"{h}\" fill=\"white\"/>\n\
         <text x=\"{cx}\" y=\"22\" text-anchor=\"middle\" font-size=\"14\">GET /api/v2/groups?size=20 latency vs number of groups (moim-local, embedded)</text>\n",
        cx = w / 2.0
    );
    // Axes and grid.
    for k in 0..=5 {
        let v = ymax * k as f64 / 5.0;
        let yy = y(v);
        s.push_str(&format!(
            "<line x1=\"{left}\" y1=\"{yy:.1}\" x2=\"{:.1}\" y2=\"{yy:.1}\" stroke=\"#ddd\"/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\" text-anchor=\"end\">{}</text>\n",
            left + pw,
            left - 6.0,
            yy + 4.0,
            fmt_tick(v)
        ));
    }
    let mut e = xmin as i32;
    while e as f64 <= xmax {
        let n = 10usize.pow(e as u32);
        let xx = x(n);
        s.push_str(&format!(
            "<line x1=\"{xx:.1}\" y1=\"{top}\" x2=\"{xx:.1}\" y2=\"{:.1}\" stroke=\"#ddd\"/>\n\
             <text x=\"{xx:.1}\" y=\"{:.1}\" text-anchor=\"middle\">{}</text>\n",
            top + ph,
            top + ph + 18.0,
            fmt_n(n)
        ));
        e += 1;
    }
    s.push_str(&moim_bench::chart::axes(left, top, pw, ph, "groups in the store (log scale)", "ms per page"));
    // The curves.
    for (i, (si, p99, label, color)) in lines.iter().enumerate() {
        let pts: Vec<String> = runs.iter().map(|r| format!("{:.1},{:.1}", x(r.n), y(value(r, *si, *p99)))).collect();
        let dash = if *p99 { " stroke-dasharray=\"6 4\"" } else { "" };
        s.push_str(&format!(
            "<polyline points=\"{}\" fill=\"none\" stroke=\"{color}\" stroke-width=\"2\"{dash}/>\n",
            pts.join(" ")
        ));
        for r in runs {
            s.push_str(&format!(
                "<circle cx=\"{:.1}\" cy=\"{:.1}\" r=\"3\" fill=\"{color}\"/>\n",
                x(r.n),
                y(value(r, *si, *p99))
            ));
        }
        let ly = top + 10.0 + i as f64 * 20.0;
        let lx = left + pw + 15.0;
        s.push_str(&format!(
            "<line x1=\"{lx:.1}\" y1=\"{ly:.1}\" x2=\"{:.1}\" y2=\"{ly:.1}\" stroke=\"{color}\" stroke-width=\"2\"{dash}/>\n\
             <text x=\"{:.1}\" y=\"{:.1}\">{label}</text>\n",
            lx + 30.0,
            lx + 36.0,
            ly + 4.0
        ));
    }
    s.push_str("</svg>\n");
    s
}

fn fmt_tick(v: f64) -> String {
    if v == v.round() {
        format!("{v:.0}")
    } else if v * 10.0 == (v * 10.0).round() {
        format!("{v:.1}")
    } else {
        format!("{v:.2}")
    }
}

fn fmt_n(n: usize) -> String {
    let s = n.to_string();
    let mut out = String::new();
    for (i, ch) in s.chars().enumerate() {
        if i > 0 && (s.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(ch);
    }
    out
}

fn med(v: &[f64]) -> f64 {
    pct(v, 0.5)
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let num = |name: &str, default: usize| arg(name).and_then(|v| v.parse().ok()).unwrap_or(default);
    let sizes: Vec<usize> = arg("--sizes")
        .map(|s| s.split(',').map(|v| v.trim().replace('_', "").parse().expect("--sizes: numbers")).collect())
        .unwrap_or_else(|| vec![100, 10_000, 100_000]);
    let requests = num("--requests", 300);
    let warm = num("--warmup", 30);
    let creates = num("--creates", 10);
    let command = std::iter::once("target/release/search-bench".to_string())
        .chain(args.iter().skip(1).cloned())
        .collect::<Vec<_>>()
        .join(" ");
    let root = Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf();
    let bin = std::env::var("MOIM_LOCAL_BIN")
        .unwrap_or_else(|_| root.join("target/release/moim-local").to_string_lossy().into_owned());
    eprintln!("server: {bin}");
    let began = Instant::now();
    let mut runs = Vec::new();
    for n in sizes {
        runs.push(run_size(&bin, n, requests, warm, creates).await);
    }
    let total = began.elapsed();

    // ---- report.
    let (cpu, cores) = moim_blackbox::fixtures::machine();
    let (first, last) = (&runs[0], &runs[runs.len() - 1]);
    let ns = runs.iter().map(|r| fmt_n(r.n)).collect::<Vec<_>>();

    let mut t1 = String::from(
        "| N | rare group (position, oldest first) | on the first page | first page ids |\n|---|---|---|---|\n",
    );
    for r in &runs {
        t1.push_str(&format!(
            "| {} | {} ({}.) | {} | {} |\n",
            fmt_n(r.n),
            BASE_ID + rare_position(r.n) as i64,
            rare_position(r.n),
            if r.rare_found { "yes" } else { "**no**" },
            r.rare_detail
        ));
    }

    let mut t2 = format!(
        "| page | items | {} | ratio {} / {} (p50, p99) |\n|---|---|{}---|\n",
        ns.iter().map(|n| format!("N={n} p50 / p99 / max ms")).collect::<Vec<_>>().join(" | "),
        ns[ns.len() - 1],
        ns[0],
        "---|".repeat(ns.len())
    );
    for (i, s) in first.series.iter().enumerate() {
        let cells = runs
            .iter()
            .map(|r| {
                let x = &r.series[i];
                format!("{:.2} / {:.2} / {:.1}", x.p50, x.p99, x.max)
            })
            .collect::<Vec<_>>()
            .join(" | ");
        let items = runs.iter().map(|r| r.series[i].items.to_string()).collect::<Vec<_>>().join("/");
        let (a, b) = (&first.series[i], &last.series[i]);
        let (r50, r99) = (b.p50 / a.p50, b.p99 / a.p99);
        let flag = if r50 >= 2.0 || r99 >= 2.0 { " ⚠" } else { "" };
        t2.push_str(&format!("| {} `{}` | {items} | {cells} | {r50:.2}× / {r99:.2}×{flag} |\n", s.name, s.path));
    }

    let mut t3 = String::from(
        "| N | creates | create → 201, median ms (min–max) | create sent → first search hit, median ms (min–max) | searches per create (median) | found by the first search after the 201 |\n|---|---|---|---|---|---|\n",
    );
    for r in &runs {
        let range = |v: &[f64]| {
            format!(
                "{:.1} ({:.1}–{:.1})",
                med(v),
                v.first().copied().unwrap_or(f64::NAN),
                v.last().copied().unwrap_or(f64::NAN)
            )
        };
        t3.push_str(&format!(
            "| {} | {} | {} | {} | {} | {}/{} |\n",
            fmt_n(r.n),
            r.creates.len(),
            range(&r.creates),
            range(&r.lags),
            r.polls.get(r.polls.len() / 2).copied().unwrap_or(0),
            r.visible_at_answer,
            r.creates.len()
        ));
    }

    let mut t4 = String::from(
        "| N | seeding s (groups/s) | back-fill s (groups/s) | start → listening s | first start (empty store) s | groups indexed | search.sqlite3 MiB + -wal MiB | moim.sqlite3 MiB + -wal MiB |\n|---|---|---|---|---|---|---|---|\n",
    );
    for r in &runs {
        let rate = |d: Duration| r.n as f64 / d.as_secs_f64().max(1e-9);
        t4.push_str(&format!(
            "| {} | {:.2} ({:.0}) | {:.2} ({:.0}) | {:.2} | {:.2} | {} | {} + {} | {} + {} |\n",
            fmt_n(r.n),
            r.seed.as_secs_f64(),
            rate(r.seed),
            r.backfill.as_secs_f64(),
            rate(r.backfill),
            r.to_listen.as_secs_f64(),
            r.first_start.as_secs_f64(),
            r.indexed.map_or("?".into(), |k| k.to_string()),
            mib(r.search_bytes.0),
            mib(r.search_bytes.1),
            mib(r.table_bytes.0),
            mib(r.table_bytes.1),
        ));
    }

    let mut checks = String::new();
    for r in &runs {
        for c in &r.checks {
            checks.push_str(&format!("- N={}: {c}\n", fmt_n(r.n)));
        }
    }
    if checks.is_empty() {
        checks.push_str(
            "None: at every N the back-fill indexed every group; the plain list, `운동`, `책` and `밥` first pages were \
             exactly the newest active (matching) groups of the seeding plan; every created group was found by a search \
             sent after its 201.\n",
        );
    }

    let report = format!(
        "# Group list and keyword search at scale through moim-local (embedded engine)\n\n\
         {date} — `cargo build --release -p moim-local -p moim-bench && {command}`\n\n\
         Machine: {cores} cores (`nproc`), {cpu}; client (this bench) and server share them. Server: `moim-local serve` \
         release build, embedded store (SQLite table + SQLite FTS5 trigram search index in `search.sqlite3`), \
         `RUST_LOG=warn`, `MOIM_SWEEP_INTERVAL_SECS=0`. Total wall time {total:.0} s.\n\n\
         For each N a fresh server; N groups are written straight into its table (`EmbeddedTable` on `moim.sqlite3` \
         while the server runs, `groups::meta_item` puts in transactions of {BATCH}), ids `1_000_000 + n` growing with \
         age (created one minute apart). One group among the oldest 1% (position N/200) has `{RARE_WORD}` in its \
         description; the others cycle through {topics} title/description/location templates (`운동` in 2 of them, \
         `책` in 1). Status: 90% RECRUITING with a start 1–30 days ahead, 5% CANCELLED, 5% RECRUITING with a start \
         in the past (FINISHED, in the archive). The server is then stopped (SIGINT), `search.sqlite3` removed and \
         the server started again on the same data: it back-fills the index from the table before listening (the \
         bench starts that process itself to stamp each log line as it arrives). Latencies are measured by the client \
         (reqwest, keep-alive, JSON body parsed), one request at a time, {warm} warm-up requests then {requests} timed; \
         percentiles are nearest-rank.\n\n\
         ## 1. A rare word in one old group's description is on the first page\n\n\
         `GET /api/v2/groups?keyword=바오밥&size=20` (default filter: active groups).\n\n\
         {t1}\n\
         ## 2. Page latency (`size=20`, sequential)\n\n\
         Goal: the ratio {nl} / {nf} below 2× (⚠ marks one that is not). `items` = items on the page at each N.\n\n\
         {t2}\n\
         ![p50 and p99 of the plain list and the rare keyword against N](search-latency.svg)\n\n\
         ## 3. Indexing lag of a group created over HTTP\n\n\
         {creates} users each create one group (`POST /api/v2/groups/create`, one create per user per 5 s) whose title \
         holds a unique word (`무지개<i>송어`); from the moment the create is sent, the same client searches for that \
         word (`GET /api/v2/groups?keyword=…`) in a loop (1 ms pause between requests) until a page has it. \
         Locally the change feed indexes inside the create's commit, so the lag is about the create's own latency.\n\n\
         {t3}\n\
         ## 4. Seeding, back-fill and index size\n\n\
         Seeding = the table writes above (client side, JSON of each group included). Back-fill = from spawning the \
         restarted server until its `moim-local: indexed N groups for search` line; start → listening includes it. \
         Sizes: the main file and its `-wal`, right after the back-fill (the table's WAL also holds the seeding writes not yet checkpointed).\n\n\
         {t4}\n\
         ## Checks\n\n\
         {checks}",
        date = Utc::now().format("%Y-%m-%d %H:%M UTC"),
        total = total.as_secs_f64(),
        topics = TOPICS.len(),
        nl = ns[ns.len() - 1],
        nf = ns[0],
    );
    println!("{report}");
    let out = root.join("bench/results/search.md");
    std::fs::write(&out, &report).unwrap();
    let out_svg = root.join("bench/results/search-latency.svg");
    std::fs::write(&out_svg, svg(&runs)).unwrap();
    eprintln!("wrote {} and {}", out.display(), out_svg.display());
    if runs.iter().any(|r| !r.rare_found) {
        eprintln!("FAIL: the rare keyword missed its group at some N");
        std::process::exit(1);
    }
}
