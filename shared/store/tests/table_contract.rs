//! One contract suite for the table port, run against both engines: the embedded
//! engine on disk, and DynamoDB through DynamoDB Local (`MOIM_DYNAMODB_ENDPOINT`,
//! started by `scripts/test`). Each DynamoDB test creates its own table from
//! template.yaml, so tests never see each other's items.

use std::collections::HashSet;
use std::sync::Arc;

use moim_store::schema::TableDef;
use moim_store::table::*;
use moim_store::{DynamoTable, EmbeddedTable};
use serde_json::{json, Value};

mod engines {
    use super::*;

    pub struct Engine {
        pub table: Arc<dyn Table>,
        _dir: Option<tempfile::TempDir>,
    }

    pub async fn embedded() -> Engine {
        let dir = tempfile::tempdir().unwrap();
        let table = EmbeddedTable::open(dir.path().join("moim.sqlite3")).unwrap();
        Engine { table: Arc::new(table), _dir: Some(dir) }
    }

    /// None when no emulator is configured and none is required (a plain `cargo test`).
    pub async fn dynamodb() -> Option<Engine> {
        let Ok(endpoint) = std::env::var("MOIM_DYNAMODB_ENDPOINT") else {
            assert!(
                std::env::var("MOIM_REQUIRE_EMULATORS").is_err(),
                "MOIM_REQUIRE_EMULATORS is set but MOIM_DYNAMODB_ENDPOINT is not"
            );
            eprintln!("skipping DynamoDB engine: MOIM_DYNAMODB_ENDPOINT unset (scripts/test sets it)");
            return None;
        };
        let client = moim_store::dynamo::client(Some(&endpoint)).await;
        let name = format!("contract-{}", uuid_like());
        TableDef::from_workspace_template().unwrap().create(&client, &name).await.unwrap();
        Some(Engine { table: Arc::new(DynamoTable::new(client, name)), _dir: None })
    }

    fn uuid_like() -> String {
        format!("{:x}{:x}", std::process::id(), rand_u64())
    }

    fn rand_u64() -> u64 {
        use std::hash::{BuildHasher, Hasher};
        let mut h = std::collections::hash_map::RandomState::new().build_hasher();
        h.write_u128(std::time::SystemTime::now().duration_since(std::time::UNIX_EPOCH).unwrap().as_nanos());
        h.finish()
    }
}

fn item(pk: &str, sk: &str, extra: Value) -> Item {
    let mut m = extra.as_object().cloned().unwrap_or_default();
    m.insert(PK.into(), pk.into());
    m.insert(SK.into(), sk.into());
    m
}

fn sks(items: &[Item]) -> Vec<String> {
    items.iter().map(|i| i[SK].as_str().unwrap().to_string()).collect()
}

async fn drain(t: &dyn Table, q: Query) -> (Vec<Item>, usize) {
    let mut all = Vec::new();
    let mut pages = 0;
    let mut cursor = None;
    loop {
        let page = t.query(q.clone().cursor(cursor)).await.unwrap();
        pages += 1;
        assert!(page.items.len() <= q.limit);
        if page.cursor.is_some() {
            assert_eq!(page.items.len(), q.limit, "only the last page may be short");
        }
        all.extend(page.items);
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return (all, pages),
        }
    }
}

async fn put_many(t: &dyn Table, items: Vec<Item>) {
    for chunk in items.chunks(25) {
        t.transact(chunk.iter().cloned().map(WriteOp::put).collect()).await.unwrap();
    }
}

// ---------------------------------------------------------------- the suite

async fn get_put_delete(t: &dyn Table) {
    let k = Key::new("A", "1");
    assert_eq!(t.get(&k).await.unwrap(), None);
    t.transact(vec![WriteOp::put(item("A", "1", json!({"n": 1, "s": "x", "l": [1, "a"], "m": {"z": true}})))])
        .await
        .unwrap();
    let got = t.get(&k).await.unwrap().unwrap();
    assert_eq!(got["n"], 1);
    assert_eq!(got["l"], json!([1, "a"]));
    assert_eq!(got["m"], json!({"z": true}));
    t.transact(vec![WriteOp::delete(k.clone())]).await.unwrap();
    assert_eq!(t.get(&k).await.unwrap(), None);
}

async fn paging_has_no_duplicates_or_gaps(t: &dyn Table) {
    let n = 203;
    put_many(
        t,
        (0..n)
            .map(|i| {
                item("P", &format!("S#{i:04}"), json!({"GSI1PK": "G", "GSI1SK": format!("{:04}", i % 50), "i": i}))
            })
            .collect(),
    )
    .await;
    for forward in [true, false] {
        let mut q = Query::table("P").limit(17);
        q.forward = forward;
        let (all, pages) = drain(t, q).await;
        assert_eq!(all.len(), n);
        assert_eq!(pages, n.div_ceil(17));
        let mut expected: Vec<String> = (0..n).map(|i| format!("S#{i:04}")).collect();
        if !forward {
            expected.reverse();
        }
        assert_eq!(sks(&all), expected);
    }
    // The GSI has many equal sort keys: ties must still page without loss.
    for forward in [true, false] {
        let mut q = Query::gsi1("G").limit(9);
        q.forward = forward;
        let (all, _) = drain(t, q).await;
        assert_eq!(all.len(), n);
        let distinct: HashSet<_> = sks(&all).into_iter().collect();
        assert_eq!(distinct.len(), n);
        let keys: Vec<&str> = all.iter().map(|i| i["GSI1SK"].as_str().unwrap()).collect();
        let mut sorted = keys.clone();
        sorted.sort();
        if !forward {
            sorted.reverse();
        }
        assert_eq!(keys, sorted);
    }
    // An exact-multiple page count ends without an empty extra page.
    let (all, pages) =
        drain(t, Query::table("P").sk(SkCond::Between("S#0000".into(), "S#0049".into())).limit(10)).await;
    assert_eq!((all.len(), pages), (50, 5));
}

async fn sort_key_conditions(t: &dyn Table) {
    put_many(t, ["A#1", "A#2", "AB#1", "B#1", "B#2", "C"].iter().map(|s| item("Q", s, json!({}))).collect()).await;
    let q = |c| async move { sks(&t.query(Query::table("Q").sk(c)).await.unwrap().items) };
    assert_eq!(q(SkCond::Eq("B#1".into())).await, ["B#1"]);
    assert_eq!(q(SkCond::BeginsWith("A#".into())).await, ["A#1", "A#2"]);
    assert_eq!(q(SkCond::BeginsWith("A".into())).await, ["A#1", "A#2", "AB#1"]);
    assert_eq!(q(SkCond::Between("A#2".into(), "B#1".into())).await, ["A#2", "AB#1", "B#1"]);
    let back = t.query(Query::table("Q").sk(SkCond::BeginsWith("B".into())).backward()).await.unwrap();
    assert_eq!(sks(&back.items), ["B#2", "B#1"]);
    assert!(t.query(Query::table("nothing-here")).await.unwrap().items.is_empty());
}

async fn every_condition_kind(t: &dyn Table) {
    let k = Key::new("C", "1");
    let now = now_epoch();
    let put = |extra: Value| WriteOp::put(item("C", "1", extra));
    // Absent / Exists
    t.transact(vec![put(json!({"n": 5, "s": "x"})).when(Cond::Absent)]).await.unwrap();
    let e = t.transact(vec![put(json!({})).when(Cond::Absent)]).await.unwrap_err();
    assert_eq!(e.failed_op(), Some(0));
    let e = t.transact(vec![WriteOp::check(Key::new("C", "none"), Cond::Exists)]).await.unwrap_err();
    assert_eq!(e.failed_op(), Some(0));
    t.transact(vec![WriteOp::check(k.clone(), Cond::Exists)]).await.unwrap();
    // Equals (string and number), including on a missing attribute
    t.transact(vec![WriteOp::check(k.clone(), Cond::equals("s", "x"))]).await.unwrap();
    t.transact(vec![WriteOp::check(k.clone(), Cond::equals("n", 5))]).await.unwrap();
    for c in [Cond::equals("s", "y"), Cond::equals("n", 6), Cond::equals("missing", 1)] {
        assert_eq!(t.transact(vec![WriteOp::check(k.clone(), c)]).await.unwrap_err().failed_op(), Some(0));
    }
    // Number below / above
    t.transact(vec![WriteOp::check(k.clone(), Cond::LessThan("n".into(), 6))]).await.unwrap();
    t.transact(vec![WriteOp::check(k.clone(), Cond::GreaterThan("n".into(), 4))]).await.unwrap();
    for c in [Cond::LessThan("n".into(), 5), Cond::GreaterThan("n".into(), 5), Cond::LessThan("missing".into(), 9)] {
        assert!(t.transact(vec![WriteOp::check(k.clone(), c)]).await.is_err());
    }
    // Attribute absent
    t.transact(vec![WriteOp::check(k.clone(), Cond::AttrAbsent("missing".into()))]).await.unwrap();
    assert!(t.transact(vec![WriteOp::check(k.clone(), Cond::AttrAbsent("n".into()))]).await.is_err());
    // Absent or expired: absent passes, live fails, expired passes
    let cool = |sk: &str, exp: i64| WriteOp::put(item("C", sk, json!({ "expiresAt": exp })));
    t.transact(vec![cool("cool", now + 60).when(Cond::AbsentOrExpired { now })]).await.unwrap();
    let e = t.transact(vec![cool("cool", now + 60).when(Cond::AbsentOrExpired { now })]).await.unwrap_err();
    assert_eq!(e.failed_op(), Some(0));
    t.transact(vec![cool("old", now - 10)]).await.unwrap();
    t.transact(vec![cool("old", now + 60).when(Cond::AbsentOrExpired { now })]).await.unwrap();
    // Several conditions on one op must all hold
    let both = WriteOp::check(k.clone(), Cond::equals("s", "x")).when(Cond::LessThan("n".into(), 5));
    assert!(t.transact(vec![both]).await.is_err());
}

async fn failed_transaction_writes_nothing_and_names_the_op(t: &dyn Table) {
    put_many(t, vec![item("T", "existing", json!({"n": 1})), item("T", "guard", json!({"n": 1}))]).await;
    let ops = vec![
        WriteOp::put(item("T", "new", json!({}))),
        WriteOp::update(Key::new("T", "existing"), Update::new().add("n", 10).set("x", "y")),
        WriteOp::delete(Key::new("T", "gone-too")),
        WriteOp::check(Key::new("T", "guard"), Cond::equals("n", 2)),
    ];
    let e = t.transact(ops).await.unwrap_err();
    assert_eq!(e.failed_op(), Some(3));
    assert_eq!(t.get(&Key::new("T", "new")).await.unwrap(), None);
    let existing = t.get(&Key::new("T", "existing")).await.unwrap().unwrap();
    assert_eq!(existing["n"], 1);
    assert!(existing.get("x").is_none());
}

async fn updates_add_set_remove_and_create(t: &dyn Table) {
    let k = Key::new("U", "1");
    t.transact(vec![WriteOp::update(k.clone(), Update::new().add("n", 2).set("s", "a"))]).await.unwrap();
    t.transact(vec![WriteOp::update(k.clone(), Update::new().add("n", -5).add("m", 1).remove("s"))]).await.unwrap();
    let got = t.get(&k).await.unwrap().unwrap();
    assert_eq!((got["n"].as_i64(), got["m"].as_i64()), (Some(-3), Some(1)));
    assert!(got.get("s").is_none());
    assert_eq!(got[PK], "U");
}

async fn two_ops_on_one_item_are_rejected(t: &dyn Table) {
    let e = t
        .transact(vec![WriteOp::put(item("D", "1", json!({}))), WriteOp::delete(Key::new("D", "1"))])
        .await
        .unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)), "{e:?}");
    assert_eq!(t.get(&Key::new("D", "1")).await.unwrap(), None);
    assert!(matches!(t.transact(vec![]).await.unwrap_err(), StoreError::Invalid(_)));
}

async fn concurrent_conflicting_transacts_have_one_winner(t: Arc<dyn Table>) {
    let tasks: Vec<_> = (0..24)
        .map(|i| {
            let t = t.clone();
            tokio::spawn(async move {
                t.transact(vec![
                    WriteOp::put_new(item("R", "seat", json!({ "by": i }))),
                    WriteOp::put(item("R", &format!("log#{i:02}"), json!({}))),
                ])
                .await
            })
        })
        .collect();
    let results: Vec<_> = futures::future::join_all(tasks).await.into_iter().map(Result::unwrap).collect();
    let winners: Vec<usize> = results.iter().enumerate().filter(|(_, r)| r.is_ok()).map(|(i, _)| i).collect();
    assert_eq!(winners.len(), 1, "{results:?}");
    for r in results.iter().filter(|r| r.is_err()) {
        assert!(matches!(r, Err(StoreError::ConditionFailed { index: 0 } | StoreError::Conflict)), "{r:?}");
    }
    let by = t.get(&Key::new("R", "seat")).await.unwrap().unwrap()["by"].as_u64().unwrap() as usize;
    assert_eq!(by, winners[0]);
    let logs = t.query(Query::table("R").sk(SkCond::BeginsWith("log#".into()))).await.unwrap();
    assert_eq!(sks(&logs.items), [format!("log#{by:02}")], "losers wrote nothing");

    // A counter with a ceiling: 30 concurrent increments guarded by `n < 10`, retried on conflict.
    t.transact(vec![WriteOp::put(item("R", "counter", json!({"n": 0})))]).await.unwrap();
    let tasks: Vec<_> = (0..30)
        .map(|_| {
            let t = t.clone();
            tokio::spawn(async move {
                loop {
                    let op = WriteOp::update(Key::new("R", "counter"), Update::new().add("n", 1))
                        .when(Cond::LessThan("n".into(), 10));
                    match t.transact(vec![op]).await {
                        Err(StoreError::Conflict) => continue,
                        other => return other.is_ok(),
                    }
                }
            })
        })
        .collect();
    let ok = futures::future::join_all(tasks).await.into_iter().filter(|r| *r.as_ref().unwrap()).count();
    assert_eq!(ok, 10);
    assert_eq!(t.get(&Key::new("R", "counter")).await.unwrap().unwrap()["n"], 10);
}

async fn gsis_follow_updates_and_deletes(t: &dyn Table) {
    let g = |pk: &str, sk: &str| json!({"GSI1PK": pk, "GSI1SK": sk, "GSI2PK": "ALL", "GSI2SK": sk});
    put_many(t, vec![item("I", "1", g("X", "a")), item("I", "2", g("X", "b")), item("I", "3", g("Y", "c"))]).await;
    let in_gsi1 = |pk: &'static str| async move { sks(&t.query(Query::gsi1(pk)).await.unwrap().items) };
    assert_eq!(in_gsi1("X").await, ["1", "2"]);
    // Move item 2 from X to Y.
    t.transact(vec![WriteOp::update(Key::new("I", "2"), Update::new().set("GSI1PK", "Y"))]).await.unwrap();
    assert_eq!(in_gsi1("X").await, ["1"]);
    assert_eq!(in_gsi1("Y").await, ["2", "3"]);
    // Removing the sort attribute takes it out of the index (sparse index).
    t.transact(vec![WriteOp::update(Key::new("I", "3"), Update::new().remove("GSI1SK"))]).await.unwrap();
    assert_eq!(in_gsi1("Y").await, ["2"]);
    // Delete removes it from every index.
    t.transact(vec![WriteOp::delete(Key::new("I", "1"))]).await.unwrap();
    assert!(in_gsi1("X").await.is_empty());
    assert_eq!(sks(&t.query(Query::gsi2("ALL")).await.unwrap().items), ["2", "3"]);
    // A put replacing the item replaces its index entries.
    t.transact(vec![WriteOp::put(item("I", "2", json!({"GSI2PK": "OTHER", "GSI2SK": "z"})))]).await.unwrap();
    assert!(in_gsi1("Y").await.is_empty());
    assert_eq!(sks(&t.query(Query::gsi2("ALL")).await.unwrap().items), ["3"]);
}

async fn expired_items_are_invisible(t: &dyn Table) {
    let now = now_epoch();
    put_many(
        t,
        vec![
            item("E", "live", json!({"expiresAt": now + 3600})),
            item("E", "dead", json!({"expiresAt": now - 1})),
            item("E", "forever", json!({})),
        ],
    )
    .await;
    assert!(t.get(&Key::new("E", "dead")).await.unwrap().is_none());
    assert!(t.get(&Key::new("E", "live")).await.unwrap().is_some());
    let (all, _) = drain(t, Query::table("E").limit(1)).await;
    assert_eq!(sks(&all), ["forever", "live"]);
}

async fn malformed_cursor_is_rejected(t: &dyn Table) {
    let e = t.query(Query::table("P").cursor(Some("not-a-cursor".into()))).await.unwrap_err();
    assert!(matches!(e, StoreError::Invalid(_)));
}

macro_rules! contract {
    ($($name:ident),* $(,)?) => {
        mod embedded {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let e = engines::embedded().await;
                    super::$name(&*e.table).await;
                }
            )*
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn concurrent_conflicting_transacts_have_one_winner() {
                let e = engines::embedded().await;
                super::concurrent_conflicting_transacts_have_one_winner(e.table.clone()).await;
            }
        }
        mod dynamodb {
            use super::*;
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
                async fn $name() {
                    let Some(e) = engines::dynamodb().await else { return };
                    super::$name(&*e.table).await;
                }
            )*
            #[tokio::test(flavor = "multi_thread", worker_threads = 4)]
            async fn concurrent_conflicting_transacts_have_one_winner() {
                let Some(e) = engines::dynamodb().await else { return };
                super::concurrent_conflicting_transacts_have_one_winner(e.table.clone()).await;
            }
        }
    };
}

contract!(
    get_put_delete,
    paging_has_no_duplicates_or_gaps,
    sort_key_conditions,
    every_condition_kind,
    failed_transaction_writes_nothing_and_names_the_op,
    updates_add_set_remove_and_create,
    two_ops_on_one_item_are_rejected,
    gsis_follow_updates_and_deletes,
    expired_items_are_invisible,
    malformed_cursor_is_rejected,
);

#[tokio::test]
async fn embedded_data_survives_reopen() {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("t.sqlite3");
    {
        let t = EmbeddedTable::open(&path).unwrap();
        t.transact(vec![WriteOp::put(item("K", "1", json!({"v": 1, "GSI1PK": "g", "GSI1SK": "1"})))]).await.unwrap();
    }
    let t = EmbeddedTable::open(&path).unwrap();
    assert_eq!(t.get(&Key::new("K", "1")).await.unwrap().unwrap()["v"], 1);
    assert_eq!(t.query(Query::gsi1("g")).await.unwrap().items.len(), 1);
}
