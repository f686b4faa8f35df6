//! The OpenAPI document `openapi/openapi.yaml` against the code, so neither
//! drifts: its operations are exactly the route catalog (plus moim-local's own
//! `local-only` routes), every operation is well formed (ids, responses, path
//! parameters, security), every `$ref` resolves, and the error codes it names
//! are exactly `ErrorCode::ALL`, each under its own HTTP status.

use std::collections::{BTreeMap, BTreeSet};

use moim_domain::ErrorCode;
use moim_web::routes::{split_key, CATALOG};
use serde_json::Value;

const SPEC: &str = include_str!("../../openapi/openapi.yaml");
const METHODS: [&str; 8] = ["get", "put", "post", "delete", "options", "head", "patch", "trace"];
const LOCAL_ONLY: &str = "local-only";
const PROBLEM: &str = "#/components/schemas/Problem";
const ENVELOPE: &str = "#/components/schemas/Envelope";

/// The document, read as JSON values (as moim-local serves it at `/openapi.json`):
/// every key a string, so status codes stay quoted (`'200':`).
fn doc() -> Value {
    serde_yaml::from_str(SPEC).expect("openapi.yaml is valid YAML with string keys")
}

/// One operation: (METHOD, path, path item, operation).
type Operation<'a> = (String, &'a str, &'a Value, &'a Value);

fn operations(doc: &Value) -> Vec<Operation<'_>> {
    let paths = doc["paths"].as_object().expect("paths is a map");
    let mut out = Vec::new();
    for (path, item) in paths {
        for (key, op) in item.as_object().expect("a path item is a map") {
            if METHODS.contains(&key.as_str()) {
                out.push((key.to_ascii_uppercase(), path.as_str(), item, op));
            }
        }
    }
    out
}

fn is_local_only(op: &Value) -> bool {
    op["tags"].as_array().is_some_and(|t| t.iter().any(|t| t == LOCAL_ONLY))
}

/// Follows `$ref`s (local JSON pointers only) to the object they name.
fn resolve<'a>(doc: &'a Value, mut v: &'a Value) -> &'a Value {
    for _ in 0..16 {
        let Some(r) = v.get("$ref").and_then(Value::as_str) else { return v };
        v = r.strip_prefix('#').and_then(|p| doc.pointer(p)).unwrap_or_else(|| panic!("unresolved $ref {r}"));
    }
    panic!("$ref chain too long at {v}")
}

/// Whether a schema is, or composes (allOf / anyOf / oneOf), a reference to `target`.
fn composes(schema: &Value, target: &str) -> bool {
    if schema.get("$ref").and_then(Value::as_str) == Some(target) {
        return true;
    }
    ["allOf", "anyOf", "oneOf"]
        .iter()
        .filter_map(|k| schema.get(*k).and_then(Value::as_array))
        .any(|parts| parts.iter().any(|p| composes(p, target)))
}

/// Calls `f(pointer, key, value)` for every member of every object in `v`.
fn walk<'a>(v: &'a Value, at: &str, f: &mut impl FnMut(&str, &str, &'a Value)) {
    match v {
        Value::Object(map) => {
            for (k, child) in map {
                f(at, k, child);
                walk(child, &format!("{at}/{}", k.replace('~', "~0").replace('/', "~1")), f);
            }
        }
        Value::Array(items) => {
            for (i, child) in items.iter().enumerate() {
                walk(child, &format!("{at}/{i}"), f);
            }
        }
        _ => {}
    }
}

/// The `{name}` segments of a path template.
fn template_params(path: &str) -> BTreeSet<String> {
    path.split('/').filter_map(|s| s.strip_prefix('{').and_then(|s| s.strip_suffix('}'))).map(str::to_string).collect()
}

/// The error codes a (resolved) error response lists in `errorCode: {enum: [...]}`.
fn response_codes(doc: &Value, response: &Value) -> Vec<String> {
    let schema = resolve(doc, &response["content"]["application/json"]["schema"]);
    let mut codes = Vec::new();
    walk(schema, "", &mut |_, key, v| {
        if key == "errorCode" {
            if let Some(e) = v.get("enum").and_then(Value::as_array) {
                codes.extend(e.iter().map(|c| c.as_str().expect("an errorCode is a string").to_string()));
            }
        }
    });
    codes
}

fn code_by_name() -> BTreeMap<&'static str, ErrorCode> {
    ErrorCode::ALL.iter().map(|c| (c.name(), *c)).collect()
}

#[test]
fn the_document_is_openapi_3_1_with_the_local_server_and_its_tags() {
    let d = doc();
    assert!(d["openapi"].as_str().is_some_and(|v| v.starts_with("3.1")), "openapi: {}", d["openapi"]);
    assert!(d["info"]["title"].is_string() && d["info"]["version"].is_string(), "info needs title and version");
    let servers: Vec<&str> = d["servers"].as_array().unwrap().iter().filter_map(|s| s["url"].as_str()).collect();
    assert!(servers.contains(&"http://127.0.0.1:3000"), "the moim-local server: {servers:?}");
    let tags: BTreeSet<&str> = d["tags"].as_array().unwrap().iter().filter_map(|t| t["name"].as_str()).collect();
    for area in ["auth", "users", "groups", "attendance", "notifications", "chat", LOCAL_ONLY] {
        assert!(tags.contains(area), "tag {area} is declared");
    }
    for (method, path, _, op) in operations(&d) {
        let op_tags = op["tags"].as_array().unwrap_or_else(|| panic!("{method} {path}: no tags"));
        assert!(!op_tags.is_empty(), "{method} {path}: no tags");
        for t in op_tags {
            assert!(tags.contains(t.as_str().unwrap()), "{method} {path}: undeclared tag {t}");
        }
    }
}

#[test]
fn the_operations_are_exactly_the_route_catalog() {
    let d = doc();
    let catalog: BTreeSet<String> = CATALOG.iter().map(|k| k.to_string()).collect();
    assert_eq!(catalog.len(), CATALOG.len(), "CATALOG has no duplicates");
    let (local, served): (Vec<_>, Vec<_>) = operations(&d).into_iter().partition(|(_, _, _, op)| is_local_only(op));
    let documented: BTreeSet<String> = served.iter().map(|(m, p, _, _)| format!("{m} {p}")).collect();
    let missing: Vec<_> = catalog.difference(&documented).collect();
    let extra: Vec<_> = documented.difference(&catalog).collect();
    assert!(missing.is_empty() && extra.is_empty(), "not documented: {missing:?}; not in CATALOG: {extra:?}");
    for key in CATALOG {
        let (method, path) = split_key(key);
        assert!(path.starts_with("/api/"), "{key}");
        assert!(METHODS.contains(&method.to_ascii_lowercase().as_str()), "{key}");
    }
    let local: BTreeSet<String> = local.iter().map(|(m, p, _, _)| format!("{m} {p}")).collect();
    assert_eq!(local, BTreeSet::from(["GET /dev/outbox".to_string()]), "moim-local's own routes");
}

#[test]
fn every_operation_is_well_formed() {
    let d = doc();
    let schemes = d["components"]["securitySchemes"].as_object().expect("securitySchemes");
    assert_eq!(schemes["bearerAuth"]["type"], "http");
    assert_eq!(schemes["bearerAuth"]["scheme"], "bearer");
    assert_eq!(schemes["bearerAuth"]["bearerFormat"], "JWT");
    assert_eq!(schemes["refreshCookie"]["type"], "apiKey");
    assert_eq!(schemes["refreshCookie"]["in"], "cookie");
    assert_eq!(schemes["refreshCookie"]["name"], "refreshToken");

    let mut ids = BTreeSet::new();
    for (method, path, item, op) in operations(&d) {
        let at = format!("{method} {path}");
        let id = op["operationId"].as_str().unwrap_or_else(|| panic!("{at}: no operationId"));
        assert!(!id.is_empty() && ids.insert(id.to_string()), "{at}: operationId {id} missing or not unique");
        assert!(op["summary"].is_string(), "{at}: no summary");

        // Security: declared per operation, naming only defined schemes.
        let security = op["security"].as_array().unwrap_or_else(|| panic!("{at}: no security"));
        let names: BTreeSet<&str> =
            security.iter().flat_map(|req| req.as_object().unwrap().keys().map(String::as_str)).collect();
        for n in &names {
            assert!(schemes.contains_key(*n), "{at}: undefined security scheme {n}");
        }
        let anonymous_allowed = security.is_empty() || security.iter().any(|r| r.as_object().unwrap().is_empty());

        // Parameters: every template segment declared as a required int64 id, and nothing more.
        let params: Vec<&Value> = [&item["parameters"], &op["parameters"]]
            .into_iter()
            .filter_map(Value::as_array)
            .flatten()
            .map(|p| resolve(&d, p))
            .collect();
        let mut seen = BTreeSet::new();
        for p in &params {
            let (name, location) = (p["name"].as_str().unwrap(), p["in"].as_str().unwrap());
            assert!(["path", "query", "header", "cookie"].contains(&location), "{at}: parameter {name} in {location}");
            assert!(seen.insert((name, location)), "{at}: parameter {name} declared twice");
            assert!(p["schema"].is_object(), "{at}: parameter {name} has no schema");
        }
        let declared: BTreeSet<String> =
            params.iter().filter(|p| p["in"] == "path").map(|p| p["name"].as_str().unwrap().to_string()).collect();
        assert_eq!(declared, template_params(path), "{at}: path parameters");
        for p in params.iter().filter(|p| p["in"] == "path") {
            let name = &p["name"];
            assert_eq!(p["required"], true, "{at}: path parameter {name} is required");
            let s = &p["schema"];
            assert!(s["type"] == "integer" && s["format"] == "int64", "{at}: path parameter {name} is an int64");
            assert_eq!(s["minimum"], 1, "{at}: path parameter {name} starts at 1");
        }

        // Responses.
        let responses = op["responses"].as_object().unwrap_or_else(|| panic!("{at}: no responses"));
        let statuses: BTreeSet<&str> = responses.keys().map(String::as_str).collect();
        assert!(
            statuses.iter().any(|s| s.starts_with('2') || s.starts_with('3')),
            "{at}: no 2xx/3xx response in {statuses:?}"
        );
        for (status, response) in responses {
            let r = resolve(&d, response);
            assert!(r["description"].is_string(), "{at} {status}: no description");
            let json = &r["content"]["application/json"]["schema"];
            if status.starts_with('2') && status != "204" {
                assert!(composes(json, ENVELOPE), "{at} {status}: a success with content is the Envelope");
            } else if status == "204" {
                assert!(r.get("content").is_none(), "{at}: 204 has no body");
            } else if status.starts_with('3') {
                assert!(r.get("content").is_none(), "{at} {status}: a redirect has no body");
                let location = resolve(&d, &r["headers"]["Location"]);
                assert!(location.is_object(), "{at} {status}: a redirect documents Location");
            } else {
                assert!(composes(json, PROBLEM), "{at} {status}: an error response is a Problem");
            }
        }
        assert!(statuses.contains("500"), "{at}: every route can answer 500");
        let token_codes = response_codes(&d, resolve(&d, &op["responses"]["401"]));
        let token_errors = ["NOT_FOUND_TOKEN", "INVALID_TOKEN", "EXPIRED_TOKEN"];
        if names.contains("bearerAuth") {
            // Required or optional auth: a bad or expired header is 401 either way (API.md §1.5).
            for c in token_errors {
                assert!(token_codes.iter().any(|x| x == c), "{at}: an access-token route lists 401 {c}");
            }
        } else if security.is_empty() {
            // Public routes ignore an Authorization header.
            assert!(!token_codes.iter().any(|c| token_errors.contains(&c.as_str())), "{at}: a public route");
        }
        if anonymous_allowed && !security.is_empty() {
            // Optional auth: `{}` beside the scheme it makes optional (a lone `{}` would be `security: []`).
            assert!(security.len() >= 2 && !names.is_empty(), "{at}: optional auth names its scheme");
        }
        if !template_params(path).is_empty() {
            let codes = response_codes(&d, resolve(&d, &op["responses"]["400"]));
            assert!(codes.iter().any(|c| c == "INVALID_INPUT_VALUE"), "{at}: a non-numeric path id is 400");
        }
    }
}

#[test]
fn every_ref_resolves_inside_the_document() {
    let d = doc();
    let mut refs = 0;
    walk(&d, "", &mut |at, key, v| {
        if key == "$ref" {
            let r = v.as_str().unwrap_or_else(|| panic!("{at}: $ref is not a string"));
            let target = r.strip_prefix('#').unwrap_or_else(|| panic!("{at}: external $ref {r}"));
            assert!(d.pointer(target).is_some(), "{at}: $ref {r} does not resolve");
            refs += 1;
        }
    });
    assert!(refs > 100, "the document uses its components ({refs} refs)");
}

#[test]
fn schemas_use_json_types_and_list_required_properties() {
    const TYPES: [&str; 7] = ["string", "number", "integer", "boolean", "object", "array", "null"];
    const SCHEME_TYPES: [&str; 5] = ["http", "apiKey", "oauth2", "openIdConnect", "mutualTLS"];
    let d = doc();
    walk(&d, "", &mut |at, key, v| {
        let in_schemes = at.starts_with("/components/securitySchemes");
        match (key, v) {
            // `type` as a property name has an object (a schema) as its value.
            ("type", Value::String(t)) if in_schemes => assert!(SCHEME_TYPES.contains(&t.as_str()), "{at}: {t}"),
            ("type", Value::String(t)) => assert!(TYPES.contains(&t.as_str()), "{at}: type {t}"),
            // An unquoted `null` in a type list is YAML's null, not "null".
            ("type", Value::Array(ts)) => {
                assert!(ts.iter().all(|t| t.as_str().is_some_and(|t| TYPES.contains(&t))), "{at}: type {v}")
            }
            ("required", Value::Array(names)) => {
                // In a schema (not a parameter's `required: true`): each name is a declared property,
                // unless this is an allOf fragment that only tightens another schema.
                let Some(parent) = d.pointer(at) else { return };
                if let Some(props) = parent.get("properties").and_then(Value::as_object) {
                    for n in names {
                        assert!(props.contains_key(n.as_str().unwrap()), "{at}: required {n} is not a property");
                    }
                }
            }
            _ => {}
        }
    });
}

#[test]
fn error_codes_are_the_domains_each_under_its_status() {
    let d = doc();
    let by_name = code_by_name();
    let mut named = BTreeSet::new();
    // Every errorCode enum anywhere in the document names a real code.
    walk(&d, "", &mut |at, key, v| {
        if key == "errorCode" {
            if let Some(e) = v.get("enum").and_then(Value::as_array) {
                for c in e {
                    let c = c.as_str().unwrap_or_else(|| panic!("{at}: errorCode {c}"));
                    assert!(by_name.contains_key(c), "{at}: {c} is not in ErrorCode::ALL");
                    named.insert(c.to_string());
                }
            }
        }
    });
    let forgotten: Vec<&str> = by_name.keys().copied().filter(|c| !named.contains(*c)).collect();
    assert!(forgotten.is_empty(), "error codes the document never mentions: {forgotten:?}");

    // Each error response lists only codes answered with its status, and names them in its description.
    let mut error_responses: Vec<(String, &Value)> = operations(&d)
        .into_iter()
        .flat_map(|(m, p, _, op)| {
            op["responses"].as_object().unwrap().iter().map(move |(s, r)| (format!("{m} {p} {s}"), r))
        })
        .collect();
    if let Some(shared) = d["components"]["responses"].as_object() {
        error_responses.extend(shared.iter().map(|(name, r)| (format!("components/responses/{name}"), r)));
    }
    let mut checked = 0;
    for (at, response) in error_responses {
        let r = resolve(&d, response);
        let json = &r["content"]["application/json"]["schema"];
        if !composes(json, PROBLEM) {
            continue;
        }
        let codes = response_codes(&d, r);
        assert!(!codes.is_empty(), "{at}: an error response lists its errorCodes");
        let status: u16 = resolve(&d, json)["allOf"]
            .as_array()
            .and_then(|parts| parts.iter().find_map(|p| p["properties"]["status"]["const"].as_u64()))
            .unwrap_or_else(|| panic!("{at}: the Problem's status is pinned with const"))
            as u16;
        if let Some(s) = at.rsplit(' ').next().and_then(|s| s.parse::<u16>().ok()) {
            assert_eq!(s, status, "{at}: the body's status equals the HTTP status");
        }
        let description = r["description"].as_str().unwrap();
        for c in &codes {
            let code = by_name[c.as_str()];
            // INVALID_TOKEN is also 400 for a bad verification code or reset token (API.md §2.1).
            let ok = code.status() == status || (code == ErrorCode::INVALID_TOKEN && status == 400);
            assert!(ok, "{at}: {c} is answered with {}, not {status}", code.status());
            assert!(description.contains(&format!("`{c}`")), "{at}: the description names {c}");
        }
        checked += 1;
    }
    assert!(checked > 200, "error responses checked: {checked}");
}
