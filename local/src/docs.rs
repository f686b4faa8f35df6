//! The API documentation moim-local serves: `/openapi.json` (openapi/openapi.yaml,
//! held to the route catalog by `local/tests/openapi_spec.rs`) and `/docs`, a
//! Swagger UI whose assets are the npm package `swagger-ui-dist`, vendored in
//! `openapi/ui/` by `scripts/update-docs-ui.sh` (nothing loads from a CDN).

use std::sync::OnceLock;

use axum::body::Body;
use axum::response::Response;

const SPEC_YAML: &str = include_str!("../../openapi/openapi.yaml");
const UI_JS: &[u8] = include_bytes!("../../openapi/ui/swagger-ui-bundle.js");
const UI_CSS: &[u8] = include_bytes!("../../openapi/ui/swagger-ui.css");

const PAGE: &str = r##"<!doctype html>
<html lang="en">
<head>
  <meta charset="utf-8">
  <title>moim API</title>
  <link rel="stylesheet" href="/docs/swagger-ui.css">
</head>
<body>
  <div id="ui"></div>
  <script src="/docs/swagger-ui-bundle.js"></script>
  <script>
    window.ui = SwaggerUIBundle({ url: "/openapi.json", dom_id: "#ui", deepLinking: true });
  </script>
</body>
</html>
"##;

/// The document as JSON, converted once.
pub fn spec_json() -> Result<&'static str, String> {
    static JSON: OnceLock<Result<String, String>> = OnceLock::new();
    JSON.get_or_init(|| {
        let value: serde_json::Value = serde_yaml::from_str(SPEC_YAML).map_err(|e| format!("openapi.yaml: {e}"))?;
        serde_json::to_string(&value).map_err(|e| e.to_string())
    })
    .as_ref()
    .map(String::as_str)
    .map_err(Clone::clone)
}

fn ok(content_type: &str, body: impl Into<Body>) -> Response {
    Response::builder()
        .status(200)
        .header("content-type", content_type)
        .header("cache-control", "no-cache")
        .body(body.into())
        .unwrap_or_default()
}

/// The documentation routes (GET only); None for every other path.
pub fn serve(path: &str) -> Option<Response> {
    Some(match path {
        "/openapi.json" => match spec_json() {
            Ok(json) => ok("application/json", json),
            Err(e) => Response::builder().status(500).body(Body::from(e)).unwrap_or_default(),
        },
        "/docs" | "/docs/" => ok("text/html; charset=utf-8", PAGE),
        "/docs/swagger-ui-bundle.js" => ok("text/javascript; charset=utf-8", UI_JS),
        "/docs/swagger-ui.css" => ok("text/css; charset=utf-8", UI_CSS),
        _ => return None,
    })
}

#[cfg(test)]
mod tests {
    #[test]
    fn the_spec_converts_and_the_page_uses_local_assets_only() {
        let json: serde_json::Value = serde_json::from_str(super::spec_json().unwrap()).unwrap();
        assert!(json["openapi"].as_str().unwrap().starts_with("3.1"));
        assert!(!super::PAGE.contains("http"), "no CDN");
        for path in ["/docs", "/docs/swagger-ui-bundle.js", "/docs/swagger-ui.css", "/openapi.json"] {
            assert_eq!(super::serve(path).unwrap().status(), 200, "{path}");
        }
        assert!(super::serve("/docs/other.js").is_none());
    }
}
