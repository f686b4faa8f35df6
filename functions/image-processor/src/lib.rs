//! The image processor: S3 ObjectCreated events for `incoming/<imageKey>` (an
//! original written by the API or a presigned PUT) run the shared pipeline.
//! S3 may deliver an event twice or late; the pipeline is idempotent, and a
//! storage failure is returned as an error so Lambda retries the event.

/// The engines this function links besides the table (blobs: sources and variants).
pub const PORTS: u8 = moim_web::ports::BLOBS;

use aws_lambda_events::s3::S3Event;
use moim_images::pipeline::{self, Processed};
use moim_store::uploads;
use moim_web::AppContext;
use serde_json::{json, Value};

/// Handles one S3 event (any number of records); returns what was done per key.
pub async fn handle(ctx: &AppContext, event: Value) -> Result<Value, String> {
    let event: S3Event = serde_json::from_value(event).map_err(|e| format!("not an S3 event: {e}"))?;
    let mut done = Vec::new();
    for record in event.records {
        let Some(key) = record.s3.object.key else { continue };
        let Some(image_key) = key.strip_prefix(uploads::INCOMING_PREFIX).filter(|k| uploads::valid_image_key(k)) else {
            tracing::info!(key, "not an upload original; ignored");
            continue;
        };
        let outcome = pipeline::process_stored(ctx, image_key).await.map_err(|e| format!("{key}: {e}"))?;
        tracing::info!(key, outcome = ?outcome, "processed");
        let (status, reason) = match &outcome {
            Processed::Ready => ("READY", None),
            Processed::Failed(why) => ("FAILED", Some(why.clone())),
            Processed::Skipped(why) => ("SKIPPED", Some(why.to_string())),
        };
        done.push(json!({ "key": key, "status": status, "reason": reason }));
    }
    Ok(json!({ "processed": done }))
}
