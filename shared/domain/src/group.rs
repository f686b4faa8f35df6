//! Groups and memberships (API.md §4–§6): the status table, membership
//! transitions, seat arithmetic and automatic FULL ⇄ RECRUITING / FINISHED.
//! Every operation takes the state read in one query and returns the new state
//! plus who must be notified; storage writes it in one conditional transaction.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use crate::error::{DomainError, ErrorCode as E};
use crate::notification::NotificationType;

pub const MAX_PARTICIPANTS_MIN: i64 = 2;
pub const MAX_PARTICIPANTS_MAX: i64 = 12;
pub const TITLE_MAX: usize = 50;
pub const DESCRIPTION_MAX: usize = 300;
pub const LOCATION_MAX: usize = 100;
pub const LOCATION_DETAIL_MAX: usize = 255;
pub const TAGS_MAX: usize = 10;
pub const TAG_MAX: usize = 50;
pub const JOIN_MESSAGE_MAX: usize = 50;
pub const IMAGES_MAX: usize = 3;
/// Seconds between two successful creates by one user.
pub const CREATE_COOLDOWN_SECS: i64 = 5;

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum GroupStatus {
    Recruiting,
    Full,
    Closed,
    Cancelled,
    Finished,
}

impl GroupStatus {
    pub const ALL: [GroupStatus; 5] = [Self::Recruiting, Self::Full, Self::Closed, Self::Cancelled, Self::Finished];

    pub fn name(self) -> &'static str {
        match self {
            Self::Recruiting => "RECRUITING",
            Self::Full => "FULL",
            Self::Closed => "CLOSED",
            Self::Cancelled => "CANCELLED",
            Self::Finished => "FINISHED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.name() == s)
    }

    pub fn is_final(self) -> bool {
        matches!(self, Self::Cancelled | Self::Finished)
    }

    /// The transition table of §6.1 (a status to itself is not a transition).
    pub fn can_become(self, to: GroupStatus) -> bool {
        use GroupStatus::*;
        match (self, to) {
            (a, b) if a == b => false,
            (Recruiting | Full, _) => true,
            (Closed, Cancelled | Finished) => true,
            _ => false,
        }
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum JoinPolicy {
    Free,
    ApprovalRequired,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum MemberStatus {
    Pending,
    Attend,
    Left,
    Kicked,
    Banned,
    Rejected,
    Cancelled,
}

impl MemberStatus {
    pub const ALL: [MemberStatus; 7] =
        [Self::Pending, Self::Attend, Self::Left, Self::Kicked, Self::Banned, Self::Rejected, Self::Cancelled];

    pub fn name(self) -> &'static str {
        match self {
            Self::Pending => "PENDING",
            Self::Attend => "ATTEND",
            Self::Left => "LEFT",
            Self::Kicked => "KICKED",
            Self::Banned => "BANNED",
            Self::Rejected => "REJECTED",
            Self::Cancelled => "CANCELLED",
        }
    }

    pub fn parse(s: &str) -> Option<Self> {
        Self::ALL.into_iter().find(|st| st.name() == s)
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum Role {
    Host,
    Member,
}

/// A stored group image with its two WEBP variants.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct GroupImage {
    pub group_image_id: i64,
    pub image_key: String,
    pub sort_order: i64,
    pub card_variant_id: i64,
    pub card_url: String,
    pub thumbnail_variant_id: i64,
    pub thumbnail_url: String,
}

/// A member's public profile as of joining (kept on the membership so a detail
/// page is one query).
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Profile {
    pub user_id: i64,
    pub nick_name: String,
    pub profile_image: Option<String>,
    pub profile_message: Option<String>,
}

impl Profile {
    pub fn of(u: &crate::user::User) -> Profile {
        Profile {
            user_id: u.user_id,
            nick_name: u.nick_name.clone(),
            profile_image: u.profile_image.clone(),
            profile_message: u.profile_message.clone(),
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Group {
    pub id: i64,
    pub chat_room_id: i64,
    pub title: String,
    pub location: String,
    pub location_detail: Option<String>,
    #[serde(with = "crate::time::wire")]
    pub start_time: DateTime<Utc>,
    #[serde(default, with = "crate::time::wire_opt")]
    pub end_time: Option<DateTime<Utc>>,
    pub tags: Vec<String>,
    pub description: String,
    pub max_participants: i64,
    pub join_policy: JoinPolicy,
    /// The stored status; readers use [`Group::effective_status`].
    pub status: GroupStatus,
    pub host: Profile,
    pub participant_count: i64,
    pub images: Vec<GroupImage>,
    #[serde(with = "crate::time::wire")]
    pub created_at: DateTime<Utc>,
    #[serde(with = "crate::time::wire")]
    pub updated_at: DateTime<Utc>,
    /// Optimistic concurrency: every write conditions on the version it read.
    pub version: i64,
}

impl Group {
    /// The status a reader sees: a non-final group whose end (or start, without
    /// an end) has passed is FINISHED.
    pub fn effective_status(&self, now: DateTime<Utc>) -> GroupStatus {
        let over = self.end_time.unwrap_or(self.start_time) <= now;
        if over && !self.status.is_final() {
            GroupStatus::Finished
        } else {
            self.status
        }
    }

    pub fn remaining_seats(&self) -> i64 {
        (self.max_participants - self.participant_count).max(0)
    }

    pub fn joinable(&self, now: DateTime<Utc>) -> bool {
        self.effective_status(now) == GroupStatus::Recruiting && self.remaining_seats() > 0
    }

    /// FULL ⇄ RECRUITING after a seat change (other statuses are never flipped).
    fn reseat(&mut self) {
        if self.status == GroupStatus::Recruiting && self.participant_count >= self.max_participants {
            self.status = GroupStatus::Full;
        } else if self.status == GroupStatus::Full && self.participant_count < self.max_participants {
            self.status = GroupStatus::Recruiting;
        }
    }
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct Membership {
    pub group_user_id: i64,
    pub group_id: i64,
    pub role: Role,
    pub status: MemberStatus,
    pub user: Profile,
    #[serde(with = "crate::time::wire")]
    pub joined_at: DateTime<Utc>,
    #[serde(default, with = "crate::time::wire_opt")]
    pub left_at: Option<DateTime<Utc>>,
    #[serde(default)]
    pub join_request_message: Option<String>,
    /// The last coalescing notification this member's actions stored for the host.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub host_notice: Option<HostNotice>,
}

/// A notification a member caused the host (id and time), kept on the
/// membership row so coalescing needs no extra read of the notification list.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct HostNotice {
    pub id: i64,
    #[serde(with = "crate::time::wire")]
    pub at: DateTime<Utc>,
}

impl Membership {
    pub fn user_id(&self) -> i64 {
        self.user.user_id
    }

    /// The notification a new coalescing one replaces (if still unread): the
    /// last one this member caused the host, when within the window.
    pub fn notice_to_replace(&self, now: DateTime<Utc>) -> Option<i64> {
        let window = chrono::Duration::seconds(crate::notification::COALESCE_WINDOW_SECS);
        self.host_notice.filter(|n| now - n.at < window).map(|n| n.id)
    }
}

/// A group with all its memberships, as read in one query.
#[derive(Debug, Clone, PartialEq)]
pub struct GroupState {
    pub group: Group,
    pub members: Vec<Membership>,
}

/// What an operation changed: the new group, the memberships to write, the
/// users whose `groupJoinedCnt` grows, and the notifications to store.
#[derive(Debug, Clone, PartialEq)]
pub struct Outcome {
    pub group: Group,
    pub changed: Vec<Membership>,
    pub joined: Vec<i64>,
    pub notify: Vec<(i64, NotificationType)>,
}

fn err(code: E) -> DomainError {
    DomainError::new(code)
}

/// The moderation actions a host takes on a member.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum HostAction {
    Approve,
    Reject,
    Kick,
    Ban,
    Unban,
}

impl HostAction {
    /// The error when the caller targets themselves (checked before anything is read).
    pub fn self_error(self) -> Option<E> {
        match self {
            Self::Approve => Some(E::CANNOT_APPROVE_SELF),
            Self::Reject => Some(E::CANNOT_REJECT_SELF),
            Self::Kick => Some(E::GROUP_CANNOT_KICK_SELF),
            Self::Ban => Some(E::GROUP_CANNOT_BAN_SELF),
            Self::Unban => None,
        }
    }
}

impl GroupState {
    pub fn member(&self, user_id: i64) -> Option<&Membership> {
        self.members.iter().find(|m| m.user_id() == user_id)
    }

    pub fn is_host(&self, user_id: i64) -> bool {
        self.group.host.user_id == user_id
    }

    /// The starting point of a change: the group as of `now` (a past group is
    /// written back as FINISHED by whatever write touches it next).
    fn outcome(&self, now: DateTime<Utc>) -> Outcome {
        let mut group = self.group.clone();
        group.status = group.effective_status(now);
        Outcome { group, changed: vec![], joined: vec![], notify: vec![] }
    }

    /// The copies of a user's profile in this group (the host on META, the
    /// membership row) brought up to date; None when they already are.
    pub fn refresh_profile(&self, profile: &Profile, now: DateTime<Utc>) -> Option<Outcome> {
        let mut out = self.outcome(now);
        let mut dirty = false;
        if out.group.host.user_id == profile.user_id && out.group.host != *profile {
            out.group.host = profile.clone();
            dirty = true;
        }
        if let Some(m) = self.member(profile.user_id).filter(|m| m.user != *profile) {
            out.changed.push(Membership { user: profile.clone(), ..m.clone() });
            dirty = true;
        }
        dirty.then_some(out)
    }

    /// Seats in use: ATTEND memberships (host included).
    pub fn attend_count(&self) -> i64 {
        self.members.iter().filter(|m| m.status == MemberStatus::Attend).count() as i64
    }

    /// attend: FREE → ATTEND, APPROVAL_REQUIRED → PENDING (with the message).
    pub fn attend(
        &self,
        user: &Profile,
        message: Option<String>,
        new_group_user_id: i64,
        now: DateTime<Utc>,
    ) -> Result<Outcome, DomainError> {
        let g = &self.group;
        if self.is_host(user.user_id) {
            return Err(err(E::GROUP_HOST_CANNOT_ATTEND));
        }
        let status = g.effective_status(now);
        if status != GroupStatus::Recruiting {
            return Err(DomainError::with_detail(
                E::GROUP_NOT_RECRUITING,
                format!("모임: 모집 상태가 아닙니다. 현재 상태: {}", status.name()),
            ));
        }
        let existing = self.member(user.user_id);
        match existing.map(|m| m.status) {
            Some(MemberStatus::Banned) => return Err(err(E::GROUP_BANNED_USER)),
            Some(MemberStatus::Attend) => return Err(err(E::ALREADY_ATTEND_GROUP)),
            Some(MemberStatus::Pending) => return Err(err(E::ALREADY_REQUESTED_TO_JOIN)),
            _ => {}
        }
        let mut out = self.outcome(now);
        let mut m = existing.cloned().unwrap_or(Membership {
            group_user_id: new_group_user_id,
            group_id: g.id,
            role: Role::Member,
            status: MemberStatus::Pending,
            user: user.clone(),
            joined_at: now,
            left_at: None,
            join_request_message: None,
            host_notice: None,
        });
        m.user = user.clone();
        m.joined_at = now;
        m.left_at = None;
        match g.join_policy {
            JoinPolicy::Free => {
                if g.participant_count >= g.max_participants {
                    return Err(err(E::GROUP_IS_FULL));
                }
                m.status = MemberStatus::Attend;
                m.join_request_message = None;
                out.group.participant_count += 1;
                out.group.reseat();
                out.joined.push(user.user_id);
                out.notify.push((g.host.user_id, NotificationType::GroupJoin));
            }
            JoinPolicy::ApprovalRequired => {
                m.status = MemberStatus::Pending;
                m.join_request_message = message.map(|s| s.trim().to_string()).filter(|s| !s.is_empty());
                out.notify.push((g.host.user_id, NotificationType::GroupJoinRequest));
            }
        }
        out.changed.push(m);
        Ok(out)
    }

    /// left: ATTEND → LEFT (frees a seat), PENDING → CANCELLED.
    pub fn leave(&self, user_id: i64, now: DateTime<Utc>) -> Result<Outcome, DomainError> {
        if self.is_host(user_id) {
            return Err(err(E::GROUP_HOST_CANNOT_LEAVE));
        }
        if self.group.effective_status(now).is_final() {
            return Err(err(E::GROUP_CANNOT_LEAVE_IN_STATUS));
        }
        let m = self.member(user_id).ok_or_else(|| err(E::GROUP_USER_NOT_FOUND))?;
        let mut out = self.outcome(now);
        let mut m = m.clone();
        match m.status {
            MemberStatus::Banned => return Err(err(E::GROUP_BANNED_USER)),
            MemberStatus::Kicked => return Err(err(E::GROUP_KICKED_USER)),
            MemberStatus::Rejected => return Err(err(E::GROUP_REJECTED_USER)),
            MemberStatus::Left => return Err(err(E::ALREADY_LEFT_GROUP)),
            MemberStatus::Cancelled => return Err(err(E::ALREADY_CANCELLED_JOIN_REQUEST)),
            MemberStatus::Attend => {
                m.status = MemberStatus::Left;
                out.group.participant_count -= 1;
                out.group.reseat();
                out.notify.push((self.group.host.user_id, NotificationType::GroupLeave));
            }
            MemberStatus::Pending => m.status = MemberStatus::Cancelled,
        }
        m.left_at = Some(now);
        out.changed.push(m);
        Ok(out)
    }

    /// approve / reject / kick / ban / unban by `caller` on `target`, with the
    /// contract's check order (the self-check comes first, in the handler).
    pub fn moderate(
        &self,
        action: HostAction,
        caller: i64,
        target: i64,
        now: DateTime<Utc>,
    ) -> Result<Outcome, DomainError> {
        use HostAction::*;
        let g = &self.group;
        let in_status = matches!(g.effective_status(now), GroupStatus::Recruiting | GroupStatus::Full);
        let is_host = self.is_host(caller);
        match action {
            Approve | Reject => {
                if g.join_policy != JoinPolicy::ApprovalRequired {
                    return Err(err(E::GROUP_JOIN_POLICY_NOT_APPROVAL_REQUIRED));
                }
                if !in_status {
                    return Err(err(if action == Approve {
                        E::GROUP_CANNOT_APPROVE_IN_STATUS
                    } else {
                        E::GROUP_CANNOT_REJECT_IN_STATUS
                    }));
                }
                if !is_host {
                    return Err(err(if action == Approve {
                        E::NO_PERMISSION_TO_APPROVE_JOIN
                    } else {
                        E::NO_PERMISSION_TO_REJECT_JOIN
                    }));
                }
            }
            Kick | Ban => {
                if !is_host {
                    return Err(err(if action == Kick { E::NO_PERMISSION_TO_KICK } else { E::NO_PERMISSION_TO_BAN }));
                }
                if self.is_host(target) {
                    return Err(err(if action == Kick { E::GROUP_CANNOT_KICK_HOST } else { E::GROUP_CANNOT_BAN_HOST }));
                }
                if !in_status {
                    return Err(err(if action == Kick {
                        E::GROUP_CANNOT_KICK_IN_STATUS
                    } else {
                        E::GROUP_CANNOT_BAN_IN_STATUS
                    }));
                }
            }
            Unban => {
                if !is_host {
                    return Err(err(E::NO_PERMISSION_TO_UNBAN));
                }
                if self.is_host(target) {
                    return Err(err(E::GROUP_CANNOT_UNBAN_HOST));
                }
            }
        }
        let m = self.member(target).ok_or_else(|| err(E::GROUP_USER_NOT_FOUND))?;
        let (from, to, refused) = match action {
            Approve => (MemberStatus::Pending, MemberStatus::Attend, E::GROUP_USER_STATUS_NOT_ALLOWED_TO_APPROVE),
            Reject => (MemberStatus::Pending, MemberStatus::Rejected, E::GROUP_USER_STATUS_NOT_ALLOWED_TO_REJECT),
            Kick => (MemberStatus::Attend, MemberStatus::Kicked, E::GROUP_USER_STATUS_NOT_ALLOWED_TO_KICK),
            Ban => (MemberStatus::Attend, MemberStatus::Banned, E::GROUP_USER_STATUS_NOT_ALLOWED_TO_BAN),
            Unban => (MemberStatus::Banned, MemberStatus::Kicked, E::GROUP_USER_STATUS_NOT_ALLOWED_TO_UNBAN),
        };
        if m.status != from {
            return Err(err(refused));
        }
        let mut out = self.outcome(now);
        let mut m = m.clone();
        match action {
            Approve => {
                if g.participant_count >= g.max_participants {
                    return Err(err(E::GROUP_IS_FULL));
                }
                out.group.participant_count += 1;
                out.joined.push(target);
                out.notify.push((target, NotificationType::GroupJoinApproved));
                m.joined_at = now;
                m.left_at = None;
            }
            Reject => {
                out.notify.push((target, NotificationType::GroupJoinRejected));
                m.left_at = Some(now);
            }
            Kick | Ban => {
                out.group.participant_count -= 1;
                if action == Kick {
                    out.notify.push((target, NotificationType::GroupJoinKicked));
                }
                m.left_at = Some(now);
            }
            Unban => {}
        }
        m.status = to;
        out.group.reseat();
        out.changed.push(m);
        Ok(out)
    }
}

// ------------------------------------------------------------------ filters

/// ACTIVE / ARCHIVED / ALL of §6.6.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum StatusFilter {
    Active,
    Archived,
    All,
}

impl StatusFilter {
    pub fn parse(s: &str) -> Option<Self> {
        match s {
            "ACTIVE" => Some(Self::Active),
            "ARCHIVED" => Some(Self::Archived),
            "ALL" => Some(Self::All),
            _ => None,
        }
    }

    fn statuses(self) -> Vec<GroupStatus> {
        use GroupStatus::*;
        match self {
            Self::Active => vec![Recruiting, Full, Closed],
            Self::Archived => vec![Cancelled, Finished],
            Self::All => GroupStatus::ALL.to_vec(),
        }
    }
}

/// The status set a list shows: include replaces the filter, exclude wins.
pub fn status_set(filter: StatusFilter, include: &[GroupStatus], exclude: &[GroupStatus]) -> Vec<GroupStatus> {
    let base = if include.is_empty() { filter.statuses() } else { include.to_vec() };
    base.into_iter().filter(|s| !exclude.contains(s)).collect()
}

/// Case-insensitive substring match of a keyword on title, location,
/// location detail and description (the search engines' rule, one piece of code).
pub fn matches_keyword(g: &Group, keyword: &str) -> bool {
    crate::search::fields_match(
        &[Some(&g.title), Some(&g.location), g.location_detail.as_deref(), Some(&g.description)],
        keyword,
    )
}

#[cfg(test)]
mod tests;
