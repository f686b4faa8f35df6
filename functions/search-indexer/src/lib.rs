//! The search indexer: reads the change feed (DynamoDB Streams on AWS, the
//! in-process feed under moim-local) and keeps the search engine in step with
//! every group's META item. Idempotent: an engine keeps the highest version it
//! has seen, so redelivered and reordered records change nothing; a record it
//! cannot read is reported failed (on AWS: retried, then the dead-letter queue).

/// The engines this function links besides the table (search: the index it writes).
pub const PORTS: u8 = moim_web::ports::SEARCH;

use std::sync::Arc;

use async_trait::async_trait;
use moim_domain::group::Group;
use moim_domain::search::SearchDoc;
use moim_store::feed::{ChangeConsumer, ChangeKind, ChangeRecord};
use moim_store::search::Search;
use moim_store::users::from_item;
use moim_store::Key;
use serde_json::{json, Value};

pub struct SearchIndexer {
    pub search: Arc<dyn Search>,
}

/// Group META items only (the template's event filter says the same).
fn is_group_meta(key: &Key) -> bool {
    key.pk.starts_with("GROUP#") && key.sk == moim_store::groups::META
}

impl SearchIndexer {
    async fn apply(&self, r: &ChangeRecord) -> Result<(), String> {
        match r.kind {
            ChangeKind::Insert | ChangeKind::Modify => {
                let image = r.new_image.clone().ok_or("no new image")?;
                let group: Group = from_item(image).map_err(|e| e.to_string())?;
                self.search.upsert(&SearchDoc::of(&group)).await.map_err(|e| e.to_string())
            }
            ChangeKind::Remove => {
                let old = r.old_image.as_ref().ok_or("no old image")?;
                let id = old.get("id").and_then(Value::as_i64).ok_or("old image without id")?;
                let version = old.get("version").and_then(Value::as_i64).ok_or("old image without version")?;
                // The tombstone outranks every version the group had.
                self.search.delete(id, version + 1).await.map_err(|e| e.to_string())
            }
        }
    }
}

#[async_trait]
impl ChangeConsumer for SearchIndexer {
    fn wants(&self, key: &Key) -> bool {
        is_group_meta(key)
    }

    async fn consume(&self, records: &[ChangeRecord]) -> Vec<String> {
        let mut failed = Vec::new();
        for r in records.iter().filter(|r| is_group_meta(&r.key)) {
            if let Err(e) = self.apply(r).await {
                tracing::error!(record = %r.id, key = %r.key.pk, error = %e, "indexing failed");
                failed.push(r.id.clone());
            }
        }
        failed
    }
}

/// One DynamoDB Streams batch → the partial batch response Lambda expects
/// (`ReportBatchItemFailures`): the sequence numbers to retry.
pub async fn handle(indexer: &SearchIndexer, event: Value) -> Value {
    let mut failures = Vec::new();
    let mut records = Vec::new();
    for parsed in moim_store::feed::from_stream_event(&event) {
        match parsed {
            Ok(r) => records.push(r),
            Err((id, why)) => {
                tracing::error!(record = %id, error = %why, "unreadable stream record");
                failures.push(id);
            }
        }
    }
    failures.extend(indexer.consume(&records).await);
    json!({ "batchItemFailures": failures.iter().map(|id| json!({ "itemIdentifier": id })).collect::<Vec<_>>() })
}

/// Indexes every group in the table (a new search engine, or one that missed
/// changes): pages through every listing partition and upserts each group, so
/// running it again, or beside the live feed, changes nothing. `progress` is
/// called every 1000 groups. Returns how many groups were indexed.
pub async fn backfill(
    table: &dyn moim_store::Table,
    search: &dyn Search,
    progress: impl Fn(usize),
) -> Result<usize, String> {
    use moim_domain::group::GroupStatus;
    use moim_store::groups;
    let mut partitions = groups::listing_partitions(&GroupStatus::ALL);
    partitions.push(moim_store::Query::gsi1(groups::LEGACY_LISTING));
    let mut count = 0;
    for partition in partitions {
        let mut cursor = None;
        loop {
            let page = table.query(partition.clone().limit(100).cursor(cursor)).await.map_err(|e| e.to_string())?;
            let docs = page
                .items
                .into_iter()
                .map(|item| from_item::<Group>(item).map(|g| SearchDoc::of(&g)).map_err(|e| e.to_string()))
                .collect::<Result<Vec<_>, _>>()?;
            search.upsert_all(&docs).await.map_err(|e| e.to_string())?;
            let before = count;
            count += docs.len();
            if count / 1000 > before / 1000 {
                progress(count);
            }
            match page.cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    Ok(count)
}
