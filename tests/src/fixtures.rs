//! Small fixtures the black-box tests and the benches share.

use chrono::{Duration, Utc};
use moim_domain::group::{Group, GroupStatus, JoinPolicy, Profile};

/// A RECRUITING group starting in three days, hosted by user 1, version 1,
/// titled `g<id>`: a META item to write straight into a store. Change what a
/// test cares about with struct update syntax (`Group { title, ..group(id) }`).
pub fn group(id: i64) -> Group {
    let now = Utc::now();
    Group {
        id,
        chat_room_id: 10_000_000 + id,
        title: format!("g{id}"),
        location: "서울".into(),
        location_detail: None,
        start_time: now + Duration::days(3),
        end_time: None,
        tags: vec![],
        description: "d".into(),
        max_participants: 8,
        join_policy: JoinPolicy::Free,
        status: GroupStatus::Recruiting,
        host: Profile { user_id: 1, nick_name: "host".into(), profile_image: None, profile_message: None },
        participant_count: 1,
        images: vec![],
        created_at: now,
        updated_at: now,
        version: 1,
    }
}

/// The value after `name=` in a mailed link (base64url characters).
pub fn link_param(text: &str, name: &str) -> String {
    let start = text.find(&format!("{name}=")).unwrap_or_else(|| panic!("no {name}= in {text}")) + name.len() + 1;
    text[start..].chars().take_while(|c| c.is_ascii_alphanumeric() || *c == '-' || *c == '_').collect()
}

/// A query-string value, percent-encoded.
pub fn urlencode(s: &str) -> String {
    form_urlencoded::byte_serialize(s.as_bytes()).collect()
}

/// (CPU model, cores) of this machine, for a report's header.
pub fn machine() -> (String, usize) {
    let cpu = std::fs::read_to_string("/proc/cpuinfo")
        .ok()
        .and_then(|s| {
            s.lines()
                .find_map(|l| l.strip_prefix("model name").map(|v| v.trim_start_matches([' ', '\t', ':']).to_string()))
        })
        .unwrap_or_else(|| "unknown".into());
    (cpu, std::thread::available_parallelism().map(|n| n.get()).unwrap_or(1))
}
