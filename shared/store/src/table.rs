//! The table port: the narrow surface every engine implements exactly
//! (get, query on the table or a GSI, all-or-nothing transact).
//!
//! Items are JSON objects; the key attributes are `PK`/`SK`, the GSIs use
//! `GSI1PK`/`GSI1SK` and `GSI2PK`/`GSI2SK` (sparse: an item is in a GSI only when
//! both of its attributes are strings), and `expiresAt` (epoch seconds) is the TTL.

use async_trait::async_trait;
use base64::Engine as _;
use serde_json::{Map, Value};

/// One stored item: a JSON object holding at least `PK` and `SK`.
pub type Item = Map<String, Value>;

pub const PK: &str = "PK";
pub const SK: &str = "SK";
pub const GSI1PK: &str = "GSI1PK";
pub const GSI1SK: &str = "GSI1SK";
pub const GSI2PK: &str = "GSI2PK";
pub const GSI2SK: &str = "GSI2SK";
/// TTL attribute: epoch seconds after which the item is gone for every reader.
pub const EXPIRES_AT: &str = "expiresAt";
/// DynamoDB's limit on operations in one TransactWriteItems.
pub const MAX_TRANSACT_OPS: usize = 100;

#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Key {
    pub pk: String,
    pub sk: String,
}

impl Key {
    pub fn new(pk: impl Into<String>, sk: impl Into<String>) -> Self {
        Key { pk: pk.into(), sk: sk.into() }
    }

    /// The key of an item, if it has string `PK` and `SK`.
    pub fn of(item: &Item) -> Option<Key> {
        Some(Key::new(item.get(PK)?.as_str()?, item.get(SK)?.as_str()?))
    }
}

/// Which ordered index a query reads.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Index {
    Table,
    Gsi1,
    Gsi2,
}

impl Index {
    /// (partition attribute, sort attribute) of the index.
    pub fn attrs(self) -> (&'static str, &'static str) {
        match self {
            Index::Table => (PK, SK),
            Index::Gsi1 => (GSI1PK, GSI1SK),
            Index::Gsi2 => (GSI2PK, GSI2SK),
        }
    }

    /// The DynamoDB index name (None for the base table).
    pub fn name(self) -> Option<&'static str> {
        match self {
            Index::Table => None,
            Index::Gsi1 => Some("GSI1"),
            Index::Gsi2 => Some("GSI2"),
        }
    }
}

/// Sort-key condition of a query (strings compare byte-wise, as in DynamoDB).
#[derive(Debug, Clone, PartialEq)]
pub enum SkCond {
    Eq(String),
    BeginsWith(String),
    /// Inclusive on both ends.
    Between(String, String),
}

impl SkCond {
    pub fn matches(&self, sk: &str) -> bool {
        match self {
            SkCond::Eq(v) => sk == v,
            SkCond::BeginsWith(p) => sk.starts_with(p.as_str()),
            SkCond::Between(lo, hi) => lo.as_str() <= sk && sk <= hi.as_str(),
        }
    }
}

#[derive(Debug, Clone)]
pub struct Query {
    pub index: Index,
    pub pk: String,
    pub sk: Option<SkCond>,
    /// Ascending sort key when true.
    pub forward: bool,
    /// At most this many items in the page (at least 1).
    pub limit: usize,
    /// Opaque cursor from a previous page.
    pub cursor: Option<String>,
}

impl Query {
    pub fn table(pk: impl Into<String>) -> Self {
        Query { index: Index::Table, pk: pk.into(), sk: None, forward: true, limit: 100, cursor: None }
    }
    pub fn gsi1(pk: impl Into<String>) -> Self {
        Query { index: Index::Gsi1, ..Query::table(pk) }
    }
    pub fn gsi2(pk: impl Into<String>) -> Self {
        Query { index: Index::Gsi2, ..Query::table(pk) }
    }
    pub fn sk(mut self, cond: SkCond) -> Self {
        self.sk = Some(cond);
        self
    }
    pub fn backward(mut self) -> Self {
        self.forward = false;
        self
    }
    pub fn limit(mut self, limit: usize) -> Self {
        self.limit = limit.max(1);
        self
    }
    pub fn cursor(mut self, cursor: Option<String>) -> Self {
        self.cursor = cursor;
        self
    }
}

/// A page of a query: `cursor` is set only when more items follow.
#[derive(Debug, Clone, Default)]
pub struct Page {
    pub items: Vec<Item>,
    pub cursor: Option<String>,
}

/// The closed set of write conditions both engines honour.
#[derive(Debug, Clone, PartialEq)]
pub enum Cond {
    /// The item does not exist.
    Absent,
    /// The item exists.
    Exists,
    /// The attribute exists and equals the value.
    Equals(String, Value),
    /// The attribute is a number below the bound.
    LessThan(String, i64),
    /// The attribute is a number above the bound.
    GreaterThan(String, i64),
    /// The attribute is absent.
    AttrAbsent(String),
    /// The item is absent, or its `expiresAt` is at or before `now` (epoch seconds).
    AbsentOrExpired { now: i64 },
}

impl Cond {
    pub fn equals(attr: &str, value: impl Into<Value>) -> Self {
        Cond::Equals(attr.to_string(), value.into())
    }

    /// Evaluates against the current item (None = absent), as DynamoDB would.
    pub fn holds(&self, current: Option<&Item>) -> bool {
        match self {
            Cond::Absent => current.is_none(),
            Cond::Exists => current.is_some(),
            Cond::Equals(attr, v) => current.and_then(|i| i.get(attr)).is_some_and(|a| json_eq(a, v)),
            Cond::LessThan(attr, n) => number(current, attr).is_some_and(|a| a < *n as f64),
            Cond::GreaterThan(attr, n) => number(current, attr).is_some_and(|a| a > *n as f64),
            Cond::AttrAbsent(attr) => current.is_none_or(|i| !i.contains_key(attr)),
            Cond::AbsentOrExpired { now } => match current {
                None => true,
                Some(_) => number(current, EXPIRES_AT).is_some_and(|e| e <= *now as f64),
            },
        }
    }
}

fn number(item: Option<&Item>, attr: &str) -> Option<f64> {
    item?.get(attr)?.as_f64()
}

/// Numbers compare by value (1 == 1.0), everything else structurally.
fn json_eq(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        _ => a == b,
    }
}

/// One write in a transaction. Every op may carry conditions (all must hold).
#[derive(Debug, Clone)]
pub enum WriteOp {
    Put { item: Item, conds: Vec<Cond> },
    Update { key: Key, update: Update, conds: Vec<Cond> },
    Delete { key: Key, conds: Vec<Cond> },
    Check { key: Key, conds: Vec<Cond> },
}

impl WriteOp {
    pub fn put(item: Item) -> Self {
        WriteOp::Put { item, conds: vec![] }
    }
    pub fn put_new(item: Item) -> Self {
        WriteOp::Put { item, conds: vec![Cond::Absent] }
    }
    pub fn update(key: Key, update: Update) -> Self {
        WriteOp::Update { key, update, conds: vec![] }
    }
    pub fn delete(key: Key) -> Self {
        WriteOp::Delete { key, conds: vec![] }
    }
    pub fn check(key: Key, cond: Cond) -> Self {
        WriteOp::Check { key, conds: vec![cond] }
    }
    /// Adds a condition to this op.
    pub fn when(mut self, cond: Cond) -> Self {
        match &mut self {
            WriteOp::Put { conds, .. }
            | WriteOp::Update { conds, .. }
            | WriteOp::Delete { conds, .. }
            | WriteOp::Check { conds, .. } => conds.push(cond),
        }
        self
    }
    pub fn key(&self) -> Option<Key> {
        match self {
            WriteOp::Put { item, .. } => Key::of(item),
            WriteOp::Update { key, .. } | WriteOp::Delete { key, .. } | WriteOp::Check { key, .. } => Some(key.clone()),
        }
    }
    pub fn conds(&self) -> &[Cond] {
        match self {
            WriteOp::Put { conds, .. }
            | WriteOp::Update { conds, .. }
            | WriteOp::Delete { conds, .. }
            | WriteOp::Check { conds, .. } => conds,
        }
    }
}

/// An update expression: SET, ADD (numbers; absent counts as 0) and REMOVE.
/// Updating an absent item creates it, as DynamoDB's UpdateItem does.
#[derive(Debug, Clone, Default)]
pub struct Update {
    pub set: Vec<(String, Value)>,
    pub add: Vec<(String, i64)>,
    pub remove: Vec<String>,
}

impl Update {
    pub fn new() -> Self {
        Self::default()
    }
    pub fn set(mut self, attr: &str, value: impl Into<Value>) -> Self {
        self.set.push((attr.to_string(), value.into()));
        self
    }
    pub fn add(mut self, attr: &str, n: i64) -> Self {
        self.add.push((attr.to_string(), n));
        self
    }
    pub fn remove(mut self, attr: &str) -> Self {
        self.remove.push(attr.to_string());
        self
    }

    /// Applies the update to the current item (engines without native updates use this).
    pub fn apply(&self, key: &Key, current: Option<&Item>) -> Item {
        let mut item = current.cloned().unwrap_or_default();
        item.insert(PK.into(), Value::String(key.pk.clone()));
        item.insert(SK.into(), Value::String(key.sk.clone()));
        for (attr, v) in &self.set {
            item.insert(attr.clone(), v.clone());
        }
        for (attr, n) in &self.add {
            let base = item.get(attr).and_then(Value::as_i64).unwrap_or(0);
            item.insert(attr.clone(), Value::from(base + n));
        }
        for attr in &self.remove {
            item.remove(attr);
        }
        item
    }
}

#[derive(Debug, thiserror::Error)]
pub enum StoreError {
    /// The condition of the op at this index in the transaction failed.
    #[error("condition of operation {index} failed")]
    ConditionFailed { index: usize },
    /// Another transaction touched the same items at the same time; retrying may succeed.
    #[error("transaction conflict")]
    Conflict,
    /// The request itself is invalid (e.g. two ops on one item); a bug in the caller.
    #[error("invalid request: {0}")]
    Invalid(String),
    #[error("throttled")]
    Throttled,
    #[error("storage backend: {0}")]
    Backend(String),
}

impl StoreError {
    pub fn failed_op(&self) -> Option<usize> {
        match self {
            StoreError::ConditionFailed { index } => Some(*index),
            _ => None,
        }
    }
}

/// The table port.
#[async_trait]
pub trait Table: Send + Sync {
    /// Strongly consistent read of one item; expired items are absent.
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError>;
    /// One page of items under `pk` in index order; expired items are skipped.
    async fn query(&self, query: Query) -> Result<Page, StoreError>;
    /// All ops or none. Rejects an empty list, more than 100 ops, and two ops on one item.
    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError>;
}

/// Shared request validation, so both engines refuse the same things.
pub fn validate_transact(ops: &[WriteOp]) -> Result<(), StoreError> {
    if ops.is_empty() {
        return Err(StoreError::Invalid("empty transaction".into()));
    }
    if ops.len() > MAX_TRANSACT_OPS {
        return Err(StoreError::Invalid(format!("{} operations, at most {MAX_TRANSACT_OPS}", ops.len())));
    }
    let mut seen = std::collections::HashSet::new();
    for op in ops {
        let key = op.key().ok_or_else(|| StoreError::Invalid("put item without string PK/SK".into()))?;
        if !seen.insert(key) {
            return Err(StoreError::Invalid(
                "Transaction request cannot include multiple operations on one item".into(),
            ));
        }
        if let WriteOp::Update { update, .. } = op {
            if update.set.iter().any(|(a, _)| a == PK || a == SK) {
                return Err(StoreError::Invalid("cannot update key attributes".into()));
            }
        }
    }
    Ok(())
}

/// The key attributes a cursor carries for an index (table key plus index key).
pub fn cursor_attrs(index: Index) -> &'static [&'static str] {
    match index {
        Index::Table => &[PK, SK],
        Index::Gsi1 => &[GSI1PK, GSI1SK, PK, SK],
        Index::Gsi2 => &[GSI2PK, GSI2SK, PK, SK],
    }
}

/// Encodes the position after `item` as an opaque cursor.
pub fn encode_cursor(index: Index, item: &Item) -> String {
    let mut m = Map::new();
    for a in cursor_attrs(index) {
        if let Some(v) = item.get(*a) {
            m.insert((*a).to_string(), v.clone());
        }
    }
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(Value::Object(m).to_string())
}

/// Decodes a cursor made by [`encode_cursor`] for the same index.
pub fn decode_cursor(index: Index, cursor: &str) -> Result<Map<String, Value>, StoreError> {
    let bad = || StoreError::Invalid("malformed cursor".into());
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD.decode(cursor).map_err(|_| bad())?;
    let m: Map<String, Value> = serde_json::from_slice(&bytes).map_err(|_| bad())?;
    if cursor_attrs(index).iter().all(|a| m.get(*a).is_some_and(Value::is_string)) {
        Ok(m)
    } else {
        Err(bad())
    }
}

/// True when an item is past its TTL at `now`.
pub fn is_expired(item: &Item, now: i64) -> bool {
    item.get(EXPIRES_AT).and_then(Value::as_f64).is_some_and(|e| e <= now as f64)
}

/// Current time in epoch seconds.
pub fn now_epoch() -> i64 {
    chrono::Utc::now().timestamp()
}
