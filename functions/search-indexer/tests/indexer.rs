//! The indexer against real DynamoDB Streams event shapes and the embedded
//! engine: redelivered and reordered batches leave the newest state, a removal
//! holds against a late older change, and a poison record fails alone (its
//! sequence number goes back to Lambda, which retries it and then sends it to
//! the dead-letter queue) while the rest of the batch is indexed.

use std::sync::Arc;

use chrono::Utc;
use moim_domain::group::*;
use moim_search_indexer::{handle, SearchIndexer};
use moim_store::search::{EmbeddedSearch, Search, SearchQuery};
use serde_json::{json, Map, Value};

fn group(id: i64, version: i64, title: &str) -> Group {
    Group { version, title: title.into(), ..moim_blackbox::fixtures::group(id) }
}

/// A plain value in DynamoDB JSON, as a stream record carries it.
fn ddb(v: &Value) -> Value {
    match v {
        Value::Null => json!({"NULL": true}),
        Value::Bool(b) => json!({"BOOL": b}),
        Value::Number(n) => json!({"N": n.to_string()}),
        Value::String(s) => json!({"S": s}),
        Value::Array(a) => json!({"L": a.iter().map(ddb).collect::<Vec<_>>()}),
        Value::Object(o) => json!({"M": o.iter().map(|(k, v)| (k.clone(), ddb(v))).collect::<Map<_, _>>()}),
    }
}

fn image(g: &Group) -> Value {
    let item = moim_store::groups::meta_item(g);
    Value::Object(item.iter().map(|(k, v)| (k.clone(), ddb(v))).collect())
}

fn record(seq: u64, name: &str, g: &Group) -> Value {
    let keys = json!({"PK": {"S": format!("GROUP#{}", g.id)}, "SK": {"S": "META"}});
    let body = match name {
        "REMOVE" => json!({"Keys": keys, "OldImage": image(g), "SequenceNumber": seq.to_string()}),
        _ => json!({"Keys": keys, "NewImage": image(g), "SequenceNumber": seq.to_string()}),
    };
    json!({"eventID": format!("e{seq}"), "eventName": name, "eventSource": "aws:dynamodb", "dynamodb": body})
}

async fn titles_matching(search: &dyn Search, keyword: &str) -> Vec<i64> {
    let q = SearchQuery {
        keyword: keyword.into(),
        statuses: vec![GroupStatus::Recruiting],
        now: Utc::now().timestamp(),
        before: None,
        limit: 50,
    };
    search.search(&q).await.unwrap().ids
}

fn indexer() -> (tempfile::TempDir, Arc<EmbeddedSearch>, SearchIndexer) {
    let dir = tempfile::tempdir().unwrap();
    let search = Arc::new(EmbeddedSearch::open(dir.path().join("s.sqlite3")).unwrap());
    (dir, search.clone(), SearchIndexer { search })
}

#[tokio::test]
async fn redelivered_and_reordered_batches_leave_the_newest_state() {
    let (_d, search, ix) = indexer();
    let (v1, v2, v3) = (group(1, 1, "봄 소풍"), group(1, 2, "여름 캠핑"), group(1, 3, "가을 등산"));
    // Newest first, then the older ones, then all again.
    for batch in [vec![record(3, "MODIFY", &v3)], vec![record(2, "MODIFY", &v2), record(1, "INSERT", &v1)]] {
        let out = handle(&ix, json!({"Records": batch})).await;
        assert_eq!(out, json!({"batchItemFailures": []}));
    }
    let all = json!({"Records": [record(1, "INSERT", &v1), record(2, "MODIFY", &v2), record(3, "MODIFY", &v3)]});
    handle(&ix, all.clone()).await;
    handle(&ix, all).await;
    assert_eq!(titles_matching(&*search, "등산").await, vec![1]);
    assert!(titles_matching(&*search, "캠핑").await.is_empty());
    assert!(titles_matching(&*search, "소풍").await.is_empty());

    // Removed: a late, older change does not bring it back.
    handle(&ix, json!({"Records": [record(4, "REMOVE", &v3)]})).await;
    handle(&ix, json!({"Records": [record(3, "MODIFY", &v3), record(2, "MODIFY", &v2)]})).await;
    assert!(titles_matching(&*search, "등산").await.is_empty());
    assert!(titles_matching(&*search, "캠핑").await.is_empty());
}

#[tokio::test]
async fn a_poison_record_fails_alone() {
    let (_d, search, ix) = indexer();
    let good = group(7, 1, "독서 모임");
    let poison = json!({"eventID": "p", "eventName": "MODIFY", "dynamodb": {
        "Keys": {"PK": {"S": "GROUP#8"}, "SK": {"S": "META"}},
        "NewImage": {"PK": {"S": "GROUP#8"}, "SK": {"S": "META"}, "title": {"S": "no version, no id"}},
        "SequenceNumber": "900"}});
    let garbled = json!({"eventID": "g", "eventName": "MODIFY", "dynamodb": {
        "Keys": {"PK": {"S": "GROUP#9"}, "SK": {"S": "META"}}, "NewImage": {"x": {"Q": "?"}}, "SequenceNumber": "901"}});
    // Not a group item: the filter keeps these out on AWS; if one comes, it is skipped, not failed.
    let other = json!({"eventID": "o", "eventName": "INSERT", "dynamodb": {
        "Keys": {"PK": {"S": "USER#1"}, "SK": {"S": "PROFILE"}}, "NewImage": {"PK": {"S": "USER#1"}}, "SequenceNumber": "902"}});
    let out = handle(&ix, json!({"Records": [poison, record(10, "INSERT", &good), garbled, other]})).await;
    let mut failed: Vec<&str> =
        out["batchItemFailures"].as_array().unwrap().iter().map(|f| f["itemIdentifier"].as_str().unwrap()).collect();
    failed.sort();
    assert_eq!(failed, vec!["900", "901"]);
    assert_eq!(titles_matching(&*search, "독서").await, vec![7], "the good record of the batch is indexed");
}
