//! Builds the API Gateway HTTP API (payload 2.0) event for a request, as API
//! Gateway would: cookies split out, headers lower-cased and comma-joined,
//! binary bodies base64-encoded, route key and path parameters filled in.

use base64::Engine as _;
use serde_json::{json, Map, Value};

pub struct HttpRequest<'a> {
    pub method: &'a str,
    pub path: &'a str,
    pub raw_query: &'a str,
    pub headers: &'a http::HeaderMap,
    pub body: &'a [u8],
    pub source_ip: String,
}

fn is_textual(content_type: Option<&str>) -> bool {
    match content_type {
        None => true,
        Some(ct) => {
            let ct = ct.to_ascii_lowercase();
            ct.starts_with("text/") || ct.contains("json") || ct.contains("xml") || ct.contains("x-www-form-urlencoded")
        }
    }
}

pub fn build(req: &HttpRequest, route_key: &str, path_params: &[(String, String)], request_id: &str) -> Value {
    let mut headers = Map::new();
    let mut cookies = Vec::new();
    for (name, value) in req.headers {
        let v = String::from_utf8_lossy(value.as_bytes()).into_owned();
        if name == http::header::COOKIE {
            cookies.extend(v.split(';').map(|c| c.trim().to_string()).filter(|c| !c.is_empty()));
            continue;
        }
        match headers.get_mut(name.as_str()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                headers.insert(name.as_str().to_string(), Value::String(v));
            }
        }
    }
    let mut query = Map::new();
    for (k, v) in form_urlencoded::parse(req.raw_query.as_bytes()) {
        match query.get_mut(k.as_ref()) {
            Some(Value::String(existing)) => {
                existing.push(',');
                existing.push_str(&v);
            }
            _ => {
                query.insert(k.into_owned(), Value::String(v.into_owned()));
            }
        }
    }
    let content_type = req.headers.get(http::header::CONTENT_TYPE).and_then(|v| v.to_str().ok());
    let text = is_textual(content_type).then(|| std::str::from_utf8(req.body).ok()).flatten();
    let (body, b64) = match (req.body.is_empty(), text) {
        (true, _) => (Value::Null, false),
        (false, Some(t)) => (Value::String(t.to_string()), false),
        (false, None) => (Value::String(base64::engine::general_purpose::STANDARD.encode(req.body)), true),
    };
    let now = chrono::Utc::now();
    let params: Map<String, Value> = path_params.iter().map(|(k, v)| (k.clone(), Value::String(v.clone()))).collect();
    let mut event = json!({
        "version": "2.0",
        "routeKey": route_key,
        "rawPath": req.path,
        "rawQueryString": req.raw_query,
        "headers": headers,
        "requestContext": {
            "accountId": "000000000000",
            "apiId": "moim-local",
            "domainName": req.headers.get(http::header::HOST).and_then(|h| h.to_str().ok()).unwrap_or("127.0.0.1"),
            "domainPrefix": "moim-local",
            "http": {
                "method": req.method,
                "path": req.path,
                "protocol": "HTTP/1.1",
                "sourceIp": req.source_ip,
                "userAgent": req.headers.get(http::header::USER_AGENT).and_then(|h| h.to_str().ok()).unwrap_or(""),
            },
            "requestId": request_id,
            "routeKey": route_key,
            "stage": "$default",
            "time": now.format("%d/%b/%Y:%H:%M:%S +0000").to_string(),
            "timeEpoch": now.timestamp_millis(),
        },
        "isBase64Encoded": b64,
    });
    let obj = event.as_object_mut().expect("object literal");
    if !cookies.is_empty() {
        obj.insert("cookies".into(), json!(cookies));
    }
    if !query.is_empty() {
        obj.insert("queryStringParameters".into(), Value::Object(query));
    }
    if !params.is_empty() {
        obj.insert("pathParameters".into(), Value::Object(params));
    }
    if !body.is_null() {
        obj.insert("body".into(), body);
    }
    event
}

/// Status, headers and body of an HTTP response.
pub type ResponseParts = (u16, Vec<(String, String)>, Vec<u8>);

/// Turns the API Gateway response JSON back into HTTP parts: status, headers
/// (cookies as `set-cookie`) and the decoded body.
pub fn response_parts(v: &Value) -> Result<ResponseParts, String> {
    let status = v.get("statusCode").and_then(Value::as_u64).ok_or("response without statusCode")? as u16;
    let mut headers = Vec::new();
    if let Some(h) = v.get("headers").and_then(Value::as_object) {
        for (k, val) in h {
            if let Some(s) = val.as_str() {
                headers.push((k.clone(), s.to_string()));
            }
        }
    }
    if let Some(c) = v.get("cookies").and_then(Value::as_array) {
        for cookie in c.iter().filter_map(Value::as_str) {
            headers.push(("set-cookie".into(), cookie.to_string()));
        }
    }
    let body = match v.get("body").and_then(Value::as_str) {
        None => Vec::new(),
        Some(b) if v.get("isBase64Encoded").and_then(Value::as_bool) == Some(true) => {
            base64::engine::general_purpose::STANDARD.decode(b).map_err(|e| e.to_string())?
        }
        Some(b) => b.as_bytes().to_vec(),
    };
    Ok((status, headers, body))
}

/// The S3 `ObjectCreated:Put` notification AWS sends a triggered function
/// (event version 2.1, one record), as `moim-local` emits after a blob write.
pub fn s3_object_created(bucket: &str, key: &str, size: usize) -> Value {
    let now = chrono::Utc::now();
    json!({
        "Records": [{
            "eventVersion": "2.1",
            "eventSource": "aws:s3",
            "awsRegion": "us-east-1",
            "eventTime": now.format("%Y-%m-%dT%H:%M:%S%.3fZ").to_string(),
            "eventName": "ObjectCreated:Put",
            "userIdentity": { "principalId": "moim-local" },
            "requestParameters": { "sourceIPAddress": "127.0.0.1" },
            "responseElements": { "x-amz-request-id": uuid::Uuid::new_v4().simple().to_string(), "x-amz-id-2": "moim-local" },
            "s3": {
                "s3SchemaVersion": "1.0",
                "configurationId": "moim-local",
                "bucket": { "name": bucket, "ownerIdentity": { "principalId": "moim-local" }, "arn": format!("arn:aws:s3:::{bucket}") },
                "object": { "key": key, "size": size, "eTag": "", "sequencer": format!("{:016X}", now.timestamp_micros()) }
            }
        }]
    })
}

/// The API Gateway WebSocket event for one route (`$connect` with the
/// handshake's headers and query, `$default` with one text message,
/// `$disconnect`), as the deployed WebSocket API sends it.
pub fn ws_event(
    route_key: &str,
    connection_id: &str,
    headers: Option<&http::HeaderMap>,
    raw_query: &str,
    body: Option<&str>,
    request_id: &str,
) -> Value {
    let event_type = match route_key {
        "$connect" => "CONNECT",
        "$disconnect" => "DISCONNECT",
        _ => "MESSAGE",
    };
    let mut ev = json!({
        "requestContext": {
            "routeKey": route_key,
            "eventType": event_type,
            "connectionId": connection_id,
            "requestId": request_id,
            "messageId": request_id,
            "domainName": "localhost",
            "stage": "local",
            "apiId": "local",
            "requestTimeEpoch": chrono::Utc::now().timestamp_millis(),
        },
        "isBase64Encoded": false,
    });
    if let Some(h) = headers {
        let mut map = Map::new();
        for (name, value) in h {
            map.insert(
                name.as_str().to_string(),
                Value::String(String::from_utf8_lossy(value.as_bytes()).into_owned()),
            );
        }
        ev["headers"] = Value::Object(map);
        let query: Map<String, Value> = form_urlencoded::parse(raw_query.as_bytes())
            .map(|(k, v)| (k.into_owned(), Value::String(v.into_owned())))
            .collect();
        ev["queryStringParameters"] = Value::Object(query);
    }
    if let Some(b) = body {
        ev["body"] = Value::String(b.to_string());
    }
    ev
}
