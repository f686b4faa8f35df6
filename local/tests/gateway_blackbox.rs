//! The local gateway itself: routes from template.yaml match the functions,
//! every events/ file replays through `moim-local invoke`, catch-all 404/405,
//! CORS, persistence across restarts and a clean Ctrl-C.

use std::collections::BTreeSet;
use std::process::Command;

use moim_blackbox::{Engine, Server};
use moim_local::template;
use serde_json::Value;

const BIN: &str = env!("CARGO_BIN_EXE_moim-local");

fn workspace() -> std::path::PathBuf {
    std::path::Path::new(env!("CARGO_MANIFEST_DIR")).parent().unwrap().to_path_buf()
}

/// The WebSocket API of template.yaml: its three routes on one integration
/// invoking the function moim-local runs for them.
#[test]
fn the_websocket_api_routes_every_event_to_the_stomp_function() {
    let t: serde_yaml::Value = serde_yaml::from_str(moim_local::TEMPLATE).unwrap();
    let resources = t["Resources"].as_mapping().unwrap();
    let of_type = |ty: &'static str| resources.values().filter(move |r| r["Type"].as_str() == Some(ty));
    let mut keys: Vec<&str> =
        of_type("AWS::ApiGatewayV2::Route").map(|r| r["Properties"]["RouteKey"].as_str().unwrap()).collect();
    keys.sort();
    assert_eq!(keys, ["$connect", "$default", "$disconnect"]);
    let integrations: Vec<_> = of_type("AWS::ApiGatewayV2::Integration").collect();
    assert_eq!(integrations.len(), 1);
    let uri = serde_yaml::to_string(&integrations[0]["Properties"]["IntegrationUri"]).unwrap();
    assert!(uri.contains("${ChatWsFunction.Arn}"), "{uri}");
    let functions = template::functions(moim_local::TEMPLATE).unwrap();
    let ws = functions.iter().find(|f| f.logical_id == "ChatWsFunction").unwrap();
    assert!(moim_local::registry::ws_handler_of(&ws.binary).is_some());
    assert_eq!(ws.local_path.as_deref(), Some("/ws"));
    assert_eq!(of_type("AWS::ApiGatewayV2::Api").next().unwrap()["Properties"]["ProtocolType"], "WEBSOCKET");
}

#[test]
fn template_routes_match_the_functions_and_the_catalog() {
    let functions = template::functions(moim_local::TEMPLATE).unwrap();
    let mut in_template = BTreeSet::new();
    let mut defaults = 0;
    for f in &functions {
        if f.local_path.is_some() {
            // A response-streaming function URL or the WebSocket API, mounted by moim-local at its path.
            assert!(
                moim_local::registry::stream_handler_of(&f.binary).is_some()
                    || moim_local::registry::ws_handler_of(&f.binary).is_some(),
                "{}: no stream or WebSocket handler",
                f.logical_id
            );
            continue;
        }
        if f.routes.is_empty() {
            // An event function (S3 trigger, schedule): moim-local must be able to run it.
            assert!(moim_local::registry::event_handler_of(&f.binary).is_some(), "{}: no event handler", f.logical_id);
            assert!(
                !f.s3_prefixes.is_empty() || !f.schedules.is_empty() || !f.streams.is_empty(),
                "{}: no trigger",
                f.logical_id
            );
            continue;
        }
        let table = moim_local::registry::routes_of(&f.binary)
            .unwrap_or_else(|| panic!("{}: binary {} has no route table", f.logical_id, f.binary));
        let handled: BTreeSet<&str> = table.iter().map(|r| r.key).collect();
        let declared: BTreeSet<&str> =
            f.routes.iter().map(String::as_str).filter(|r| *r != moim_web::routes::DEFAULT_ROUTE).collect();
        assert_eq!(handled, declared, "{}: handler routes vs template.yaml routes", f.logical_id);
        defaults += f.routes.iter().filter(|r| *r == moim_web::routes::DEFAULT_ROUTE).count();
        in_template.extend(declared);
    }
    assert_eq!(defaults, 1, "exactly one function takes the catch-all route");
    let catalog: BTreeSet<&str> = moim_web::routes::CATALOG.iter().copied().collect();
    assert_eq!(in_template, catalog, "template.yaml routes vs moim_web::routes::CATALOG");
    for (binary, _) in moim_local::registry::FUNCTIONS {
        assert!(functions.iter().any(|f| f.binary == *binary), "{binary} is not in template.yaml");
    }
    for (binary, _) in moim_local::registry::EVENT_FUNCTIONS {
        assert!(functions.iter().any(|f| f.binary == *binary), "{binary} is not in template.yaml");
    }
    // Every binary names the engines it links; moim-local serves it with only those.
    let mut with_ports: Vec<&str> = moim_local::registry::PORTS.iter().map(|(b, _)| *b).collect();
    let mut binaries: Vec<&str> = functions.iter().map(|f| f.binary.as_str()).collect();
    with_ports.sort();
    binaries.sort();
    binaries.dedup();
    assert_eq!(with_ports, binaries, "registry::PORTS vs template.yaml binaries");
    let processor = functions.iter().find(|f| f.binary == "image-processor").unwrap();
    assert_eq!(processor.s3_prefixes, ["incoming/"], "the processor is triggered by originals only");
}

/// The status each event file is expected to produce, replayed in this order on
/// one fresh data dir. Every file in events/ must be listed.
const EVENTS: &[(&str, u16)] = &[
    ("auth-signup.json", 201),
    ("auth-login.json", 200),
    ("auth-refresh-no-cookie.json", 401),
    ("auth-logout.json", 204),
    ("auth-withdraw-no-token.json", 401),
    ("auth-catch-all.json", 404),
    ("auth-password-link-send.json", 200),
    ("auth-verify-bad-code.json", 400),
    // No GOOGLE_CLIENT_ID in the replay: the exchange cannot happen.
    ("auth-google-unconfigured.json", 401),
    ("users-me-no-token.json", 401),
    ("users-by-id-bad-token.json", 401),
    ("users-email-availability.json", 200),
    ("users-nickname-availability.json", 200),
    ("users-followers.json", 400),
    ("groups-list.json", 200),
    ("groups-detail-not-found.json", 404),
    ("groups-create-no-token.json", 401),
    ("groups-my-no-token.json", 401),
    ("groups-attend-bad-id.json", 401),
    ("groups-kick-no-token.json", 401),
    ("notifications-list-no-token.json", 401),
    ("notifications-unread-count-no-token.json", 401),
    ("images-upload-no-token.json", 401),
    ("chat-rooms-no-token.json", 401),
];

/// Events of the non-HTTP functions: (file, logical id, expected output).
const EVENT_FUNCTION_EVENTS: &[(&str, &str, &str)] = &[
    // No upload record for the key: nothing to do, and no retry.
    (
        "image-processor-incoming.json",
        "ImageProcessorFunction",
        r#"{"processed":[{"key":"incoming/6f1b2c3d-4e5f-4a6b-8c7d-9e0f1a2b3c4d","reason":"no upload record","status":"SKIPPED"}]}"#,
    ),
    // A stream batch: the group is indexed; the record that is not a group fails by
    // its sequence number (partial batch response), the rest of the batch stands.
    (
        "search-indexer-stream.json",
        "SearchIndexerFunction",
        r#"{"batchItemFailures":[{"itemIdentifier":"4421584500000000017450439092"}]}"#,
    ),
    (
        "sweeper-scheduled.json",
        "SweeperFunction",
        r#"{"filesDeleted":0,"filesSeen":0,"groupsRelisted":0,"keysChecked":0,"keysSwept":0}"#,
    ),
    // The WebSocket API: $connect echoes the STOMP subprotocol; a bad token at
    // CONNECT is an ERROR frame (pushed) and a close; $disconnect cleans up.
    (
        "chat-ws-connect.json",
        "ChatWsFunction",
        r#"{"headers":{"Sec-WebSocket-Protocol":"v12.stomp"},"statusCode":200}"#,
    ),
    ("chat-ws-default-bad-token.json", "ChatWsFunction", r#"{"statusCode":200}"#),
    ("chat-ws-disconnect.json", "ChatWsFunction", r#"{"statusCode":200}"#),
];

/// Events of the streaming function: (file, logical id, status, errorCode).
const STREAM_EVENTS: &[(&str, &str, u64, &str)] =
    &[("notifications-subscribe-no-token.json", "NotificationStreamFunction", 401, "NOT_FOUND_TOKEN")];

#[test]
fn every_event_file_replays_through_invoke() {
    let dir = workspace().join("events");
    let on_disk: BTreeSet<String> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| n.ends_with(".json"))
        .collect();
    let listed: BTreeSet<String> = EVENTS
        .iter()
        .map(|(f, _)| f.to_string())
        .chain(EVENT_FUNCTION_EVENTS.iter().map(|(f, _, _)| f.to_string()))
        .chain(STREAM_EVENTS.iter().map(|(f, _, _, _)| f.to_string()))
        .collect();
    assert_eq!(on_disk, listed, "events/ and this test's list differ");

    let functions = template::functions(moim_local::TEMPLATE).unwrap();
    let data = tempfile::tempdir().unwrap();
    // `moim-local invoke <id> -e <file>` on the shared data dir: its stdout as JSON.
    let invoke = |logical_id: &str, file: &str| -> Value {
        let out = Command::new(BIN)
            .args(["invoke", logical_id, "-e"])
            .arg(dir.join(file))
            .arg("--data")
            .arg(data.path())
            .output()
            .unwrap();
        assert!(out.status.success(), "{file}: {}", String::from_utf8_lossy(&out.stderr));
        serde_json::from_slice(&out.stdout).unwrap_or_else(|e| panic!("{file}: stdout is not JSON: {e}"))
    };
    for (file, status) in EVENTS {
        let event: Value = serde_json::from_str(&std::fs::read_to_string(dir.join(file)).unwrap()).unwrap();
        let route = event["routeKey"].as_str().unwrap();
        let f = functions.iter().find(|f| f.routes.iter().any(|r| r == route)).expect("route in template");
        let resp = invoke(&f.logical_id, file);
        assert_eq!(resp["statusCode"], *status, "{file}: {resp}");
        if *status != 204 {
            let body: Value = serde_json::from_str(resp["body"].as_str().unwrap()).unwrap();
            assert_eq!(body["status"], *status, "{file}: body status");
        }
    }
    for (file, logical_id, expected) in EVENT_FUNCTION_EVENTS {
        assert_eq!(invoke(logical_id, file), serde_json::from_str::<Value>(expected).unwrap(), "{file}");
    }
    for (file, logical_id, status, code) in STREAM_EVENTS {
        let out = invoke(logical_id, file);
        assert_eq!(out["statusCode"], *status, "{file}: {out}");
        let body: Value = serde_json::from_str(out["body"].as_str().unwrap()).unwrap();
        assert_eq!((body["status"].as_u64(), body["errorCode"].as_str()), (Some(*status), Some(*code)), "{file}");
    }
}

#[test]
fn sweep_runs_the_sweeper_once_and_prints_its_report() {
    let data = tempfile::tempdir().unwrap();
    let out = Command::new(BIN).arg("sweep").arg("--data").arg(data.path()).output().unwrap();
    assert!(out.status.success(), "{}", String::from_utf8_lossy(&out.stderr));
    let report: Value = serde_json::from_slice(&out.stdout).unwrap();
    // A fresh store holds only the default images, which belong to no upload.
    assert_eq!(report["filesDeleted"], 0, "{report}");
    assert_eq!(report["filesSeen"], 0, "defaults are outside incoming/ and images/: {report}");
}

#[test]
fn invoke_reports_unknown_functions_and_files() {
    let out = Command::new(BIN).args(["invoke", "NoSuchFunction", "-e", "x.json"]).output().unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("NoSuchFunction"));
}

#[tokio::test]
async fn every_template_route_reaches_its_handler() {
    let srv = Server::start(BIN, Engine::Embedded);
    let c = srv.client();
    for key in moim_web::routes::CATALOG {
        let (method, pattern) = key.split_once(' ').unwrap();
        let path = pattern
            .replace("{userId}", "1")
            .replace("{groupId}", "1")
            .replace("{targetUserId}", "2")
            .replace("{id}", "1");
        let r = c.send(c.request(method.parse().unwrap(), &path)).await;
        let code = r.body["errorCode"].as_str().unwrap_or("");
        assert!(code != "ENTITY_NOT_FOUND" && code != "METHOD_NOT_ALLOWED", "{key} fell through: {}", r.text);
        assert!(r.status < 500, "{key}: {}", r.text);
    }
}

#[tokio::test]
async fn unknown_routes_and_methods_answer_in_the_error_body() {
    let srv = Server::start(BIN, Engine::Embedded);
    let c = srv.client();
    c.get("/api/v1/nothing/here").await.expect(404, "ENTITY_NOT_FOUND");
    c.get("/").await.expect(404, "ENTITY_NOT_FOUND");
    c.get("/api/v1/groups").await.expect(404, "ENTITY_NOT_FOUND");
    let r = c.put("/api/v2/groups/1").await;
    r.expect(405, "METHOD_NOT_ALLOWED");
    assert_eq!(r.header("allow"), Some("DELETE, GET, PATCH"), "a 405 names the methods served there");
    c.get("/api/v1/auth/login").await.expect(405, "METHOD_NOT_ALLOWED");
    c.delete("/api/v1/users/me").await.expect(405, "METHOD_NOT_ALLOWED");
    // Allow names the resource's own methods, not those of a parameter route matching too.
    let r = c.put("/api/v1/notifications/read-all").await;
    r.expect(405, "METHOD_NOT_ALLOWED");
    assert_eq!(r.header("allow"), Some("POST"));
    // ... and a parameter route does not serve a literal resource of another method.
    let r = c.delete("/api/v1/notifications/read-all").await;
    r.expect(405, "METHOD_NOT_ALLOWED");
    assert_eq!(r.header("allow"), Some("POST"));
    let r = c.delete("/dev/outbox").await;
    r.expect(405, "METHOD_NOT_ALLOWED");
    assert_eq!(r.header("allow"), Some("GET"));
    c.get("/api/v1/users/abc").await.expect(400, "INVALID_INPUT_VALUE");
    c.get("/api/v1/users/-5").await.expect(400, "INVALID_INPUT_VALUE");
    let r = c.get("/api/v1/nothing").await;
    assert!(r.header("x-request-id").is_some());
}

#[tokio::test]
async fn cors_allows_dev_origins_with_credentials_and_nothing_else() {
    let srv = Server::start(BIN, Engine::Embedded);
    let c = srv.client();
    let pre = |origin: &'static str| {
        let c = c.clone();
        async move {
            c.send(
                c.request(reqwest::Method::OPTIONS, "/api/v1/auth/login")
                    .header("origin", origin)
                    .header("access-control-request-method", "POST")
                    .header("access-control-request-headers", "content-type,authorization"),
            )
            .await
        }
    };
    for origin in ["http://local.wego.monster:3001", "http://localhost:5173", "https://wego.monster"] {
        let r = pre(origin).await;
        assert_eq!(r.status, 204);
        assert_eq!(r.header("access-control-allow-origin"), Some(origin));
        assert_eq!(r.header("access-control-allow-credentials"), Some("true"));
        assert!(r.header("access-control-allow-headers").unwrap().contains("authorization"));
        assert!(r.header("access-control-allow-methods").unwrap().contains("PATCH"));
    }
    let denied = pre("https://evil.example").await;
    assert_eq!(denied.header("access-control-allow-origin"), None);
    let r = c.send(c.request(reqwest::Method::GET, "/api/v1/users/me").header("origin", "http://127.0.0.1:3000")).await;
    assert_eq!(r.status, 401);
    assert_eq!(r.header("access-control-allow-origin"), Some("http://127.0.0.1:3000"));
}

#[tokio::test]
async fn data_survives_a_restart_and_ctrl_c_stops_cleanly() {
    let srv = Server::start(BIN, Engine::Embedded);
    let (_, _, _) = srv.client().register("a@b.com", "Beemo").await;
    let mut srv = srv.restart();
    let r = srv
        .client()
        .post("/api/v1/auth/login", Some(serde_json::json!({"email": "a@b.com", "password": "password1!"})))
        .await;
    assert_eq!(r.status, 200, "{}", r.text);
    // Tokens issued before the restart stay valid: the key is kept in the data dir.
    let token = r.data()["accessToken"].as_str().unwrap().to_string();
    let mut srv2 = {
        let status = srv.interrupt().expect("exits on SIGINT");
        assert!(status.success(), "clean exit: {status:?}");
        srv.restart()
    };
    assert_eq!(srv2.client().with_token(&token).get("/api/v1/users/me").await.status, 200);
    assert!(srv2.interrupt().unwrap().success());
    let log = srv2.log.lock().unwrap().join("\n");
    assert!(log.contains("\"request_id\""), "JSON request logs: {log}");
}

/// `GET /dev/outbox` lists the local mail outbox of the data dir, newest first,
/// in the success envelope (API.md §2.1).
#[tokio::test]
async fn the_outbox_lists_local_mail_newest_first() {
    use moim_store::mail::{Mail, Mailer, OutboxMailer};
    let srv = Server::start(BIN, Engine::Embedded);
    let c = srv.client();
    let empty = c.get("/dev/outbox").await;
    assert_eq!(empty.status, 200, "{}", empty.text);
    assert_eq!(empty.data(), &serde_json::json!([]));
    let outbox = OutboxMailer::new(srv.data_dir().join("outbox"));
    for (to, subject) in [("a@b.com", "첫 번째"), ("c@d.com", "second")] {
        let mail = Mail { to: to.into(), subject: subject.into(), text: "t".into(), html: "<p>h</p>".into() };
        outbox.send(&mail).await.unwrap();
        tokio::time::sleep(std::time::Duration::from_millis(2)).await;
    }
    let r = c.get("/dev/outbox").await;
    let list = r.data().as_array().unwrap();
    assert_eq!(list.len(), 2);
    assert_eq!((list[0]["to"].as_str(), list[0]["subject"].as_str()), (Some("c@d.com"), Some("second")));
    assert_eq!(list[1]["subject"], "첫 번째");
    for k in ["id", "to", "subject", "text", "html", "createdAt"] {
        assert!(list[0].get(k).is_some(), "{k}");
    }
    let r = c.post("/dev/outbox", None).await;
    r.expect(405, "METHOD_NOT_ALLOWED");
    assert_eq!(r.header("allow"), Some("GET"), "read-only");
}

#[tokio::test]
async fn the_api_documentation_is_served_without_a_cdn() {
    let srv = Server::start(BIN, Engine::Embedded);
    let c = srv.client();
    let spec = c.get("/openapi.json").await;
    assert_eq!(spec.status, 200);
    assert!(spec.body["openapi"].as_str().unwrap().starts_with("3.1"), "{}", spec.text);
    assert!(spec.body["paths"]["/api/v2/groups"]["get"].is_object());
    let page = c.get("/docs").await;
    assert_eq!(page.status, 200);
    assert!(page.header("content-type").unwrap().starts_with("text/html"));
    assert!(page.text.contains("/docs/swagger-ui-bundle.js") && !page.text.contains("https://"));
    for (asset, kind) in [("/docs/swagger-ui-bundle.js", "text/javascript"), ("/docs/swagger-ui.css", "text/css")] {
        let r = c.get(asset).await;
        assert_eq!(r.status, 200, "{asset}");
        assert!(r.header("content-type").unwrap().starts_with(kind));
        assert!(r.text.len() > 100_000, "{asset}: the whole asset");
    }
}

/// A function's context has only the engines it declares: a port it leaves
/// out refuses (so the black-box suites, served through these contexts, fail
/// when a handler uses a port its package would not link).
#[tokio::test]
async fn functions_get_only_the_ports_they_declare() {
    let dir = tempfile::tempdir().unwrap();
    let (ctx, _) = moim_local::context(dir.path().to_path_buf(), "http://127.0.0.1:3000".into()).await.unwrap();
    let key = "groups/k/440x240.webp";
    let images = moim_local::registry::context_of(&ctx, "images").unwrap();
    images.blobs.put(key, vec![1, 2, 3], "image/webp").await.unwrap();
    assert!(images.search.is_none() && ctx.search.is_some(), "images links no search engine");
    let chat = moim_local::registry::context_of(&ctx, "chat").unwrap();
    assert_eq!(chat.blobs.public_url(key), ctx.blobs.public_url(key), "URLs are named without a blob store");
    assert!(chat.blobs.get(key).await.is_err(), "chat links no blob store");
    let mail = moim_store::mail::Mail { to: "a@b.com".into(), subject: "s".into(), text: "t".into(), html: "h".into() };
    let users = moim_local::registry::context_of(&ctx, "users").unwrap();
    assert!(users.mailer.send(&mail).await.is_err(), "users links no mailer");
    let auth = moim_local::registry::context_of(&ctx, "auth").unwrap();
    auth.mailer.send(&mail).await.unwrap();
    assert!(moim_local::registry::context_of(&ctx, "no-such-binary").is_err());
}
