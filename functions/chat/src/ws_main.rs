//! Lambda entry of the WebSocket API: one handler for `$connect`, `$default`
//! and `$disconnect` (API.md §9). The context (table, push client) is built once.

use lambda_runtime::{service_fn, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), lambda_runtime::Error> {
    moim_web::router::init_tracing();
    let ctx = moim_web::AppContext::from_env_for_lambda::<{ moim_chat::PORTS }>()?;
    let ctx = &ctx;
    lambda_runtime::run(service_fn(move |event: LambdaEvent<Value>| async move {
        moim_chat::ws::handle(ctx, event.payload).await.map_err(lambda_runtime::Error::from)
    }))
    .await
}
