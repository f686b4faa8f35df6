//! Instants on the wire (API.md §1.7): UTC, ISO-8601 without offset or `Z`.
//! Input may also carry `Z` or an offset; it is converted to UTC.

use chrono::{DateTime, NaiveDateTime, SecondsFormat, Utc};

/// Formats an instant as `2026-12-10T10:00:00` (fractions only when present).
pub fn format(t: DateTime<Utc>) -> String {
    // Millisecond precision at most: what clients (JavaScript Date) can hold.
    let precision = if t.timestamp_subsec_millis() == 0 { SecondsFormat::Secs } else { SecondsFormat::Millis };
    let s = t.to_rfc3339_opts(precision, true);
    s.trim_end_matches('Z').to_string()
}

/// Parses `2026-12-10T10:00:00[.fff]`, with or without `Z` / `+09:00`.
pub fn parse(s: &str) -> Option<DateTime<Utc>> {
    let s = s.trim();
    if let Ok(t) = DateTime::parse_from_rfc3339(s) {
        return Some(t.with_timezone(&Utc));
    }
    NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M:%S%.f")
        .or_else(|_| NaiveDateTime::parse_from_str(s, "%Y-%m-%dT%H:%M"))
        .ok()
        .map(|n| n.and_utc())
}

/// Serde adapter for `DateTime<Utc>` in the wire format.
pub mod wire {
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &DateTime<Utc>, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&format(*t))
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<DateTime<Utc>, D::Error> {
        let s = String::deserialize(d)?;
        parse(&s).ok_or_else(|| serde::de::Error::custom("invalid date-time"))
    }
}

/// Serde adapter for `Option<DateTime<Utc>>` in the wire format.
pub mod wire_opt {
    use super::*;
    use serde::{Deserialize, Deserializer, Serializer};

    pub fn serialize<S: Serializer>(t: &Option<DateTime<Utc>>, s: S) -> Result<S::Ok, S::Error> {
        match t {
            Some(t) => s.serialize_str(&format(*t)),
            None => s.serialize_none(),
        }
    }
    pub fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Option<DateTime<Utc>>, D::Error> {
        match Option::<String>::deserialize(d)? {
            Some(s) => parse(&s).map(Some).ok_or_else(|| serde::de::Error::custom("invalid date-time")),
            None => Ok(None),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn formats_without_offset() {
        let t = parse("2026-12-10T10:00:00Z").unwrap();
        assert_eq!(format(t), "2026-12-10T10:00:00");
        let t = parse("2026-12-10T10:00:00.250Z").unwrap();
        assert_eq!(format(t), "2026-12-10T10:00:00.250");
    }

    #[test]
    fn parses_offsets_into_utc() {
        assert_eq!(format(parse("2026-12-10T19:00:00+09:00").unwrap()), "2026-12-10T10:00:00");
        assert_eq!(format(parse("2026-12-10T10:00:00").unwrap()), "2026-12-10T10:00:00");
        assert_eq!(format(parse("2026-12-10T10:00:00.5").unwrap()), "2026-12-10T10:00:00.500");
        assert!(parse("tomorrow").is_none());
        assert!(parse("2026-13-10T10:00:00").is_none());
    }
}
