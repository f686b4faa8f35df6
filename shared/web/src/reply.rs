//! Successful responses: the `{status, success, data}` envelope, or 204 with no body.

use serde::Serialize;
use serde_json::Value;

#[derive(Debug, Clone)]
pub struct Reply {
    pub status: u16,
    /// None = 204, no body.
    pub data: Option<Value>,
    pub cookies: Vec<String>,
    /// Other response headers (e.g. `Location` of a redirect).
    pub headers: Vec<(String, String)>,
}

impl Reply {
    fn with(status: u16, data: impl Serialize) -> Reply {
        Reply {
            status,
            data: Some(serde_json::to_value(data).unwrap_or(Value::Null)),
            cookies: vec![],
            headers: vec![],
        }
    }
    pub fn ok(data: impl Serialize) -> Reply {
        Self::with(200, data)
    }
    pub fn created(data: impl Serialize) -> Reply {
        Self::with(201, data)
    }
    pub fn no_content() -> Reply {
        Reply { status: 204, data: None, cookies: vec![], headers: vec![] }
    }
    /// 302 to `location`, no body.
    pub fn redirect(location: impl Into<String>) -> Reply {
        Reply { status: 302, data: None, cookies: vec![], headers: vec![("location".into(), location.into())] }
    }
    pub fn cookie(mut self, set_cookie: String) -> Reply {
        self.cookies.push(set_cookie);
        self
    }

    /// The envelope body, or None for 204.
    pub fn body(&self) -> Option<Value> {
        self.data.as_ref().map(|d| serde_json::json!({ "status": self.status, "success": true, "data": d }))
    }
}
