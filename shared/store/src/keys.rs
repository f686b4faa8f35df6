//! Every key of the single-table design, built in one place (see docs/DATA_MODEL.md).
//! Handlers never assemble keys.

use crate::table::Key;
use std::sync::atomic::{AtomicU64, Ordering};

/// Ids sort by time when zero-padded to 16 digits (2^53 has 16).
pub fn pad(id: i64) -> String {
    format!("{id:016}")
}

pub fn user(id: i64) -> Key {
    Key::new(format!("USER#{id}"), "PROFILE")
}
pub fn email(email: &str) -> Key {
    Key::new(format!("EMAIL#{email}"), "EMAIL")
}
pub fn nickname(nick: &str) -> Key {
    Key::new(format!("NICK#{nick}"), "NICK")
}
pub fn session(user_id: i64, jti: &str) -> Key {
    Key::new(format!("USER#{user_id}"), format!("SESSION#{jti}"))
}
pub const SESSION_PREFIX: &str = "SESSION#";
pub fn user_pk(user_id: i64) -> String {
    format!("USER#{user_id}")
}
pub fn follow(follower: i64, followee: i64) -> Key {
    Key::new(format!("FOLLOW#{follower}#{followee}"), "FOLLOW")
}
/// GSI1 partition listing whom a user follows.
pub fn following_gsi(follower: i64) -> String {
    format!("FOLLOWING#{follower}")
}
/// GSI2 partition listing a user's followers.
pub fn followers_gsi(followee: i64) -> String {
    format!("FOLLOWERS#{followee}")
}
pub fn login_failures_pk(email: &str) -> String {
    format!("LOGINFAIL#{email}")
}
pub fn notification(id: i64) -> Key {
    Key::new(format!("NOTI#{id}"), "NOTI")
}
/// GSI1 partition listing a user's notifications, newest first by id.
pub fn notifications_gsi(user_id: i64) -> String {
    format!("NOTIS#{user_id}")
}

/// Epoch of the id clock: 2025-01-01T00:00:00Z in milliseconds.
const ID_EPOCH_MS: i64 = 1_735_689_600_000;
const SEQ_BITS: u32 = 11;

/// Time-ordered ids below 2^53: milliseconds since 2025 (42 bits, good until
/// ~2164) then an 11-bit per-process sequence with a random start. Items created
/// with an id are written with an absent-condition, so a cross-process clash is
/// caught and retried, never merged.
pub fn next_id() -> i64 {
    static SEQ: AtomicU64 = AtomicU64::new(0);
    static INIT: std::sync::Once = std::sync::Once::new();
    INIT.call_once(|| SEQ.store(rand::random::<u64>() & ((1 << SEQ_BITS) - 1), Ordering::Relaxed));
    let ms = chrono::Utc::now().timestamp_millis() - ID_EPOCH_MS;
    let seq = SEQ.fetch_add(1, Ordering::Relaxed) & ((1 << SEQ_BITS) - 1);
    (ms << SEQ_BITS) | seq as i64
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ids_are_safe_in_javascript_and_grow_with_time() {
        let a = next_id();
        std::thread::sleep(std::time::Duration::from_millis(2));
        let b = next_id();
        assert!(b > a);
        assert!(b < (1i64 << 53));
        assert_eq!(pad(b).len(), 16);
    }

    #[test]
    fn ids_in_one_process_do_not_repeat() {
        let ids: std::collections::HashSet<i64> = (0..2000).map(|_| next_id()).collect();
        assert_eq!(ids.len(), 2000);
    }
}
