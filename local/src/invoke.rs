//! Runs one API Gateway event through a function exactly as the Lambda runtime
//! would: the event JSON is decoded by lambda_http, the handler runs, and the
//! response is encoded back into the API Gateway response JSON.

use std::convert::Infallible;
use std::sync::Arc;

use lambda_http::lambda_runtime::{Context, LambdaEvent};
use lambda_http::request::LambdaRequest;
use lambda_http::{Adapter, Service};
use moim_web::{AppContext, Route};
use serde_json::Value;

pub async fn invoke(ctx: &Arc<AppContext>, routes: &'static [Route], event: Value) -> Result<Value, String> {
    let request: LambdaRequest =
        serde_json::from_value(event).map_err(|e| format!("not an API Gateway HTTP event: {e}"))?;
    let ctx = ctx.clone();
    let mut adapter = Adapter::from(lambda_http::service_fn(move |req: lambda_http::Request| {
        let ctx = ctx.clone();
        async move { Ok::<_, Infallible>(moim_web::dispatch(&ctx, routes, req).await) }
    }));
    let mut lambda_ctx = Context::default();
    lambda_ctx.request_id = uuid::Uuid::new_v4().to_string();
    let response =
        adapter.call(LambdaEvent::new(request, lambda_ctx)).await.map_err(|e: Infallible| -> String { match e {} })?;
    serde_json::to_value(response).map_err(|e| e.to_string())
}

/// Runs a response-streaming function on a function URL event (payload 2.0)
/// until its stream ends, and returns what the client would get: status,
/// headers and the whole body.
pub async fn invoke_stream(ctx: Arc<AppContext>, handler: crate::registry::StreamHandler, event: Value) -> Value {
    let token = event.pointer("/queryStringParameters/accessToken").and_then(Value::as_str).map(str::to_string);
    let last = event.pointer("/headers/last-event-id").and_then(Value::as_str).map(str::to_string);
    let path = event.get("rawPath").and_then(Value::as_str).unwrap_or("/").to_string();
    match handler(ctx, token, last).await {
        Ok(mut rx) => {
            let mut body = Vec::new();
            while let Some(chunk) = rx.recv().await {
                body.extend_from_slice(&chunk);
            }
            let headers: serde_json::Map<String, Value> =
                moim_notifications_stream::HEADERS.iter().map(|(k, v)| (k.to_string(), Value::from(*v))).collect();
            serde_json::json!({ "statusCode": 200, "headers": headers, "body": String::from_utf8_lossy(&body) })
        }
        Err(e) => serde_json::json!({
            "statusCode": e.status(),
            "headers": { "content-type": "application/json" },
            "body": e.body(&path).to_string(),
        }),
    }
}
