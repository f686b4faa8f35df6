//! Reads: detail, the public list, my groups.

use chrono::Utc;
use moim_domain::group::{status_set, GroupStatus, MemberStatus, Membership, StatusFilter};
use moim_domain::{DomainError, ErrorCode};
use moim_store::groups as repo;
use moim_web::request::{load_maybe_caller, with_caller};
use moim_web::{ApiError, ApiResult, AppContext, Reply, Req};
use serde_json::{json, Value};

use crate::views::{self, Urls};
use crate::{load, LIST_SCAN_BUDGET, PAGE_DEFAULT, PAGE_MAX};

pub(crate) async fn detail(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller_id = req.maybe_caller_id(ctx)?;
    let id = req.path_id("groupId")?;
    // The caller beside the group (API.md: the caller's user is read with it, not before).
    let (caller, state) = futures::join!(load_maybe_caller(ctx, caller_id), load(&*ctx.table, id));
    let caller = caller?;
    let state = state?;
    let urls = Urls(&*ctx.blobs);
    Ok(Reply::ok(views::detail(&state, caller.map(|c| c.id()), Utc::now(), &urls)))
}

fn parse_statuses(req: &Req, name: &str) -> ApiResult<Vec<GroupStatus>> {
    req.query_all(name)
        .iter()
        .flat_map(|v| v.split(','))
        .filter(|v| !v.trim().is_empty())
        .map(|v| {
            GroupStatus::parse(v.trim())
                .ok_or_else(|| ApiError::from(DomainError::invalid(name, "모임: 알 수 없는 상태입니다.")))
        })
        .collect()
}

fn parse_filter(req: &Req, default: StatusFilter) -> ApiResult<Vec<GroupStatus>> {
    let filter = match req.query("filter").filter(|f| !f.trim().is_empty()) {
        None => default,
        Some(f) => StatusFilter::parse(f.trim()).ok_or_else(|| {
            ApiError::from(DomainError::invalid("filter", "모임: filter 는 ACTIVE, ARCHIVED, ALL 중 하나입니다."))
        })?,
    };
    Ok(status_set(filter, &parse_statuses(req, "includeStatuses")?, &parse_statuses(req, "excludeStatuses")?))
}

pub(crate) async fn list(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let (cursor, size) = req.page(PAGE_DEFAULT, PAGE_MAX)?;
    let statuses = parse_filter(&req, StatusFilter::Active)?;
    let keyword = req.query("keyword").unwrap_or_default();
    let now = Utc::now();
    if statuses.is_empty() {
        return Ok(Reply::ok(json!({ "items": [], "nextCursor": null })));
    }
    let urls = Urls(&*ctx.blobs);
    if let (Some(search), Some(_)) = (&ctx.search, moim_domain::search::normalize_keyword(&keyword)) {
        let (groups, next) = searched(ctx, &**search, &keyword, &statuses, cursor, size, now).await?;
        let items: Vec<Value> = groups.iter().map(|g| views::list_item(g, now, &urls, None)).collect();
        return Ok(Reply::ok(json!({ "items": items, "nextCursor": next })));
    }
    let (groups, next) =
        repo::scan_listing(&*ctx.table, &repo::listing_partitions(&statuses), cursor, size, LIST_SCAN_BUDGET, |g| {
            statuses.contains(&g.effective_status(now)) && moim_domain::group::matches_keyword(g, &keyword)
        })
        .await?;
    let items: Vec<Value> = groups.iter().map(|g| views::list_item(g, now, &urls, None)).collect();
    Ok(Reply::ok(json!({ "items": items, "nextCursor": next })))
}

/// Rounds of "search, read the groups" for one page: a round comes back short
/// only when the index was behind the table (a match that no longer matches).
const SEARCH_ROUNDS: usize = 3;

/// A keyword page from the search engine: the matching ids, newest first, then
/// the groups themselves read concurrently (the table is the truth: a match the
/// index has not caught up with is re-checked and dropped). Same page rules
/// as the listing: short only when last, one match of lookahead.
async fn searched(
    ctx: &AppContext,
    search: &dyn moim_store::search::Search,
    keyword: &str,
    statuses: &[GroupStatus],
    cursor: Option<i64>,
    size: usize,
    now: chrono::DateTime<Utc>,
) -> ApiResult<(Vec<moim_domain::group::Group>, Option<i64>)> {
    let mut out = Vec::new();
    let mut before = cursor;
    for _ in 0..SEARCH_ROUNDS {
        let query = moim_store::search::SearchQuery {
            keyword: keyword.to_string(),
            statuses: statuses.to_vec(),
            now: now.timestamp(),
            before,
            limit: size + 1 - out.len(),
        };
        let page = search.search(&query).await.map_err(|e| ApiError::Internal(e.to_string()))?;
        let reads = page.ids.iter().map(|id| repo::get_group(&*ctx.table, *id));
        for group in futures::future::try_join_all(reads).await?.into_iter().flatten() {
            if statuses.contains(&group.effective_status(now)) && moim_domain::group::matches_keyword(&group, keyword) {
                out.push(group);
            }
        }
        if out.len() > size {
            out.truncate(size);
            let next = out.last().map(|g| g.id);
            return Ok((out, next));
        }
        match page.ids.last() {
            Some(last) if page.more => before = Some(*last),
            _ => return Ok((out, None)),
        }
    }
    // The index kept disagreeing with the table: a short page that resumes where it stopped.
    Ok((out, before))
}

pub(crate) async fn my_groups(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let me = req.caller_id(ctx)?;
    // The caller beside the listing; the listing is answered once the caller is.
    let (_, reply) = with_caller(ctx, me, my_groups_of(ctx, &req, me)).await?;
    Ok(reply)
}

async fn my_groups_of(ctx: &AppContext, req: &Req, me: i64) -> ApiResult<Reply> {
    let kind = req.query("type").unwrap_or_else(|| "current".into());
    let default_filter = match kind.as_str() {
        "current" | "myPost" => StatusFilter::Active,
        "past" => StatusFilter::Archived,
        _ => return Err(ErrorCode::INVALID_MY_GROUP_TYPE.into()),
    };
    let (cursor, size) = req.page(PAGE_DEFAULT, PAGE_MAX)?;
    let statuses = parse_filter(req, default_filter)?;
    // Validated for every type, so a bad value is a 400 even where it does not apply.
    let my_statuses = parse_member_statuses(req)?;
    let now = Utc::now();
    let urls = Urls(&*ctx.blobs);
    if statuses.is_empty() {
        return Ok(Reply::ok(json!({ "items": [], "nextCursor": null })));
    }
    if kind == "myPost" {
        let (groups, next) = repo::scan_listing(
            &*ctx.table,
            &[moim_store::Query::gsi2(repo::hosted_gsi(me))],
            cursor,
            size,
            LIST_SCAN_BUDGET,
            |g| statuses.contains(&g.effective_status(now)),
        )
        .await?;
        // The host's membership of each group on the page, read together.
        let memberships = futures::future::try_join_all(groups.iter().map(|g| async move {
            let item = ctx.table.get(&repo::member_key(g.id, me)).await?;
            moim_store::users::from_item::<Membership>(item.ok_or(ErrorCode::GROUP_USER_NOT_FOUND)?)
                .map_err(ApiError::from)
        }))
        .await?;
        let items: Vec<Value> =
            groups.iter().zip(&memberships).map(|(g, m)| views::list_item(g, now, &urls, Some(m))).collect();
        return Ok(Reply::ok(json!({ "items": items, "nextCursor": next })));
    }
    let (rows, next) = repo::member_groups(
        &*ctx.table,
        me,
        cursor,
        size,
        LIST_SCAN_BUDGET,
        |m| my_statuses.contains(&m.status),
        |g| statuses.contains(&g.effective_status(now)),
    )
    .await?;
    let items: Vec<Value> = rows.iter().map(|(m, g)| views::list_item(g, now, &urls, Some(m))).collect();
    Ok(Reply::ok(json!({ "items": items, "nextCursor": next })))
}

/// `myStatuses` (repeatable or comma-separated), default `[ATTEND]`.
fn parse_member_statuses(req: &Req) -> ApiResult<Vec<MemberStatus>> {
    let raw: Vec<String> = req
        .query_all("myStatuses")
        .iter()
        .flat_map(|v| v.split(',').map(|s| s.trim().to_string()).collect::<Vec<_>>())
        .filter(|v| !v.is_empty())
        .collect();
    if raw.is_empty() {
        return Ok(vec![MemberStatus::Attend]);
    }
    raw.iter()
        .map(|v| {
            MemberStatus::parse(v)
                .ok_or_else(|| ApiError::from(DomainError::invalid("myStatuses", "모임: 알 수 없는 참여 상태입니다.")))
        })
        .collect()
}
