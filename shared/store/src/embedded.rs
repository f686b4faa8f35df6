//! Embedded engine: the table in one SQLite file (rusqlite, bundled).
//!
//! Why SQLite over redb: the GSIs are plain SQL indexes over columns of the same
//! row, so every write maintains them in its own ACID transaction by construction,
//! range queries with row-value cursors are one indexed statement, and the file is
//! inspectable with any sqlite3 shell. Writes serialise on one connection (as
//! SQLite does anyway); reads use a small pool of WAL readers.

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use rusqlite::{params, Connection, OptionalExtension};
use serde_json::Value;

use crate::table::*;

const READERS: usize = 4;

#[derive(Clone)]
pub struct EmbeddedTable {
    inner: Arc<Inner>,
}

struct Inner {
    writer: Mutex<Connection>,
    readers: Vec<Mutex<Connection>>,
    next_reader: std::sync::atomic::AtomicUsize,
}

const SCHEMA: &str = "
CREATE TABLE IF NOT EXISTS items (
    pk TEXT NOT NULL,
    sk TEXT NOT NULL,
    gsi1pk TEXT, gsi1sk TEXT,
    gsi2pk TEXT, gsi2sk TEXT,
    expires_at REAL,
    body TEXT NOT NULL,
    PRIMARY KEY (pk, sk)
) WITHOUT ROWID;
CREATE INDEX IF NOT EXISTS gsi1 ON items (gsi1pk, gsi1sk, pk, sk) WHERE gsi1pk IS NOT NULL;
CREATE INDEX IF NOT EXISTS gsi2 ON items (gsi2pk, gsi2sk, pk, sk) WHERE gsi2pk IS NOT NULL;
";

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

fn open(path: &Path) -> Result<Connection, StoreError> {
    let conn = Connection::open(path).map_err(backend)?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(backend)?;
    conn.pragma_update(None, "journal_mode", "WAL").map_err(backend)?;
    conn.pragma_update(None, "synchronous", "NORMAL").map_err(backend)?;
    Ok(conn)
}

impl EmbeddedTable {
    /// Opens (creating if needed) the table file at `path`.
    pub fn open(path: impl AsRef<Path>) -> Result<Self, StoreError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(backend)?;
        }
        let writer = open(path)?;
        writer.execute_batch(SCHEMA).map_err(backend)?;
        let readers = (0..READERS).map(|_| open(path).map(Mutex::new)).collect::<Result<_, _>>()?;
        Ok(EmbeddedTable {
            inner: Arc::new(Inner { writer: Mutex::new(writer), readers, next_reader: Default::default() }),
        })
    }

    async fn with_reader<T: Send + 'static>(
        &self,
        f: impl FnOnce(&Connection) -> Result<T, StoreError> + Send + 'static,
    ) -> Result<T, StoreError> {
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let n = inner.next_reader.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % READERS;
            let conn = inner.readers[n].lock().map_err(backend)?;
            f(&conn)
        })
        .await
        .map_err(backend)?
    }
}

fn get_visible(conn: &Connection, key: &Key, now: i64) -> Result<Option<Item>, StoreError> {
    let body: Option<String> = conn
        .query_row(
            "SELECT body FROM items WHERE pk = ?1 AND sk = ?2 AND (expires_at IS NULL OR expires_at > ?3)",
            params![key.pk, key.sk, now],
            |r| r.get(0),
        )
        .optional()
        .map_err(backend)?;
    body.map(|b| parse_item(&b)).transpose()
}

fn parse_item(body: &str) -> Result<Item, StoreError> {
    serde_json::from_str(body).map_err(backend)
}

fn index_cols(index: Index) -> (&'static str, &'static str) {
    match index {
        Index::Table => ("pk", "sk"),
        Index::Gsi1 => ("gsi1pk", "gsi1sk"),
        Index::Gsi2 => ("gsi2pk", "gsi2sk"),
    }
}

/// The value of a sparse GSI attribute pair: both must be strings, as in DynamoDB.
fn gsi(item: &Item, pk: &str, sk: &str) -> (Option<String>, Option<String>) {
    match (item.get(pk).and_then(Value::as_str), item.get(sk).and_then(Value::as_str)) {
        (Some(p), Some(s)) => (Some(p.to_string()), Some(s.to_string())),
        _ => (None, None),
    }
}

fn write_item(conn: &Connection, item: &Item) -> Result<(), StoreError> {
    let key = Key::of(item).ok_or_else(|| StoreError::Invalid("item without PK/SK".into()))?;
    let (g1p, g1s) = gsi(item, GSI1PK, GSI1SK);
    let (g2p, g2s) = gsi(item, GSI2PK, GSI2SK);
    let expires = item.get(EXPIRES_AT).and_then(Value::as_f64);
    conn.execute(
        "INSERT OR REPLACE INTO items (pk, sk, gsi1pk, gsi1sk, gsi2pk, gsi2sk, expires_at, body)
         VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8)",
        params![key.pk, key.sk, g1p, g1s, g2p, g2s, expires, Value::Object(item.clone()).to_string()],
    )
    .map_err(backend)?;
    Ok(())
}

fn run_query(conn: &Connection, q: &Query, now: i64) -> Result<Page, StoreError> {
    let (pcol, scol) = index_cols(q.index);
    let mut sql = format!("SELECT body FROM items WHERE {pcol} = ?1 AND (expires_at IS NULL OR expires_at > ?2)");
    let mut args: Vec<rusqlite::types::Value> = vec![q.pk.clone().into(), now.into()];
    let arg = |v: String, args: &mut Vec<rusqlite::types::Value>| {
        args.push(v.into());
        format!("?{}", args.len())
    };
    match &q.sk {
        None => {}
        Some(SkCond::Eq(v)) => sql += &format!(" AND {scol} = {}", arg(v.clone(), &mut args)),
        Some(SkCond::BeginsWith(p)) => {
            // Byte-wise prefix range: [p, p + U+10FFFF) covers every extension of p.
            let lo = arg(p.clone(), &mut args);
            let hi = arg(format!("{p}\u{10FFFF}"), &mut args);
            sql += &format!(" AND {scol} >= {lo} AND {scol} < {hi}");
        }
        Some(SkCond::Between(lo, hi)) => {
            let lo = arg(lo.clone(), &mut args);
            let hi = arg(hi.clone(), &mut args);
            sql += &format!(" AND {scol} BETWEEN {lo} AND {hi}");
        }
    }
    let cmp = if q.forward { ">" } else { "<" };
    let dir = if q.forward { "ASC" } else { "DESC" };
    if let Some(c) = &q.cursor {
        let m = decode_cursor(q.index, c)?;
        let s = |a: &str| m.get(a).and_then(Value::as_str).unwrap_or_default().to_string();
        if q.index == Index::Table {
            if s(PK) != q.pk {
                return Err(StoreError::Invalid("cursor from another query".into()));
            }
            sql += &format!(" AND sk {cmp} {}", arg(s(SK), &mut args));
        } else {
            let (ipk, isk) = q.index.attrs();
            if s(ipk) != q.pk {
                return Err(StoreError::Invalid("cursor from another query".into()));
            }
            let a = arg(s(isk), &mut args);
            let b = arg(s(PK), &mut args);
            let c = arg(s(SK), &mut args);
            sql += &format!(" AND ({scol}, pk, sk) {cmp} ({a}, {b}, {c})");
        }
    }
    if q.index == Index::Table {
        sql += &format!(" ORDER BY sk {dir}");
    } else {
        sql += &format!(" ORDER BY {scol} {dir}, pk {dir}, sk {dir}");
    }
    sql += &format!(" LIMIT {}", q.limit + 1);
    let mut stmt = conn.prepare_cached(&sql).map_err(backend)?;
    let rows = stmt.query_map(rusqlite::params_from_iter(args.iter()), |r| r.get::<_, String>(0)).map_err(backend)?;
    let mut items = Vec::with_capacity(q.limit + 1);
    for row in rows {
        items.push(parse_item(&row.map_err(backend)?)?);
    }
    let cursor = if items.len() > q.limit {
        items.truncate(q.limit);
        items.last().map(|i| encode_cursor(q.index, i))
    } else {
        None
    };
    Ok(Page { items, cursor })
}

fn run_transact(conn: &mut Connection, ops: &[WriteOp], now: i64) -> Result<(), StoreError> {
    let tx = conn.transaction_with_behavior(rusqlite::TransactionBehavior::Immediate).map_err(backend)?;
    // Evaluate every condition first, against the state before the transaction.
    let mut currents = Vec::with_capacity(ops.len());
    for (index, op) in ops.iter().enumerate() {
        let key = op.key().expect("validated");
        let current = get_visible(&tx, &key, now)?;
        if !op.conds().iter().all(|c| c.holds(current.as_ref())) {
            return Err(StoreError::ConditionFailed { index });
        }
        currents.push((key, current));
    }
    for (op, (key, current)) in ops.iter().zip(currents) {
        match op {
            WriteOp::Put { item, .. } => write_item(&tx, item)?,
            WriteOp::Update { update, .. } => write_item(&tx, &update.apply(&key, current.as_ref()))?,
            WriteOp::Delete { .. } => {
                tx.execute("DELETE FROM items WHERE pk = ?1 AND sk = ?2", params![key.pk, key.sk]).map_err(backend)?;
            }
            WriteOp::Check { .. } => {}
        }
    }
    tx.commit().map_err(backend)
}

#[async_trait]
impl Table for EmbeddedTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let key = key.clone();
        self.with_reader(move |conn| get_visible(conn, &key, now_epoch())).await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.with_reader(move |conn| run_query(conn, &query, now_epoch())).await
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        validate_transact(&ops)?;
        let inner = self.inner.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = inner.writer.lock().map_err(backend)?;
            run_transact(&mut conn, &ops, now_epoch())
        })
        .await
        .map_err(backend)?
    }
}
