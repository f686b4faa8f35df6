//! Listing pages over the GSIs: newest first, resumable from the last id, one
//! match of lookahead so the last page has no cursor, and a read budget that
//! bounds the cost of a selective filter (a short page then carries a cursor).

use chrono::Utc;
use moim_domain::group::*;
use moim_store::groups;
use moim_store::{EmbeddedTable, Table, WriteOp};

fn group(id: i64, host: i64) -> Group {
    let now = Utc::now();
    Group {
        id,
        chat_room_id: 1000 + id,
        title: format!("g{id}"),
        location: "l".into(),
        location_detail: None,
        start_time: now + chrono::Duration::days(1),
        end_time: None,
        tags: vec![],
        description: "d".into(),
        max_participants: 4,
        join_policy: JoinPolicy::Free,
        status: GroupStatus::Recruiting,
        host: Profile { user_id: host, nick_name: "h".into(), profile_image: None, profile_message: None },
        participant_count: 1,
        images: vec![],
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

async fn table_with_groups(n: i64) -> (tempfile::TempDir, EmbeddedTable) {
    let dir = tempfile::tempdir().unwrap();
    let t = EmbeddedTable::open(dir.path().join("t.sqlite3")).unwrap();
    for chunk in (1..=n).collect::<Vec<_>>().chunks(25) {
        t.transact(chunk.iter().map(|id| WriteOp::put(groups::meta_item(&group(*id, 7)))).collect()).await.unwrap();
    }
    (dir, t)
}

async fn all_pages(t: &dyn Table, size: usize, budget: usize, keep: impl Fn(&Group) -> bool + Copy) -> Vec<Vec<i64>> {
    let mut pages = Vec::new();
    let mut before = None;
    loop {
        let (page, next) = groups::scan_listing(
            t,
            &groups::listing_partitions(&[GroupStatus::Recruiting]),
            before,
            size,
            budget,
            keep,
        )
        .await
        .unwrap();
        pages.push(page.iter().map(|g| g.id).collect());
        match next {
            Some(n) => before = Some(n),
            None => return pages,
        }
    }
}

#[tokio::test]
async fn pages_are_full_until_the_last_and_the_last_has_no_cursor() {
    let (_d, t) = table_with_groups(30).await;
    let pages = all_pages(&t, 4, 1000, |g| g.id % 3 == 0).await;
    assert_eq!(pages, vec![vec![30, 27, 24, 21], vec![18, 15, 12, 9], vec![6, 3]]);
    // Exactly a multiple of the page size: no empty trailing page.
    let pages = all_pages(&t, 5, 1000, |g| g.id % 3 == 0).await;
    assert_eq!(pages, vec![vec![30, 27, 24, 21, 18], vec![15, 12, 9, 6, 3]]);
}

#[tokio::test]
async fn a_selective_filter_is_bounded_by_the_read_budget_and_still_complete() {
    let (_d, t) = table_with_groups(30).await;
    let pages = all_pages(&t, 3, 10, |g| g.id % 7 == 0).await;
    // Each request reads at most ~10 items; short pages carry a cursor; nothing is lost.
    assert_eq!(pages, vec![vec![28, 21], vec![14], vec![7]]);
}

#[tokio::test]
async fn my_groups_join_memberships_with_their_groups() {
    let (_d, t) = table_with_groups(12).await;
    let now = Utc::now();
    let member = |gid: i64, status: MemberStatus| Membership {
        group_user_id: 500 + gid,
        group_id: gid,
        role: Role::Member,
        status,
        user: Profile { user_id: 9, nick_name: "m".into(), profile_image: None, profile_message: None },
        joined_at: now,
        left_at: None,
        join_request_message: None,
        host_notice: None,
    };
    let rows: Vec<Membership> =
        (1..=12).map(|g| member(g, if g % 2 == 0 { MemberStatus::Attend } else { MemberStatus::Left })).collect();
    t.transact(rows.iter().map(|m| WriteOp::put(groups::member_item(m))).collect()).await.unwrap();
    let attend = |m: &Membership| m.status == MemberStatus::Attend;
    let (page, next) = groups::member_groups(&t, 9, None, 4, 1000, attend, |_| true).await.unwrap();
    assert_eq!(page.iter().map(|(_, g)| g.id).collect::<Vec<_>>(), [12, 10, 8, 6]);
    assert_eq!(next, Some(6));
    let (page, next) = groups::member_groups(&t, 9, next, 4, 1000, attend, |_| true).await.unwrap();
    assert_eq!(page.iter().map(|(_, g)| g.id).collect::<Vec<_>>(), [4, 2]);
    assert_eq!(next, None);
    let (page, _) = groups::member_groups(&t, 9, None, 10, 1000, attend, |g| g.id > 8).await.unwrap();
    assert_eq!(page.iter().map(|(m, g)| (m.group_id, g.id)).collect::<Vec<_>>(), [(12, 12), (10, 10)]);
}
