//! What keyword search indexes and how it matches (API.md §4.3): a document
//! per group with the four searchable fields, the stored status and the end
//! time (a group whose time has passed reads as FINISHED without a write, so
//! engines filter on the effective status at query time).

use serde::{Deserialize, Serialize};

use crate::group::{Group, GroupStatus};

/// Separates the fields in the indexed text: no keyword contains it, so no
/// match can span two fields.
pub const FIELD_SEPARATOR: char = '\u{1f}';

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[serde(rename_all = "camelCase")]
pub struct SearchDoc {
    pub id: i64,
    /// The group's version: an engine keeps the highest it has seen, so
    /// redelivered and reordered changes cannot roll a document back.
    pub version: i64,
    pub status: GroupStatus,
    /// Epoch seconds of the end (or the start, without an end).
    pub ends_at: i64,
    pub title: String,
    pub location: String,
    pub location_detail: Option<String>,
    pub description: String,
}

impl SearchDoc {
    pub fn of(g: &Group) -> SearchDoc {
        SearchDoc {
            id: g.id,
            version: g.version,
            status: g.status,
            ends_at: g.end_time.unwrap_or(g.start_time).timestamp(),
            title: g.title.clone(),
            location: g.location.clone(),
            location_detail: g.location_detail.clone(),
            description: g.description.clone(),
        }
    }

    /// The four fields, lower-cased, control characters as spaces (a keyword
    /// has none), joined by [`FIELD_SEPARATOR`].
    pub fn text(&self) -> String {
        let fields = [Some(&self.title), Some(&self.location), self.location_detail.as_ref(), Some(&self.description)];
        let parts: Vec<String> = fields.into_iter().flatten().map(|f| searchable(f)).collect();
        parts.join(&FIELD_SEPARATOR.to_string())
    }

    /// Whether the document shows under a status set at `now` (its effective status is in it).
    pub fn visible(&self, statuses: &[GroupStatus], now: i64) -> bool {
        statuses.contains(&effective_status(self.status, self.ends_at, now))
    }

    pub fn matches(&self, keyword: &str) -> bool {
        fields_match(
            &[Some(&self.title), Some(&self.location), self.location_detail.as_deref(), Some(&self.description)],
            keyword,
        )
    }
}

/// As [`Group::effective_status`], from the stored status and the end time.
pub fn effective_status(stored: GroupStatus, ends_at: i64, now: i64) -> GroupStatus {
    if ends_at <= now && !stored.is_final() {
        GroupStatus::Finished
    } else {
        stored
    }
}

/// A field as keywords are matched in it: lower-cased, control characters as spaces.
fn searchable(field: &str) -> String {
    field.to_lowercase().chars().map(|c| if c.is_control() { ' ' } else { c }).collect()
}

/// The keyword as matched: trimmed, lower-cased, without control characters
/// (the field separator among them; a NUL would end an engine's query string);
/// None when nothing is left.
pub fn normalize_keyword(keyword: &str) -> Option<String> {
    let k: String = keyword.to_lowercase().chars().filter(|c| !c.is_control()).collect();
    let k = k.trim();
    (!k.is_empty()).then(|| k.to_string())
}

/// The matching rule every engine implements and the list re-checks: the
/// normalised keyword is a substring of one of the fields, lower-cased.
pub fn fields_match(fields: &[Option<&str>], keyword: &str) -> bool {
    normalize_keyword(keyword).is_none_or(|k| fields.iter().flatten().any(|f| searchable(f).contains(&k)))
}

#[cfg(test)]
mod tests {
    use super::*;

    fn doc() -> SearchDoc {
        SearchDoc {
            id: 1,
            version: 1,
            status: GroupStatus::Recruiting,
            ends_at: 100,
            title: "Rust 스터디".into(),
            location: "서울 강남구".into(),
            location_detail: None,
            description: "매주 토요일".into(),
        }
    }

    #[test]
    fn matching_is_a_case_insensitive_substring_of_one_field() {
        let d = doc();
        assert!(d.matches("rust") && d.matches("RUST 스") && d.matches("강") && d.matches("  토요일 "));
        assert!(d.matches(""), "blank = no keyword");
        assert!(!d.matches("디서울"), "no match across two fields");
        assert!(!d.text().contains("rust 스터디\u{1f}\u{1f}"), "an absent field adds nothing");
    }

    #[test]
    fn control_characters_are_not_part_of_a_keyword() {
        assert_eq!(normalize_keyword("ru\0st\u{1f}"), Some("rust".into()));
        assert_eq!(normalize_keyword("\0\r\n\t "), None);
        let d = SearchDoc { description: "매주\n토요일".into(), ..doc() };
        assert!(d.matches("매주 토요일") && d.matches("토\0요일"));
        assert!(fields_match(&[Some("매주\n토요일")], "매주 토요일"), "the re-check agrees with the engines");
    }

    #[test]
    fn a_passed_group_is_finished_unless_final() {
        let d = doc();
        assert!(d.visible(&[GroupStatus::Recruiting], 99));
        assert!(!d.visible(&[GroupStatus::Recruiting], 100));
        assert!(d.visible(&[GroupStatus::Finished], 100));
        let cancelled = SearchDoc { status: GroupStatus::Cancelled, ..doc() };
        assert!(cancelled.visible(&[GroupStatus::Cancelled], 1000));
    }
}
