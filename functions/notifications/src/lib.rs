//! The notifications function (API.md §7, REST side): list with cursor, unread
//! count, read one / all, delete one / all. Items are written by the changes
//! they report (follow, groups); a sparse GSI2 holds only the unread ones.

/// The engines this function links besides the table (the table only).
pub const PORTS: u8 = moim_web::ports::TABLE_ONLY;

use chrono::Utc;
use moim_domain::ErrorCode;
use moim_store::notifications::{unread_gsi, view};
use moim_store::table::{GSI2PK, GSI2SK, MAX_TRANSACT_OPS};
use moim_store::{keys, Cond, Item, Query, SkCond, Update, WriteOp};
use moim_web::request::with_caller;
use moim_web::{route, ApiResult, AppContext, Reply, Req, Route};
use serde_json::{json, Value};

pub static ROUTES: &[Route] = &[
    route!("GET /api/v1/notifications", list),
    route!("GET /api/v1/notifications/unread-count", unread_count),
    route!("POST /api/v1/notifications/{id}/read", read_one),
    route!("POST /api/v1/notifications/read-all", read_all),
    route!("DELETE /api/v1/notifications/{id}", delete_one),
    route!("DELETE /api/v1/notifications", delete_all),
];

const PAGE_DEFAULT: usize = 20;
const PAGE_MAX: usize = 100;

async fn list(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller_id = req.caller_id(ctx)?;
    let (cursor, size) = req.page(PAGE_DEFAULT, PAGE_MAX)?;
    let mut q = Query::gsi1(keys::notifications_gsi(caller_id)).backward().limit(size);
    if let Some(c) = cursor {
        q = q.sk(SkCond::Between(keys::pad(0), keys::pad(c.saturating_sub(1).max(0))));
    }
    // The caller and the page together; the page is only used once the caller is.
    let (_, page) = with_caller(ctx, caller_id, ctx.table.query(q)).await?;
    let next = if page.cursor.is_some() { page.items.last().and_then(|i| i.get("id").cloned()) } else { None };
    let items: Vec<Value> = page.items.iter().map(view).collect();
    Ok(Reply::ok(json!({ "notifications": items, "nextCursor": next })))
}

/// Every unread notification item of a user (the sparse index, all pages).
async fn unread(ctx: &AppContext, user_id: i64) -> ApiResult<Vec<Item>> {
    let mut out = Vec::new();
    let mut cursor = None;
    loop {
        let page = ctx.table.query(Query::gsi2(unread_gsi(user_id)).limit(100).cursor(cursor)).await?;
        out.extend(page.items);
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => return Ok(out),
        }
    }
}

async fn unread_count(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller_id = req.caller_id(ctx)?;
    let (_, unread) = with_caller(ctx, caller_id, unread(ctx, caller_id)).await?;
    Ok(Reply::ok(unread.len()))
}

fn mark_read(id: i64, receiver: i64, now: &str) -> WriteOp {
    WriteOp::update(keys::notification(id), Update::new().set("readAt", now).remove(GSI2PK).remove(GSI2SK))
        .when(Cond::Exists)
        .when(Cond::equals("receiverId", receiver))
}

/// The caller's notification: 404 before 403.
async fn own(ctx: &AppContext, req: &Req) -> ApiResult<(i64, Item, i64)> {
    let caller_id = req.caller_id(ctx)?;
    let id = req.path_id("id")?;
    let (_, item) = with_caller(ctx, caller_id, ctx.table.get(&keys::notification(id))).await?;
    let item = item.ok_or(ErrorCode::NOT_FOUND_NOTIFICATION)?;
    if item.get("receiverId").and_then(Value::as_i64) != Some(caller_id) {
        return Err(ErrorCode::USER_ACCESS_DENIED.into());
    }
    Ok((id, item, caller_id))
}

async fn read_one(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let (id, item, me) = own(ctx, &req).await?;
    if item.get("readAt").is_none_or(Value::is_null) {
        let now = moim_domain::time::format(Utc::now());
        match ctx.table.transact(vec![mark_read(id, me, &now)]).await {
            Ok(()) => {}
            // Deleted meanwhile: it is gone either way.
            Err(moim_store::StoreError::ConditionFailed { .. }) => return Err(ErrorCode::NOT_FOUND_NOTIFICATION.into()),
            Err(e) => return Err(e.into()),
        }
    }
    Ok(Reply::no_content())
}

/// Rounds of read-all when notifications vanish under it (deleted, or
/// replaced by a coalescing one) before it answers 409.
const READ_ALL_ATTEMPTS: usize = 8;

async fn read_all(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let me = req.caller_id(ctx)?;
    let now = moim_domain::time::format(Utc::now());
    // The first round's unread set is read beside the caller.
    let (_, mut unread_now) = with_caller(ctx, me, unread(ctx, me)).await?;
    'round: for round in 0..READ_ALL_ATTEMPTS {
        if round > 0 {
            unread_now = unread(ctx, me).await?;
        }
        let ids: Vec<i64> = unread_now.iter().filter_map(|i| i.get("id")?.as_i64()).collect();
        for chunk in ids.chunks(MAX_TRANSACT_OPS) {
            match ctx.table.transact(chunk.iter().map(|id| mark_read(*id, me, &now)).collect()).await {
                Ok(()) => {}
                // One of them is gone since the query: read the unread set again.
                Err(moim_store::StoreError::ConditionFailed { .. } | moim_store::StoreError::Conflict) => {
                    continue 'round
                }
                Err(e) => return Err(e.into()),
            }
        }
        return Ok(Reply::no_content());
    }
    Err(ErrorCode::DATA_INTEGRITY_VIOLATION.into())
}

async fn delete_one(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let (id, _, _) = own(ctx, &req).await?;
    ctx.table.transact(vec![WriteOp::delete(keys::notification(id))]).await?;
    Ok(Reply::no_content())
}

async fn delete_all(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let me = req.caller_id(ctx)?;
    // The newest page, again after each delete: the first read goes beside the caller.
    let newest = || ctx.table.query(Query::gsi1(keys::notifications_gsi(me)).limit(MAX_TRANSACT_OPS));
    let (_, mut page) = with_caller(ctx, me, newest()).await?;
    loop {
        if page.items.is_empty() {
            return Ok(Reply::no_content());
        }
        let ops = page.items.iter().filter_map(moim_store::Key::of).map(WriteOp::delete).collect();
        ctx.table.transact(ops).await?;
        if page.cursor.is_none() {
            return Ok(Reply::no_content());
        }
        page = newest().await?;
    }
}
