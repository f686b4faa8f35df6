//! Items and write sets of the group aggregate. A group's META item and its
//! memberships share the partition `GROUP#<id>`, so one query reads the whole
//! state; every change is one transaction conditioned on the META `version`.

use chrono::{DateTime, Utc};
use moim_domain::group::{Group, GroupState, GroupStatus, Membership, Profile};
use moim_domain::user::User;
use serde_json::{json, Value};

use crate::table::*;
use crate::users::{from_item, to_item};
use crate::{keys, uploads};

pub const META: &str = "META";
pub const MEMBER_PREFIX: &str = "MEMBER#";
/// The listing (GSI1) is sharded: a group lives in one of `LISTING_SHARDS`
/// partitions (`GROUPS#<id mod N>`) while it is active and moves to
/// `ARCHIVED#<id mod N>` when it ends or is cancelled, so no partition takes
/// every write and the active list never wades through history. Readers merge
/// the shards' newest-first pages (see [`scan_listing`]).
pub const LISTING_SHARDS: i64 = 8;
/// The partition family of groups that can still be joined or shown as active.
pub const ACTIVE_LISTING: &str = "GROUPS";
/// The partition family of CANCELLED and FINISHED groups.
pub const ARCHIVED_LISTING: &str = "ARCHIVED";
/// The unsharded listing partition of earlier versions (moved by the sweeper).
pub const LEGACY_LISTING: &str = "GROUPS";

/// The listing partition a group belongs in at `now`.
pub fn listing_pk(g: &Group, now: DateTime<Utc>) -> String {
    let family = if g.effective_status(now).is_final() { ARCHIVED_LISTING } else { ACTIVE_LISTING };
    format!("{family}#{}", g.id.rem_euclid(LISTING_SHARDS))
}

/// The listing partitions that can hold groups of these (effective) statuses.
/// A group whose time passed is FINISHED before the sweeper moves it, so
/// FINISHED is looked for in both families; CANCELLED is written archived.
pub fn listing_partitions(statuses: &[GroupStatus]) -> Vec<Query> {
    use GroupStatus::*;
    let active = statuses.iter().any(|s| matches!(s, Recruiting | Full | Closed | Finished));
    let archived = statuses.iter().any(|s| matches!(s, Cancelled | Finished));
    let mut families = Vec::new();
    if active {
        families.push(ACTIVE_LISTING);
    }
    if archived {
        families.push(ARCHIVED_LISTING);
    }
    families.into_iter().flat_map(|f| (0..LISTING_SHARDS).map(move |n| Query::gsi1(format!("{f}#{n}")))).collect()
}

pub fn group_pk(id: i64) -> String {
    format!("GROUP#{id}")
}
pub fn meta_key(id: i64) -> Key {
    Key::new(group_pk(id), META)
}
pub fn member_key(group_id: i64, user_id: i64) -> Key {
    Key::new(group_pk(group_id), format!("{MEMBER_PREFIX}{user_id}"))
}
/// GSI2 partition of the groups a user hosts.
pub fn hosted_gsi(user_id: i64) -> String {
    format!("HOST#{user_id}")
}
/// GSI2 partition of a user's memberships.
pub fn memberships_gsi(user_id: i64) -> String {
    format!("MEMBER#{user_id}")
}
pub fn cooldown_key(user_id: i64) -> Key {
    Key::new(keys::user_pk(user_id), "COOLDOWN#GROUP_CREATE")
}
pub fn room_key(room_id: i64) -> Key {
    Key::new(format!("ROOM#{room_id}"), META)
}

pub fn meta_item(g: &Group) -> Item {
    let mut item = to_item(&meta_key(g.id), g);
    item.insert(GSI1PK.into(), listing_pk(g, Utc::now()).into());
    item.insert(GSI1SK.into(), keys::pad(g.id).into());
    item.insert(GSI2PK.into(), hosted_gsi(g.host.user_id).into());
    item.insert(GSI2SK.into(), keys::pad(g.id).into());
    item
}

pub fn member_item(m: &Membership) -> Item {
    let mut item = to_item(&member_key(m.group_id, m.user_id()), m);
    item.insert(GSI2PK.into(), memberships_gsi(m.user_id()).into());
    item.insert(GSI2SK.into(), keys::pad(m.group_id).into());
    item.insert("status".into(), json!(m.status));
    item
}

/// The whole aggregate in one query (more pages only past 100 memberships).
pub async fn read_state(t: &dyn Table, id: i64) -> Result<Option<GroupState>, StoreError> {
    let mut group = None;
    let mut members = Vec::new();
    let mut cursor = None;
    loop {
        let page = t.query(Query::table(group_pk(id)).limit(100).cursor(cursor)).await?;
        for item in page.items {
            match item.get(SK).and_then(Value::as_str) {
                Some(META) => group = Some(from_item::<Group>(item)?),
                Some(sk) if sk.starts_with(MEMBER_PREFIX) => members.push(from_item::<Membership>(item)?),
                _ => {}
            }
        }
        match page.cursor {
            Some(c) => cursor = Some(c),
            None => break,
        }
    }
    Ok(group.map(|group| GroupState { group, members }))
}

pub async fn get_group(t: &dyn Table, id: i64) -> Result<Option<Group>, StoreError> {
    t.get(&meta_key(id)).await?.map(from_item).transpose()
}

/// Index of the cooldown op in [`create`]: its failure is the 429.
pub const CREATE_COOLDOWN_OP: usize = 0;

/// Index of the first imageKey consume op in [`create`] (one per image, in order).
pub const CREATE_FIRST_IMAGE_OP: usize = 6;

/// A new group: the cooldown (absent or expired), META, the host's membership,
/// the host's counters, the group chat room with the host in it, the consumed imageKeys and the
/// notifications, all or nothing.
pub fn create(
    g: &Group,
    host: &Membership,
    now: DateTime<Utc>,
    cooldown_secs: i64,
    notifications: Vec<Item>,
) -> Vec<WriteOp> {
    let cooldown = to_item(&cooldown_key(g.host.user_id), &json!({ EXPIRES_AT: now.timestamp() + cooldown_secs }));
    let mut ops = vec![
        WriteOp::put(cooldown).when(Cond::AbsentOrExpired { now: now.timestamp() }),
        WriteOp::put_new(meta_item(g)),
        WriteOp::put_new(member_item(host)),
        WriteOp::update(keys::user(g.host.user_id), Update::new().add("groupCreatedCnt", 1).add("groupJoinedCnt", 1))
            .when(Cond::Exists),
    ];
    // The room and its owner (2 ops).
    ops.extend(crate::chat::group_room_ops(g.chat_room_id, g.id, g.host.user_id, now));
    ops.extend(consume_images(g, &g.images, now));
    ops.extend(notifications.into_iter().map(WriteOp::put_new));
    ops
}

/// The consume ops of images new to group `g` (single use, owned by its host).
pub fn consume_images<'a>(
    g: &'a Group,
    new: &'a [moim_domain::group::GroupImage],
    now: DateTime<Utc>,
) -> impl Iterator<Item = WriteOp> + 'a {
    let consumer = group_pk(g.id);
    new.iter().map(move |i| uploads::consume(&i.image_key, g.host.user_id, &consumer, now.timestamp()))
}

/// Index of the META op in [`write_outcome`]: its failure means a concurrent change.
pub const OUTCOME_META_OP: usize = 0;

/// Writes a new group state read at `read_version`: META (version + 1, only if
/// still at `read_version`), the changed memberships, counters of users who
/// became ATTEND, and the notifications.
pub fn write_outcome(
    group: &Group,
    read_version: i64,
    changed: &[Membership],
    joined: &[i64],
    notifications: Vec<Item>,
) -> Vec<WriteOp> {
    let mut g = group.clone();
    g.version = read_version + 1;
    let mut ops = vec![WriteOp::put(meta_item(&g)).when(Cond::equals("version", read_version))];
    ops.extend(changed.iter().map(|m| WriteOp::put(member_item(m))));
    ops.extend(
        joined
            .iter()
            .map(|u| WriteOp::update(keys::user(*u), Update::new().add("groupJoinedCnt", 1)).when(Cond::Exists)),
    );
    ops.extend(notifications.into_iter().map(WriteOp::put_new));
    ops
}

/// Deleting a group: the first transaction removes META (at the read version),
/// the room, the host counter, the image records and stores the notifications; memberships follow
/// in further transactions (a group without META is already gone for readers).
pub fn delete(state: &GroupState, notifications: Vec<Item>) -> (Vec<WriteOp>, Vec<WriteOp>) {
    let g = &state.group;
    let mut first = vec![
        WriteOp::delete(meta_key(g.id)).when(Cond::equals("version", g.version)),
        WriteOp::delete(room_key(g.chat_room_id)),
        WriteOp::update(keys::user(g.host.user_id), Update::new().add("groupCreatedCnt", -1)).when(Cond::Exists),
    ];
    // The images' records go with the group; their files after the commit.
    first.extend(g.images.iter().map(|i| uploads::release(&i.image_key)));
    first.extend(notifications.into_iter().map(WriteOp::put_new));
    // Each membership goes with its participant row (absent for who never attended).
    let members: Vec<WriteOp> = state
        .members
        .iter()
        .flat_map(|m| {
            [WriteOp::delete(member_key(g.id, m.user_id()))]
                .into_iter()
                .chain(crate::chat::participant_deletes(g.chat_room_id, [m.user_id()]))
        })
        .collect();
    // Keep the first transaction within DynamoDB's limit; the rest goes after.
    // Split on a pair boundary, so a membership and its participant row go together.
    let room = (MAX_TRANSACT_OPS - first.len()) / 2 * 2;
    let split = members.len().min(room);
    let mut members = members;
    let rest = members.split_off(split);
    first.extend(members);
    (first, rest)
}

/// Pages through groups newest first (ids below `before`) across the given
/// partitions (listing shards, or one GSI2 partition), keeping those `keep`
/// accepts, until `size` are found, every partition ends, or `budget` items
/// were read. Returns the page and the id to continue from (None when nothing
/// follows).
///
/// The partitions are merged like sorted runs: each is read in small chunks
/// (about `size / partitions` first, doubling when one runs dry), and the
/// newest head among them is taken next, so a plain page reads about `size`
/// plus two per partition items, whatever the history.
pub async fn scan_listing(
    t: &dyn Table,
    partitions: &[Query],
    before: Option<i64>,
    size: usize,
    budget: usize,
    mut keep: impl FnMut(&Group) -> bool,
) -> Result<(Vec<Group>, Option<i64>), StoreError> {
    struct Run {
        query: Query,
        buffer: std::collections::VecDeque<Group>,
        cursor: Option<String>,
        done: bool,
        chunk: usize,
    }
    let first_chunk = (size + 1).div_ceil(partitions.len().max(1)) + 1;
    let mut runs: Vec<Run> = partitions
        .iter()
        .map(|p| {
            let mut q = p.clone().backward();
            if let Some(b) = before {
                q = q.sk(SkCond::Between(keys::pad(0), keys::pad(b.saturating_sub(1).max(0))));
            }
            Run { query: q, buffer: Default::default(), cursor: None, done: false, chunk: first_chunk.min(100) }
        })
        .collect();
    let mut out = Vec::new();
    let mut read = 0;
    loop {
        // Every run that is empty but not finished is refilled (concurrently)
        // before the next pick: its next item may be the newest.
        let refills = runs.iter_mut().filter(|r| r.buffer.is_empty() && !r.done).map(|r| async move {
            let page = t.query(r.query.clone().limit(r.chunk).cursor(r.cursor.take())).await?;
            for item in page.items {
                r.buffer.push_back(from_item::<Group>(item)?);
            }
            r.done = page.cursor.is_none();
            r.cursor = page.cursor;
            r.chunk = (r.chunk * 2).min(100);
            Ok::<(), StoreError>(())
        });
        for result in futures::future::join_all(refills).await {
            result?;
        }
        let newest = runs
            .iter_mut()
            .filter(|r| !r.buffer.is_empty())
            .max_by_key(|r| r.buffer.front().map(|g| g.id).unwrap_or(i64::MIN));
        let Some(run) = newest else {
            return Ok((out, None));
        };
        let Some(g) = run.buffer.pop_front() else {
            return Ok((out, None));
        };
        read += 1;
        let id = g.id;
        if keep(&g) {
            out.push(g);
            // One match past the page proves more follow.
            if out.len() > size {
                out.truncate(size);
                let next = out.last().map(|g| g.id);
                return Ok((out, next));
            }
        }
        let more = runs.iter().any(|r| !r.buffer.is_empty() || !r.done);
        if !more {
            return Ok((out, None));
        }
        // Budget spent: a short page, resumable after the last item read.
        if read >= budget {
            return Ok((out, Some(id)));
        }
    }
}

/// A user's memberships newest group first (ids below `before`), one page.
pub async fn memberships_page(
    t: &dyn Table,
    user_id: i64,
    before: Option<i64>,
    limit: usize,
    cursor: Option<String>,
) -> Result<(Vec<Membership>, Option<String>), StoreError> {
    let mut q = Query::gsi2(memberships_gsi(user_id)).backward().limit(limit).cursor(cursor);
    if let Some(b) = before {
        q = q.sk(SkCond::Between(keys::pad(0), keys::pad(b.saturating_sub(1).max(0))));
    }
    let page = t.query(q).await?;
    let ms = page.items.into_iter().map(from_item).collect::<Result<Vec<Membership>, _>>()?;
    Ok((ms, page.cursor))
}

/// A user's groups newest first (group ids below `before`): memberships that
/// `keep_member` accepts, each joined with its group, which `keep_group` must
/// accept. Same page rules and read budget as [`scan_listing`]; returns the
/// rows and the id to continue from (None when nothing follows).
pub async fn member_groups(
    t: &dyn Table,
    user_id: i64,
    before: Option<i64>,
    size: usize,
    budget: usize,
    keep_member: impl Fn(&Membership) -> bool,
    keep_group: impl Fn(&Group) -> bool,
) -> Result<(Vec<(Membership, Group)>, Option<i64>), StoreError> {
    let mut out: Vec<(Membership, Group)> = Vec::new();
    let mut cursor = None;
    let mut read = 0;
    loop {
        let (ms, more) = memberships_page(t, user_id, before, 50, cursor).await?;
        read += ms.len();
        let last_read = ms.last().map(|m| m.group_id);
        let candidates: Vec<Membership> = ms.into_iter().filter(|m| keep_member(m)).collect();
        let groups = futures::future::try_join_all(candidates.iter().map(|m| get_group(t, m.group_id))).await?;
        for (m, g) in candidates.into_iter().zip(groups) {
            let Some(g) = g.filter(|g| keep_group(g)) else { continue };
            out.push((m, g));
            // One match past the page proves more follow.
            if out.len() > size {
                out.truncate(size);
                let next = out.last().map(|(_, g)| g.id);
                return Ok((out, next));
            }
        }
        match more {
            None => return Ok((out, None)),
            Some(_) if read >= budget => return Ok((out, last_read)),
            Some(c) => cursor = Some(c),
        }
    }
}

/// Attempts of one group's profile refresh before it gives up on that group.
const REFRESH_ATTEMPTS: u32 = 20;
/// Memberships whose profile copy one profile change refreshes.
pub const PROFILE_REFRESH_BUDGET: usize = 1000;
/// Groups refreshed together: the user and these groups are read at once,
/// then each group is written in its own transaction, all at once.
const REFRESH_BATCH: usize = 8;

/// Brings the copies of a user's profile (membership rows, META of hosted
/// groups) up to date after a profile change, in its own transaction per group
/// at the group's version: a batch of groups is read beside the user, then
/// written together. Bounded: the newest [`PROFILE_REFRESH_BUDGET`]
/// memberships. The user is read after the change committed and again on
/// every retry, so the last refresh to run writes the latest profile even
/// when two changes race. Returns the groups updated.
pub async fn refresh_profile_copies(t: &dyn Table, user_id: i64) -> Result<usize, StoreError> {
    let mut cursor = None;
    let (mut seen, mut updated) = (0, 0);
    loop {
        let (ms, more) = memberships_page(t, user_id, None, 100, cursor).await?;
        seen += ms.len();
        for batch in ms.chunks(REFRESH_BATCH) {
            let states = futures::future::join_all(batch.iter().map(|m| read_state(t, m.group_id)));
            let (user, states) = futures::future::join(crate::users::get_user(t, user_id), states).await;
            let Some(user) = user? else { return Ok(updated) };
            let writes = batch.iter().zip(states).map(|(m, state)| {
                let first = state.map(|s| s.map(|s| (user.clone(), s)));
                refresh_group(t, m.group_id, user_id, first)
            });
            for r in futures::future::join_all(writes).await {
                updated += usize::from(r?);
            }
        }
        match more {
            Some(c) if seen < PROFILE_REFRESH_BUDGET => cursor = Some(c),
            Some(_) => {
                tracing::warn!(user_id, seen, "profile refresh stopped at its budget");
                return Ok(updated);
            }
            None => return Ok(updated),
        }
    }
}

/// One group's refresh, starting from the `first` read (user, group); a lost
/// race reads both again.
async fn refresh_group(
    t: &dyn Table,
    group_id: i64,
    user_id: i64,
    first: Result<Option<(User, GroupState)>, StoreError>,
) -> Result<bool, StoreError> {
    let mut read = Some(first);
    for attempt in 0..REFRESH_ATTEMPTS {
        let (user, state) = match read.take() {
            Some(first) => match first? {
                Some(pair) => pair,
                None => return Ok(false),
            },
            None => {
                let (user, state) =
                    futures::future::join(crate::users::get_user(t, user_id), read_state(t, group_id)).await;
                match (user?, state?) {
                    (Some(user), Some(state)) => (user, state),
                    _ => return Ok(false),
                }
            }
        };
        let Some(out) = state.refresh_profile(&Profile::of(&user), Utc::now()) else { return Ok(false) };
        match t.transact(write_outcome(&out.group, state.group.version, &out.changed, &[], vec![])).await {
            Ok(()) => return Ok(true),
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => {
                let cap = (2 + attempt * 3).min(40) as u64;
                tokio::time::sleep(std::time::Duration::from_millis(rand::random_range(1..=cap))).await;
            }
            Err(e) => return Err(e),
        }
    }
    Err(StoreError::Conflict)
}
