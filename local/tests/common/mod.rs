#![allow(dead_code)] // each test binary uses part of the rig
//! In-process rig shared by tests that drive handlers directly through the
//! Lambda event path (no HTTP), to count or break storage calls.

use std::sync::Arc;

use moim_blackbox::counting::{CountingTable, Counts};
use moim_blackbox::Engine;
use moim_local::event::{build, HttpRequest};
use moim_store::blob::FsBlobs;
use moim_store::schema::TableDef;
use moim_store::{DynamoTable, EmbeddedTable, Table};
use moim_web::config::{Config, LocalDefaults};
use moim_web::{AppContext, Route};
use serde_json::Value;

pub struct Rig {
    pub inner: Arc<dyn Table>,
    pub ctx: Arc<AppContext>,
    pub counts: Arc<Counts>,
    _dir: Option<tempfile::TempDir>,
}

/// A fresh store of the given engine behind a counting table; `wrap` may add
/// another layer. DynamoDB: a new table on the emulator, created from template.yaml.
pub async fn rig_on(engine: Engine, wrap: impl FnOnce(Arc<dyn Table>) -> Arc<dyn Table>) -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let config =
        Config::local(LocalDefaults { data_dir: dir.path().to_path_buf(), base_url: "http://127.0.0.1:3000".into() })
            .unwrap();
    let counts = Arc::new(Counts::default());
    let inner: Arc<dyn Table> = match engine {
        Engine::Embedded => Arc::new(EmbeddedTable::open(dir.path().join("t.sqlite3")).unwrap()),
        Engine::DynamoDb => {
            let endpoint = std::env::var("MOIM_DYNAMODB_ENDPOINT").unwrap();
            let client = moim_store::dynamo::client(Some(&endpoint)).await;
            let name = format!("rig-{}", moim_store::keys::next_id());
            TableDef::from_workspace_template().unwrap().create(&client, &name).await.unwrap();
            Arc::new(DynamoTable::new(client, name))
        }
    };
    let table = CountingTable { inner: wrap(inner.clone()), counts: counts.clone() };
    let blobs = FsBlobs::new(dir.path().join("blobs"), "http://127.0.0.1:3000", b"k".to_vec());
    let ctx = AppContext::with_ports(config, Arc::new(table), Arc::new(blobs));
    Rig { inner, ctx: Arc::new(ctx), counts, _dir: Some(dir) }
}

impl Rig {
    /// The same store, configuration and keys behind another table layer
    /// (e.g. one that makes every write lose its race).
    pub fn rewrap(&self, wrap: impl FnOnce(Arc<dyn Table>) -> Arc<dyn Table>) -> Rig {
        let counts = Arc::new(Counts::default());
        let table = CountingTable { inner: wrap(self.inner.clone()), counts: counts.clone() };
        let ctx = AppContext::with_ports((*self.ctx.config).clone(), Arc::new(table), self.ctx.blobs.clone());
        Rig { inner: self.inner.clone(), ctx: Arc::new(ctx), counts, _dir: None }
    }

    /// The same store and table layer behind another blob port (e.g. one that fails).
    pub fn with_blobs(&self, blobs: Arc<dyn moim_store::Blobs>) -> Rig {
        let ctx = AppContext { blobs, ..(*self.ctx).clone() };
        Rig { inner: self.inner.clone(), ctx: Arc::new(ctx), counts: self.counts.clone(), _dir: None }
    }

    /// The same store behind another mail engine (keep `self` alive: it owns the data dir).
    pub fn with_mailer(&self, mailer: Arc<dyn moim_store::mail::Mailer>) -> Rig {
        let ctx = AppContext { mailer, ..(*self.ctx).clone() };
        Rig { inner: self.inner.clone(), ctx: Arc::new(ctx), counts: self.counts.clone(), _dir: None }
    }

    /// Runs one request through the function that serves `route` and returns
    /// (status, body, set-cookie values, (gets, queries, transacts)).
    pub async fn call(
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
        let req = HttpRequest {
            method,
            path,
            raw_query: query,
            headers: &h,
            body: body.as_bytes(),
            source_ip: "127.0.0.1".into(),
        };
        self.counts.take();
        self.counts.take_sequential();
        let out = moim_local::invoke::invoke(&self.ctx, routes, build(&req, route, &params, "rid")).await.unwrap();
        let calls = self.counts.take();
        let body = out["body"].as_str().and_then(|b| serde_json::from_str(b).ok()).unwrap_or(Value::Null);
        let cookies = out["cookies"].as_array().unwrap().iter().map(|c| c.as_str().unwrap().to_string()).collect();
        (out["statusCode"].as_u64().unwrap(), body, cookies, calls)
    }

    /// (status, storage calls, sequential round trips) of one request, as [`Rig::call`].
    pub async fn call_sequential(
        &self,
        routes: &'static [Route],
        route: &str,
        path: &str,
        query: &str,
        headers: &[(&str, &str)],
        body: &str,
    ) -> (u64, usize, usize) {
        let (status, _, _, (g, q, t)) = self.call(routes, route, path, query, headers, body).await;
        (status, g + q + t, self.counts.take_sequential())
    }
}

/// An embedded-store rig.
pub fn rig() -> Rig {
    let dir = tempfile::tempdir().unwrap();
    let config =
        Config::local(LocalDefaults { data_dir: dir.path().to_path_buf(), base_url: "http://127.0.0.1:3000".into() })
            .unwrap();
    let counts = Arc::new(Counts::default());
    let inner: Arc<dyn Table> = Arc::new(EmbeddedTable::open(dir.path().join("t.sqlite3")).unwrap());
    let table = CountingTable { inner: inner.clone(), counts: counts.clone() };
    let blobs = FsBlobs::new(dir.path().join("blobs"), "http://127.0.0.1:3000", b"k".to_vec());
    let ctx = AppContext::with_ports(config, Arc::new(table), Arc::new(blobs));
    Rig { inner, ctx: Arc::new(ctx), counts, _dir: Some(dir) }
}
