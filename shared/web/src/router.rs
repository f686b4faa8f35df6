//! Dispatch of one API Gateway HTTP API request to a function's route table,
//! the catch-all 404/405, panic containment, request ids and one JSON log line
//! per request. The Lambda runtime and moim-local both enter here.

use std::panic::AssertUnwindSafe;
use std::time::Instant;

use futures::future::BoxFuture;
use futures::FutureExt;
use lambda_http::request::RequestContext;
use lambda_http::{Body, RequestExt, Response};
use moim_domain::ErrorCode;

use crate::context::AppContext;
use crate::error::ApiError;
use crate::reply::Reply;
use crate::request::Req;
use crate::routes::{resolve, CATALOG, DEFAULT_ROUTE};

pub type Handler = for<'a> fn(&'a AppContext, Req) -> BoxFuture<'a, Result<Reply, ApiError>>;

/// One route of a function: its API Gateway route key and handler.
#[derive(Clone, Copy)]
pub struct Route {
    pub key: &'static str,
    pub handler: Handler,
}

/// `route!("POST /api/v1/auth/signup", signup)` for an `async fn(&AppContext, Req) -> ApiResult<Reply>`.
#[macro_export]
macro_rules! route {
    ($key:literal, $handler:path) => {
        $crate::router::Route { key: $key, handler: |ctx, req| ::std::boxed::Box::pin($handler(ctx, req)) }
    };
}

fn route_key(req: &lambda_http::Request) -> Option<String> {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(c)) => c.route_key.clone(),
        _ => None,
    }
}

fn request_id(req: &lambda_http::Request) -> String {
    match req.request_context_ref() {
        Some(RequestContext::ApiGatewayV2(c)) if c.request_id.is_some() => c.request_id.clone().unwrap_or_default(),
        _ => req
            .lambda_context_ref()
            .map(|c| c.request_id.clone())
            .filter(|id| !id.is_empty())
            .unwrap_or_else(|| uuid::Uuid::new_v4().to_string()),
    }
}

fn json_response(
    status: u16,
    body: Option<serde_json::Value>,
    cookies: &[String],
    headers: &[(String, String)],
    rid: &str,
) -> Response<Body> {
    let mut b = Response::builder().status(status).header("x-request-id", rid);
    for c in cookies {
        b = b.header("set-cookie", c);
    }
    for (name, value) in headers {
        b = b.header(name, value);
    }
    match body {
        Some(v) => b.header("content-type", "application/json").body(Body::Text(v.to_string())).unwrap_or_default(),
        None => b.body(Body::Empty).unwrap_or_default(),
    }
}

/// Serves one request with the function's routes. Never fails: every error,
/// and any panic, becomes a response in the contract's error body.
pub async fn dispatch(ctx: &AppContext, routes: &[Route], req: lambda_http::Request) -> Response<Body> {
    let started = Instant::now();
    let method = req.method().to_string();
    let path = req.raw_http_path().to_string();
    let rid = request_id(&req);
    let key = route_key(&req).unwrap_or_else(|| DEFAULT_ROUTE.to_string());
    let request = Req { inner: req, path: path.clone(), request_id: rid.clone() };

    let result = match routes.iter().find(|r| r.key == key) {
        Some(_) if crate::routes::shadowed(&key, &path) => Err(ErrorCode::METHOD_NOT_ALLOWED.into()),
        Some(route) => match AssertUnwindSafe((route.handler)(ctx, request)).catch_unwind().await {
            Ok(r) => r,
            Err(panic) => {
                let msg = panic
                    .downcast_ref::<&str>()
                    .map(|s| s.to_string())
                    .or_else(|| panic.downcast_ref::<String>().cloned())
                    .unwrap_or_default();
                Err(ApiError::Internal(format!("panic: {msg}")))
            }
        },
        // The catch-all route, or a route this function does not serve.
        None => Err(match resolve(CATALOG.iter().copied(), &method, &path) {
            Err(true) => ErrorCode::METHOD_NOT_ALLOWED.into(),
            _ => ErrorCode::ENTITY_NOT_FOUND.into(),
        }),
    };
    // A 405 names the methods that path does serve.
    let error_headers: Vec<(String, String)> = match &result {
        Err(e) if e.code() == ErrorCode::METHOD_NOT_ALLOWED => {
            vec![("allow".into(), crate::routes::allowed_methods(CATALOG.iter().copied(), &path).join(", "))]
        }
        _ => vec![],
    };

    let (status, response) = match result {
        Ok(reply) => (reply.status, json_response(reply.status, reply.body(), &reply.cookies, &reply.headers, &rid)),
        Err(err) => {
            let status = err.status();
            if status >= 500 {
                tracing::error!(request_id = %rid, route = %key, error = %err, "request failed");
            }
            (status, json_response(status, Some(err.body(&path)), &[], &error_headers, &rid))
        }
    };
    tracing::info!(
        request_id = %rid,
        method = %method,
        path = %path,
        route = %key,
        status,
        ms = started.elapsed().as_secs_f64() * 1000.0,
        "request"
    );
    response
}

/// JSON log lines (CloudWatch-friendly), level from `RUST_LOG` (default info).
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .json()
        .with_env_filter(filter)
        .with_current_span(false)
        .with_ansi(false)
        .with_target(false)
        .try_init();
}

/// The whole `main` of an HTTP function linking the engines `PORTS` names
/// ([`crate::ports`]): config and clients once, then serve.
pub async fn run_lambda<const PORTS: u8>(routes: &'static [Route]) -> Result<(), lambda_http::Error> {
    init_tracing();
    let ctx = AppContext::from_env_for_lambda::<PORTS>()?;
    lambda_http::run(lambda_http::service_fn(move |req| {
        let ctx = ctx.clone();
        async move { Ok::<_, std::convert::Infallible>(dispatch(&ctx, routes, req).await) }
    }))
    .await
}
