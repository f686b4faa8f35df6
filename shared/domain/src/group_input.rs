//! Create and update requests for groups: typed reading of the JSON body with
//! every field failure listed, then the contract's coded checks in order
//! (API.md §4.2, §4.6), and the update applied to a group state.

use chrono::{DateTime, Utc};
use serde_json::{Map, Value};

use crate::error::{DomainError, ErrorCode as E, Fields};
use crate::group::*;

/// An image item of a request: a pre-uploaded key and an optional position.
#[derive(Debug, Clone, PartialEq)]
pub struct ImageRef {
    pub image_key: String,
    pub sort_order: Option<i64>,
}

#[derive(Debug, Clone, PartialEq)]
pub struct NewGroup {
    pub title: String,
    pub location: String,
    pub location_detail: Option<String>,
    pub start_time: DateTime<Utc>,
    pub end_time: Option<DateTime<Utc>>,
    pub tags: Vec<String>,
    pub description: String,
    pub max_participants: i64,
    pub join_policy: JoinPolicy,
    /// Already in final order (index = sortOrder).
    pub images: Vec<ImageRef>,
}

/// An image item as sent: None when it is not an object; otherwise its key and sortOrder.
pub type RawImageItem = Option<(Option<String>, Option<i64>)>;

/// Reads typed fields from a JSON object, collecting type errors per field.
struct Reader<'a> {
    obj: &'a Map<String, Value>,
    fields: Fields,
}

const TYPE_REASON: &str = "모임: 값의 형식이 올바르지 않습니다.";

impl<'a> Reader<'a> {
    fn new(body: &'a Value) -> Result<Self, DomainError> {
        let obj = body.as_object().ok_or_else(|| DomainError::invalid("body", "모임: 요청 본문은 객체여야 합니다."))?;
        Ok(Reader { obj, fields: Fields::new() })
    }

    /// Present and not null.
    fn get(&self, name: &str) -> Option<&'a Value> {
        self.obj.get(name).filter(|v| !v.is_null())
    }

    fn string(&mut self, name: &str) -> Option<String> {
        match self.get(name) {
            None => None,
            Some(Value::String(s)) => Some(s.clone()),
            Some(_) => {
                self.fields.fail(name, TYPE_REASON);
                None
            }
        }
    }

    fn int(&mut self, name: &str) -> Option<i64> {
        match self.get(name) {
            None => None,
            Some(v) => match v.as_i64() {
                Some(n) => Some(n),
                None => {
                    self.fields.fail(name, TYPE_REASON);
                    None
                }
            },
        }
    }

    fn time(&mut self, name: &str) -> Option<DateTime<Utc>> {
        let s = self.string(name)?;
        let t = crate::time::parse(&s);
        if t.is_none() {
            self.fields.fail(name, "모임: 날짜 형식이 올바르지 않습니다.");
        }
        t
    }

    fn string_list(&mut self, name: &str) -> Option<Vec<String>> {
        match self.get(name) {
            None => None,
            Some(Value::Array(items)) if items.iter().all(Value::is_string) => {
                Some(items.iter().filter_map(|v| v.as_str().map(str::to_string)).collect())
            }
            Some(_) => {
                self.fields.fail(name, TYPE_REASON);
                None
            }
        }
    }

    /// Image items; a non-object item stays None so the coded checks can name it.
    fn images(&mut self, name: &str) -> Option<Vec<RawImageItem>> {
        match self.get(name) {
            None => None,
            Some(Value::Array(items)) => Some(
                items
                    .iter()
                    .map(|it| {
                        let o = it.as_object()?;
                        let key = o.get("imageKey").and_then(Value::as_str).map(str::to_string);
                        let order = o.get("sortOrder").and_then(Value::as_i64);
                        Some((key, order))
                    })
                    .collect(),
            ),
            Some(_) => {
                self.fields.fail(name, TYPE_REASON);
                None
            }
        }
    }
}

fn chars(s: &str) -> usize {
    s.chars().count()
}

/// Trims tags, drops blanks; the count and duplicate rules follow.
fn clean_tags(raw: &[String]) -> Vec<String> {
    raw.iter().map(|t| t.trim().to_string()).filter(|t| !t.is_empty()).collect()
}

fn check_tags(tags: &[String]) -> Result<(), DomainError> {
    if tags.len() > TAGS_MAX {
        return Err(DomainError::new(E::TAG_EXCEED_MAX));
    }
    let mut seen = std::collections::HashSet::new();
    if !tags.iter().all(|t| seen.insert(t.as_str())) {
        return Err(DomainError::new(E::TAG_DUPLICATED));
    }
    Ok(())
}

/// Image item checks and ordering (§4.6): by sortOrder where given, the others
/// filling the free slots in request order. `blank_key` is the code for a
/// missing key (create: GROUP_IMAGE_KEY_REQUIRED, update: INVALID_GROUP_IMAGE_KEY).
fn order_images(items: Vec<RawImageItem>, update: bool) -> Result<Vec<ImageRef>, DomainError> {
    if items.len() > IMAGES_MAX {
        return Err(DomainError::new(E::IMAGE_UPLOAD_EXCEED));
    }
    let mut refs = Vec::new();
    for item in items {
        let Some((key, order)) = item else {
            return Err(DomainError::new(if update {
                E::INVALID_GROUP_IMAGE_ITEM
            } else {
                E::GROUP_IMAGE_KEY_REQUIRED
            }));
        };
        let key = key.map(|k| k.trim().to_string()).filter(|k| !k.is_empty());
        let Some(image_key) = key else {
            return Err(DomainError::new(if update {
                E::INVALID_GROUP_IMAGE_KEY
            } else {
                E::GROUP_IMAGE_KEY_REQUIRED
            }));
        };
        refs.push(ImageRef { image_key, sort_order: order });
    }
    let mut keys = std::collections::HashSet::new();
    if !refs.iter().all(|r| keys.insert(r.image_key.clone())) {
        return Err(DomainError::new(E::DUPLICATED_IMAGE_KEY_IN_REQUEST));
    }
    if refs.iter().any(|r| r.sort_order.is_some_and(|o| !(0..IMAGES_MAX as i64).contains(&o))) {
        return Err(DomainError::new(E::INVALID_GROUP_IMAGE_SORT_ORDER_RANGE));
    }
    let mut orders = std::collections::HashSet::new();
    if !refs.iter().filter_map(|r| r.sort_order).all(|o| orders.insert(o)) {
        return Err(DomainError::new(E::DUPLICATED_IMAGE_SORT_ORDER_IN_REQUEST));
    }
    let mut slots: Vec<Option<ImageRef>> = vec![None; IMAGES_MAX];
    for r in refs.iter().filter(|r| r.sort_order.is_some()) {
        slots[r.sort_order.unwrap_or_default() as usize] = Some(r.clone());
    }
    for r in refs.iter().filter(|r| r.sort_order.is_none()) {
        if let Some(free) = slots.iter_mut().find(|s| s.is_none()) {
            *free = Some(r.clone());
        }
    }
    Ok(slots.into_iter().flatten().enumerate().map(|(i, r)| ImageRef { sort_order: Some(i as i64), ..r }).collect())
}

/// Validates a create request in the contract's order.
pub fn validate_create(body: &Value, now: DateTime<Utc>) -> Result<NewGroup, DomainError> {
    let mut r = Reader::new(body)?;
    let title = r.string("title").map(|s| s.trim().to_string());
    let location = r.string("location").map(|s| s.trim().to_string());
    let location_detail = r.string("locationDetail");
    let start_time = r.time("startTime");
    let end_time = r.time("endTime");
    let tags = r.string_list("tags");
    let description = r.string("description").map(|s| s.trim().to_string());
    let max_participants = r.int("maxParticipants");
    let join_policy = r.string("joinPolicy");
    let images = r.images("images");
    let f = &mut r.fields;
    f.check(
        title.as_deref().is_some_and(|t| !t.is_empty() && chars(t) <= TITLE_MAX),
        "title",
        "모임: 제목은 필수이며 50자 이하여야 합니다.",
    );
    f.check(
        location.as_deref().is_some_and(|l| !l.is_empty() && chars(l) <= LOCATION_MAX),
        "location",
        "모임: 장소는 필수이며 100자 이하여야 합니다.",
    );
    f.check(
        location_detail.as_deref().is_none_or(|d| chars(d) <= LOCATION_DETAIL_MAX),
        "locationDetail",
        "모임: 상세 장소는 255자 이하여야 합니다.",
    );
    f.check(start_time.is_some_and(|t| t >= now), "startTime", "모임: 시작 시간은 필수이며 현재 이후여야 합니다.");
    f.check(end_time.is_none_or(|t| t > now), "endTime", "모임: 종료 시간은 현재 이후여야 합니다.");
    f.check(
        tags.as_ref().is_none_or(|ts| ts.iter().all(|t| chars(t.trim()) <= TAG_MAX)),
        "tags",
        "모임: 태그는 50자 이하여야 합니다.",
    );
    f.check(
        description.as_deref().is_some_and(|d| !d.is_empty() && chars(d) <= DESCRIPTION_MAX),
        "description",
        "모임: 설명은 필수이며 300자 이하여야 합니다.",
    );
    f.check(
        max_participants.is_some_and(|m| (MAX_PARTICIPANTS_MIN..=MAX_PARTICIPANTS_MAX).contains(&m)),
        "maxParticipants",
        "모임: 최대 참여 인원은 2명 이상 12명 이하여야 합니다.",
    );
    f.check(
        matches!(join_policy.as_deref(), Some("FREE" | "APPROVAL_REQUIRED" | "INVITE_ONLY")),
        "joinPolicy",
        "모임: 참여 방식은 FREE 또는 APPROVAL_REQUIRED 입니다.",
    );
    f.finish()?;
    let join_policy = match join_policy.as_deref() {
        Some("FREE") => JoinPolicy::Free,
        Some("APPROVAL_REQUIRED") => JoinPolicy::ApprovalRequired,
        _ => return Err(DomainError::new(E::INVALID_JOIN_POLICY)),
    };
    let tags = clean_tags(&tags.unwrap_or_default());
    check_tags(&tags)?;
    let (start_time, end_time) = (start_time.unwrap_or(now), end_time);
    if end_time.is_some_and(|e| e <= start_time) {
        return Err(DomainError::new(E::GROUP_TIME_INVALID_RANGE));
    }
    let images = order_images(images.unwrap_or_default(), false)?;
    Ok(NewGroup {
        title: title.unwrap_or_default(),
        location: location.unwrap_or_default(),
        location_detail,
        start_time,
        end_time,
        tags,
        description: description.unwrap_or_default(),
        max_participants: max_participants.unwrap_or_default(),
        join_policy,
        images,
    })
}

/// A PATCH body: absent or null = unchanged.
#[derive(Debug, Clone, Default, PartialEq)]
pub struct GroupPatch {
    pub title: Option<String>,
    pub description: Option<String>,
    pub location: Option<String>,
    pub location_detail: Option<String>,
    pub start_time: Option<DateTime<Utc>>,
    pub end_time: Option<DateTime<Utc>>,
    pub max_participants: Option<i64>,
    pub status: Option<GroupStatus>,
    pub tags: Option<Vec<String>>,
    pub images: Option<Vec<RawImageItem>>,
}

/// Reads a PATCH body; wrong types and unknown statuses are INVALID_INPUT_VALUE.
pub fn parse_patch(body: &Value) -> Result<GroupPatch, DomainError> {
    let mut r = Reader::new(body)?;
    let status = r.string("status");
    let p = GroupPatch {
        title: r.string("title"),
        description: r.string("description"),
        location: r.string("location"),
        location_detail: r.string("locationDetail"),
        start_time: r.time("startTime"),
        end_time: r.time("endTime"),
        max_participants: r.int("maxParticipants"),
        status: None,
        tags: r.string_list("tags"),
        images: r.images("images"),
    };
    let parsed = status.as_deref().map(GroupStatus::parse);
    if parsed == Some(None) {
        r.fields.fail("status", "모임: 알 수 없는 상태입니다.");
    }
    r.fields.finish()?;
    Ok(GroupPatch { status: parsed.flatten(), ..p })
}

/// The result of an update: the new group and the images the request wants.
#[derive(Debug, Clone, PartialEq)]
pub struct Updated {
    pub group: Group,
    /// The final image list when the request sent one (keys, in order).
    pub images: Option<Vec<ImageRef>>,
}

impl GroupState {
    /// Applies a PATCH by `caller` (checks: host → status → fields in table order).
    pub fn update(&self, caller: i64, patch: &GroupPatch, now: DateTime<Utc>) -> Result<Updated, DomainError> {
        if !self.is_host(caller) {
            return Err(DomainError::new(E::GROUP_ONLY_HOST_CAN_UPDATE));
        }
        let current = self.group.effective_status(now);
        if current.is_final() {
            return Err(DomainError::new(E::GROUP_CANNOT_UPDATE_IN_STATUS));
        }
        let mut g = self.group.clone();
        g.status = current;
        if let Some(t) = &patch.title {
            let t = t.trim();
            if t.is_empty() {
                return Err(DomainError::new(E::GROUP_TITLE_REQUIRED));
            }
            if chars(t) > TITLE_MAX {
                return Err(DomainError::new(E::GROUP_TITLE_TOO_LONG));
            }
            g.title = t.to_string();
        }
        if let Some(d) = &patch.description {
            let d = d.trim();
            if d.is_empty() {
                return Err(DomainError::new(E::GROUP_DESCRIPTION_REQUIRED));
            }
            if chars(d) > DESCRIPTION_MAX {
                return Err(DomainError::new(E::GROUP_DESCRIPTION_TOO_LONG));
            }
            g.description = d.to_string();
        }
        if let Some(l) = &patch.location {
            let l = l.trim();
            if l.is_empty() || chars(l) > LOCATION_MAX {
                return Err(DomainError::new(E::LOCATION_REQUIRED));
            }
            g.location = l.to_string();
        }
        if let Some(d) = &patch.location_detail {
            if chars(d) > LOCATION_DETAIL_MAX {
                return Err(DomainError::invalid("locationDetail", "모임: 상세 장소는 255자 이하여야 합니다."));
            }
            g.location_detail = Some(d.clone());
        }
        if let Some(s) = patch.start_time {
            g.start_time = s;
        }
        if let Some(e) = patch.end_time {
            g.end_time = Some(e);
        }
        if g.end_time.is_some_and(|e| e <= g.start_time) {
            return Err(DomainError::new(E::GROUP_TIME_INVALID_RANGE));
        }
        if let Some(m) = patch.max_participants {
            if !(MAX_PARTICIPANTS_MIN..=MAX_PARTICIPANTS_MAX).contains(&m) {
                return Err(DomainError::new(E::INVALID_MAX_PARTICIPANTS));
            }
            if m < g.participant_count {
                return Err(DomainError::new(E::MAX_PARTICIPANTS_BELOW_ATTEND_COUNT));
            }
            g.max_participants = m;
        }
        match patch.status {
            Some(to) => {
                if !current.can_become(to) {
                    return Err(DomainError::with_detail(
                        E::GROUP_STATUS_TRANSFER_IMPOSSIBLE,
                        format!("모임: {} 에서 {} 로 변경할 수 없습니다.", current.name(), to.name()),
                    ));
                }
                g.status = to;
            }
            None if patch.max_participants.is_some() => {
                if g.status == GroupStatus::Recruiting && g.participant_count >= g.max_participants {
                    g.status = GroupStatus::Full;
                } else if g.status == GroupStatus::Full && g.participant_count < g.max_participants {
                    g.status = GroupStatus::Recruiting;
                }
            }
            None => {}
        }
        if let Some(tags) = &patch.tags {
            if tags.iter().any(|t| chars(t.trim()) > TAG_MAX) {
                return Err(DomainError::invalid("tags", "모임: 태그는 50자 이하여야 합니다."));
            }
            let tags = clean_tags(tags);
            check_tags(&tags)?;
            g.tags = tags;
        }
        let images = match &patch.images {
            Some(items) => Some(order_images(items.clone(), true)?),
            None => None,
        };
        g.updated_at = now;
        Ok(Updated { group: g, images })
    }
}

/// Validates an attend message (≤ 50 characters).
pub fn validate_join_message(message: Option<&str>) -> Result<(), DomainError> {
    Fields::new()
        .check(
            message.is_none_or(|m| chars(m.trim()) <= JOIN_MESSAGE_MAX),
            "message",
            "모임: 참여 메시지는 50자 이하여야 합니다.",
        )
        .finish()
}
