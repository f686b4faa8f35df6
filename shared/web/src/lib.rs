//! The HTTP edge shared by every moim function: configuration and ports
//! (`AppContext`), the response envelope and error body, JWT auth, request
//! parsing, and dispatch from API Gateway events to handlers.

pub mod auth;
pub mod config;
pub mod context;
pub mod error;
pub mod ports;
pub mod reply;
pub mod request;
pub mod router;
pub mod routes;

pub use context::AppContext;
pub use error::{ApiError, ApiResult};
pub use reply::Reply;
pub use request::{AuthUser, Req};
pub use router::{dispatch, run_lambda, Route};
