//! Cold start of Lambda packages, the way Lambda starts them: a fresh process
//! of the `bootstrap` binary with `AWS_LAMBDA_RUNTIME_API` pointing at a local
//! Runtime API, timed from spawn to the first byte of its first response (an
//! HTTP response, a streamed response or an event result). Every function is
//! measured in the same run as the reference (a bare `lambda_runtime` hello),
//! interleaved round by round so a busy core slows them alike.
//!
//! ```text
//! lambda-cold-start --runs 30 --out bench/results/lambda-cold-start.md \
//!     hello=target/lambda/lambda/lambda-hello/bootstrap:events/sweeper-scheduled.json \
//!     users=target/lambda/lambda/users/bootstrap:events/users-email-availability.json ...
//! ```
//! The functions get this process's environment (table, endpoints, credentials).
//! Writes a markdown table and an SVG of the medians beside it.

use std::path::PathBuf;
use std::process::Stdio;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::IntoResponse;
use axum::routing::{get, post};
use axum::Router;
use tokio::sync::{mpsc, Notify};

struct Target {
    name: String,
    bootstrap: PathBuf,
    event: String,
}

/// What the Runtime API saw of the current process.
enum Outcome {
    Response,
    Error(String),
}

#[derive(Clone)]
struct Api {
    event: Arc<Mutex<String>>,
    served: Arc<Mutex<bool>>,
    tx: mpsc::UnboundedSender<(Instant, Outcome)>,
    never: Arc<Notify>,
}

async fn next(State(api): State<Api>) -> impl IntoResponse {
    let first = !std::mem::replace(&mut *api.served.lock().unwrap(), true);
    if !first {
        // One invocation per process: the second poll waits until the process is killed.
        api.never.notified().await;
    }
    let deadline = (std::time::SystemTime::now() + Duration::from_secs(30))
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis();
    let mut h = HeaderMap::new();
    h.insert("lambda-runtime-aws-request-id", "cold-start-1".parse().unwrap());
    h.insert("lambda-runtime-deadline-ms", deadline.to_string().parse().unwrap());
    h.insert(
        "lambda-runtime-invoked-function-arn",
        "arn:aws:lambda:us-east-1:000000000000:function:cold-start".parse().unwrap(),
    );
    h.insert("lambda-runtime-trace-id", "Root=1-00000000-000000000000000000000000".parse().unwrap());
    h.insert("content-type", "application/json".parse().unwrap());
    (h, api.event.lock().unwrap().clone())
}

async fn response(State(api): State<Api>, Path(_id): Path<String>) -> StatusCode {
    let _ = api.tx.send((Instant::now(), Outcome::Response));
    StatusCode::ACCEPTED
}

async fn error(State(api): State<Api>, body: String) -> StatusCode {
    let _ = api.tx.send((Instant::now(), Outcome::Error(body)));
    StatusCode::ACCEPTED
}

async fn error_with_id(state: State<Api>, Path(_id): Path<String>, body: String) -> StatusCode {
    error(state, body).await
}

fn percentile(sorted: &[f64], p: f64) -> f64 {
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i.min(sorted.len() - 1)]
}

fn svg(rows: &[(String, f64, f64)]) -> String {
    let (w, bar, gap, left) = (720.0, 22.0, 8.0, 170.0);
    let max = rows.iter().map(|r| r.2).fold(1.0, f64::max) * 1.1;
    let h = 50.0 + rows.len() as f64 * (bar + gap);
    let mut s = format!(
        "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"{w}\" height=\"{h}\" font-family=\"sans-serif\" font-size=\"12\">\
         <text x=\"10\" y=\"18\" font-size=\"14\">Cold start (spawn → first response), median and p90, ms</text>"
    );
    for (i, (name, p50, p90)) in rows.iter().enumerate() {
        let y = 32.0 + i as f64 * (bar + gap);
        let scale = (w - left - 80.0) / max;
        let colour = if name == "hello" { "#999" } else { "#3a7bd5" };
        s += &format!(
            "<text x=\"{}\" y=\"{}\" text-anchor=\"end\">{name}</text>\
             <rect x=\"{left}\" y=\"{y}\" width=\"{}\" height=\"{bar}\" fill=\"{colour}\"/>\
             <line x1=\"{}\" x2=\"{}\" y1=\"{}\" y2=\"{}\" stroke=\"#333\"/>\
             <text x=\"{}\" y=\"{}\">{p50:.1} / {p90:.1}</text>",
            left - 6.0,
            y + 15.0,
            p50 * scale,
            left + p90 * scale,
            left + p90 * scale,
            y + 3.0,
            y + bar - 3.0,
            left + p90 * scale + 6.0,
            y + 15.0,
        );
    }
    s + "</svg>\n"
}

#[tokio::main]
async fn main() -> Result<(), String> {
    let mut runs = 30usize;
    let mut out = PathBuf::from("bench/results/lambda-cold-start.md");
    let mut targets = Vec::new();
    let mut args = std::env::args().skip(1);
    while let Some(a) = args.next() {
        match a.as_str() {
            "--runs" => runs = args.next().and_then(|v| v.parse().ok()).ok_or("--runs N")?,
            "--out" => out = args.next().ok_or("--out FILE")?.into(),
            spec => {
                let (name, rest) = spec.split_once('=').ok_or(format!("{spec}: expected name=bootstrap:event.json"))?;
                let (bin, event) =
                    rest.rsplit_once(':').ok_or(format!("{spec}: expected name=bootstrap:event.json"))?;
                let event = std::fs::read_to_string(event).map_err(|e| format!("{event}: {e}"))?;
                targets.push(Target { name: name.into(), bootstrap: bin.into(), event });
            }
        }
    }
    if targets.is_empty() {
        return Err("no targets: name=bootstrap:event.json ...".into());
    }

    let (tx, mut rx) = mpsc::unbounded_channel();
    let api = Api {
        event: Arc::new(Mutex::new(String::new())),
        served: Arc::new(Mutex::new(false)),
        tx,
        never: Arc::new(Notify::new()),
    };
    let app = Router::new()
        .route("/2018-06-01/runtime/invocation/next", get(next))
        .route("/2018-06-01/runtime/invocation/{id}/response", post(response))
        .route("/2018-06-01/runtime/invocation/{id}/error", post(error_with_id))
        .route("/2018-06-01/runtime/init/error", post(error))
        .with_state(api.clone());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.map_err(|e| e.to_string())?;
    let addr = listener.local_addr().map_err(|e| e.to_string())?;
    tokio::spawn(async move { axum::serve(listener, app).await });

    let mut samples: Vec<Vec<f64>> = vec![Vec::new(); targets.len()];
    for round in 0..runs {
        for (i, t) in targets.iter().enumerate() {
            *api.event.lock().unwrap() = t.event.clone();
            *api.served.lock().unwrap() = false;
            while rx.try_recv().is_ok() {}
            let started = Instant::now();
            let mut child = tokio::process::Command::new(&t.bootstrap)
                .env("AWS_LAMBDA_RUNTIME_API", addr.to_string())
                .env("AWS_LAMBDA_FUNCTION_NAME", &t.name)
                .env("AWS_LAMBDA_FUNCTION_MEMORY_SIZE", "512")
                .env("AWS_LAMBDA_FUNCTION_VERSION", "$LATEST")
                .env("AWS_LAMBDA_LOG_STREAM_NAME", "cold-start")
                .env("AWS_LAMBDA_LOG_GROUP_NAME", "cold-start")
                .stdout(Stdio::null())
                .stderr(Stdio::piped())
                .kill_on_drop(true)
                .spawn()
                .map_err(|e| format!("{}: {e}", t.bootstrap.display()))?;
            let outcome = tokio::time::timeout(Duration::from_secs(20), rx.recv()).await;
            let _ = child.start_kill();
            let status = child.wait_with_output().await.map_err(|e| e.to_string())?;
            match outcome {
                Ok(Some((at, Outcome::Response))) => samples[i].push((at - started).as_secs_f64() * 1000.0),
                Ok(Some((_, Outcome::Error(body)))) => return Err(format!("{}: the function failed: {body}", t.name)),
                _ => {
                    return Err(format!(
                        "{}: no response within 20 s; stderr:\n{}",
                        t.name,
                        String::from_utf8_lossy(&status.stderr)
                    ))
                }
            }
        }
        eprintln!("[lambda-cold-start] round {}/{runs} done", round + 1);
    }

    let mut rows = Vec::new();
    for (t, s) in targets.iter().zip(&mut samples) {
        s.sort_by(f64::total_cmp);
        rows.push((t.name.clone(), percentile(s, 0.5), percentile(s, 0.9)));
    }
    let hello = rows.iter().find(|r| r.0 == "hello").map(|r| r.1);
    let mut md = String::from("| function | p50 ms | p90 ms | p50 / hello |\n|---|---:|---:|---:|\n");
    for (name, p50, p90) in &rows {
        let ratio = hello.map(|h| format!("{:.2}×", p50 / h)).unwrap_or_else(|| "–".into());
        md += &format!("| {name} | {p50:.1} | {p90:.1} | {ratio} |\n");
    }
    print!("{md}");
    let svg_path = out.with_extension("svg");
    let header = format!(
        "# Lambda cold start (fresh process → first response)\n\n- {} rounds, every function once per round, interleaved; {} CPUs\n- \
         a local Runtime API (this binary) serves one event per process; the function reaches DynamoDB Local / moto \
         through the environment\n- reproduce: `bench/lambda-cold-start.sh`\n\n![cold start per function beside the hello]({})\n\n",
        runs,
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
        svg_path.file_name().and_then(|n| n.to_str()).unwrap_or_default(),
    );
    std::fs::write(&out, header + &md).map_err(|e| e.to_string())?;
    std::fs::write(&svg_path, svg(&rows)).map_err(|e| e.to_string())?;
    eprintln!("[lambda-cold-start] wrote {} and {}", out.display(), svg_path.display());
    Ok(())
}
