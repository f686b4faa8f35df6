use super::*;
use crate::group_input::{parse_patch, validate_create, GroupPatch};
use chrono::Duration;
use proptest::prelude::*;
use serde_json::json;

fn now() -> DateTime<Utc> {
    "2026-06-01T00:00:00Z".parse().unwrap()
}

fn profile(id: i64) -> Profile {
    Profile { user_id: id, nick_name: format!("u{id}"), profile_image: None, profile_message: None }
}

fn state(policy: JoinPolicy, max: i64) -> GroupState {
    let host = profile(1);
    let group = Group {
        id: 100,
        chat_room_id: 200,
        title: "자바 스터디".into(),
        location: "서울".into(),
        location_detail: None,
        start_time: now() + Duration::days(1),
        end_time: None,
        tags: vec![],
        description: "d".into(),
        max_participants: max,
        join_policy: policy,
        status: GroupStatus::Recruiting,
        host: host.clone(),
        participant_count: 1,
        images: vec![],
        created_at: now(),
        updated_at: now(),
        version: 1,
    };
    let hm = Membership {
        group_user_id: 1,
        group_id: 100,
        role: Role::Host,
        status: MemberStatus::Attend,
        user: host,
        joined_at: now(),
        left_at: None,
        join_request_message: None,
        host_notice: None,
    };
    GroupState { group, members: vec![hm] }
}

/// Applies an outcome to a state, as storage would.
fn apply(s: &GroupState, o: Outcome) -> GroupState {
    let mut members = s.members.clone();
    for m in o.changed {
        match members.iter_mut().find(|x| x.user_id() == m.user_id()) {
            Some(x) => *x = m,
            None => members.push(m),
        }
    }
    GroupState { group: o.group, members }
}

fn code(r: Result<Outcome, DomainError>) -> E {
    r.unwrap_err().code
}

#[test]
fn status_table() {
    use GroupStatus::*;
    assert!(Recruiting.can_become(Full) && Recruiting.can_become(Closed) && Full.can_become(Recruiting));
    assert!(Closed.can_become(Cancelled) && Closed.can_become(Finished));
    assert!(!Closed.can_become(Recruiting) && !Closed.can_become(Full));
    for s in [Cancelled, Finished] {
        for to in GroupStatus::ALL {
            assert!(!s.can_become(to));
        }
    }
    for s in GroupStatus::ALL {
        assert!(!s.can_become(s));
    }
}

#[test]
fn free_attend_takes_a_seat_and_the_last_seat_turns_full() {
    let s = state(JoinPolicy::Free, 3);
    let o = s.attend(&profile(2), None, 2, now()).unwrap();
    assert_eq!(o.group.participant_count, 2);
    assert_eq!(o.group.status, GroupStatus::Recruiting);
    assert_eq!(o.notify, vec![(1, NotificationType::GroupJoin)]);
    assert_eq!(o.joined, vec![2]);
    let s = apply(&s, o);
    let s = apply(&s, s.attend(&profile(3), None, 3, now()).unwrap());
    assert_eq!(s.group.status, GroupStatus::Full);
    assert_eq!(s.group.remaining_seats(), 0);
    assert!(!s.group.joinable(now()));
    assert_eq!(code(s.attend(&profile(4), None, 4, now())), E::GROUP_NOT_RECRUITING);
    // Leaving frees the seat and reopens recruiting.
    let s = apply(&s, s.leave(3, now()).unwrap());
    assert_eq!((s.group.participant_count, s.group.status), (2, GroupStatus::Recruiting));
}

#[test]
fn attend_errors_in_order() {
    let s = state(JoinPolicy::Free, 3);
    assert_eq!(code(s.attend(&profile(1), None, 9, now())), E::GROUP_HOST_CANNOT_ATTEND);
    let s2 = apply(&s, s.attend(&profile(2), None, 2, now()).unwrap());
    assert_eq!(code(s2.attend(&profile(2), None, 2, now())), E::ALREADY_ATTEND_GROUP);
    let banned = apply(&s2, s2.moderate(HostAction::Ban, 1, 2, now()).unwrap());
    assert_eq!(code(banned.attend(&profile(2), None, 2, now())), E::GROUP_BANNED_USER);
    let mut closed = s.clone();
    closed.group.status = GroupStatus::Closed;
    assert_eq!(code(closed.attend(&profile(5), None, 5, now())), E::GROUP_NOT_RECRUITING);
    let a = state(JoinPolicy::ApprovalRequired, 3);
    let a = apply(&a, a.attend(&profile(2), Some("  hi ".into()), 2, now()).unwrap());
    assert_eq!(a.member(2).unwrap().status, MemberStatus::Pending);
    assert_eq!(a.member(2).unwrap().join_request_message.as_deref(), Some("hi"));
    assert_eq!(a.group.participant_count, 1, "a request takes no seat");
    assert_eq!(code(a.attend(&profile(2), None, 2, now())), E::ALREADY_REQUESTED_TO_JOIN);
}

#[test]
fn past_groups_are_finished_on_read() {
    let mut s = state(JoinPolicy::Free, 3);
    s.group.start_time = now() - Duration::hours(1);
    assert_eq!(s.group.effective_status(now()), GroupStatus::Finished);
    assert_eq!(code(s.attend(&profile(2), None, 2, now())), E::GROUP_NOT_RECRUITING);
    s.group.end_time = Some(now() + Duration::hours(1));
    assert_eq!(s.group.effective_status(now()), GroupStatus::Recruiting, "running until its end");
    s.group.status = GroupStatus::Cancelled;
    s.group.end_time = None;
    assert_eq!(s.group.effective_status(now()), GroupStatus::Cancelled, "final statuses stay");
}

#[test]
fn leave_rules() {
    let s = state(JoinPolicy::ApprovalRequired, 3);
    assert_eq!(code(s.leave(1, now())), E::GROUP_HOST_CANNOT_LEAVE);
    assert_eq!(code(s.leave(2, now())), E::GROUP_USER_NOT_FOUND);
    let s = apply(&s, s.attend(&profile(2), None, 2, now()).unwrap());
    let o = s.leave(2, now()).unwrap();
    assert_eq!(o.changed[0].status, MemberStatus::Cancelled);
    assert!(o.notify.is_empty(), "cancelling a request notifies nobody");
    let s = apply(&s, o);
    assert_eq!(code(s.leave(2, now())), E::ALREADY_CANCELLED_JOIN_REQUEST);
    let s = apply(&s, s.attend(&profile(2), None, 2, now()).unwrap());
    let s = apply(&s, s.moderate(HostAction::Reject, 1, 2, now()).unwrap());
    assert_eq!(code(s.leave(2, now())), E::GROUP_REJECTED_USER);
    let s = apply(&s, s.attend(&profile(2), None, 2, now()).unwrap());
    let s = apply(&s, s.moderate(HostAction::Approve, 1, 2, now()).unwrap());
    let s = apply(&s, s.moderate(HostAction::Kick, 1, 2, now()).unwrap());
    assert_eq!(code(s.leave(2, now())), E::GROUP_KICKED_USER);
    let mut cancelled = s.clone();
    cancelled.group.status = GroupStatus::Cancelled;
    assert_eq!(code(cancelled.leave(2, now())), E::GROUP_CANNOT_LEAVE_IN_STATUS);
}

#[test]
fn moderation_check_order() {
    let free = state(JoinPolicy::Free, 3);
    assert_eq!(code(free.moderate(HostAction::Approve, 1, 2, now())), E::GROUP_JOIN_POLICY_NOT_APPROVAL_REQUIRED);
    let a = state(JoinPolicy::ApprovalRequired, 2);
    assert_eq!(code(a.moderate(HostAction::Approve, 7, 2, now())), E::NO_PERMISSION_TO_APPROVE_JOIN, "403 before 404");
    assert_eq!(code(a.moderate(HostAction::Approve, 1, 2, now())), E::GROUP_USER_NOT_FOUND);
    let a = apply(&a, a.attend(&profile(2), None, 2, now()).unwrap());
    let a = apply(&a, a.attend(&profile(3), None, 3, now()).unwrap());
    let a = apply(&a, a.moderate(HostAction::Approve, 1, 2, now()).unwrap());
    assert_eq!(a.group.status, GroupStatus::Full, "approval takes the last seat");
    assert_eq!(code(a.moderate(HostAction::Approve, 1, 2, now())), E::GROUP_USER_STATUS_NOT_ALLOWED_TO_APPROVE);
    assert_eq!(code(a.moderate(HostAction::Approve, 1, 3, now())), E::GROUP_IS_FULL);
    assert_eq!(code(a.moderate(HostAction::Kick, 1, 1, now())), E::GROUP_CANNOT_KICK_HOST);
    assert_eq!(code(a.moderate(HostAction::Ban, 2, 3, now())), E::NO_PERMISSION_TO_BAN);
    assert_eq!(code(a.moderate(HostAction::Kick, 1, 3, now())), E::GROUP_USER_STATUS_NOT_ALLOWED_TO_KICK);
    let b = apply(&a, a.moderate(HostAction::Ban, 1, 2, now()).unwrap());
    assert_eq!((b.group.participant_count, b.group.status), (1, GroupStatus::Recruiting));
    assert_eq!(code(b.moderate(HostAction::Kick, 1, 2, now())), E::GROUP_USER_STATUS_NOT_ALLOWED_TO_KICK);
    let u = apply(&b, b.moderate(HostAction::Unban, 1, 2, now()).unwrap());
    assert_eq!(u.member(2).unwrap().status, MemberStatus::Kicked, "unban → KICKED, may re-join");
    assert_eq!(code(u.moderate(HostAction::Unban, 1, 2, now())), E::GROUP_USER_STATUS_NOT_ALLOWED_TO_UNBAN);
    assert_eq!(code(u.moderate(HostAction::Unban, 1, 1, now())), E::GROUP_CANNOT_UNBAN_HOST);
    let mut closed = u.clone();
    closed.group.status = GroupStatus::Closed;
    assert_eq!(code(closed.moderate(HostAction::Kick, 1, 3, now())), E::GROUP_CANNOT_KICK_IN_STATUS);
    assert!(closed.moderate(HostAction::Unban, 1, 2, now()).is_err(), "not banned any more");
}

#[test]
fn status_filters() {
    use GroupStatus::*;
    assert_eq!(status_set(StatusFilter::Active, &[], &[]), vec![Recruiting, Full, Closed]);
    assert_eq!(status_set(StatusFilter::Active, &[], &[Closed]), vec![Recruiting, Full]);
    assert_eq!(status_set(StatusFilter::Archived, &[Full], &[]), vec![Full], "include replaces the filter");
    assert!(status_set(StatusFilter::All, &[Full], &[Full]).is_empty(), "exclude wins");
}

#[test]
fn keyword_matches_four_fields_case_insensitively() {
    let mut s = state(JoinPolicy::Free, 3);
    s.group.location_detail = Some("강남역 2번 출구".into());
    s.group.description = "Rust Study".into();
    for k in ["자바", "서울", "2번", "rust", "  STUDY ", ""] {
        assert!(matches_keyword(&s.group, k), "{k}");
    }
    assert!(!matches_keyword(&s.group, "파이썬"));
}

fn create_body() -> serde_json::Value {
    json!({"title": " 자바 스터디 ", "location": "서울", "startTime": "2026-06-10T10:00:00", "endTime": "2026-06-10T12:00:00Z",
           "tags": [" 자바 ", "", "스터디"], "description": "같이 공부해요", "maxParticipants": 4, "joinPolicy": "FREE"})
}

#[test]
fn create_validation_order() {
    let g = validate_create(&create_body(), now()).unwrap();
    assert_eq!(g.title, "자바 스터디");
    assert_eq!(g.tags, ["자바", "스터디"]);
    let with = |k: &str, v: serde_json::Value| {
        let mut b = create_body();
        b[k] = v;
        validate_create(&b, now()).unwrap_err()
    };
    let e = with("title", json!("   "));
    assert_eq!((e.code, e.fields[0].field.as_str()), (E::INVALID_INPUT_VALUE, "title"));
    assert_eq!(with("maxParticipants", json!(13)).fields[0].field, "maxParticipants");
    assert_eq!(with("maxParticipants", json!("4")).code, E::INVALID_INPUT_VALUE);
    assert_eq!(with("startTime", json!("2026-05-01T00:00:00")).fields[0].field, "startTime");
    assert_eq!(with("joinPolicy", json!("OPEN")).code, E::INVALID_INPUT_VALUE);
    assert_eq!(with("joinPolicy", json!("INVITE_ONLY")).code, E::INVALID_JOIN_POLICY);
    assert_eq!(with("tags", json!((0..11).map(|i| format!("t{i}")).collect::<Vec<_>>())).code, E::TAG_EXCEED_MAX);
    assert_eq!(with("tags", json!(["a", " a "])).code, E::TAG_DUPLICATED);
    assert_eq!(with("endTime", json!("2026-06-10T09:00:00")).code, E::GROUP_TIME_INVALID_RANGE);
    assert_eq!(
        with("images", json!([{"imageKey": "a"}, {"imageKey": "b"}, {"imageKey": "c"}, {"imageKey": "d"}])).code,
        E::IMAGE_UPLOAD_EXCEED
    );
    assert_eq!(with("images", json!([{"sortOrder": 0}])).code, E::GROUP_IMAGE_KEY_REQUIRED);
    assert_eq!(with("images", json!([{"imageKey": "a"}, {"imageKey": "a"}])).code, E::DUPLICATED_IMAGE_KEY_IN_REQUEST);
    assert_eq!(
        with("images", json!([{"imageKey": "a", "sortOrder": 3}])).code,
        E::INVALID_GROUP_IMAGE_SORT_ORDER_RANGE
    );
    assert_eq!(
        with("images", json!([{"imageKey": "a", "sortOrder": 1}, {"imageKey": "b", "sortOrder": 1}])).code,
        E::DUPLICATED_IMAGE_SORT_ORDER_IN_REQUEST
    );
    // Every field failure is listed together.
    let e = validate_create(&json!({}), now()).unwrap_err();
    assert_eq!(e.fields.len(), 6);
}

#[test]
fn image_order_by_sort_order_then_request_order() {
    let mut b = create_body();
    b["images"] = json!([{"imageKey": "a"}, {"imageKey": "b", "sortOrder": 0}, {"imageKey": "c"}]);
    let keys: Vec<String> = validate_create(&b, now()).unwrap().images.into_iter().map(|i| i.image_key).collect();
    assert_eq!(keys, ["b", "a", "c"]);
}

#[test]
fn update_rules() {
    let s = state(JoinPolicy::Free, 3);
    let s = apply(&s, s.attend(&profile(2), None, 2, now()).unwrap());
    let p = |v: serde_json::Value| parse_patch(&v).unwrap();
    assert_eq!(s.update(2, &GroupPatch::default(), now()).unwrap_err().code, E::GROUP_ONLY_HOST_CAN_UPDATE);
    assert_eq!(s.update(1, &p(json!({"title": " "})), now()).unwrap_err().code, E::GROUP_TITLE_REQUIRED);
    assert_eq!(s.update(1, &p(json!({"title": "a".repeat(51)})), now()).unwrap_err().code, E::GROUP_TITLE_TOO_LONG);
    assert_eq!(s.update(1, &p(json!({"maxParticipants": 1})), now()).unwrap_err().code, E::INVALID_MAX_PARTICIPANTS);
    assert_eq!(
        s.update(1, &p(json!({"status": "RECRUITING"})), now()).unwrap_err().code,
        E::GROUP_STATUS_TRANSFER_IMPOSSIBLE
    );
    assert_eq!(
        s.update(1, &p(json!({"endTime": "2026-06-01T12:00:00"})), now()).unwrap_err().code,
        E::GROUP_TIME_INVALID_RANGE
    );
    assert_eq!(parse_patch(&json!({"status": "NOPE"})).unwrap_err().code, E::INVALID_INPUT_VALUE);
    // Lowering max to the count turns the group FULL; raising it reopens.
    let full = s.update(1, &p(json!({"maxParticipants": 2})), now()).unwrap().group;
    assert_eq!(full.status, GroupStatus::Full);
    let s_full = GroupState { group: full, members: s.members.clone() };
    assert_eq!(
        s_full.update(1, &p(json!({"maxParticipants": 12})), now()).unwrap().group.status,
        GroupStatus::Recruiting
    );
    let mut three = s.clone();
    three.group.participant_count = 3;
    assert_eq!(
        three.update(1, &p(json!({"maxParticipants": 2})), now()).unwrap_err().code,
        E::MAX_PARTICIPANTS_BELOW_ATTEND_COUNT
    );
    let closed = s
        .update(1, &p(json!({"status": "CLOSED", "tags": ["x"], "joinPolicy": "APPROVAL_REQUIRED"})), now())
        .unwrap()
        .group;
    assert_eq!(
        (closed.status, closed.tags.clone(), closed.join_policy),
        (GroupStatus::Closed, vec!["x".to_string()], JoinPolicy::Free)
    );
    let mut cancelled = s.clone();
    cancelled.group.status = GroupStatus::Cancelled;
    assert_eq!(cancelled.update(1, &GroupPatch::default(), now()).unwrap_err().code, E::GROUP_CANNOT_UPDATE_IN_STATUS);
}

#[derive(Debug, Clone)]
enum Op {
    Attend(i64),
    Leave(i64),
    Approve(i64),
    Reject(i64),
    Kick(i64),
    Ban(i64),
    Unban(i64),
}

fn op() -> impl Strategy<Value = Op> {
    let user = 1i64..8; // 1 is the host
    prop_oneof![
        user.clone().prop_map(Op::Attend),
        user.clone().prop_map(Op::Leave),
        user.clone().prop_map(Op::Approve),
        user.clone().prop_map(Op::Reject),
        user.clone().prop_map(Op::Kick),
        user.clone().prop_map(Op::Ban),
        user.prop_map(Op::Unban),
    ]
}

proptest! {
    /// Whatever sequence of requests arrives, the invariants hold.
    #[test]
    fn invariants_hold_over_random_operation_sequences(
        approval in any::<bool>(),
        max in 2i64..=5,
        ops in proptest::collection::vec(op(), 1..60),
    ) {
        let policy = if approval { JoinPolicy::ApprovalRequired } else { JoinPolicy::Free };
        let mut s = state(policy, max);
        let mut previous: std::collections::HashMap<i64, MemberStatus> = Default::default();
        for op in ops {
            let r = match op {
                Op::Attend(u) => s.attend(&profile(u), None, u, now()),
                Op::Leave(u) => s.leave(u, now()),
                Op::Approve(u) => s.moderate(HostAction::Approve, 1, u, now()),
                Op::Reject(u) => s.moderate(HostAction::Reject, 1, u, now()),
                Op::Kick(u) => s.moderate(HostAction::Kick, 1, u, now()),
                Op::Ban(u) => s.moderate(HostAction::Ban, 1, u, now()),
                Op::Unban(u) => s.moderate(HostAction::Unban, 1, u, now()),
            };
            if let Ok(o) = r {
                s = apply(&s, o);
            }
            let attend = s.attend_count();
            prop_assert_eq!(s.group.participant_count, attend, "count = ATTEND rows");
            prop_assert!(attend <= s.group.max_participants);
            match s.group.status {
                GroupStatus::Full => prop_assert_eq!(attend, s.group.max_participants),
                GroupStatus::Recruiting => prop_assert!(attend < s.group.max_participants),
                _ => {}
            }
            let host_rows: Vec<_> = s.members.iter().filter(|m| m.user_id() == 1).collect();
            prop_assert_eq!(host_rows.len(), 1);
            prop_assert_eq!(host_rows[0].status, MemberStatus::Attend);
            prop_assert_eq!(host_rows[0].role, Role::Host);
            for m in &s.members {
                // A banned member only leaves BANNED through unban (→ KICKED), never to ATTEND.
                if previous.get(&m.user_id()) == Some(&MemberStatus::Banned) {
                    prop_assert!(matches!(m.status, MemberStatus::Banned | MemberStatus::Kicked));
                }
                if m.status == MemberStatus::Attend {
                    prop_assert!(m.left_at.is_none());
                }
                previous.insert(m.user_id(), m.status);
            }
        }
    }
}

#[test]
fn a_write_on_a_past_group_persists_finished() {
    let mut s = state(JoinPolicy::Free, 3);
    s = apply(&s, s.attend(&profile(2), None, 2, now()).unwrap());
    s = apply(&s, s.moderate(HostAction::Ban, 1, 2, now()).unwrap());
    let later = s.group.start_time + Duration::hours(1);
    // Unban has no group-status restriction; the group it writes is FINISHED.
    let o = s.moderate(HostAction::Unban, 1, 2, later).unwrap();
    assert_eq!(o.group.status, GroupStatus::Finished);
}

#[test]
fn profile_copies_follow_the_user() {
    let s = state(JoinPolicy::Free, 4);
    let s = apply(&s, s.attend(&profile(2), None, 2, now()).unwrap());
    assert_eq!(s.refresh_profile(&profile(2), now()), None, "already current");
    let renamed = Profile { nick_name: "new".into(), profile_image: Some("https://x/p.webp".into()), ..profile(2) };
    let o = s.refresh_profile(&renamed, now()).unwrap();
    assert_eq!(o.changed.len(), 1);
    assert_eq!(o.changed[0].user, renamed);
    assert_eq!(o.changed[0].status, MemberStatus::Attend, "only the copy changes");
    assert_eq!(o.group.host, profile(1));
    let host = Profile { nick_name: "boss".into(), ..profile(1) };
    let o = s.refresh_profile(&host, now()).unwrap();
    assert_eq!(o.group.host, host);
    assert_eq!(o.changed[0].user, host);
    assert_eq!(s.refresh_profile(&profile(9), now()), None, "not a member");
}

#[test]
fn a_member_replaces_their_own_recent_notice_only() {
    let s = state(JoinPolicy::Free, 4);
    let s = apply(&s, s.attend(&profile(2), None, 2, now()).unwrap());
    let mut m = s.member(2).unwrap().clone();
    assert_eq!(m.notice_to_replace(now()), None, "nothing to replace yet");
    m.host_notice = Some(HostNotice { id: 77, at: now() });
    assert_eq!(m.notice_to_replace(now() + Duration::seconds(599)), Some(77));
    assert_eq!(m.notice_to_replace(now() + Duration::seconds(600)), None, "the window is 10 minutes");
    assert!(NotificationType::GroupJoin.coalesces() && NotificationType::GroupLeave.coalesces());
    assert!(NotificationType::GroupJoinRequest.coalesces());
    assert!(!NotificationType::GroupJoinApproved.coalesces() && !NotificationType::Follow.coalesces());
}
