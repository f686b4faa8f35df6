//! A table wrapper that counts calls per kind, to pin down how many storage
//! round trips each endpoint makes (the DynamoDB bill and latency follow them),
//! and how many of them are sequential (the latency follows those alone).

use std::sync::atomic::{AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use moim_store::{Item, Key, Page, Query, StoreError, Table, WriteOp};

#[derive(Default, Debug)]
pub struct Counts {
    pub gets: AtomicUsize,
    pub queries: AtomicUsize,
    pub transacts: AtomicUsize,
    /// A logical clock: every call's start and end take the next tick.
    clock: AtomicU64,
    /// (start, end) ticks of each call since the last `take_sequential`.
    spans: Mutex<Vec<(u64, u64)>>,
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

    /// Sequential round trips since the last call, resetting them: the longest
    /// chain of calls each starting after the one before it ended. Calls issued
    /// together (joined futures) overlap, so they count once.
    pub fn take_sequential(&self) -> usize {
        let mut spans = std::mem::take(&mut *self.spans.lock().unwrap());
        spans.sort_unstable();
        // depth[i] = longest chain ending with call i.
        let mut depth = vec![1usize; spans.len()];
        for i in 0..spans.len() {
            for j in 0..i {
                if spans[j].1 < spans[i].0 {
                    depth[i] = depth[i].max(depth[j] + 1);
                }
            }
        }
        depth.into_iter().max().unwrap_or(0)
    }

    async fn timed<T>(&self, call: impl std::future::Future<Output = T>) -> T {
        let start = self.clock.fetch_add(1, Ordering::SeqCst);
        // Let calls issued together all start before any ends: an engine that
        // answers within one poll would otherwise look sequential.
        tokio::task::yield_now().await;
        let out = call.await;
        let end = self.clock.fetch_add(1, Ordering::SeqCst);
        self.spans.lock().unwrap().push((start, end));
        out
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
        self.counts.timed(self.inner.get(key)).await
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.counts.queries.fetch_add(1, Ordering::SeqCst);
        self.counts.timed(self.inner.query(query)).await
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        self.counts.transacts.fetch_add(1, Ordering::SeqCst);
        self.counts.timed(self.inner.transact(ops)).await
    }
}
