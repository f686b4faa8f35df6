//! Counted limits that hold under parallel requests: a window of N slot items
//! under one partition, each taken with a conditional put that only a free
//! slot (absent, or older than the window) accepts. N concurrent winners at
//! most, whatever the interleaving; no read-then-write race. Expired slots are
//! hidden by both engines and removed by DynamoDB's TTL.

use serde_json::json;

use crate::table::*;
use crate::users::to_item;

/// One limit: at most `slots` events per `window_secs` for the partition `pk`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlotWindow {
    pub pk: String,
    pub slots: usize,
    pub window_secs: i64,
}

impl SlotWindow {
    pub fn new(pk: impl Into<String>, slots: usize, window_secs: i64) -> SlotWindow {
        SlotWindow { pk: pk.into(), slots, window_secs }
    }

    pub fn slot_key(&self, n: usize) -> Key {
        Key::new(self.pk.clone(), format!("SLOT#{n:02}"))
    }

    /// The slots taken within the window: (slot number, when it was taken).
    pub async fn taken(&self, t: &dyn Table) -> Result<Vec<(usize, i64)>, StoreError> {
        let page = t.query(Query::table(self.pk.clone()).sk(SkCond::BeginsWith("SLOT#".into())).limit(100)).await?;
        Ok(page
            .items
            .iter()
            .filter_map(|i| {
                let n = i.get(SK)?.as_str()?.strip_prefix("SLOT#")?.parse().ok()?;
                Some((n, i.get("at")?.as_i64()?))
            })
            .collect())
    }

    /// The first slot not in `taken`, if any.
    pub fn free_slot(&self, taken: &[(usize, i64)]) -> Option<usize> {
        (0..self.slots).find(|n| !taken.iter().any(|(t, _)| t == n))
    }

    /// Takes slot `n` at `now`: only if it is free (absent or past its window).
    pub fn reserve(&self, n: usize, now: i64) -> WriteOp {
        let item = to_item(&self.slot_key(n), &json!({ "at": now, EXPIRES_AT: now + self.window_secs }));
        WriteOp::put(item).when(Cond::AbsentOrExpired { now })
    }

    /// Gives every slot back (e.g. a successful login resets the failure count).
    pub fn clear(&self) -> Vec<WriteOp> {
        (0..self.slots).map(|n| WriteOp::delete(self.slot_key(n))).collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn slots_are_numbered_and_the_first_free_one_is_taken() {
        let w = SlotWindow::new("LIMIT#x", 3, 60);
        assert_eq!(w.slot_key(2).sk, "SLOT#02");
        assert_eq!(w.free_slot(&[(0, 1), (2, 1)]), Some(1));
        assert_eq!(w.free_slot(&[(0, 1), (1, 1), (2, 1)]), None);
        match w.reserve(1, 100) {
            WriteOp::Put { item, conds } => {
                assert_eq!(item["expiresAt"], 160);
                assert_eq!(conds, vec![Cond::AbsentOrExpired { now: 100 }]);
            }
            other => panic!("{other:?}"),
        }
        assert_eq!(w.clear().len(), 3);
    }
}
