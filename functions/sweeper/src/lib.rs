//! The sweeper (scheduled hourly in template.yaml; `moim-local sweep` or its
//! timer locally): every file under `incoming/` and `images/` belongs to an
//! imageKey, and a file is kept only while its upload record is visible —
//! unconsumed and unexpired, or consumed by a group or profile. Everything
//! else is an orphan: an upload that expired unused, a file whose delete after
//! a commit failed, the remains of a request that died midway. Records are
//! always written before files and released before files are deleted, so a
//! file without a record is never one that is about to be used.
//!
//! Cost: one LIST page per 1000 files plus one GetItem per imageKey, so a run
//! grows with the number of stored images; bounded per run by `KEYS_PER_RUN`
//! (the rest waits for the next run). At scale an S3 Inventory report or a GSI
//! of unconsumed uploads by expiry replaces the listing (docs/DATA_MODEL.md).

/// The engines this function links besides the table (blobs: expired uploads and orphaned files).
pub const PORTS: u8 = moim_web::ports::BLOBS;

use std::collections::BTreeMap;

use moim_store::table::{now_epoch, Cond, WriteOp};
use moim_store::{uploads, StoreError};
use moim_web::AppContext;
use serde::Serialize;

/// imageKeys looked at in one run.
pub const KEYS_PER_RUN: usize = 5000;

#[derive(Debug, Default, Clone, PartialEq, Eq, Serialize)]
#[serde(rename_all = "camelCase")]
pub struct Report {
    pub files_seen: usize,
    pub keys_checked: usize,
    pub keys_swept: usize,
    pub files_deleted: usize,
    /// Groups moved to the listing partition they belong in (ended ones to the archive).
    pub groups_relisted: usize,
}

/// One sweep over the blob store.
pub async fn sweep(ctx: &AppContext) -> Result<Report, StoreError> {
    sweep_at_most(ctx, KEYS_PER_RUN).await
}

/// One sweep looking at no more than `keys_per_run` imageKeys.
pub async fn sweep_at_most(ctx: &AppContext, keys_per_run: usize) -> Result<Report, StoreError> {
    let mut by_key: BTreeMap<String, Vec<String>> = BTreeMap::new();
    let mut report = Report::default();
    for prefix in [uploads::INCOMING_PREFIX, uploads::IMAGES_PREFIX] {
        for blob in ctx.blobs.list(prefix).await? {
            report.files_seen += 1;
            if let Some(k) = uploads::image_key_of_blob(&blob) {
                by_key.entry(k.to_string()).or_default().push(blob);
            }
        }
    }
    // Past the budget, start at a random key so every key is reached over runs.
    let mut keys: Vec<(String, Vec<String>)> = by_key.into_iter().collect();
    if keys.len() > keys_per_run {
        let start = rand::random_range(0..keys.len());
        keys.rotate_left(start);
    }
    for (image_key, files) in keys.into_iter().take(keys_per_run) {
        report.keys_checked += 1;
        if uploads::get(&*ctx.table, &image_key).await?.is_some() {
            continue;
        }
        if uploads::valid_image_key(&image_key) {
            // An expired record is invisible but may still be stored until TTL removes it.
            let purge = WriteOp::delete(uploads::key(&image_key)).when(Cond::AbsentOrExpired { now: now_epoch() });
            if let Err(e) = ctx.table.transact(vec![purge]).await {
                tracing::debug!(image_key, error = %e, "expired upload record left to TTL");
            }
        }
        for f in &files {
            ctx.blobs.delete(f).await?;
            report.files_deleted += 1;
        }
        report.keys_swept += 1;
    }
    report.groups_relisted = relist(ctx).await?;
    tracing::info!(?report, "sweep done");
    Ok(report)
}

/// Moves groups whose time has passed out of the active listing shards (and
/// any group still in the unsharded partition of earlier versions) to the
/// partition they belong in. Costs one read per active group per run; the
/// archive is never read. Each move is conditioned on the version read, so a
/// concurrent write (which sets the partition itself) wins.
pub async fn relist(ctx: &AppContext) -> Result<usize, StoreError> {
    use moim_domain::group::{Group, GroupStatus};
    use moim_store::{groups, users::from_item, Query, Update};
    let now = chrono::Utc::now();
    let active = [GroupStatus::Recruiting, GroupStatus::Full, GroupStatus::Closed];
    let mut partitions = groups::listing_partitions(&active);
    partitions.push(Query::gsi1(groups::LEGACY_LISTING));
    let mut moved = 0;
    for partition in partitions {
        let mut cursor = None;
        loop {
            let page = ctx.table.query(partition.clone().limit(100).cursor(cursor)).await?;
            for item in page.items {
                let g: Group = from_item(item)?;
                let target = groups::listing_pk(&g, now);
                if target == partition.pk {
                    continue;
                }
                let op = WriteOp::update(groups::meta_key(g.id), Update::new().set(moim_store::table::GSI1PK, target))
                    .when(Cond::equals("version", g.version));
                match ctx.table.transact(vec![op]).await {
                    Ok(()) => moved += 1,
                    Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => {}
                    Err(e) => return Err(e),
                }
            }
            match page.cursor {
                Some(c) => cursor = Some(c),
                None => break,
            }
        }
    }
    Ok(moved)
}

/// The Lambda entry (any scheduled event): the report as JSON.
pub async fn handle(ctx: &AppContext) -> Result<serde_json::Value, String> {
    let report = sweep(ctx).await.map_err(|e| e.to_string())?;
    serde_json::to_value(report).map_err(|e| e.to_string())
}
