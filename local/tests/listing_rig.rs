//! The sharded listing on both engines: groups spread over the shards and come
//! back merged newest first; the sweeper moves a group whose time has passed
//! (and any group of the unsharded partition of earlier versions) to where it
//! belongs, so the active list stops reading it.

mod common;

use chrono::Utc;
use common::rig_on;
use moim_blackbox::engines;
use moim_blackbox::fixtures;
use moim_domain::group::*;
use moim_store::groups::{self, listing_partitions};
use moim_store::table::GSI1PK;
use moim_store::{Query, WriteOp};

/// A group starting `days` from now (negative: ended).
fn group(id: i64, days: i64) -> Group {
    Group { start_time: Utc::now() + chrono::Duration::days(days), ..fixtures::group(id) }
}

async fn listed(t: &dyn moim_store::Table, partitions: &[Query]) -> Vec<i64> {
    let (page, _) = groups::scan_listing(t, partitions, None, 100, 1000, |_| true).await.unwrap();
    page.iter().map(|g| g.id).collect()
}

#[tokio::test]
async fn ended_and_legacy_groups_are_moved_out_of_the_active_shards() {
    let active = [GroupStatus::Recruiting, GroupStatus::Full, GroupStatus::Closed];
    for engine in engines() {
        let r = rig_on(engine, |t| t).await;
        let t = &*r.inner;
        // 1..=20 active, spread over the 8 shards.
        t.transact((1..=20).map(|id| WriteOp::put(groups::meta_item(&group(id, 2)))).collect()).await.unwrap();
        // 21 ended yesterday but still sits in an active shard (written while it was active).
        let mut ended = groups::meta_item(&group(21, -1));
        ended.insert(GSI1PK.into(), format!("GROUPS#{}", 21 % groups::LISTING_SHARDS).into());
        // 22 is in the unsharded partition of an earlier version.
        let mut legacy = groups::meta_item(&group(22, 2));
        legacy.insert(GSI1PK.into(), groups::LEGACY_LISTING.into());
        t.transact(vec![WriteOp::put(ended), WriteOp::put(legacy)]).await.unwrap();

        let mut expected: Vec<i64> = (1..=21).rev().collect();
        assert_eq!(listed(t, &listing_partitions(&active)).await, expected, "{engine:?}: merged newest first");

        assert_eq!(moim_sweeper::relist(&r.ctx).await.unwrap(), 2, "{engine:?}");
        expected.retain(|id| *id != 21);
        expected.insert(0, 22);
        assert_eq!(listed(t, &listing_partitions(&active)).await, expected, "{engine:?}: 21 left, 22 arrived");
        let archived = listed(t, &listing_partitions(&[GroupStatus::Cancelled])).await;
        assert_eq!(archived, vec![21], "{engine:?}: the archive holds the ended group");
        assert_eq!(moim_sweeper::relist(&r.ctx).await.unwrap(), 0, "{engine:?}: nothing left to move");
    }
}
