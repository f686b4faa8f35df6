//! The search port (issue 10): keyword search over groups with the same
//! results on every engine — case-insensitive substring of title, location,
//! location detail or description (any length, Korean included, wildcard
//! characters literal), the effective status in a set, newest first, pages
//! below a cursor. Engines: the embedded one (SQLite FTS5, moim-local and the
//! tests) and OpenSearch (production), both fed from the change feed.

pub mod embedded;
pub mod opensearch;

use async_trait::async_trait;
use moim_domain::group::GroupStatus;
pub use moim_domain::search::SearchDoc;

pub use embedded::EmbeddedSearch;
pub use opensearch::OpenSearch;

#[derive(Debug, thiserror::Error)]
pub enum SearchError {
    #[error("search backend: {0}")]
    Backend(String),
}

/// One page request. `keyword` is as typed (engines normalise it with
/// [`moim_domain::search::normalize_keyword`]); blank matches every document.
#[derive(Debug, Clone, PartialEq)]
pub struct SearchQuery {
    pub keyword: String,
    /// Effective statuses to show (API.md §6.6), evaluated at `now`.
    pub statuses: Vec<GroupStatus>,
    /// Epoch seconds.
    pub now: i64,
    /// Only ids below this (the contract's cursor).
    pub before: Option<i64>,
    pub limit: usize,
}

/// Matching ids, newest first; `more` when matches exist past `limit`.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct SearchPage {
    pub ids: Vec<i64>,
    pub more: bool,
}

#[async_trait]
pub trait Search: Send + Sync {
    /// Indexes a group's document unless the engine holds an equal or higher
    /// version of it (redelivery and reordering are no-ops).
    async fn upsert(&self, doc: &SearchDoc) -> Result<(), SearchError>;
    /// Several upserts, in order (a back-fill's page); engines may batch them.
    async fn upsert_all(&self, docs: &[SearchDoc]) -> Result<(), SearchError> {
        for doc in docs {
            self.upsert(doc).await?;
        }
        Ok(())
    }
    /// Removes a group; `version` is kept as a tombstone so an older upsert
    /// arriving later does not bring it back.
    async fn delete(&self, id: i64, version: i64) -> Result<(), SearchError>;
    async fn search(&self, query: &SearchQuery) -> Result<SearchPage, SearchError>;
    /// Creates what the engine needs before the first write (OpenSearch: the
    /// index and its mapping); a no-op where nothing is needed. Idempotent.
    async fn prepare(&self) -> Result<(), SearchError> {
        Ok(())
    }
}
