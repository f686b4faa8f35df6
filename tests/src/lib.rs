//! Black-box harness: starts the real `moim-local serve` binary on a free port
//! with its own data dir (or its own DynamoDB Local table) and talks to it over
//! HTTP like any client. The tests using it live in `local/tests/` (where cargo
//! hands them the freshly built binary); the benches use it too.

use std::io::{BufRead, BufReader};
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use serde_json::Value;

/// Which store the server runs on.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Engine {
    Embedded,
    /// DynamoDB Local + moto, from `MOIM_DYNAMODB_ENDPOINT` / `MOIM_S3_ENDPOINT`.
    DynamoDb,
}

/// The engines to run black-box tests on: always embedded; DynamoDB when the
/// emulators are configured (scripts/test does, and requires them).
pub fn engines() -> Vec<Engine> {
    let mut out = vec![Engine::Embedded];
    if std::env::var("MOIM_DYNAMODB_ENDPOINT").is_ok() {
        out.push(Engine::DynamoDb);
    } else {
        assert!(std::env::var("MOIM_REQUIRE_EMULATORS").is_err(), "MOIM_DYNAMODB_ENDPOINT is required");
    }
    out
}

pub struct Server {
    child: Child,
    pub url: String,
    pub engine: Engine,
    bin: PathBuf,
    data: PathBuf,
    env: Vec<(String, String)>,
    _tmp: Option<Arc<tempfile::TempDir>>,
    /// Everything the server printed (JSON log lines), for failure messages.
    pub log: Arc<Mutex<Vec<String>>>,
}

fn unique(prefix: &str) -> String {
    let n = std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos();
    format!("{prefix}-{}-{n}", std::process::id())
}

impl Server {
    /// Starts a server on a fresh store of the given engine.
    pub fn start(bin: &str, engine: Engine) -> Server {
        Self::start_with_env(bin, engine, &[])
    }

    pub fn start_with_env(bin: &str, engine: Engine, extra_env: &[(&str, &str)]) -> Server {
        let tmp = Arc::new(tempfile::tempdir().expect("temp dir"));
        let mut env: Vec<(String, String)> = vec![("RUST_LOG".into(), "info".into())];
        if engine == Engine::DynamoDb {
            let ddb = std::env::var("MOIM_DYNAMODB_ENDPOINT").expect("MOIM_DYNAMODB_ENDPOINT");
            env.push(("MOIM_STORE".into(), "dynamodb".into()));
            env.push(("DYNAMODB_ENDPOINT".into(), ddb));
            env.push(("TABLE_NAME".into(), unique("bb")));
            if let Ok(s3) = std::env::var("MOIM_S3_ENDPOINT") {
                env.push(("S3_ENDPOINT".into(), s3));
                env.push(("BUCKET_NAME".into(), unique("bb").to_lowercase()));
            }
            env.push(("JWT_SECRET".into(), "blackbox-secret-blackbox-secret-0123456789".into()));
        }
        for (k, v) in extra_env {
            env.push(((*k).into(), (*v).into()));
        }
        let data = tmp.path().join("data");
        Self::spawn(PathBuf::from(bin), engine, data, env, Some(tmp), "127.0.0.1:0")
    }

    fn spawn(
        bin: PathBuf,
        engine: Engine,
        data: PathBuf,
        env: Vec<(String, String)>,
        tmp: Option<Arc<tempfile::TempDir>>,
        addr: &str,
    ) -> Server {
        let mut cmd = Command::new(&bin);
        cmd.args(["serve", "--addr", addr, "--data"]).arg(&data);
        cmd.env_remove("MOIM_STORE");
        for (k, v) in &env {
            cmd.env(k, v);
        }
        cmd.stdout(Stdio::piped()).stderr(Stdio::piped());
        let mut child = cmd.spawn().unwrap_or_else(|e| panic!("cannot start {}: {e}", bin.display()));
        let log = Arc::new(Mutex::new(Vec::new()));
        let stdout = child.stdout.take().expect("stdout");
        let (tx, rx) = std::sync::mpsc::channel();
        let log2 = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stdout).lines().map_while(Result::ok) {
                if let Some(url) = line.strip_prefix("moim-local listening on ") {
                    let _ = tx.send(url.trim().to_string());
                }
                log2.lock().unwrap().push(line);
            }
        });
        let stderr = child.stderr.take().expect("stderr");
        let log3 = log.clone();
        std::thread::spawn(move || {
            for line in BufReader::new(stderr).lines().map_while(Result::ok) {
                log3.lock().unwrap().push(line);
            }
        });
        let url = match rx.recv_timeout(Duration::from_secs(60)) {
            Ok(url) => url,
            Err(_) => {
                let _ = child.kill();
                panic!("moim-local did not start: {:?}", log.lock().unwrap());
            }
        };
        Server { child, url, engine, bin, data, env, _tmp: tmp, log }
    }

    /// Stops the process and starts it again on the same data (and port).
    pub fn restart(mut self) -> Server {
        self.stop();
        let addr = self.url.trim_start_matches("http://").to_string();
        let tmp = self._tmp.take();
        let (bin, data, env) = (self.bin.clone(), self.data.clone(), self.env.clone());
        Self::spawn(bin, self.engine, data, env, tmp, &addr)
    }

    /// Sends SIGINT (Ctrl-C) and waits for a clean exit; returns the exit status.
    pub fn interrupt(&mut self) -> Option<std::process::ExitStatus> {
        let pid = self.child.id().to_string();
        let _ = Command::new("kill").args(["-INT", &pid]).status();
        for _ in 0..100 {
            if let Ok(Some(status)) = self.child.try_wait() {
                return Some(status);
            }
            std::thread::sleep(Duration::from_millis(50));
        }
        None
    }

    fn stop(&mut self) {
        let _ = self.interrupt();
        let _ = self.child.kill();
        let _ = self.child.wait();
    }

    /// The server's process id (to read its memory high-water mark).
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// The data directory of the server (embedded store and blob files).
    pub fn data_dir(&self) -> &std::path::Path {
        &self.data
    }

    /// The JWT signing key the server uses (to forge tokens in attack tests).
    pub fn jwt_secret(&self) -> Vec<u8> {
        match self.env.iter().find(|(k, _)| k == "JWT_SECRET") {
            Some((_, v)) => v.clone().into_bytes(),
            None => {
                std::fs::read_to_string(self.data.join("jwt-secret")).expect("jwt-secret").trim().as_bytes().to_vec()
            }
        }
    }

    pub fn client(&self) -> Client {
        Client::new(&self.url)
    }
}

impl Drop for Server {
    fn drop(&mut self) {
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// A response: status, headers and the JSON body (Null when empty or not JSON).
#[derive(Debug, Clone)]
pub struct Resp {
    pub status: u16,
    pub headers: reqwest::header::HeaderMap,
    pub body: Value,
    pub text: String,
}

impl Resp {
    /// `data` of a success envelope, after checking the envelope.
    pub fn data(&self) -> &Value {
        assert_eq!(self.body["success"], true, "not a success envelope: {} {}", self.status, self.text);
        assert_eq!(self.body["status"], self.status, "envelope status");
        &self.body["data"]
    }

    /// Asserts an error in the contract's body and returns its errorCode.
    pub fn error_code(&self) -> &str {
        assert_eq!(self.body["status"], self.status, "error body status must equal HTTP status: {}", self.text);
        assert_eq!(self.body["type"], "about:blank", "{}", self.text);
        assert_eq!(self.body["title"], self.body["errorCode"]);
        assert!(self.body["instance"].as_str().is_some_and(|i| i.starts_with('/')));
        self.body["errorCode"].as_str().unwrap_or_default()
    }

    pub fn expect(&self, status: u16, code: &str) {
        assert_eq!(self.status, status, "{}", self.text);
        assert_eq!(self.error_code(), code, "{}", self.text);
    }

    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.get(name).and_then(|v| v.to_str().ok())
    }

    /// The value of the `refreshToken` cookie this response sets.
    pub fn refresh_cookie(&self) -> Option<String> {
        self.headers
            .get_all("set-cookie")
            .iter()
            .filter_map(|v| v.to_str().ok())
            .find_map(|c| c.strip_prefix("refreshToken="))
            .map(|c| c.split(';').next().unwrap_or_default().to_string())
    }
}

/// An HTTP client bound to one server; `token` is sent as the bearer token.
#[derive(Clone)]
pub struct Client {
    http: reqwest::Client,
    pub base: String,
    pub token: Option<String>,
}

impl Client {
    pub fn new(base: &str) -> Client {
        // An API client sees a redirect as an answer (the Kakao flow's 302s), not as a hop.
        let http = reqwest::Client::builder().redirect(reqwest::redirect::Policy::none()).build().expect("client");
        Client { http, base: base.trim_end_matches('/').to_string(), token: None }
    }

    pub fn with_token(&self, token: &str) -> Client {
        Client { token: Some(token.to_string()), ..self.clone() }
    }

    pub fn anonymous(&self) -> Client {
        Client { token: None, ..self.clone() }
    }

    pub async fn send(&self, req: reqwest::RequestBuilder) -> Resp {
        let req = match &self.token {
            Some(t) => req.bearer_auth(t),
            None => req,
        };
        let res = req.send().await.expect("request failed");
        let status = res.status().as_u16();
        let headers = res.headers().clone();
        let text = res.text().await.unwrap_or_default();
        let body = serde_json::from_str(&text).unwrap_or(Value::Null);
        Resp { status, headers, body, text }
    }

    pub fn request(&self, method: reqwest::Method, path: &str) -> reqwest::RequestBuilder {
        self.http.request(method, format!("{}{path}", self.base))
    }

    pub async fn get(&self, path: &str) -> Resp {
        self.send(self.request(reqwest::Method::GET, path)).await
    }

    pub async fn put(&self, path: &str) -> Resp {
        self.send(self.request(reqwest::Method::PUT, path)).await
    }

    pub async fn delete(&self, path: &str) -> Resp {
        self.send(self.request(reqwest::Method::DELETE, path)).await
    }

    pub async fn post(&self, path: &str, body: Option<Value>) -> Resp {
        let mut r = self.request(reqwest::Method::POST, path);
        if let Some(b) = body {
            r = r.json(&b);
        }
        self.send(r).await
    }

    pub async fn patch(&self, path: &str, body: Option<Value>) -> Resp {
        let mut r = self.request(reqwest::Method::PATCH, path);
        if let Some(b) = body {
            r = r.json(&b);
        }
        self.send(r).await
    }

    /// POST with a raw body and content type.
    pub async fn post_raw(&self, path: &str, content_type: &str, body: Vec<u8>) -> Resp {
        self.send(self.request(reqwest::Method::POST, path).header("content-type", content_type).body(body)).await
    }

    /// A multipart/form-data request; `files` are (field, file name, content type, bytes).
    pub async fn multipart(&self, method: reqwest::Method, path: &str, files: &[(&str, &str, &str, &[u8])]) -> Resp {
        let boundary = "moimTestBoundary7MA4YWxkTrZu0gW";
        let mut body = Vec::new();
        for (field, name, ct, bytes) in files {
            body.extend_from_slice(
                format!("--{boundary}\r\nContent-Disposition: form-data; name=\"{field}\"; filename=\"{name}\"\r\nContent-Type: {ct}\r\n\r\n")
                    .as_bytes(),
            );
            body.extend_from_slice(bytes);
            body.extend_from_slice(b"\r\n");
        }
        body.extend_from_slice(format!("--{boundary}--\r\n").as_bytes());
        let ct = format!("multipart/form-data; boundary={boundary}");
        self.send(self.request(method, path).header("content-type", ct).body(body)).await
    }

    /// POST /refresh with a given refresh cookie.
    pub async fn refresh(&self, cookie: &str) -> Resp {
        self.send(
            self.request(reqwest::Method::POST, "/api/v1/auth/refresh")
                .header("cookie", format!("refreshToken={cookie}")),
        )
        .await
    }

    /// Signs up and logs in; returns (client with token, user id, refresh cookie).
    pub async fn register(&self, email: &str, nick: &str) -> (Client, i64, String) {
        let password = "password1!";
        let r = self
            .post(
                "/api/v1/auth/signup",
                Some(serde_json::json!({"email": email, "password": password, "nickName": nick})),
            )
            .await;
        assert_eq!(r.status, 201, "{}", r.text);
        let r = self.post("/api/v1/auth/login", Some(serde_json::json!({"email": email, "password": password}))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        let token = r.data()["accessToken"].as_str().unwrap().to_string();
        let id = r.data()["user"]["userId"].as_i64().unwrap();
        (self.with_token(&token), id, r.refresh_cookie().expect("refresh cookie"))
    }
}

pub mod counting;
pub mod faults;
pub mod fixtures;
pub mod oauth;
pub mod recording;
pub mod stomp;
