//! Storage round trips per endpoint, counted through the real handlers (the
//! same count is the number of DynamoDB calls in production). A change that
//! adds a call fails here; update the budget, docs/DATA_MODEL.md and
//! bench/REPORT.md together.

use std::sync::Arc;

use moim_blackbox::counting::{CountingTable, Counts};
use moim_local::event::{build, HttpRequest};
use moim_store::blob::FsBlobs;
use moim_store::EmbeddedTable;
use moim_web::config::{Config, LocalDefaults};
use moim_web::{AppContext, Route};
use serde_json::Value;

struct Rig {
    ctx: Arc<AppContext>,
    counts: Arc<Counts>,
    _dir: tempfile::TempDir,
}

fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let config = Config::local(LocalDefaults { data_dir: dir.path().to_path_buf(), base_url: "http://127.0.0.1:3000".into() }).unwrap();
    let counts = Arc::new(Counts::default());
    let table = CountingTable { inner: Arc::new(EmbeddedTable::open(dir.path().join("t.sqlite3")).unwrap()), counts: counts.clone() };
    let blobs = FsBlobs::new(dir.path().join("blobs"), "http://127.0.0.1:3000", b"k".to_vec());
    let ctx = AppContext::with_ports(config, Arc::new(table), Arc::new(blobs));
    Rig { ctx: Arc::new(ctx), counts, _dir: dir }
}

impl Rig {
    /// Runs one request through the function that serves `route` and returns
    /// (status, body, set-cookie values, (gets, queries, transacts)).
    async fn call(
        &self,
        routes: &'static [Route],
        route: &str,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u64, Value, Vec<String>, (usize, usize, usize)) {
        let mut h = http::HeaderMap::new();
        for (k, v) in headers {
            h.insert(http::HeaderName::from_bytes(k.as_bytes()).unwrap(), v.parse().unwrap());
        }
        if !body.is_empty() {
            h.insert("content-type", "application/json".parse().unwrap());
        }
        let method = route.split(' ').next().unwrap();
        let pattern = route.split(' ').nth(1).unwrap();
        let params = moim_web::routes::match_path(pattern, path).unwrap();
        let req = HttpRequest { method, path, raw_query: query, headers: &h, body: body.as_bytes(), source_ip: "127.0.0.1".into() };
        self.counts.take();
        let out = moim_local::invoke::invoke(&self.ctx, routes, build(&req, route, &params, "rid")).await.unwrap();
        let calls = self.counts.take();
        let body = out["body"].as_str().and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
        let cookies = out["cookies"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
        (out["statusCode"].as_u64().unwrap(), body, cookies, calls)
    }
}

fn cookie_value(cookies: &[String]) -> String {
    cookies[0].strip_prefix("refreshToken=").unwrap().split(';').next().unwrap().to_string()
}

#[tokio::test]
async fn auth_and_users_endpoints_stay_within_their_storage_budget() {
    let r = rig();
    let auth = moim_auth::ROUTES;
    let users = moim_users::ROUTES;
    let signup = |email: &'static str, nick: &'static str| {
        format!(r#"{{"email":"{email}","password":"password1!","nickName":"{nick}"}}"#)
    };
    // (gets, queries, transacts)
    let (s, _, _, calls) = r.call(auth, "POST /api/v1/auth/signup", "/api/v1/auth/signup", "", &[], &signup("a@b.com", "Alice")).await;
    assert_eq!((s, calls), (201, (2, 0, 1)), "signup: email + nickname pre-checks, one transact");
    r.call(auth, "POST /api/v1/auth/signup", "/api/v1/auth/signup", "", &[], &signup("b@b.com", "Bobby")).await;

    let login = r#"{"email":"a@b.com","password":"password1!"}"#;
    let (s, body, cookies, calls) = r.call(auth, "POST /api/v1/auth/login", "/api/v1/auth/login", "", &[], login).await;
    assert_eq!((s, calls), (200, (2, 1, 1)), "login: failures query, email claim, user, session put");
    let token = format!("Bearer {}", body["data"]["accessToken"].as_str().unwrap());
    let auth_h = [("authorization", token.as_str())];

    let cookie = format!("refreshToken={}", cookie_value(&cookies));
    let (s, _, _, calls) = r.call(auth, "POST /api/v1/auth/refresh", "/api/v1/auth/refresh", "", &[("cookie", &cookie)], "").await;
    assert_eq!((s, calls), (201, (2, 0, 1)), "refresh: session, user, rotate");

    let (s, _, _, calls) = r.call(users, "GET /api/v1/users/me", "/api/v1/users/me", "", &auth_h, "").await;
    assert_eq!((s, calls), (200, (1, 0, 0)), "me: the auth read only");

    let (s, _, _, calls) = r.call(users, "POST /api/v1/users/follow", "/api/v1/users/follow", "followNickname=Bobby", &auth_h, "").await;
    assert_eq!((s, calls), (201, (3, 0, 1)), "follow: caller, nickname claim, target, one transact");

    let (s, _, _, calls) = r.call(users, "GET /api/v1/users/{userId}/follow", "/api/v1/users/1/follow", "", &[], "").await;
    assert_eq!((s, calls), (404, (1, 0, 0)));

    let (s, _, _, calls) = r.call(auth, "POST /api/v1/auth/logout", "/api/v1/auth/logout", "", &[], "").await;
    assert_eq!((s, calls), (204, (0, 0, 0)), "logout without a cookie touches nothing");
}
