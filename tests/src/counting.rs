//! A table wrapper that counts calls per kind, to pin down how many storage
//! round trips each endpoint makes (the DynamoDB bill and latency follow them).

use std::sync::atomic::{AtomicUsize, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use moim_store::{Item, Key, Page, Query, StoreError, Table, WriteOp};

#[derive(Default, Debug)]
pub struct Counts {
    pub gets: AtomicUsize,
    pub queries: AtomicUsize,
    pub transacts: AtomicUsize,
}

impl Counts {
    /// (gets, queries, transacts) since the last call, resetting them.
    pub fn take(&self) -> (usize, usize, usize) {
        (
            self.gets.swap(0, Ordering::SeqCst),
            self.queries.swap(0, Ordering::SeqCst),
            self.transacts.swap(0, Ordering::SeqCst),
        )
    }
}

pub struct CountingTable {
    pub inner: Arc<dyn Table>,
    pub counts: Arc<Counts>,
}

#[async_trait]
impl Table for CountingTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.counts.gets.fetch_add(1, Ordering::SeqCst);
        self.inner.get(key).await
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.counts.queries.fetch_add(1, Ordering::SeqCst);
        self.inner.query(query).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.counts.transacts.fetch_add(1, Ordering::SeqCst);
        self.inner.transact(ops).await
    }
}
