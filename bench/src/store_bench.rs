//! Table engine benchmark: transact throughput and latency percentiles at
//! several concurrency levels, plus point reads and page queries.
//!
//!   cargo run --release -p moim-bench --bin store-bench [-- --ops 20000 [--dynamodb URL]]
//!
//! Each transact is shaped like a real write: a conditional put of a new item
//! (with GSI keys) plus an ADD on a shared-partition counter item of its own
//! worker, i.e. two items per transaction. Writes a markdown report to
//! bench/results/store-<engine>.md and prints it.

use std::sync::Arc;
use std::time::{Duration, Instant};

use moim_store::table::*;
use moim_store::{DynamoTable, EmbeddedTable};
use serde_json::json;

fn percentile(sorted: &[Duration], p: f64) -> f64 {
    if sorted.is_empty() {
        return 0.0;
    }
    let i = ((sorted.len() as f64 - 1.0) * p).round() as usize;
    sorted[i].as_secs_f64() * 1000.0
}

struct Run {
    label: String,
    ops: usize,
    wall: Duration,
    lat: Vec<Duration>,
}

impl Run {
    fn row(&self) -> String {
        format!(
            "| {} | {} | {:.0} | {:.3} | {:.3} | {:.3} |",
            self.label,
            self.ops,
            self.ops as f64 / self.wall.as_secs_f64(),
            percentile(&self.lat, 0.50),
            percentile(&self.lat, 0.99),
            percentile(&self.lat, 1.0),
        )
    }
}

async fn drive<F, Fut>(label: &str, ops: usize, concurrency: usize, f: F) -> Run
where
    F: Fn(usize, usize) -> Fut + Send + Sync + 'static + Clone,
    Fut: std::future::Future<Output = ()> + Send,
{
    let started = Instant::now();
    let per = ops / concurrency;
    let tasks: Vec<_> = (0..concurrency)
        .map(|w| {
            let f = f.clone();
            tokio::spawn(async move {
                let mut lat = Vec::with_capacity(per);
                for i in 0..per {
                    let t = Instant::now();
                    f(w, i).await;
                    lat.push(t.elapsed());
                }
                lat
            })
        })
        .collect();
    let mut lat: Vec<Duration> = futures::future::join_all(tasks).await.into_iter().flat_map(|r| r.unwrap()).collect();
    let wall = started.elapsed();
    lat.sort();
    Run { label: label.to_string(), ops: per * concurrency, wall, lat }
}

#[tokio::main]
async fn main() {
    let args: Vec<String> = std::env::args().collect();
    let arg = |name: &str| args.iter().position(|a| a == name).and_then(|i| args.get(i + 1)).cloned();
    let ops: usize = arg("--ops").and_then(|v| v.parse().ok()).unwrap_or(20_000);
    let dir = tempfile::tempdir().unwrap();
    let (engine, table): (&str, Arc<dyn Table>) = match arg("--dynamodb") {
        Some(ep) => {
            let client = moim_store::dynamo::client(Some(&ep)).await;
            let name = format!("bench-{}", chrono::Utc::now().timestamp_millis());
            moim_store::schema::TableDef::from_workspace_template().unwrap().create(&client, &name).await.unwrap();
            ("dynamodb-local", Arc::new(DynamoTable::new(client, name)))
        }
        None => ("embedded", Arc::new(EmbeddedTable::open(dir.path().join("bench.sqlite3")).unwrap())),
    };
    eprintln!("engine {engine}, {ops} ops per run");
    let mut runs = Vec::new();
    for concurrency in [1, 8, 32] {
        let t = table.clone();
        let label = format!("transact (put new + ADD counter), {concurrency} concurrent");
        eprintln!("running: {label}");
        runs.push(
            drive(&label, ops, concurrency, move |w, i| {
                let t = t.clone();
                async move {
                    let mut item = Item::new();
                    item.insert(PK.into(), json!(format!("B#{concurrency}#{w}")));
                    item.insert(SK.into(), json!(format!("I#{i:08}")));
                    item.insert(GSI1PK.into(), json!(format!("G#{}", i % 16)));
                    item.insert(GSI1SK.into(), json!(format!("{i:08}#{w}")));
                    item.insert("payload".into(), json!("x".repeat(200)));
                    let counter = Key::new(format!("C#{concurrency}#{w}"), "COUNT");
                    t.transact(vec![WriteOp::put_new(item), WriteOp::update(counter, Update::new().add("n", 1))])
                        .await
                        .unwrap();
                }
            })
            .await,
        );
    }
    let t = table.clone();
    eprintln!("running: get");
    runs.push(
        drive("get (point read)", ops, 8, move |w, i| {
            let t = t.clone();
            async move {
                t.get(&Key::new(format!("B#8#{}", w % 8), format!("I#{:08}", i % (ops / 8)))).await.unwrap().unwrap();
            }
        })
        .await,
    );
    let t = table.clone();
    eprintln!("running: query");
    runs.push(
        drive("query GSI page of 20", ops / 4, 8, move |_, i| {
            let t = t.clone();
            async move {
                let page = t.query(Query::gsi1(format!("G#{}", i % 16)).backward().limit(20)).await.unwrap();
                assert_eq!(page.items.len(), 20);
            }
        })
        .await,
    );
    let mut report = format!(
        "# Table engine benchmark: {engine}\n\n{} — `cargo run --release -p moim-bench --bin store-bench -- --ops {ops}{}` on {} cores.\n\n| operation | ops | ops/s | p50 ms | p99 ms | max ms |\n|---|---|---|---|---|---|\n",
        chrono::Utc::now().format("%Y-%m-%d %H:%M UTC"),
        if engine == "embedded" { String::new() } else { " --dynamodb <endpoint>".into() },
        std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1),
    );
    for r in &runs {
        report += &r.row();
        report.push('\n');
    }
    println!("{report}");
    let out = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("results").join(format!("store-{engine}.md"));
    std::fs::write(&out, report).unwrap();
    eprintln!("wrote {}", out.display());
}
