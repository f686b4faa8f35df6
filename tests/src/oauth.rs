//! A stand-in OAuth provider on loopback, because Google and Kakao cannot be
//! reached from here: `/{provider}/token` (form POST, authorization code →
//! access token) and `/{provider}/userinfo` (bearer → the profile granted for
//! that code). It records every token request, so tests can check what the
//! backend sent (client id, secret, redirect URI, code).
//!
//! Codes: one given to [`StandIn::grant`] succeeds; `refused` answers 400
//! `invalid_grant`; `slow` answers after 5 s (past any sane timeout); any
//! other code is unknown (400).

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use axum::extract::{Path, State};
use axum::http::{HeaderMap, StatusCode};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::{json, Value};

#[derive(Default)]
struct Shared {
    profiles: HashMap<String, Value>,
    token_requests: Vec<(String, HashMap<String, String>)>,
    userinfo_tokens: Vec<String>,
}

pub struct StandIn {
    pub url: String,
    shared: Arc<Mutex<Shared>>,
    task: tokio::task::JoinHandle<()>,
}

impl StandIn {
    pub async fn start() -> StandIn {
        let shared = Arc::new(Mutex::new(Shared::default()));
        let app = Router::new()
            .route("/{provider}/token", post(token))
            .route("/{provider}/userinfo", get(userinfo))
            .with_state(shared.clone());
        let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let task = tokio::spawn(async move {
            let _ = axum::serve(listener, app).await;
        });
        StandIn { url, shared, task }
    }

    /// `code` will exchange for a token whose user info is `profile` (the
    /// provider's own document shape).
    pub fn grant(&self, code: &str, profile: Value) {
        self.shared.lock().unwrap().profiles.insert(code.to_string(), profile);
    }

    /// Every token request so far: (provider, form fields).
    pub fn token_requests(&self) -> Vec<(String, HashMap<String, String>)> {
        self.shared.lock().unwrap().token_requests.clone()
    }

    /// The environment that points moim-local at this provider for both
    /// Google and Kakao.
    pub fn env(&self) -> Vec<(String, String)> {
        let mut env = Vec::new();
        for (prefix, name) in [("GOOGLE", "google"), ("KAKAO", "kakao")] {
            env.push((format!("{prefix}_CLIENT_ID"), format!("{name}-client-id")));
            env.push((format!("{prefix}_CLIENT_SECRET"), format!("{name}-client-secret")));
            env.push((format!("{prefix}_AUTHORIZE_URL"), format!("{}/{name}/authorize", self.url)));
            env.push((format!("{prefix}_TOKEN_URL"), format!("{}/{name}/token", self.url)));
            env.push((format!("{prefix}_USERINFO_URL"), format!("{}/{name}/userinfo", self.url)));
        }
        env.push(("KAKAO_REDIRECT_URI".into(), "http://127.0.0.1:9/api/v1/oauth/kakao/callback".into()));
        env
    }
}

impl Drop for StandIn {
    fn drop(&mut self) {
        self.task.abort();
    }
}

async fn token(State(shared): State<Arc<Mutex<Shared>>>, Path(provider): Path<String>, body: String) -> Response {
    let form: HashMap<String, String> = form_urlencoded::parse(body.as_bytes()).into_owned().collect();
    let code = form.get("code").cloned().unwrap_or_default();
    let known = {
        let mut s = shared.lock().unwrap();
        s.token_requests.push((provider, form.clone()));
        s.profiles.contains_key(&code)
    };
    if code == "slow" {
        tokio::time::sleep(Duration::from_secs(5)).await;
    }
    if !known || form.get("grant_type").map(String::as_str) != Some("authorization_code") {
        return (StatusCode::BAD_REQUEST, Json(json!({"error": "invalid_grant"}))).into_response();
    }
    Json(json!({"access_token": format!("at-{code}"), "token_type": "bearer", "expires_in": 3599})).into_response()
}

async fn userinfo(State(shared): State<Arc<Mutex<Shared>>>, headers: HeaderMap) -> Response {
    let bearer = headers
        .get("authorization")
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.strip_prefix("Bearer "))
        .unwrap_or_default()
        .to_string();
    let mut s = shared.lock().unwrap();
    s.userinfo_tokens.push(bearer.clone());
    match bearer.strip_prefix("at-").and_then(|code| s.profiles.get(code)) {
        Some(p) => Json(p.clone()).into_response(),
        None => (StatusCode::UNAUTHORIZED, Json(json!({"error": "invalid_token"}))).into_response(),
    }
}
