//! The JSON shapes of API.md §4–§5, built from domain values.

use chrono::{DateTime, Utc};
use moim_domain::group::{Group, GroupImage, GroupState, MemberStatus, Membership, Role};
use moim_domain::time;
use serde_json::{json, Value};

/// Where the server's default WEBP images live in the blob store.
pub const DEFAULT_CARD_KEY: &str = "defaults/group_440x240.webp";
pub const DEFAULT_THUMB_KEY: &str = "defaults/group_100x100.webp";

/// URLs of stored blobs (the gateway locally, the CDN in production).
pub struct Urls<'a>(pub &'a dyn moim_store::Blobs);

impl Urls<'_> {
    /// `defaultImage`: set only when the group has no images.
    pub fn default_image(&self, g: &Group) -> Value {
        if g.images.is_empty() {
            json!({
                "imageUrl440x240": self.0.public_url(DEFAULT_CARD_KEY),
                "imageUrl100x100": self.0.public_url(DEFAULT_THUMB_KEY),
            })
        } else {
            Value::Null
        }
    }
}

fn t(d: DateTime<Utc>) -> String {
    time::format(d)
}

fn t_opt(d: Option<DateTime<Utc>>) -> Value {
    d.map(|d| Value::String(time::format(d))).unwrap_or(Value::Null)
}

pub fn image(i: &GroupImage) -> Value {
    json!({
        "groupImageId": i.group_image_id,
        "imageKey": i.image_key,
        "sortOrder": i.sort_order,
        "variants": [
            { "variantId": i.card_variant_id, "type": "CARD_440_240", "width": 440, "height": 240, "format": "WEBP", "imageUrl": i.card_url },
            { "variantId": i.thumbnail_variant_id, "type": "THUMBNAIL_100_100", "width": 100, "height": 100, "format": "WEBP", "imageUrl": i.thumbnail_url },
        ],
    })
}

fn images(g: &Group) -> Value {
    let mut imgs: Vec<&GroupImage> = g.images.iter().collect();
    imgs.sort_by_key(|i| i.sort_order);
    Value::Array(imgs.into_iter().map(image).collect())
}

pub fn membership(m: &Membership) -> Value {
    json!({
        "groupUserId": m.group_user_id,
        "userId": m.user_id(),
        "role": m.role,
        "status": m.status,
        "joinedAt": t(m.joined_at),
        "leftAt": t_opt(m.left_at),
    })
}

fn address(g: &Group) -> Value {
    json!({ "location": g.location, "locationDetail": g.location_detail })
}

fn created_by(g: &Group, with_message: bool) -> Value {
    let mut v = json!({ "userId": g.host.user_id, "nickName": g.host.nick_name, "profileImage": g.host.profile_image });
    if with_message {
        v["profileMessage"] = json!(g.host.profile_message);
    }
    v
}

/// ATTEND members, host first, then by joinedAt.
pub fn joined_members(s: &GroupState) -> Value {
    let mut ms: Vec<&Membership> = s.members.iter().filter(|m| m.status == MemberStatus::Attend).collect();
    ms.sort_by_key(|m| (m.role != Role::Host, m.joined_at, m.group_user_id));
    Value::Array(
        ms.into_iter()
            .map(|m| {
                json!({
                    "userId": m.user_id(), "groupUserId": m.group_user_id, "role": m.role, "status": m.status,
                    "nickName": m.user.nick_name, "profileImage": m.user.profile_image,
                    "joinedAt": t(m.joined_at), "leftAt": t_opt(m.left_at),
                })
            })
            .collect(),
    )
}

/// The detail of §4.5 (also the create response).
pub fn detail(s: &GroupState, viewer: Option<i64>, now: DateTime<Utc>, urls: &Urls) -> Value {
    let g = &s.group;
    json!({
        "id": g.id,
        "chatRoomId": g.chat_room_id,
        "title": g.title,
        "joinPolicy": g.join_policy,
        "status": g.effective_status(now),
        "address": address(g),
        "startTime": t(g.start_time),
        "endTime": t_opt(g.end_time),
        "images": images(g),
        "defaultImage": urls.default_image(g),
        "tags": g.tags,
        "description": g.description,
        "participantCount": g.participant_count,
        "maxParticipants": g.max_participants,
        "remainingSeats": g.remaining_seats(),
        "joinable": g.joinable(now),
        "createdBy": created_by(g, true),
        "createdAt": t(g.created_at),
        "updatedAt": t(g.updated_at),
        "myMembership": viewer.and_then(|v| s.member(v)).map(membership),
        "joinedMembers": joined_members(s),
    })
}

/// A GroupListItem of §4.3; `mine` adds the my-groups extras of §4.4.
pub fn list_item(g: &Group, now: DateTime<Utc>, urls: &Urls, mine: Option<&Membership>) -> Value {
    let mut imgs: Vec<&GroupImage> = g.images.iter().collect();
    imgs.sort_by_key(|i| i.sort_order);
    let mut v = json!({
        "id": g.id,
        "title": g.title,
        "joinPolicy": g.join_policy,
        "status": g.effective_status(now),
        "location": g.location,
        "locationDetail": g.location_detail,
        "startTime": t(g.start_time),
        "endTime": t_opt(g.end_time),
        "images": imgs.iter().map(|i| i.card_url.clone()).collect::<Vec<_>>(),
        "tags": g.tags,
        "description": g.description,
        "participantCount": g.participant_count,
        "maxParticipants": g.max_participants,
        "remainingSeats": g.remaining_seats(),
        "joinable": g.joinable(now),
        "createdBy": created_by(g, mine.is_some()),
        "createdAt": t(g.created_at),
        "updatedAt": t(g.updated_at),
        "defaultImage": urls.default_image(g),
    });
    if let Some(m) = mine {
        v["myMembership"] = membership(m);
    }
    v
}

/// The PATCH response of §4.6.
pub fn updated(g: &Group, now: DateTime<Utc>) -> Value {
    json!({
        "id": g.id, "title": g.title, "joinPolicy": g.join_policy, "status": g.effective_status(now),
        "address": address(g), "startTime": t(g.start_time), "endTime": t_opt(g.end_time),
        "images": images(g), "tags": g.tags, "description": g.description,
        "maxParticipants": g.max_participants, "updatedAt": t(g.updated_at),
    })
}

/// AttendanceResult (attend / left).
pub fn attendance(g: &Group, mine: &Membership, now: DateTime<Utc>) -> Value {
    json!({
        "groupId": g.id, "groupStatus": g.effective_status(now), "joinPolicy": g.join_policy,
        "participantCount": g.participant_count, "maxParticipants": g.max_participants,
        "myMembership": membership(mine), "serverTime": t(now),
    })
}

/// TargetResult (approve / reject / kick / ban / unban).
pub fn target_result(g: &Group, target: &Membership, now: DateTime<Utc>) -> Value {
    json!({
        "groupId": g.id, "groupStatus": g.effective_status(now), "joinPolicy": g.join_policy,
        "participantCount": g.participant_count, "maxParticipants": g.max_participants,
        "targetMembership": { "userId": target.user_id(), "groupUserId": target.group_user_id, "status": target.status },
        "serverTime": t(now),
    })
}

/// The join-request list (any status; default PENDING), oldest first.
pub fn join_requests(s: &GroupState, status: MemberStatus, now: DateTime<Utc>) -> Value {
    let mut ms: Vec<&Membership> = s.members.iter().filter(|m| m.status == status).collect();
    ms.sort_by_key(|m| (m.joined_at, m.group_user_id));
    let cover = s.group.images.iter().min_by_key(|i| i.sort_order).map(|i| i.thumbnail_url.clone());
    json!({
        "groupId": s.group.id,
        "groupTitle": s.group.title,
        "thumbnail100x100Url": cover,
        "status": status,
        "count": ms.len(),
        "items": ms.iter().map(|m| json!({
            "userId": m.user_id(), "nickName": m.user.nick_name, "profileImage": m.user.profile_image,
            "groupUserId": m.group_user_id, "status": m.status, "joinedAt": t(m.joined_at),
            "joinRequestMessage": m.join_request_message,
        })).collect::<Vec<_>>(),
        "serverTime": t(now),
    })
}

/// kick-targets / ban-targets (ATTEND but the host, newest join first) or
/// banned-targets (BANNED, most recent first).
pub fn targets(s: &GroupState, banned: bool, now: DateTime<Utc>) -> Value {
    let mut ms: Vec<&Membership> = s
        .members
        .iter()
        .filter(|m| {
            if banned {
                m.status == MemberStatus::Banned
            } else {
                m.status == MemberStatus::Attend && m.role != Role::Host
            }
        })
        .collect();
    if banned {
        ms.sort_by_key(|m| std::cmp::Reverse((m.left_at, m.group_user_id)));
    } else {
        ms.sort_by_key(|m| std::cmp::Reverse((m.joined_at, m.group_user_id)));
    }
    json!({
        "groupId": s.group.id,
        "targets": ms.iter().map(|m| json!({
            "userId": m.user_id(), "nickName": m.user.nick_name, "profileImage": m.user.profile_image,
            "groupUserId": m.group_user_id, "status": m.status, "joinedAt": t(m.joined_at),
        })).collect::<Vec<_>>(),
        "serverTime": t(now),
    })
}
