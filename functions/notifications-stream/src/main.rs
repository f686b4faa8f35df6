//! The Lambda entry: a response-streaming function URL handler.

use std::convert::Infallible;
use std::pin::Pin;
use std::sync::Arc;

use bytes::Bytes;
use futures::{Stream, StreamExt};
use http::header::{HeaderName, HeaderValue};
use http_body::Frame;
use http_body_util::StreamBody;
use lambda_http::http::{Response, StatusCode};
use lambda_http::{service_fn, Error, Request, RequestExt};
use moim_notifications_stream::{open, SseConfig, HEADERS, PATH};

type Chunks = Pin<Box<dyn Stream<Item = Result<Frame<Bytes>, Infallible>> + Send>>;

#[tokio::main]
async fn main() -> Result<(), Error> {
    moim_web::router::init_tracing();
    let ctx = Arc::new(moim_web::AppContext::from_env_for_lambda::<{ moim_notifications_stream::PORTS }>()?);
    let cfg = SseConfig::from_env();
    lambda_http::run_with_streaming_response(service_fn(move |req: Request| {
        let ctx = ctx.clone();
        async move { Ok::<_, Infallible>(respond(ctx, cfg, req).await) }
    }))
    .await
}

fn response(status: u16, headers: &[(&'static str, &'static str)], body: Chunks) -> Response<StreamBody<Chunks>> {
    let mut res = Response::new(StreamBody::new(body));
    *res.status_mut() = StatusCode::from_u16(status).unwrap_or(StatusCode::INTERNAL_SERVER_ERROR);
    for (k, v) in headers {
        res.headers_mut().insert(HeaderName::from_static(k), HeaderValue::from_static(v));
    }
    res
}

async fn respond(ctx: Arc<moim_web::AppContext>, cfg: SseConfig, req: Request) -> Response<StreamBody<Chunks>> {
    let token = req.query_string_parameters_ref().and_then(|q| q.first("accessToken")).map(str::to_string);
    let last = req.headers().get("last-event-id").and_then(|v| v.to_str().ok()).map(str::to_string);
    match open(ctx, token.as_deref(), last.as_deref(), cfg).await {
        Ok(rx) => {
            let chunks = futures::stream::unfold(rx, |mut rx| async { rx.recv().await.map(|b| (b, rx)) });
            response(200, &HEADERS, Box::pin(chunks.map(|b| Ok(Frame::data(b)))))
        }
        Err(e) => {
            let json = Bytes::from(e.body(PATH).to_string());
            let once = futures::stream::once(async move { Ok(Frame::data(json)) });
            response(e.status(), &[("content-type", "application/json")], Box::pin(once))
        }
    }
}
