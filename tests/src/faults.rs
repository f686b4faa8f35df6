//! A table wrapper that fails one chosen call: before it reaches the store, or
//! after the store did it (the response was lost: a committed transaction the
//! caller never heard about). Fault-injection tests sweep it over every call.

use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use moim_store::{Item, Key, Page, Query, StoreError, Table, WriteOp};

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Fault {
    /// The call fails without touching the store.
    Before,
    /// The call runs, then reports a failure.
    After,
}

pub struct FaultyTable {
    inner: Arc<dyn Table>,
    plan: Mutex<Option<(usize, Fault)>>,
    calls: AtomicUsize,
    fired: AtomicBool,
}

impl FaultyTable {
    pub fn new(inner: Arc<dyn Table>) -> Self {
        FaultyTable { inner, plan: Mutex::new(None), calls: AtomicUsize::new(0), fired: AtomicBool::new(false) }
    }

    /// Fails the `n`-th call (1-based) from now on, once.
    pub fn arm(&self, n: usize, fault: Fault) {
        self.calls.store(0, Ordering::SeqCst);
        self.fired.store(false, Ordering::SeqCst);
        *self.plan.lock().unwrap() = Some((n, fault));
    }

    pub fn disarm(&self) {
        *self.plan.lock().unwrap() = None;
    }

    pub fn fired(&self) -> bool {
        self.fired.load(Ordering::SeqCst)
    }

    /// Which fault, if any, this call gets.
    fn next(&self) -> Option<Fault> {
        let n = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        let plan = *self.plan.lock().unwrap();
        match plan {
            Some((at, fault)) if at == n => {
                self.fired.store(true, Ordering::SeqCst);
                Some(fault)
            }
            _ => None,
        }
    }
}

fn injected() -> StoreError {
    StoreError::Backend("injected fault".into())
}

#[async_trait]
impl Table for FaultyTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        match self.next() {
            Some(Fault::Before) => Err(injected()),
            Some(Fault::After) => self.inner.get(key).await.and(Err(injected())),
            None => self.inner.get(key).await,
        }
    }
    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        match self.next() {
            Some(Fault::Before) => Err(injected()),
            Some(Fault::After) => self.inner.query(query).await.and(Err(injected())),
            None => self.inner.query(query).await,
        }
    }
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        match self.next() {
            Some(Fault::Before) => Err(injected()),
            Some(Fault::After) => self.inner.transact(ops).await.and(Err(injected())),
            None => self.inner.transact(ops).await,
        }
    }
}

/// A blob port that fails chosen writes: puts of keys containing a pattern
/// (a process dying midway through writing variants), or every delete (a
/// storage outage right after a commit).
pub struct FaultyBlobs {
    pub inner: Arc<dyn moim_store::Blobs>,
    pub fail_puts_containing: Option<String>,
    pub fail_deletes: bool,
}

#[async_trait]
impl moim_store::Blobs for FaultyBlobs {
    async fn put(&self, key: &str, bytes: Vec<u8>, content_type: &str) -> Result<(), StoreError> {
        if self.fail_puts_containing.as_deref().is_some_and(|p| key.contains(p)) {
            return Err(injected());
        }
        self.inner.put(key, bytes, content_type).await
    }
    async fn get(&self, key: &str) -> Result<Option<moim_store::Blob>, StoreError> {
        self.inner.get(key).await
    }
    async fn delete(&self, key: &str) -> Result<(), StoreError> {
        if self.fail_deletes {
            return Err(injected());
        }
        self.inner.delete(key).await
    }
    async fn list(&self, prefix: &str) -> Result<Vec<String>, StoreError> {
        self.inner.list(prefix).await
    }
    async fn presign_put(
        &self,
        key: &str,
        content_type: &str,
        length: u64,
        expires_in: std::time::Duration,
    ) -> Result<String, StoreError> {
        self.inner.presign_put(key, content_type, length, expires_in).await
    }
    fn public_url(&self, key: &str) -> String {
        self.inner.public_url(key)
    }
}
