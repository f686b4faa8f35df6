//! Keyword search over real HTTP against `moim-local serve` (API.md §4.3):
//! with thousands of groups a word in one old group's description is on the
//! first page; the change feed keeps the index in step with creates, edits and
//! deletes on both engines; a new index is filled from the table at start.

use chrono::Utc;
use moim_blackbox::fixtures::{self, urlencode};
use moim_blackbox::{engines, Engine, Server};
use moim_domain::group::*;
use moim_store::{EmbeddedTable, Table, WriteOp};
use serde_json::json;

const BIN: &str = env!("CARGO_BIN_EXE_moim-local");

fn group(id: i64, title: &str, description: &str) -> Group {
    Group { title: title.into(), description: description.into(), ..fixtures::group(id) }
}

fn ids(r: &moim_blackbox::Resp) -> Vec<i64> {
    r.data()["items"].as_array().unwrap().iter().map(|g| g["id"].as_i64().unwrap()).collect()
}

#[tokio::test]
async fn a_word_in_one_old_groups_description_is_on_the_first_page() {
    let srv = Server::start(BIN, Engine::Embedded);
    // 3,000 groups written straight into the store (as an existing deployment
    // would hold them); the oldest has the rare word.
    let table = EmbeddedTable::open(srv.data_dir().join("moim.sqlite3")).unwrap();
    let ids_all: Vec<i64> = (1..=3000).map(|n| 1_000_000 + n).collect();
    for chunk in ids_all.chunks(50) {
        let ops = chunk
            .iter()
            .map(|id| {
                let description =
                    if *id == 1_000_001 { "바오밥나무 아래에서 책 읽기" } else { "같이 운동해요" };
                WriteOp::put(moim_store::groups::meta_item(&group(*id, &format!("모임 {id}"), description)))
            })
            .collect();
        table.transact(ops).await.unwrap();
    }
    // The index file is new at the next start: the gateway fills it from the table.
    std::fs::remove_file(srv.data_dir().join("search.sqlite3")).unwrap();
    let srv = srv.restart();
    let log = srv.log.lock().unwrap().join("\n");
    assert!(log.contains("indexed 3000 groups for search"), "{log}");
    let c = srv.client();

    for keyword in ["바오밥", "바오밥나무", "밥", "책 읽기"] {
        let r = c.get(&format!("/api/v2/groups?keyword={}", urlencode(keyword))).await;
        assert_eq!(ids(&r), vec![1_000_001], "{keyword}: {}", r.text);
        assert_eq!(r.data()["nextCursor"], serde_json::Value::Null);
    }
    // A common word: full pages, newest first, no gaps across pages.
    let mut seen = Vec::new();
    let mut cursor = String::new();
    for _ in 0..3 {
        let r = c.get(&format!("/api/v2/groups?keyword={}&size=50{cursor}", urlencode("운동"))).await;
        let page = ids(&r);
        assert_eq!(page.len(), 50);
        seen.extend(page);
        cursor = format!("&cursor={}", r.data()["nextCursor"].as_i64().unwrap());
    }
    assert_eq!(seen, (0..150).map(|k| 1_003_000 - k).collect::<Vec<_>>());
    // The plain list is unchanged: the newest 20 of the merged shards.
    let r = c.get("/api/v2/groups").await;
    assert_eq!(ids(&r), (0..20).map(|k| 1_003_000 - k).collect::<Vec<_>>());
}

#[tokio::test]
async fn the_index_follows_creates_edits_and_deletes() {
    for engine in engines() {
        let srv = Server::start(BIN, engine);
        let c = srv.client();
        let (host, _, _) = c.register("host@b.com", "Host").await;
        let body = json!({
            "title": "느티나무 독서회", "location": "서울 종로구", "locationDetail": "3층",
            "startTime": (Utc::now() + chrono::Duration::days(3)).format("%Y-%m-%dT%H:%M:%S").to_string(),
            "endTime": null, "tags": [], "description": "고전 읽기", "maxParticipants": 4, "joinPolicy": "FREE",
        });
        let r = host.post("/api/v2/groups/create", Some(body)).await;
        assert_eq!(r.status, 201, "{}", r.text);
        let id = r.data()["id"].as_i64().unwrap();
        let search = |k: &str| {
            let path = format!("/api/v2/groups?keyword={}", urlencode(k));
            let c = c.clone();
            async move { c.get(&path).await }
        };
        // Searchable as soon as the create is answered.
        assert_eq!(ids(&search("느티").await), vec![id], "{engine:?}");
        assert_eq!(ids(&search("3층").await), vec![id]);

        let r = host.patch(&format!("/api/v2/groups/{id}"), Some(json!({"title": "은행나무 독서회"}))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(ids(&search("느티").await).is_empty(), "{engine:?}: the old title is gone");
        assert_eq!(ids(&search("은행나무").await), vec![id]);
        // A cancelled group leaves the active list but shows under ARCHIVED.
        let r = host.patch(&format!("/api/v2/groups/{id}"), Some(json!({"status": "CANCELLED"}))).await;
        assert_eq!(r.status, 200, "{}", r.text);
        assert!(ids(&search("은행나무").await).is_empty());
        let r = c.get(&format!("/api/v2/groups?keyword={}&filter=ARCHIVED", urlencode("은행나무"))).await;
        assert_eq!(ids(&r), vec![id], "{engine:?}");
        assert_eq!(ids(&c.get("/api/v2/groups?filter=ARCHIVED").await), vec![id]);
        assert!(ids(&c.get("/api/v2/groups").await).is_empty());

        let r = host.delete(&format!("/api/v2/groups/{id}")).await;
        assert_eq!(r.status, 204, "{}", r.text);
        let r = c.get(&format!("/api/v2/groups?keyword={}&filter=ALL", urlencode("은행나무"))).await;
        assert!(ids(&r).is_empty(), "{engine:?}: deleted");
    }
}
