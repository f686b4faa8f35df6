//! Which engines a binary links, as a bit set given to
//! [`AppContext::from_config_with`](crate::AppContext::from_config_with).
//!
//! Every Lambda function links the DynamoDB table. An engine whose bit a
//! function leaves out is unreachable from its `main`, so link-time
//! optimisation drops its SDK client (S3, API Gateway management, SES) or
//! engine (SQLite, the credential chain) from the package; the port then gets
//! its empty engine ([`UrlsOnly`](moim_store::blob::UrlsOnly) blobs, `NoPush`,
//! `NoMail`, no search). moim-local serves each function through
//! [`AppContext::limited_to`](crate::AppContext::limited_to) its bits, so a
//! function using a port it did not declare fails the black-box tests.

/// S3: reads, writes, listings and presigned uploads of blobs. Without it a
/// function can still name a blob's public URL.
pub const BLOBS: u8 = 1 << 0;
/// API Gateway's management API: frames to WebSocket connections.
pub const PUSH: u8 = 1 << 1;
/// SES: outgoing mail.
pub const MAIL: u8 = 1 << 2;
/// OpenSearch: keyword search.
pub const SEARCH: u8 = 1 << 3;
/// moim-local and tools: the embedded engines (SQLite table and index, files)
/// and the AWS SDK's full credential chain (profiles, SSO, instance metadata).
pub const LOCAL: u8 = 1 << 4;
/// Every engine.
pub const ALL: u8 = BLOBS | PUSH | MAIL | SEARCH | LOCAL;

/// Only the table.
pub const TABLE_ONLY: u8 = 0;
