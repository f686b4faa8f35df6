//! Fault injection across the write endpoints: every storage call an endpoint
//! makes is failed in turn, before it reaches the store and after it committed
//! (response lost). The API must answer in the error body, a re-read must show
//! the whole change or none of it, and repeating the request must then behave
//! as the contract says for that state.

mod common;

use std::future::Future;
use std::sync::Arc;

use common::{rig_on, Rig};
use moim_blackbox::faults::{Fault, FaultyTable};
use moim_blackbox::{engines, Engine};
use moim_store::Table;
use serde_json::{json, Value};

struct FRig {
    rig: Rig,
    faults: Arc<FaultyTable>,
}

async fn frig(engine: Engine) -> Arc<FRig> {
    let mut handle = None;
    let rig = rig_on(engine, |inner| {
        let f = Arc::new(FaultyTable::new(inner));
        handle = Some(f.clone());
        f as Arc<dyn Table>
    })
    .await;
    Arc::new(FRig { rig, faults: handle.unwrap() })
}

/// (status, body) of one request: method+pattern, concrete path, query, bearer token, JSON body.
async fn call(r: &FRig, route: &str, path: &str, query: &str, token: Option<&str>, body: &str) -> (u64, Value) {
    let routes = moim_local::registry::FUNCTIONS
        .iter()
        .find(|(_, rs)| rs.iter().any(|x| x.key == route))
        .map(|(_, rs)| *rs)
        .unwrap_or_else(|| panic!("no function serves {route}"));
    let bearer = token.map(|t| format!("Bearer {t}"));
    let headers: Vec<(&str, &str)> = bearer.as_deref().map(|b| vec![("authorization", b)]).unwrap_or_default();
    let (s, b, _, _) = r.rig.call(routes, route, path, query, &headers, body).await;
    (s, b)
}

async fn register(r: &FRig, email: &str, nick: &str) -> (String, i64) {
    let body = format!(r#"{{"email":"{email}","password":"password1!","nickName":"{nick}"}}"#);
    let (s, _) = call(r, "POST /api/v1/auth/signup", "/api/v1/auth/signup", "", None, &body).await;
    assert_eq!(s, 201);
    let body = format!(r#"{{"email":"{email}","password":"password1!"}}"#);
    let (_, b) = call(r, "POST /api/v1/auth/login", "/api/v1/auth/login", "", None, &body).await;
    (b["data"]["accessToken"].as_str().unwrap().to_string(), b["data"]["user"]["userId"].as_i64().unwrap())
}

fn group_json(policy: &str) -> String {
    let start = (chrono::Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%dT%H:%M:%S");
    format!(
        r#"{{"title":"t","location":"l","startTime":"{start}","description":"d","maxParticipants":3,"joinPolicy":"{policy}"}}"#
    )
}

async fn create_group(r: &FRig, token: &str, policy: &str) -> i64 {
    let (s, b) =
        call(r, "POST /api/v2/groups/create", "/api/v2/groups/create", "", Some(token), &group_json(policy)).await;
    assert_eq!(s, 201, "{b}");
    b["data"]["id"].as_i64().unwrap()
}

/// The group as a member sees it, without ids or times.
async fn group_view(r: &FRig, ctx: &Value, who: &str) -> Value {
    let id = ctx["group"].as_i64().unwrap();
    let (s, b) =
        call(r, "GET /api/v2/groups/{groupId}", &format!("/api/v2/groups/{id}"), "", ctx[who].as_str(), "").await;
    if s != 200 {
        return json!({ "status": s });
    }
    let d = &b["data"];
    json!([d["participantCount"], d["status"], d["title"], d["myMembership"]["status"]])
}

async fn me(r: &FRig, token: &str) -> Value {
    let (s, b) = call(r, "GET /api/v1/users/me", "/api/v1/users/me", "", Some(token), "").await;
    json!([
        s,
        b["data"]["followersCnt"],
        b["data"]["followeesCnt"],
        b["data"]["groupCreatedCnt"],
        b["data"]["groupJoinedCnt"],
        b["data"]["nickName"]
    ])
}

/// Runs the sweep for one endpoint. `repeat_when_committed` is the contract's
/// answer to the same request once the change is in (`None`: it succeeds again).
async fn sweep<S, SF, A, AF, P, PF>(
    name: &str,
    setup: S,
    act: A,
    probe: P,
    ok: u64,
    repeat_when_committed: Option<(u64, &str)>,
) where
    S: Fn(Arc<FRig>) -> SF,
    SF: Future<Output = Value>,
    A: Fn(Arc<FRig>, Value) -> AF,
    AF: Future<Output = (u64, Value)>,
    P: Fn(Arc<FRig>, Value) -> PF,
    PF: Future<Output = Value>,
{
    for engine in engines() {
        // Baseline run: how many calls the endpoint makes, and the state it leaves.
        let r = frig(engine).await;
        let ctx = setup(r.clone()).await;
        let before = probe(r.clone(), ctx.clone()).await;
        r.rig.counts.take();
        let (s, b) = act(r.clone(), ctx.clone()).await;
        assert_eq!(s, ok, "{name} on {engine:?}: baseline {b}");
        let (g, q, t) = r.rig.counts.take();
        let calls = g + q + t;
        let after = probe(r.clone(), ctx.clone()).await;
        assert_ne!(before, after, "{name} on {engine:?}: the probe must see the change");

        for n in 1..=calls {
            for fault in [Fault::Before, Fault::After] {
                let r = frig(engine).await;
                let ctx = setup(r.clone()).await;
                r.faults.arm(n, fault);
                let (s, b) = act(r.clone(), ctx.clone()).await;
                r.faults.disarm();
                assert!(r.faults.fired(), "{name} on {engine:?}: call {n} was not made");
                let state = probe(r.clone(), ctx.clone()).await;
                let at = format!("{name} on {engine:?}: call {n}/{calls} {fault:?}");
                if s != ok {
                    assert_eq!(b["status"].as_u64(), Some(s), "{at}: error body status {b}");
                    assert_eq!(b["errorCode"], "INTERNAL_SERVER_ERROR", "{at}: {b}");
                }
                assert!(
                    state == before || state == after,
                    "{at}: half-written state {state} (before {before}, after {after})"
                );
                let (s2, b2) = act(r.clone(), ctx.clone()).await;
                match (state == after, repeat_when_committed) {
                    (true, Some((code, err))) => {
                        assert_eq!((s2, b2["errorCode"].as_str().unwrap_or("")), (code, err), "{at}: repeat {b2}")
                    }
                    _ => assert_eq!(s2, ok, "{at}: repeat {b2}"),
                }
                assert_eq!(probe(r.clone(), ctx.clone()).await, after, "{at}: the repeat completes the change");
            }
        }
    }
}

fn tok(ctx: &Value, who: &str) -> String {
    ctx[who].as_str().unwrap().to_string()
}

async fn host_member_group(r: Arc<FRig>, policy: &str) -> Value {
    let (host, _) = register(&r, "h@b.com", "Host").await;
    let (member, member_id) = register(&r, "m@b.com", "Member").await;
    let group = create_group(&r, &host, policy).await;
    json!({ "host": host, "member": member, "member_id": member_id, "group": group })
}

/// POSTs a group action as `who`: `attend` / `left` on the group, or a host
/// verb (`approve`, `kick`, …) on the context's member.
async fn group_post(r: &FRig, c: &Value, who: &str, action: &str) -> (u64, Value) {
    let id = c["group"].as_i64().unwrap();
    let (route, path) = match action {
        "attend" | "left" => {
            (format!("POST /api/v2/groups/{{groupId}}/{action}"), format!("/api/v2/groups/{id}/{action}"))
        }
        verb => {
            let m = c["member_id"].as_i64().unwrap();
            (
                format!("POST /api/v2/groups/{{groupId}}/attendance/{{targetUserId}}/{verb}"),
                format!("/api/v2/groups/{id}/attendance/{m}/{verb}"),
            )
        }
    };
    call(r, &route, &path, "", Some(&tok(c, who)), "").await
}

/// Host, member and group, with the member's attend already done.
async fn member_requested(r: Arc<FRig>, policy: &str) -> Value {
    let c = host_member_group(r.clone(), policy).await;
    group_post(&r, &c, "member", "attend").await;
    c
}

#[tokio::test]
async fn attend_and_left() {
    sweep(
        "attend",
        |r| host_member_group(r, "FREE"),
        |r, c| async move { group_post(&r, &c, "member", "attend").await },
        |r, c| async move { json!([group_view(&r, &c, "member").await, me(&r, &tok(&c, "member")).await]) },
        200,
        Some((400, "ALREADY_ATTEND_GROUP")),
    )
    .await;
    sweep(
        "left",
        |r| member_requested(r, "FREE"),
        |r, c| async move { group_post(&r, &c, "member", "left").await },
        |r, c| async move { group_view(&r, &c, "member").await },
        200,
        Some((409, "ALREADY_LEFT_GROUP")),
    )
    .await;
}

#[tokio::test]
async fn moderation() {
    sweep(
        "approve",
        |r| member_requested(r, "APPROVAL_REQUIRED"),
        |r, c| async move { group_post(&r, &c, "host", "approve").await },
        |r, c| async move { json!([group_view(&r, &c, "member").await, me(&r, &tok(&c, "member")).await]) },
        200,
        Some((400, "GROUP_USER_STATUS_NOT_ALLOWED_TO_APPROVE")),
    )
    .await;
    sweep(
        "kick",
        |r| member_requested(r, "FREE"),
        |r, c| async move { group_post(&r, &c, "host", "kick").await },
        |r, c| async move { group_view(&r, &c, "member").await },
        200,
        Some((400, "GROUP_USER_STATUS_NOT_ALLOWED_TO_KICK")),
    )
    .await;
}

#[tokio::test]
async fn create_update_delete() {
    sweep(
        "create",
        |r| async move {
            let (host, _) = register(&r, "h@b.com", "Host").await;
            json!({ "host": host })
        },
        |r, c| async move {
            call(
                &r,
                "POST /api/v2/groups/create",
                "/api/v2/groups/create",
                "",
                Some(&tok(&c, "host")),
                &group_json("FREE"),
            )
            .await
        },
        |r, c| async move {
            let (_, b) =
                call(&r, "GET /api/v2/groups/me", "/api/v2/groups/me", "type=myPost", Some(&tok(&c, "host")), "").await;
            json!([me(&r, &tok(&c, "host")).await, b["data"]["items"].as_array().map(Vec::len)])
        },
        201,
        Some((429, "GROUP_CREATE_COOLDOWN_ACTIVE")),
    )
    .await;
    sweep(
        "update",
        |r| host_member_group(r, "FREE"),
        |r, c| async move {
            let id = c["group"].as_i64().unwrap();
            let body = r#"{"title":"new title","maxParticipants":5}"#;
            call(
                &r,
                "PATCH /api/v2/groups/{groupId}",
                &format!("/api/v2/groups/{id}"),
                "",
                Some(&tok(&c, "host")),
                body,
            )
            .await
        },
        |r, c| async move { group_view(&r, &c, "host").await },
        200,
        None,
    )
    .await;
    sweep(
        "delete",
        |r| member_requested(r, "FREE"),
        |r, c| async move {
            let id = c["group"].as_i64().unwrap();
            call(&r, "DELETE /api/v2/groups/{groupId}", &format!("/api/v2/groups/{id}"), "", Some(&tok(&c, "host")), "")
                .await
        },
        |r, c| async move {
            let (_, n) =
                call(&r, "GET /api/v1/notifications", "/api/v1/notifications", "", Some(&tok(&c, "member")), "").await;
            let kinds: Vec<Value> =
                n["data"]["notifications"].as_array().unwrap().iter().map(|x| x["type"].clone()).collect();
            json!([group_view(&r, &c, "member").await, me(&r, &tok(&c, "host")).await, kinds])
        },
        204,
        Some((404, "GROUP_NOT_FOUND_BY_ID")),
    )
    .await;
}

#[tokio::test]
async fn users_and_follows() {
    sweep(
        "signup",
        |_| async { json!({}) },
        |r, _| async move {
            let body = r#"{"email":"new@b.com","password":"password1!","nickName":"Newbie"}"#;
            call(&r, "POST /api/v1/auth/signup", "/api/v1/auth/signup", "", None, body).await
        },
        |r, _| async move {
            let (_, e) = call(
                &r,
                "GET /api/v1/users/email/availability",
                "/api/v1/users/email/availability",
                "email=new@b.com",
                None,
                "",
            )
            .await;
            let (_, n) = call(
                &r,
                "GET /api/v1/users/nickname/availability",
                "/api/v1/users/nickname/availability",
                "nickname=Newbie",
                None,
                "",
            )
            .await;
            json!([e["data"]["available"], n["data"]["available"]])
        },
        201,
        Some((400, "ALREADY_EXISTS_USER")),
    )
    .await;
    sweep(
        "follow",
        |r| async move {
            let (a, _) = register(&r, "a@b.com", "Alice").await;
            let (b, _) = register(&r, "b@b.com", "Bobby").await;
            json!({ "a": a, "b": b })
        },
        |r, c| async move {
            call(
                &r,
                "POST /api/v1/users/follow",
                "/api/v1/users/follow",
                "followNickname=Bobby",
                Some(&tok(&c, "a")),
                "",
            )
            .await
        },
        |r, c| async move {
            let (_, n) = call(
                &r,
                "GET /api/v1/notifications/unread-count",
                "/api/v1/notifications/unread-count",
                "",
                Some(&tok(&c, "b")),
                "",
            )
            .await;
            json!([me(&r, &tok(&c, "a")).await, me(&r, &tok(&c, "b")).await, n["data"]])
        },
        201,
        Some((400, "ALREADY_EXIST_FOLLOW")),
    )
    .await;
    sweep(
        "profile",
        |r| async move {
            let (a, _) = register(&r, "a@b.com", "Alice").await;
            json!({ "a": a })
        },
        |r, c| async move {
            call(
                &r,
                "PATCH /api/v1/users/profile",
                "/api/v1/users/profile",
                "",
                Some(&tok(&c, "a")),
                r#"{"nickName":"Alicia"}"#,
            )
            .await
        },
        |r, c| async move {
            let (_, old) = call(
                &r,
                "GET /api/v1/users/nickname/availability",
                "/api/v1/users/nickname/availability",
                "nickname=Alice",
                None,
                "",
            )
            .await;
            json!([me(&r, &tok(&c, "a")).await, old["data"]["available"]])
        },
        200,
        None,
    )
    .await;
    sweep(
        "read-all",
        |r| async move {
            let (a, _) = register(&r, "a@b.com", "Alice").await;
            let (b, _) = register(&r, "b@b.com", "Bobby").await;
            call(&r, "POST /api/v1/users/follow", "/api/v1/users/follow", "followNickname=Bobby", Some(&a), "").await;
            json!({ "b": b })
        },
        |r, c| async move {
            call(
                &r,
                "POST /api/v1/notifications/read-all",
                "/api/v1/notifications/read-all",
                "",
                Some(&tok(&c, "b")),
                "",
            )
            .await
        },
        |r, c| async move {
            let (_, n) = call(
                &r,
                "GET /api/v1/notifications/unread-count",
                "/api/v1/notifications/unread-count",
                "",
                Some(&tok(&c, "b")),
                "",
            )
            .await;
            n["data"].clone()
        },
        204,
        None,
    )
    .await;
}

/// Every transaction loses its race: the write gives up after its bounded
/// retries with 409 DATA_INTEGRITY_VIOLATION, and nothing is written.
struct AlwaysConflict(Arc<dyn Table>);

#[async_trait::async_trait]
impl Table for AlwaysConflict {
    async fn get(&self, key: &moim_store::Key) -> Result<Option<moim_store::Item>, moim_store::StoreError> {
        self.0.get(key).await
    }
    async fn query(&self, q: moim_store::Query) -> Result<moim_store::Page, moim_store::StoreError> {
        self.0.query(q).await
    }
    async fn transact(&self, _: Vec<moim_store::WriteOp>) -> Result<(), moim_store::StoreError> {
        Err(moim_store::StoreError::Conflict)
    }
}

#[tokio::test]
async fn endless_conflicts_end_in_409_after_bounded_retries() {
    let f = frig(Engine::Embedded).await;
    let c = host_member_group(f.clone(), "FREE").await;
    let id = c["group"].as_i64().unwrap();
    let conflicted = f.rig.rewrap(|inner| Arc::new(AlwaysConflict(inner)));
    let attend = format!("/api/v2/groups/{id}/attend");
    let bearer = format!("Bearer {}", tok(&c, "member"));
    let (s, b, _, (_, queries, transacts)) = conflicted
        .call(
            moim_groups::ROUTES,
            "POST /api/v2/groups/{groupId}/attend",
            &attend,
            "",
            &[("authorization", &bearer)],
            "",
        )
        .await;
    assert_eq!((s, b["errorCode"].as_str()), (409, Some("DATA_INTEGRITY_VIOLATION")), "{b}");
    assert!(transacts > 1 && transacts == queries, "re-read before every retry: {queries} reads, {transacts} writes");
    assert!(transacts <= 60, "bounded: {transacts}");
    assert_eq!(group_view(&f, &c, "member").await[0], 1, "nothing written");
}

/// A READY imageKey of `token`'s user: presigned record, original stored, processed.
async fn ready_key(r: &FRig, token: &str) -> String {
    let body = r#"{"fileName":"p.png","contentType":"image/png","size":10}"#;
    let route = "POST /api/v2/groups/images/presign";
    let (s, b) = call(r, route, "/api/v2/groups/images/presign", "", Some(token), body).await;
    assert_eq!(s, 201, "{b}");
    let key = b["data"]["imageKey"].as_str().unwrap().to_string();
    let img = image::RgbImage::from_fn(300, 200, |x, y| image::Rgb([x as u8, y as u8, 7]));
    let mut png = std::io::Cursor::new(Vec::new());
    img.write_to(&mut png, image::ImageFormat::Png).unwrap();
    r.rig.ctx.blobs.put(&moim_store::uploads::source_blob(&key), png.into_inner(), "image/png").await.unwrap();
    let done = moim_images::pipeline::process_stored(&r.rig.ctx, &key).await.unwrap();
    assert_eq!(done, moim_images::pipeline::Processed::Ready);
    key
}

/// Whether an upload record exists and who consumed it.
async fn upload_state(r: &FRig, key: &str) -> Value {
    match moim_store::uploads::get(&*r.rig.ctx.table, key).await.unwrap() {
        None => json!("gone"),
        Some(u) => json!(u.consumed_by),
    }
}

#[tokio::test]
async fn photos_in_group_writes() {
    sweep(
        "create with a photo",
        |r| async move {
            let (host, _) = register(&r, "h@b.com", "Host").await;
            let key = ready_key(&r, &host).await;
            json!({ "host": host, "key": key })
        },
        |r, c| async move {
            let mut body: Value = serde_json::from_str(&group_json("FREE")).unwrap();
            body["images"] = json!([{ "imageKey": c["key"] }]);
            call(
                &r,
                "POST /api/v2/groups/create",
                "/api/v2/groups/create",
                "",
                Some(&tok(&c, "host")),
                &body.to_string(),
            )
            .await
        },
        |r, c| async move {
            let (_, b) =
                call(&r, "GET /api/v2/groups/me", "/api/v2/groups/me", "type=myPost", Some(&tok(&c, "host")), "").await;
            let key = c["key"].as_str().unwrap().to_string();
            json!([b["data"]["items"].as_array().map(Vec::len), upload_state(&r, &key).await.is_string()])
        },
        201,
        Some((429, "GROUP_CREATE_COOLDOWN_ACTIVE")),
    )
    .await;
    sweep(
        "replace a group's photo",
        |r| async move {
            let (host, _) = register(&r, "h@b.com", "Host").await;
            let old = ready_key(&r, &host).await;
            let mut body: Value = serde_json::from_str(&group_json("FREE")).unwrap();
            body["images"] = json!([{ "imageKey": old }]);
            let (s, b) =
                call(&r, "POST /api/v2/groups/create", "/api/v2/groups/create", "", Some(&host), &body.to_string())
                    .await;
            assert_eq!(s, 201, "{b}");
            let new = ready_key(&r, &host).await;
            json!({ "host": host, "group": b["data"]["id"], "old": old, "new": new })
        },
        |r, c| async move {
            let id = c["group"].as_i64().unwrap();
            let body = json!({ "images": [{ "imageKey": c["new"] }] }).to_string();
            call(
                &r,
                "PATCH /api/v2/groups/{groupId}",
                &format!("/api/v2/groups/{id}"),
                "",
                Some(&tok(&c, "host")),
                &body,
            )
            .await
        },
        |r, c| async move {
            let id = c["group"].as_i64().unwrap();
            let (_, b) = call(&r, "GET /api/v2/groups/{groupId}", &format!("/api/v2/groups/{id}"), "", None, "").await;
            let keys: Vec<Value> =
                b["data"]["images"].as_array().unwrap().iter().map(|i| i["imageKey"].clone()).collect();
            let (old, new) = (c["old"].as_str().unwrap().to_string(), c["new"].as_str().unwrap().to_string());
            json!([keys, upload_state(&r, &old).await, upload_state(&r, &new).await])
        },
        200,
        None,
    )
    .await;
}
