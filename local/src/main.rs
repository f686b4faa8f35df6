//! moim-local CLI. Stable interface (scripts depend on it):
//!   moim-local serve [--addr HOST:PORT] [--data DIR]
//!   moim-local invoke <LogicalId> -e <event.json> [--data DIR]
//!   moim-local routes
//!   moim-local sweep [--data DIR]
//!   moim-local backfill-search [--data DIR]

use std::path::PathBuf;
use std::sync::Arc;

use clap::{Parser, Subcommand};
use moim_local::{context, serve, template, TEMPLATE};

#[derive(Parser)]
#[command(name = "moim-local", about = "Run the moim API locally: every function of template.yaml, in-process.")]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Serve the whole HTTP API (embedded store unless MOIM_STORE=dynamodb).
    Serve {
        /// Address to listen on (port 0 picks a free port; the URL is printed).
        #[arg(long, default_value = "127.0.0.1:3000")]
        addr: String,
        /// Data directory of the embedded store (kept across restarts).
        #[arg(long, default_value = ".moim")]
        data: PathBuf,
    },
    /// Run one function on one API Gateway event file and print the response JSON.
    Invoke {
        /// The function's logical id in template.yaml, e.g. UsersFunction.
        logical_id: String,
        /// The event JSON file (see events/).
        #[arg(short = 'e', long = "event")]
        event: PathBuf,
        #[arg(long, default_value = ".moim")]
        data: PathBuf,
    },
    /// List the routes read from template.yaml.
    Routes,
    /// Run the sweeper once (files of expired or removed uploads) and print its report.
    Sweep {
        #[arg(long, default_value = ".moim")]
        data: PathBuf,
    },
    /// Index every group into the configured search engine (SEARCH_ENGINE; e.g.
    /// an OpenSearch domain beside MOIM_STORE=dynamodb on AWS). Safe to repeat.
    BackfillSearch {
        #[arg(long, default_value = ".moim")]
        data: PathBuf,
    },
}

/// How often `serve` runs the scheduled functions (the sweeper); 0 = never.
fn schedule_interval() -> Result<std::time::Duration, String> {
    match std::env::var("MOIM_SWEEP_INTERVAL_SECS") {
        Err(_) => Ok(std::time::Duration::from_secs(3600)),
        Ok(v) => v
            .trim()
            .parse()
            .map(std::time::Duration::from_secs)
            .map_err(|_| format!("MOIM_SWEEP_INTERVAL_SECS={v}: a number of seconds")),
    }
}

#[tokio::main]
async fn main() {
    let cli = Cli::parse();
    if let Err(e) = run(cli).await {
        eprintln!("moim-local: {e}");
        std::process::exit(1);
    }
}

async fn run(cli: Cli) -> Result<(), String> {
    let functions = template::functions(TEMPLATE)?;
    match cli.command {
        Command::Routes => {
            for f in &functions {
                for r in &f.routes {
                    println!("{:<16} {r}", f.logical_id);
                }
            }
            Ok(())
        }
        Command::Invoke { logical_id, event, data } => {
            // No log subscriber: stdout carries only the response JSON.
            let f = functions
                .iter()
                .find(|f| f.logical_id == logical_id)
                .ok_or_else(|| format!("no function {logical_id} in template.yaml"))?;
            let text = std::fs::read_to_string(&event).map_err(|e| format!("{}: {e}", event.display()))?;
            let ev: serde_json::Value = serde_json::from_str(&text).map_err(|e| format!("{}: {e}", event.display()))?;
            let (ctx, _) = context(data, "http://127.0.0.1:3000".into()).await?;
            let ctx = moim_local::registry::context_of(&ctx, &f.binary)?;
            let out = match (
                moim_local::registry::routes_of(&f.binary),
                moim_local::registry::event_handler_of(&f.binary),
                moim_local::registry::stream_handler_of(&f.binary),
            ) {
                (Some(routes), _, _) => moim_local::invoke::invoke(&ctx, routes, ev).await?,
                (None, Some(handler), _) => handler(&ctx, ev).await?,
                (None, None, Some(handler)) => moim_local::invoke::invoke_stream(ctx, handler, ev).await,
                (None, None, None) => match moim_local::registry::ws_handler_of(&f.binary) {
                    Some(handler) => handler(&ctx, ev).await?,
                    None => return Err("function not built into moim-local".into()),
                },
            };
            println!("{}", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?);
            Ok(())
        }
        Command::Sweep { data } => {
            let handler = moim_local::registry::event_handler_of("sweeper").ok_or("no sweeper built in")?;
            let (ctx, _) = context(data, "http://127.0.0.1:3000".into()).await?;
            let ctx = moim_local::registry::context_of(&ctx, "sweeper")?;
            let out = handler(&ctx, serde_json::json!({})).await?;
            println!("{}", serde_json::to_string_pretty(&out).map_err(|e| e.to_string())?);
            Ok(())
        }
        Command::BackfillSearch { data } => {
            let (ctx, _) = context(data, "http://127.0.0.1:3000".into()).await?;
            let search = ctx.search.clone().ok_or("SEARCH_ENGINE is none: nothing to fill")?;
            search.prepare().await.map_err(|e| e.to_string())?;
            let progress = |n| eprintln!("backfill: {n} groups indexed");
            let n = moim_search_indexer::backfill(&*ctx.table, &*search, progress).await?;
            println!("{}", serde_json::json!({ "indexed": n }));
            Ok(())
        }
        Command::Serve { addr, data } => {
            moim_web::router::init_tracing();
            let listener = tokio::net::TcpListener::bind(&addr).await.map_err(|e| format!("{addr}: {e}"))?;
            let bound = listener.local_addr().map_err(|e| e.to_string())?;
            let url = format!("http://{bound}");
            let (ctx, fs) = context(data.clone(), url.clone()).await?;
            let store = match ctx.config.store {
                moim_web::config::StoreKind::Embedded => format!("embedded ({})", data.display()),
                moim_web::config::StoreKind::DynamoDb => format!("dynamodb (table {})", ctx.config.table_name),
            };
            let interval = schedule_interval()?;
            let ctx = moim_local::triggers::with_s3_triggers(ctx, &functions)?;
            let scheduled = moim_local::triggers::start_schedules(ctx.clone(), &functions, interval)?;
            let local_blobs = fs.is_some();
            let gateway = Arc::new(serve::Gateway::new(ctx, &functions, fs)?);
            println!("moim-local listening on {url}");
            println!("store: {store}");
            println!(
                "routes: {} from template.yaml; Ctrl-C stops",
                functions.iter().map(|f| f.routes.len()).sum::<usize>()
            );
            println!("docs: {url}/docs (OpenAPI at {url}/openapi.json)");
            if let Some(path) = gateway.ws_path() {
                let ws_url = url.replacen("http", "ws", 1);
                println!("websocket: STOMP at {ws_url}{path}, SockJS at {url}{}", moim_local::ws::SOCKJS_PREFIX);
            }
            if local_blobs {
                println!("blobs: {url}{}<key>; S3 triggers run in-process", moim_store::blob::FS_BLOB_PATH);
            }
            if !scheduled.is_empty() {
                println!(
                    "scheduled: {} every {} s (MOIM_SWEEP_INTERVAL_SECS)",
                    scheduled.join(", "),
                    interval.as_secs()
                );
            }
            serve::serve(gateway, listener).await.map_err(|e| e.to_string())
        }
    }
}
