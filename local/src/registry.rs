//! The function binaries moim-local can run in-process, by binary name: HTTP
//! functions by their route tables, event functions (S3, schedule) by handler.

use std::sync::Arc;

use futures::future::BoxFuture;
use moim_web::{AppContext, Route};
use serde_json::Value;

/// (binary name as in template.yaml's BuildProperties, its route table)
pub const FUNCTIONS: &[(&str, &[Route])] = &[
    ("auth", moim_auth::ROUTES),
    ("users", moim_users::ROUTES),
    ("groups", moim_groups::ROUTES),
    ("notifications", moim_notifications::ROUTES),
    ("images", moim_images::ROUTES),
    ("chat", moim_chat::ROUTES),
];

/// A function invoked with a raw event (S3 notification, scheduled event).
pub type EventHandler = for<'a> fn(&'a AppContext, Value) -> BoxFuture<'a, Result<Value, String>>;

pub const EVENT_FUNCTIONS: &[(&str, EventHandler)] = &[
    ("image-processor", |ctx, ev| Box::pin(moim_image_processor::handle(ctx, ev))),
    ("sweeper", |ctx, _ev| Box::pin(moim_sweeper::handle(ctx))),
    // A DynamoDB Streams batch (moim-local feeds it in-process; `invoke` replays events/).
    ("search-indexer", |ctx, ev| {
        Box::pin(async move {
            let search = ctx.search.clone().ok_or("SEARCH_ENGINE is none: nothing to index into")?;
            Ok(moim_search_indexer::handle(&moim_search_indexer::SearchIndexer { search }, ev).await)
        })
    }),
];

/// A response-streaming function: (access token, Last-Event-ID) → its chunks, or
/// the error answered instead of a stream.
pub type StreamHandler =
    fn(
        Arc<AppContext>,
        Option<String>,
        Option<String>,
    ) -> BoxFuture<'static, Result<tokio::sync::mpsc::Receiver<bytes::Bytes>, moim_web::ApiError>>;

pub const STREAM_FUNCTIONS: &[(&str, StreamHandler)] = &[("notifications-stream", |ctx, token, last| {
    Box::pin(async move {
        let cfg = moim_notifications_stream::SseConfig::from_env();
        moim_notifications_stream::open(ctx, token.as_deref(), last.as_deref(), cfg).await
    })
})];

/// WebSocket API functions: one handler for `$connect`, `$default` and `$disconnect` events.
pub const WS_FUNCTIONS: &[(&str, EventHandler)] = &[("chat-ws", |ctx, ev| Box::pin(moim_chat::ws::handle(ctx, ev)))];

/// The engines each binary links besides the table (its crate's `PORTS`).
pub const PORTS: &[(&str, u8)] = &[
    ("auth", moim_auth::PORTS),
    ("users", moim_users::PORTS),
    ("groups", moim_groups::PORTS),
    ("notifications", moim_notifications::PORTS),
    ("notifications-stream", moim_notifications_stream::PORTS),
    ("images", moim_images::PORTS),
    ("image-processor", moim_image_processor::PORTS),
    ("chat", moim_chat::PORTS),
    ("chat-ws", moim_chat::PORTS),
    ("sweeper", moim_sweeper::PORTS),
    ("search-indexer", moim_search_indexer::PORTS),
];

/// `ctx` as the deployed `binary` has it: only the engines it links (see
/// `moim_web::ports`), so a handler using a port its function does not declare
/// fails here as it would on AWS.
pub fn context_of(ctx: &AppContext, binary: &str) -> Result<Arc<AppContext>, String> {
    let ports = PORTS
        .iter()
        .find(|(b, _)| *b == binary)
        .map(|(_, p)| *p)
        .ok_or_else(|| format!("binary {binary} declares no ports in moim-local's registry"))?;
    Ok(Arc::new(ctx.limited_to(ports)))
}

pub fn ws_handler_of(binary: &str) -> Option<EventHandler> {
    WS_FUNCTIONS.iter().find(|(b, _)| *b == binary).map(|(_, h)| *h)
}

pub fn stream_handler_of(binary: &str) -> Option<StreamHandler> {
    STREAM_FUNCTIONS.iter().find(|(b, _)| *b == binary).map(|(_, h)| *h)
}

pub fn routes_of(binary: &str) -> Option<&'static [Route]> {
    FUNCTIONS.iter().find(|(b, _)| *b == binary).map(|(_, r)| *r)
}

pub fn event_handler_of(binary: &str) -> Option<EventHandler> {
    EVENT_FUNCTIONS.iter().find(|(b, _)| *b == binary).map(|(_, h)| *h)
}
