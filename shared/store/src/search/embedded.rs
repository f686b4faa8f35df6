//! The embedded search engine: SQLite FTS5 with the trigram tokenizer in its
//! own file beside the table. Every character of the indexed text is written
//! three times, so a keyword of any length k becomes a phrase of 3k
//! characters that the trigram index answers exactly: "a" → "aaa", "ab" →
//! "aaabbb" (the run boundaries make it match only where "ab" occurs). One-
//! and two-character keywords, Korean among them, use the index like longer
//! ones. Matches come newest first straight from the index (rowid = group id).

use std::path::Path;
use std::sync::{Arc, Mutex};

use async_trait::async_trait;
use moim_domain::group::GroupStatus;
use moim_domain::search::{normalize_keyword, SearchDoc};
use rusqlite::{params, Connection, OptionalExtension};

use super::{Search, SearchError, SearchPage, SearchQuery};

const SCHEMA: &str = "
PRAGMA journal_mode = WAL;
CREATE TABLE IF NOT EXISTS docs (
    id INTEGER PRIMARY KEY,
    version INTEGER NOT NULL,
    status TEXT NOT NULL,
    ends_at INTEGER NOT NULL,
    deleted INTEGER NOT NULL DEFAULT 0
);
CREATE VIRTUAL TABLE IF NOT EXISTS docs_text USING fts5(
    text, tokenize = 'trigram', content = '', contentless_delete = 1
);
";

const READERS: usize = 2;

#[derive(Clone)]
pub struct EmbeddedSearch {
    writer: Arc<Mutex<Connection>>,
    readers: Arc<Vec<Mutex<Connection>>>,
    next: Arc<std::sync::atomic::AtomicUsize>,
}

fn backend(e: impl std::fmt::Display) -> SearchError {
    SearchError::Backend(e.to_string())
}

fn open(path: &Path) -> Result<Connection, SearchError> {
    let conn = Connection::open(path).map_err(backend)?;
    conn.busy_timeout(std::time::Duration::from_secs(10)).map_err(backend)?;
    Ok(conn)
}

/// Each character three times: the form both the text and the keyword take.
fn tripled(s: &str) -> String {
    s.chars().flat_map(|c| [c, c, c]).collect()
}

/// An FTS5 phrase: the text in double quotes (inner quotes doubled), so
/// `*`, `%`, `_`, `-`, `:` and the rest are matched literally.
fn phrase(s: &str) -> String {
    format!("\"{}\"", s.replace('"', "\"\""))
}

impl EmbeddedSearch {
    pub fn open(path: impl AsRef<Path>) -> Result<EmbeddedSearch, SearchError> {
        let path = path.as_ref();
        if let Some(dir) = path.parent() {
            std::fs::create_dir_all(dir).map_err(backend)?;
        }
        let writer = open(path)?;
        writer.execute_batch(SCHEMA).map_err(backend)?;
        let readers = (0..READERS).map(|_| open(path).map(Mutex::new)).collect::<Result<Vec<_>, _>>()?;
        Ok(EmbeddedSearch {
            writer: Arc::new(Mutex::new(writer)),
            readers: Arc::new(readers),
            next: Default::default(),
        })
    }

    async fn write<T: Send + 'static>(
        &self,
        f: impl FnOnce(&mut Connection) -> Result<T, rusqlite::Error> + Send + 'static,
    ) -> Result<T, SearchError> {
        let writer = self.writer.clone();
        tokio::task::spawn_blocking(move || {
            let mut conn = writer.lock().map_err(backend)?;
            f(&mut conn).map_err(backend)
        })
        .await
        .map_err(backend)?
    }
}

/// The stored version of a document (or its tombstone).
fn stored_version(tx: &rusqlite::Transaction, id: i64) -> Result<Option<i64>, rusqlite::Error> {
    tx.query_row("SELECT version FROM docs WHERE id = ?1", [id], |r| r.get(0)).optional()
}

#[async_trait]
impl Search for EmbeddedSearch {
    async fn upsert(&self, doc: &SearchDoc) -> Result<(), SearchError> {
        self.upsert_all(std::slice::from_ref(doc)).await
    }

    /// One SQLite transaction (one disk sync) for the whole batch.
    async fn upsert_all(&self, docs: &[SearchDoc]) -> Result<(), SearchError> {
        let docs = docs.to_vec();
        self.write(move |conn| {
            let tx = conn.transaction()?;
            for doc in &docs {
                if stored_version(&tx, doc.id)?.is_some_and(|v| v >= doc.version) {
                    continue;
                }
                tx.execute(
                    "INSERT INTO docs (id, version, status, ends_at, deleted) VALUES (?1, ?2, ?3, ?4, 0)
                     ON CONFLICT(id) DO UPDATE SET version = ?2, status = ?3, ends_at = ?4, deleted = 0",
                    params![doc.id, doc.version, doc.status.name(), doc.ends_at],
                )?;
                tx.execute("DELETE FROM docs_text WHERE rowid = ?1", [doc.id])?;
                tx.execute(
                    "INSERT INTO docs_text (rowid, text) VALUES (?1, ?2)",
                    params![doc.id, tripled(&doc.text())],
                )?;
            }
            tx.commit()
        })
        .await
    }

    async fn delete(&self, id: i64, version: i64) -> Result<(), SearchError> {
        self.write(move |conn| {
            let tx = conn.transaction()?;
            if stored_version(&tx, id)?.is_some_and(|v| v >= version) {
                return Ok(());
            }
            tx.execute(
                "INSERT INTO docs (id, version, status, ends_at, deleted) VALUES (?1, ?2, 'CANCELLED', 0, 1)
                 ON CONFLICT(id) DO UPDATE SET version = ?2, deleted = 1",
                params![id, version],
            )?;
            tx.execute("DELETE FROM docs_text WHERE rowid = ?1", [id])?;
            tx.commit()
        })
        .await
    }

    async fn search(&self, q: &SearchQuery) -> Result<SearchPage, SearchError> {
        let q = q.clone();
        let readers = self.readers.clone();
        let n = self.next.fetch_add(1, std::sync::atomic::Ordering::Relaxed) % READERS;
        tokio::task::spawn_blocking(move || {
            let conn = readers[n].lock().map_err(backend)?;
            let before = q.before.unwrap_or(i64::MAX);
            let (sql, keyword) = match normalize_keyword(&q.keyword) {
                Some(k) => (
                    "SELECT d.id, d.status, d.ends_at FROM docs_text t JOIN docs d ON d.id = t.rowid
                     WHERE docs_text MATCH ?1 AND t.rowid < ?2 AND d.deleted = 0 ORDER BY t.rowid DESC",
                    phrase(&tripled(&k)),
                ),
                None => (
                    "SELECT id, status, ends_at FROM docs WHERE ?1 = '' AND id < ?2 AND deleted = 0 ORDER BY id DESC",
                    String::new(),
                ),
            };
            let mut stmt = conn.prepare_cached(sql).map_err(backend)?;
            let mut rows = stmt.query(params![keyword, before]).map_err(backend)?;
            let mut page = SearchPage::default();
            while let Some(row) = rows.next().map_err(backend)? {
                let (id, status, ends_at): (i64, String, i64) =
                    (row.get(0).map_err(backend)?, row.get(1).map_err(backend)?, row.get(2).map_err(backend)?);
                let status = GroupStatus::parse(&status).ok_or_else(|| backend(format!("bad status {status}")))?;
                if !q.statuses.contains(&moim_domain::search::effective_status(status, ends_at, q.now)) {
                    continue;
                }
                if page.ids.len() == q.limit {
                    page.more = true;
                    break;
                }
                page.ids.push(id);
            }
            Ok(page)
        })
        .await
        .map_err(backend)?
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn tripling_keeps_substrings_exact() {
        assert_eq!(tripled("ab"), "aaabbb");
        let text = tripled("xab aa");
        for (k, found) in [("ab", true), ("a", true), ("aa", true), ("ba", false), ("xa", true), ("bx", false)] {
            assert_eq!(text.contains(&tripled(k)), found, "{k}");
        }
        assert_eq!(phrase("a\"b*"), "\"a\"\"b*\"");
    }
}
