//! The groups function (API.md §4–§6): create with cooldown, list, my groups,
//! detail, update, delete, attend / left and the host's moderation. Rules are
//! in `moim_domain::group`; every write is one transaction conditioned on the
//! version it read, retried a bounded number of times when it loses a race.
//! One module per use case; this file holds what they share.

/// The engines this function links besides the table (blobs: files of removed photos; push: live notifications; search: keyword lists).
pub const PORTS: u8 = moim_web::ports::BLOBS | moim_web::ports::PUSH | moim_web::ports::SEARCH;

mod attendance;
mod create;
mod images;
mod reads;
mod update;
mod views;

use std::time::Duration;

use chrono::{DateTime, Utc};
use moim_domain::group::{GroupState, HostNotice, Outcome};
use moim_domain::user::User;
use moim_domain::{DomainError, ErrorCode};
use moim_store::chat as chat_repo;
use moim_store::groups as repo;
use moim_store::{keys, notifications, realtime, Item, StoreError, Table, WriteOp};
use moim_web::request::with_caller;
use moim_web::{route, ApiResult, AppContext, AuthUser, Route};

pub use attendance::moderate_member;
pub use views::{DEFAULT_CARD_KEY, DEFAULT_THUMB_KEY};

pub static ROUTES: &[Route] = &[
    route!("POST /api/v2/groups/create", create::create),
    route!("GET /api/v2/groups", reads::list),
    route!("GET /api/v2/groups/me", reads::my_groups),
    route!("GET /api/v2/groups/{groupId}", reads::detail),
    route!("PATCH /api/v2/groups/{groupId}", update::update),
    route!("DELETE /api/v2/groups/{groupId}", update::delete),
    route!("POST /api/v2/groups/{groupId}/attend", attendance::attend),
    route!("POST /api/v2/groups/{groupId}/left", attendance::left),
    route!("GET /api/v2/groups/{groupId}/attendance", attendance::attendance_list),
    route!("POST /api/v2/groups/{groupId}/attendance/{targetUserId}/approve", attendance::approve),
    route!("POST /api/v2/groups/{groupId}/attendance/{targetUserId}/reject", attendance::reject),
    route!("POST /api/v2/groups/{groupId}/attendance/{targetUserId}/kick", attendance::kick),
    route!("POST /api/v2/groups/{groupId}/attendance/{targetUserId}/ban", attendance::ban),
    route!("POST /api/v2/groups/{groupId}/attendance/{targetUserId}/unban", attendance::unban),
    route!("GET /api/v2/groups/{groupId}/attendance/kick-targets", attendance::kick_targets),
    route!("GET /api/v2/groups/{groupId}/attendance/ban-targets", attendance::ban_targets),
    route!("GET /api/v2/groups/{groupId}/attendance/banned-targets", attendance::banned_targets),
];

/// Attempts of an optimistic write before answering 409 DATA_INTEGRITY_VIOLATION.
/// Generous because a popular group's last seats are contended by design; each
/// retry re-reads, so a loser soon sees FULL and stops with its real answer.
const WRITE_ATTEMPTS: u32 = 60;
const PAGE_DEFAULT: usize = 20;
const PAGE_MAX: usize = 50;
/// Items one list request may read while filtering (status / keyword); a page
/// cut short by it still carries a cursor. See docs/DATA_MODEL.md.
const LIST_SCAN_BUDGET: usize = 1000;
/// GROUP_CREATE notifications written inside the create transaction; more
/// followers are notified in follow-up transactions right after it.
const INLINE_FANOUT: usize = 80;
/// Followers read for the GROUP_CREATE fan-out.
const FANOUT_MAX: usize = 1000;

async fn backoff(attempt: u32) {
    let cap = (2 + attempt * 3).min(40) as u64;
    tokio::time::sleep(Duration::from_millis(rand::random_range(1..=cap))).await;
}

async fn load(t: &dyn Table, id: i64) -> ApiResult<GroupState> {
    Ok(repo::read_state(t, id).await?.ok_or(ErrorCode::GROUP_NOT_FOUND_BY_ID)?)
}

/// The states an optimistic write decides on: the first attempt takes the one
/// read beside the caller, every retry reads the group again.
struct GroupReads {
    group_id: i64,
    first: std::sync::Mutex<Option<GroupState>>,
}

impl GroupReads {
    /// Reads the caller (a verified token's id) beside the group.
    async fn with_caller(ctx: &AppContext, caller_id: i64, group_id: i64) -> ApiResult<(AuthUser, GroupReads)> {
        let (caller, first) = with_caller(ctx, caller_id, load(&*ctx.table, group_id)).await?;
        Ok((caller, GroupReads { group_id, first: std::sync::Mutex::new(Some(first)) }))
    }

    async fn next(&self, t: &dyn Table) -> ApiResult<GroupState> {
        let first = self.first.lock().expect("group reads").take();
        match first {
            Some(state) => Ok(state),
            None => load(t, self.group_id).await,
        }
    }
}

/// The notifications of an outcome: new items, and the deletes of the unread
/// ones they replace. A coalescing type (§7) from a member replaces that
/// member's last one to the host when it is within the window and still
/// unread; the membership row remembers the new one, in the same transaction.
async fn notification_writes(
    ctx: &AppContext,
    outcome: &mut Outcome,
    actor: &User,
    now: DateTime<Utc>,
) -> ApiResult<(Vec<Item>, Vec<WriteOp>)> {
    let (gid, title) = (outcome.group.id, outcome.group.title.clone());
    let (mut items, mut replaced) = (Vec::new(), Vec::new());
    for (receiver, kind) in outcome.notify.clone() {
        let id = keys::next_id();
        items.push(notifications::new_item(id, receiver, kind, actor, Some((gid, &title)), now));
        let Some(m) = outcome.changed.iter_mut().find(|m| kind.coalesces() && m.user_id() == actor.user_id) else {
            continue;
        };
        if let Some(old) = m.notice_to_replace(now) {
            if notifications::is_unread(&*ctx.table, old).await? {
                replaced.push(notifications::delete_unread(old, receiver));
            }
        }
        m.host_notice = Some(HostNotice { id, at: now });
    }
    Ok((items, replaced))
}

/// Runs one optimistic attempt until it commits: an attempt returns `Ok(None)`
/// when its transaction lost a race (condition failed or conflict) and is then
/// retried after a jittered pause, at most WRITE_ATTEMPTS times in all.
async fn with_retries<T, F, Fut>(mut attempt: F) -> ApiResult<T>
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = ApiResult<Option<T>>>,
{
    for n in 0..WRITE_ATTEMPTS {
        if let Some(done) = attempt().await? {
            return Ok(done);
        }
        backoff(n).await;
    }
    Err(ErrorCode::DATA_INTEGRITY_VIOLATION.into())
}

/// Maps a transaction result for [`with_retries`]: a lost race is `None`.
fn committed(r: Result<(), StoreError>) -> ApiResult<Option<()>> {
    match r {
        Ok(()) => Ok(Some(())),
        Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => Ok(None),
        Err(e) => Err(e.into()),
    }
}

/// Whom a group write acts for: the id of a verified token (the user is then
/// read beside the group), or a caller the handler already read.
pub enum Caller<'a> {
    Id(i64),
    Read(&'a AuthUser),
}

/// Reads the group (the first time beside the caller), lets the domain decide,
/// writes the outcome at the version read; on a lost race it reads the group
/// again (bounded). Returns the outcome written, after its live effects (room
/// messages, notifications) went out.
async fn mutate(
    ctx: &AppContext,
    group_id: i64,
    caller: Caller<'_>,
    decide: impl Fn(&GroupState, &User, DateTime<Utc>) -> Result<Outcome, DomainError>,
) -> ApiResult<(Outcome, DateTime<Utc>)> {
    let (caller, reads) = match caller {
        Caller::Id(id) => GroupReads::with_caller(ctx, id, group_id).await?,
        Caller::Read(c) => (c.clone(), GroupReads { group_id, first: std::sync::Mutex::new(None) }),
    };
    let actor = &caller.user;
    let (outcome, now, live) = with_retries(|| async {
        let state = reads.next(&*ctx.table).await?;
        let now = Utc::now();
        let mut outcome = decide(&state, actor, now)?;
        let (items, replaced) = notification_writes(ctx, &mut outcome, actor, now).await?;
        let changes = moim_domain::chat::room_changes(&state, &outcome.changed);
        let (room_ops, messages) = chat_repo::change_ops(state.group.chat_room_id, &changes, now);
        let removed = |kick: bool| -> Vec<i64> {
            changes
                .iter()
                .filter(|c| c.removes() && matches!(c, moim_domain::chat::RoomChange::Removed(_)) == kick)
                .map(|c| c.user_id())
                .collect()
        };
        let live = Live {
            room_id: state.group.chat_room_id,
            messages,
            left: removed(false),
            kicked: removed(true),
            notifications: items.clone(),
        };
        let mut ops =
            repo::write_outcome(&outcome.group, state.group.version, &outcome.changed, &outcome.joined, items);
        ops.extend(replaced);
        ops.extend(room_ops);
        Ok(committed(ctx.table.transact(ops).await)?.map(|()| (outcome, now, live)))
    })
    .await?;
    live.send(ctx).await;
    Ok((outcome, now))
}

/// What a committed group write pushes live (API.md §9): the room's changes
/// (leavers' subscriptions, SYSTEM / KICK messages, kicked members'
/// subscriptions, in that order: [`realtime::room_update`]) and, beside them,
/// the notifications, which go to the receivers' own destinations.
pub(crate) struct Live {
    pub room_id: i64,
    pub messages: Vec<moim_domain::chat::Message>,
    pub left: Vec<i64>,
    pub kicked: Vec<i64>,
    pub notifications: Vec<Item>,
}

impl Live {
    pub async fn send(self, ctx: &AppContext) {
        let (t, push) = (&*ctx.table, &*ctx.push);
        let messages: Vec<(String, String)> =
            self.messages.iter().map(|m| (m.message_id.to_string(), m.view().to_string())).collect();
        let room = realtime::room_update(t, push, self.room_id, &messages, &self.left, &self.kicked);
        let (room, ()) = futures::join!(room, realtime::push_notifications(t, push, &self.notifications));
        if let Err(e) = room {
            tracing::warn!(room_id = self.room_id, error = %e, "live room update failed");
        }
    }
}
