//! `moim-local serve`: one HTTP server in front of every function of
//! template.yaml. Each request becomes the API Gateway event the deployed API
//! would send, runs through the same handler code in-process, and the Lambda
//! response JSON is turned back into HTTP. Local-only extras: CORS for dev
//! origins on any port, and blob reads / presigned uploads under `/_blobs/`.

use std::net::SocketAddr;
use std::sync::Arc;

use axum::body::{to_bytes, Body};
use axum::extract::{ConnectInfo, Request};
use axum::response::Response;
use http::{HeaderValue, Method};
use moim_domain::image::PRESIGN_MAX_BYTES;
use moim_domain::ErrorCode;
use moim_store::blob::{Blobs, FsBlobs, FS_BLOB_PATH};
use moim_web::{ApiError, AppContext, Route};

use crate::template::Function;
use crate::{event, invoke, registry, ws};

/// API Gateway's own payload cap for Lambda proxies (6 MB) is what reaches a function.
const BODY_LIMIT: usize = 6 * 1024 * 1024;

pub struct Gateway {
    pub ctx: Arc<AppContext>,
    /// (route key, the route table of the function serving it, its context)
    routes: Vec<(String, &'static [Route], Arc<AppContext>)>,
    fallback: Option<(&'static [Route], Arc<AppContext>)>,
    fs_blobs: Option<FsBlobs>,
    /// (path, handler, its context) of the response-streaming functions.
    streams: Vec<(String, registry::StreamHandler, Arc<AppContext>)>,
    /// The WebSocket API (native STOMP path + SockJS), if template.yaml has one.
    ws: Option<Arc<ws::WsApi>>,
    /// Open sockets, behind the `@connections` endpoint.
    pub hub: Arc<ws::Hub>,
}

impl Gateway {
    pub fn new(ctx: Arc<AppContext>, functions: &[Function], fs_blobs: Option<FsBlobs>) -> Result<Gateway, String> {
        let mut routes = Vec::new();
        let mut fallback = None;
        for f in functions.iter().filter(|f| !f.routes.is_empty()) {
            let table = registry::routes_of(&f.binary)
                .ok_or_else(|| format!("{}: binary {} is not built into moim-local", f.logical_id, f.binary))?;
            let fctx = registry::context_of(&ctx, &f.binary)?;
            for key in &f.routes {
                if key == moim_web::routes::DEFAULT_ROUTE {
                    fallback = Some((table, fctx.clone()));
                } else {
                    routes.push((key.clone(), table, fctx.clone()));
                }
            }
        }
        let mut streams = Vec::new();
        let mut ws = None;
        let hub = Arc::new(ws::Hub::default());
        for f in functions {
            let Some(path) = &f.local_path else { continue };
            if let Some(handler) = registry::stream_handler_of(&f.binary) {
                streams.push((path.clone(), handler, registry::context_of(&ctx, &f.binary)?));
            } else if let Some(handler) = registry::ws_handler_of(&f.binary) {
                ws = Some(Arc::new(ws::WsApi {
                    ctx: registry::context_of(&ctx, &f.binary)?,
                    handler,
                    native_path: path.clone(),
                    hub: hub.clone(),
                }));
            } else {
                return Err(format!("{}: binary {} serves no local path", f.logical_id, f.binary));
            }
        }
        Ok(Gateway { ctx, routes, fallback, fs_blobs, streams, ws, hub })
    }

    /// The native STOMP WebSocket path, when the template has a WebSocket API.
    pub fn ws_path(&self) -> Option<&str> {
        self.ws.as_ref().map(|w| w.native_path.as_str())
    }

    pub async fn handle(self: Arc<Self>, peer: SocketAddr, req: Request) -> Response {
        let origin = req.headers().get(http::header::ORIGIN).cloned();
        let cors_origin = origin.filter(|o| o.to_str().is_ok_and(|o| allowed_origin(o, &self.ctx.config.cors_origins)));
        if req.method() == Method::OPTIONS && req.headers().contains_key(http::header::ACCESS_CONTROL_REQUEST_METHOD) {
            return with_cors(
                Response::builder().status(204).body(Body::empty()).unwrap_or_default(),
                &cors_origin,
                true,
            );
        }
        let response = self.route(peer, req).await;
        with_cors(response, &cors_origin, false)
    }

    async fn route(&self, peer: SocketAddr, req: Request) -> Response {
        let (parts, body) = req.into_parts();
        let path = parts.uri.path().to_string();
        // The local mail outbox (absent on AWS).
        if path == "/dev/outbox" {
            if parts.method != Method::GET {
                let mut refused = error_response(ErrorCode::METHOD_NOT_ALLOWED.into(), &path);
                refused.headers_mut().insert(http::header::ALLOW, HeaderValue::from_static("GET"));
                return refused;
            }
            return outbox(&self.ctx).await;
        }
        // The API documentation: /openapi.json and the browser at /docs.
        if parts.method == Method::GET {
            if let Some(response) = crate::docs::serve(&path) {
                return response;
            }
        }
        // The management API of the WebSocket API (the functions' SDK posts here).
        if let Some(id) = path.strip_prefix("/@connections/").or_else(|| path.strip_prefix("/%40connections/")) {
            let Ok(body) = to_bytes(body, 256 * 1024).await else {
                return Response::builder().status(413).body(Body::empty()).unwrap_or_default();
            };
            return ws::connections_endpoint(&self.hub, &parts.method, id, &body);
        }
        if let Some(api) = &self.ws {
            if path == api.native_path {
                return api.clone().upgrade(parts, false).await;
            }
            if path == format!("{}/info", ws::SOCKJS_PREFIX) && parts.method == Method::GET {
                return ws::sockjs_info();
            }
            if ws::is_sockjs_transport(&path) {
                return api.clone().upgrade(parts, true).await;
            }
            if path.starts_with(&format!("{}/", ws::SOCKJS_PREFIX)) {
                // SockJS HTTP fallbacks (xhr_streaming, xhr_polling, ...) are not served.
                return Response::builder().status(404).body(Body::empty()).unwrap_or_default();
            }
        }
        if let Some((_, handler, ctx)) = self.streams.iter().find(|(p, _, _)| *p == path) {
            if parts.method == Method::GET {
                return stream(ctx.clone(), *handler, &parts, &path).await;
            }
        }
        if let (Some(fs), Some(key)) = (&self.fs_blobs, path.strip_prefix(FS_BLOB_PATH)) {
            // The local S3: presigned uploads may be up to 20 MB (one byte more is refused by length).
            let Ok(body) = to_bytes(body, PRESIGN_MAX_BYTES as usize + 1).await else {
                return Response::builder().status(413).body(Body::from("EntityTooLarge")).unwrap_or_default();
            };
            return blob(fs, &*self.ctx.blobs, &parts, key, body.to_vec()).await;
        }
        let Ok(body) = to_bytes(body, BODY_LIMIT).await else {
            return error_response(ErrorCode::PAYLOAD_TOO_LARGE.into(), &path);
        };
        let keys = self.routes.iter().map(|(k, _, _)| k.as_str());
        let (route_key, params, function) = match moim_web::routes::resolve(keys, parts.method.as_str(), &path) {
            Ok((key, params)) => {
                let function = self.routes.iter().find(|(k, _, _)| k == key).map(|(_, t, c)| (*t, c.clone()));
                (key.to_string(), params, function)
            }
            Err(_) => (moim_web::routes::DEFAULT_ROUTE.to_string(), vec![], self.fallback.clone()),
        };
        let Some((table, ctx)) = function else {
            return error_response(ErrorCode::ENTITY_NOT_FOUND.into(), &path);
        };
        let request_id = uuid::Uuid::new_v4().to_string();
        let http_req = event::HttpRequest {
            method: parts.method.as_str(),
            path: &path,
            raw_query: parts.uri.query().unwrap_or(""),
            headers: &parts.headers,
            body: &body,
            source_ip: peer.ip().to_string(),
        };
        let ev = event::build(&http_req, &route_key, &params, &request_id);
        let out = match invoke::invoke(&ctx, table, ev).await {
            Ok(v) => v,
            Err(e) => return error_response(ApiError::Internal(e), &path),
        };
        match event::response_parts(&out) {
            Ok((status, headers, body)) => {
                let mut b = Response::builder().status(status);
                for (k, v) in headers {
                    b = b.header(k, v);
                }
                b.body(Body::from(body)).unwrap_or_default()
            }
            Err(e) => error_response(ApiError::Internal(e), &path),
        }
    }
}

/// A streaming function, served as the function URL would: real chunks as
/// they are produced, or the error body when it refuses to stream.
async fn stream(
    ctx: Arc<AppContext>,
    handler: registry::StreamHandler,
    parts: &http::request::Parts,
    path: &str,
) -> Response {
    let query = parts.uri.query().unwrap_or("");
    let token = form_urlencoded::parse(query.as_bytes()).find(|(k, _)| k == "accessToken").map(|(_, v)| v.into_owned());
    let last = parts.headers.get("last-event-id").and_then(|v| v.to_str().ok()).map(str::to_string);
    match handler(ctx, token, last).await {
        Ok(rx) => {
            let chunks = futures::stream::unfold(rx, |mut rx| async {
                rx.recv().await.map(|b| (Ok::<_, std::convert::Infallible>(b), rx))
            });
            let mut b = Response::builder().status(200);
            for (k, v) in moim_notifications_stream::HEADERS {
                b = b.header(k, v);
            }
            b.body(Body::from_stream(chunks)).unwrap_or_default()
        }
        Err(e) => error_response(e, path),
    }
}

/// `GET /dev/outbox`: every mail the local engine kept, newest first, in the success envelope.
async fn outbox(ctx: &AppContext) -> Response {
    let mailer = moim_store::mail::OutboxMailer::new(ctx.config.data_dir.join("outbox"));
    match mailer.list().await {
        Ok(list) => Response::builder()
            .status(200)
            .header("content-type", "application/json")
            .header("cache-control", "no-store")
            .body(Body::from(serde_json::json!({ "status": 200, "success": true, "data": list }).to_string()))
            .unwrap_or_default(),
        Err(e) => error_response(ApiError::Internal(e.to_string()), "/dev/outbox"),
    }
}

fn error_response(err: ApiError, path: &str) -> Response {
    Response::builder()
        .status(err.status())
        .header("content-type", "application/json")
        .body(Body::from(err.body(path).to_string()))
        .unwrap_or_default()
}

/// GET serves a stored blob; PUT accepts a presigned upload (the local S3),
/// written through the context's port so the S3 trigger fires as on AWS.
async fn blob(fs: &FsBlobs, blobs: &dyn Blobs, parts: &http::request::Parts, key: &str, body: Vec<u8>) -> Response {
    let plain = |status: u16, msg: &str| {
        Response::builder()
            .status(status)
            .header("content-type", "text/plain")
            .body(Body::from(msg.to_string()))
            .unwrap_or_default()
    };
    match parts.method {
        Method::GET | Method::HEAD => match fs.get(key).await {
            Ok(Some(b)) => Response::builder()
                .status(200)
                .header("content-type", b.content_type)
                .header("cache-control", "public, max-age=31536000, immutable")
                .body(Body::from(b.bytes))
                .unwrap_or_default(),
            Ok(None) => plain(404, "NoSuchKey"),
            Err(_) => plain(400, "InvalidKey"),
        },
        Method::PUT => {
            let ct = parts.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok()).unwrap_or("");
            if let Err(e) = fs.verify_presigned_put(key, parts.uri.query().unwrap_or(""), ct, body.len()) {
                return plain(403, &e.to_string());
            }
            match blobs.put(key, body, ct).await {
                Ok(()) => plain(200, ""),
                Err(e) => plain(400, &e.to_string()),
            }
        }
        _ => plain(405, "MethodNotAllowed"),
    }
}

/// Configured origins, plus (local mode) http/https on localhost, 127.0.0.1 and
/// local.wego.monster with any port.
pub fn allowed_origin(origin: &str, configured: &[String]) -> bool {
    if configured.iter().any(|o| o == origin) {
        return true;
    }
    let Some(rest) = origin.strip_prefix("http://").or_else(|| origin.strip_prefix("https://")) else {
        return false;
    };
    let host = match rest.rsplit_once(':') {
        Some((h, port)) if !port.is_empty() && port.bytes().all(|b| b.is_ascii_digit()) => h,
        Some(_) => return false,
        None => rest,
    };
    matches!(host, "localhost" | "127.0.0.1" | "local.wego.monster")
}

fn with_cors(mut res: Response, origin: &Option<HeaderValue>, preflight: bool) -> Response {
    let Some(origin) = origin else { return res };
    let h = res.headers_mut();
    h.insert(http::header::ACCESS_CONTROL_ALLOW_ORIGIN, origin.clone());
    h.insert(http::header::ACCESS_CONTROL_ALLOW_CREDENTIALS, HeaderValue::from_static("true"));
    h.append(http::header::VARY, HeaderValue::from_static("Origin"));
    if preflight {
        h.insert(
            http::header::ACCESS_CONTROL_ALLOW_METHODS,
            HeaderValue::from_static("GET, POST, PUT, PATCH, DELETE, OPTIONS"),
        );
        h.insert(http::header::ACCESS_CONTROL_ALLOW_HEADERS, HeaderValue::from_static("authorization, content-type"));
        h.insert(http::header::ACCESS_CONTROL_MAX_AGE, HeaderValue::from_static("3600"));
    }
    res
}

pub async fn serve(gateway: Arc<Gateway>, listener: tokio::net::TcpListener) -> std::io::Result<()> {
    let app = axum::Router::new().fallback(move |ConnectInfo(peer): ConnectInfo<SocketAddr>, req: Request| {
        let gw = gateway.clone();
        async move { gw.handle(peer, req).await }
    });
    axum::serve(listener, app.into_make_service_with_connect_info::<SocketAddr>())
        .with_graceful_shutdown(async {
            let _ = tokio::signal::ctrl_c().await;
            eprintln!("moim-local: shutting down");
        })
        .await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn local_origins_any_port_but_nothing_else() {
        let conf = vec!["https://wego.monster".to_string()];
        for ok in
            ["https://wego.monster", "http://localhost:3001", "http://127.0.0.1", "https://local.wego.monster:8443"]
        {
            assert!(allowed_origin(ok, &conf), "{ok}");
        }
        for bad in ["https://evil.com", "http://localhost.evil.com", "http://localhost:abc", "null", "ftp://localhost"]
        {
            assert!(!allowed_origin(bad, &conf), "{bad}");
        }
    }
}
