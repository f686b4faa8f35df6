//! What AWS does between functions, done in-process by `moim-local serve`:
//! the S3 ObjectCreated notification after a blob write under a trigger's
//! prefix (the same event JSON, delivered asynchronously and retried twice on
//! error, as Lambda's async invocation does), and the schedules.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use moim_store::{Blob, Blobs, StoreError};
use moim_web::AppContext;
use tokio::sync::mpsc::{unbounded_channel, UnboundedReceiver, UnboundedSender};

use crate::registry::{self, EventHandler};
use crate::template::Function;

/// A blob port that reports every write under a watched prefix.
pub struct NotifyingBlobs {
    inner: Arc<dyn Blobs>,
    prefixes: Vec<String>,
    tx: UnboundedSender<(String, usize)>,
}

#[async_trait]
impl Blobs for NotifyingBlobs {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), StoreError> {
        let size = bytes.len();
        self.inner.put(key, bytes, content_type).await?;
        if self.prefixes.iter().any(|p| key.starts_with(p.as_str())) {
            let _ = self.tx.send((key.to_string(), size));
        }
        Ok(())
    }
    async fn get(&self, key: &str) -> Result<Option<Blob>, StoreError> {
        self.inner.get(key).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        self.inner.delete(key).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.inner.list(prefix).await
    }
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        length: u64,
        expires_in: Duration,
    ) -> Result<String, StoreError> {
        self.inner.presign_put(key, content_type, length, expires_in).await
    }
    fn public_url(&self, key: &str) -> String {
        self.inner.public_url(key)
    }
}

struct S3Trigger {
    logical_id: String,
    prefix: String,
    handler: EventHandler,
    /// The function's view of the context (its ports only).
    ctx: Arc<AppContext>,
}

/// Attempts of one event delivery (Lambda's async invocation: 1 + 2 retries).
const DELIVERY_ATTEMPTS: u32 = 3;

/// Wraps the context's blobs so writes under the template's S3 trigger
/// prefixes invoke those functions, and starts the delivery task.
pub fn with_s3_triggers(ctx: Arc<AppContext>, functions: &[Function]) -> Result<Arc<AppContext>, String> {
    let mut found = Vec::new();
    for f in functions {
        for prefix in &f.s3_prefixes {
            let handler = registry::event_handler_of(&f.binary)
                .ok_or_else(|| format!("{}: binary {} is not built into moim-local", f.logical_id, f.binary))?;
            found.push((f, prefix.clone(), handler));
        }
    }
    if found.is_empty() {
        return Ok(ctx);
    }
    let (tx, rx) = unbounded_channel();
    let prefixes = found.iter().map(|(_, p, _)| p.clone()).collect();
    let blobs = Arc::new(NotifyingBlobs { inner: ctx.blobs.clone(), prefixes, tx });
    let ctx = Arc::new(AppContext { blobs, ..(*ctx).clone() });
    let mut triggers = Vec::new();
    for (f, prefix, handler) in found {
        let fctx = registry::context_of(&ctx, &f.binary)?;
        triggers.push(S3Trigger { logical_id: f.logical_id.clone(), prefix, handler, ctx: fctx });
    }
    tokio::spawn(deliver(ctx.config.bucket_name.clone(), triggers, rx));
    Ok(ctx)
}

async fn deliver(bucket: String, triggers: Vec<S3Trigger>, mut rx: UnboundedReceiver<(String, usize)>) {
    while let Some((key, size)) = rx.recv().await {
        let event = crate::event::s3_object_created(&bucket, &key, size);
        for t in triggers.iter().filter(|t| key.starts_with(t.prefix.as_str())) {
            let (ctx, event, key, handler, id) =
                (t.ctx.clone(), event.clone(), key.clone(), t.handler, t.logical_id.clone());
            // Each event is its own invocation, concurrent with the others.
            tokio::spawn(async move {
                for attempt in 1..=DELIVERY_ATTEMPTS {
                    match handler(&ctx, event.clone()).await {
                        Ok(out) => {
                            tracing::info!(function = %id, key, result = %out, "s3 event handled");
                            return;
                        }
                        Err(e) => {
                            tracing::warn!(function = %id, key, attempt, error = %e, "s3 event failed");
                            tokio::time::sleep(Duration::from_millis(200 * u64::from(attempt))).await;
                        }
                    }
                }
            });
        }
    }
}

/// Runs the scheduled functions every `interval` (their template `rate(...)`
/// is replaced by one local interval; 0 disables).
pub fn start_schedules(
    ctx: Arc<AppContext>,
    functions: &[Function],
    interval: Duration,
) -> Result<Vec<String>, String> {
    let mut started = Vec::new();
    if interval.is_zero() {
        return Ok(started);
    }
    for f in functions.iter().filter(|f| !f.schedules.is_empty()) {
        let handler = registry::event_handler_of(&f.binary)
            .ok_or_else(|| format!("{}: binary {} is not built into moim-local", f.logical_id, f.binary))?;
        let (ctx, id) = (registry::context_of(&ctx, &f.binary)?, f.logical_id.clone());
        started.push(id.clone());
        tokio::spawn(async move {
            let mut tick = tokio::time::interval_at(tokio::time::Instant::now() + interval, interval);
            loop {
                tick.tick().await;
                let event =
                    serde_json::json!({ "source": "aws.events", "detail-type": "Scheduled Event", "detail": {} });
                match handler(&ctx, event).await {
                    Ok(out) => tracing::info!(function = %id, result = %out, "scheduled run"),
                    Err(e) => tracing::warn!(function = %id, error = %e, "scheduled run failed"),
                }
            }
        });
    }
    Ok(started)
}
