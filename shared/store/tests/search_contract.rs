//! The search port's contract, on the embedded engine (the OpenSearch engine
//! runs the same queries against a real domain in `opensearch_engine.rs` when
//! `OPENSEARCH_URL` is set): substring matching in every field, Hangul, one-
//! and two-character keywords, case folding, wildcard characters taken
//! literally, effective status filters, newest first, paging without gaps
//! while documents are inserted, updated and deleted, and versions that make
//! redelivery and reordering harmless.

use std::collections::BTreeSet;

use moim_domain::group::GroupStatus::{self, *};
use moim_store::search::{EmbeddedSearch, Search, SearchDoc, SearchQuery};

const NOW: i64 = 1_800_000_000;
const ACTIVE: [GroupStatus; 3] = [Recruiting, Full, Closed];

fn doc(id: i64, title: &str, location: &str, detail: Option<&str>, description: &str) -> SearchDoc {
    SearchDoc {
        id,
        version: 1,
        status: Recruiting,
        ends_at: NOW + 3600,
        title: title.into(),
        location: location.into(),
        location_detail: detail.map(str::to_string),
        description: description.into(),
    }
}

fn engine() -> (tempfile::TempDir, EmbeddedSearch) {
    let dir = tempfile::tempdir().unwrap();
    let e = EmbeddedSearch::open(dir.path().join("search.sqlite3")).unwrap();
    (dir, e)
}

async fn ids(e: &dyn Search, keyword: &str, statuses: &[GroupStatus]) -> Vec<i64> {
    let q = SearchQuery { keyword: keyword.into(), statuses: statuses.to_vec(), now: NOW, before: None, limit: 100 };
    let page = e.search(&q).await.unwrap();
    assert!(!page.more);
    page.ids
}

async fn corpus(e: &dyn Search) {
    let docs = [
        doc(1, "자바 스터디", "서울 강남구", Some("역삼역 3번 출구"), "스프링 부트를 함께 공부해요"),
        doc(2, "Rust Meetup", "Seoul", None, "Ownership & borrowing, 100% fun"),
        doc(3, "보드게임 모임", "부산 해운대구", Some("2층"), "초보 환영 *wild* card?"),
        doc(4, "러닝 크루", "서울 마포구", None, "한강에서 5km 달리기_매주"),
        doc(5, "RUST 중급", "대전", Some("Rust빌딩"), "lifetimes"),
    ];
    for d in &docs {
        e.upsert(d).await.unwrap();
    }
}

#[tokio::test]
async fn substrings_of_every_field_match_in_any_case_and_length() {
    let (_d, e) = engine();
    corpus(&e).await;
    // Title, location, location detail, description.
    assert_eq!(ids(&e, "스터디", &ACTIVE).await, vec![1]);
    assert_eq!(ids(&e, "강남", &ACTIVE).await, vec![1]);
    assert_eq!(ids(&e, "역삼역 3번", &ACTIVE).await, vec![1]);
    assert_eq!(ids(&e, "부트를 함께", &ACTIVE).await, vec![1]);
    // Case folding, ASCII and beyond; newest first.
    assert_eq!(ids(&e, "rust", &ACTIVE).await, vec![5, 2]);
    assert_eq!(ids(&e, "RuSt", &ACTIVE).await, vec![5, 2]);
    assert_eq!(ids(&e, "  seoul ", &ACTIVE).await, vec![2]);
    // One and two characters, Hangul included.
    assert_eq!(ids(&e, "서울", &ACTIVE).await, vec![4, 1]);
    assert_eq!(ids(&e, "구", &ACTIVE).await, vec![4, 3, 1]);
    assert_eq!(ids(&e, "층", &ACTIVE).await, vec![3]);
    assert_eq!(ids(&e, "5", &ACTIVE).await, vec![4]);
    assert_eq!(ids(&e, "중급", &ACTIVE).await, vec![5]);
    // Nothing across two fields, nothing that is not there.
    assert_eq!(ids(&e, "seoulownership", &ACTIVE).await, Vec::<i64>::new());
    assert_eq!(ids(&e, "스터디서울", &ACTIVE).await, Vec::<i64>::new());
    assert_eq!(ids(&e, "골프", &ACTIVE).await, Vec::<i64>::new());
    // A blank keyword matches everything.
    assert_eq!(ids(&e, "  ", &ACTIVE).await, vec![5, 4, 3, 2, 1]);
}

#[tokio::test]
async fn wildcard_and_query_syntax_characters_are_literal() {
    let (_d, e) = engine();
    corpus(&e).await;
    assert_eq!(ids(&e, "100%", &ACTIVE).await, vec![2]);
    assert_eq!(ids(&e, "%", &ACTIVE).await, vec![2]);
    assert_eq!(ids(&e, "_", &ACTIVE).await, vec![4]);
    assert_eq!(ids(&e, "*wild*", &ACTIVE).await, vec![3]);
    assert_eq!(ids(&e, "*", &ACTIVE).await, vec![3]);
    assert_eq!(ids(&e, "card?", &ACTIVE).await, vec![3]);
    assert_eq!(ids(&e, "?", &ACTIVE).await, vec![3]);
    assert_eq!(ids(&e, "&", &ACTIVE).await, vec![2]);
    // A NUL ends SQLite's query string unless the keyword drops it (the fuzzer's find).
    assert_eq!(ids(&e, "10\u{0}0%", &ACTIVE).await, vec![2]);
    assert_eq!(ids(&e, "\u{0}", &ACTIVE).await, vec![5, 4, 3, 2, 1], "nothing left = no keyword");
    for syntax in ["\"", "a\"b", "NEAR(", "OR", "-", ":", "^", "\\", "'"] {
        ids(&e, syntax, &ACTIVE).await; // no error, whatever the engine's query language
    }
    assert_eq!(ids(&e, "or", &ACTIVE).await, vec![2], "an operator word is plain text (b-or-rowing)");
}

#[tokio::test]
async fn statuses_filter_on_the_effective_status() {
    let (_d, e) = engine();
    let mut ended = doc(1, "끝난 모임", "x", None, "y");
    ended.ends_at = NOW - 1;
    let mut cancelled = doc(2, "취소된 모임", "x", None, "y");
    cancelled.status = Cancelled;
    cancelled.ends_at = NOW - 1;
    let mut full = doc(3, "꽉 찬 모임", "x", None, "y");
    full.status = Full;
    let open = doc(4, "열린 모임", "x", None, "y");
    for d in [&ended, &cancelled, &full, &open] {
        e.upsert(d).await.unwrap();
    }
    assert_eq!(ids(&e, "모임", &ACTIVE).await, vec![4, 3], "time-ended and cancelled are not active");
    assert_eq!(ids(&e, "모임", &[Finished]).await, vec![1], "ended by time = FINISHED");
    assert_eq!(ids(&e, "모임", &[Cancelled, Finished]).await, vec![2, 1]);
    assert_eq!(ids(&e, "모임", &[Full]).await, vec![3]);
    assert_eq!(ids(&e, "모임", &[]).await, Vec::<i64>::new());
}

#[tokio::test]
async fn versions_make_redelivery_and_reordering_harmless() {
    let (_d, e) = engine();
    let v1 = doc(7, "old title", "x", None, "y");
    let v2 = SearchDoc { version: 2, title: "new title".into(), ..v1.clone() };
    e.upsert(&v2).await.unwrap();
    e.upsert(&v1).await.unwrap(); // late, older
    e.upsert(&v2).await.unwrap(); // redelivered
    assert_eq!(ids(&e, "new", &ACTIVE).await, vec![7]);
    assert_eq!(ids(&e, "old", &ACTIVE).await, Vec::<i64>::new());
    e.delete(7, 3).await.unwrap();
    e.upsert(&v2).await.unwrap(); // a change that happened before the delete, delivered after it
    assert_eq!(ids(&e, "new", &ACTIVE).await, Vec::<i64>::new(), "the tombstone holds");
    e.delete(7, 3).await.unwrap(); // redelivered delete
    e.delete(8, 1).await.unwrap(); // delete of an unknown group
}

#[tokio::test]
async fn pages_have_no_gaps_or_repeats_while_the_index_changes() {
    let (_d, e) = engine();
    for id in 1..=300 {
        e.upsert(&doc(id, &format!("모임 {id}"), "서울", None, "같이 해요")).await.unwrap();
    }
    let writer = {
        let e = e.clone();
        tokio::spawn(async move {
            // New groups (above every cursor), edits and deletes of ids not yet paged.
            for n in 0..150 {
                e.upsert(&doc(1000 + n, "새 모임", "서울", None, "같이")).await.unwrap();
                let edit = SearchDoc {
                    version: 2,
                    description: "같이 해요 (수정)".into(),
                    ..doc(n % 100 + 1, "모임", "서울", None, "")
                };
                e.upsert(&edit).await.unwrap();
                if n % 10 == 0 {
                    e.delete(200 - n / 10, 5).await.unwrap();
                }
            }
        })
    };
    let mut seen = Vec::new();
    let mut before = Some(301);
    loop {
        let q = SearchQuery { keyword: "모임".into(), statuses: ACTIVE.to_vec(), now: NOW, before, limit: 7 };
        let page = e.search(&q).await.unwrap();
        assert!(page.ids.windows(2).all(|w| w[0] > w[1]), "newest first");
        assert!(page.ids.len() == 7 || !page.more, "short only when last");
        seen.extend(page.ids.iter().copied());
        match (page.more, page.ids.last()) {
            (true, Some(last)) => before = Some(*last),
            _ => break,
        }
        tokio::task::yield_now().await;
    }
    writer.await.unwrap();
    let unique: BTreeSet<i64> = seen.iter().copied().collect();
    assert_eq!(unique.len(), seen.len(), "no repeats");
    let deleted: BTreeSet<i64> = (0..15).map(|k| 200 - k).collect();
    // Every id below the first cursor that was never deleted was seen.
    for id in 1..=300 {
        assert!(unique.contains(&id) || deleted.contains(&id), "gap at {id}");
    }
}
