//! The change feed port: work that follows a commit but need not block it
//! (indexing a group for search today; profile copies, large fan-outs and
//! pushes can move here) reads records of changed items. Production: DynamoDB
//! Streams (NEW_AND_OLD_IMAGES) into a Lambda, parsed by [`from_stream_event`].
//! moim-local: [`FeedTable`], a table layer that emits the same records after
//! each commit. Consumers are idempotent (redelivery, reordering) and report
//! the records they could not handle (Lambda: partial batch failures, then the
//! dead-letter queue).

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::Arc;

use async_trait::async_trait;
use serde_json::{Map, Value};

use crate::table::*;

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ChangeKind {
    Insert,
    Modify,
    Remove,
}

/// One changed item.
#[derive(Debug, Clone, PartialEq)]
pub struct ChangeRecord {
    /// The stream's sequence number (what a partial batch failure names).
    pub id: String,
    pub kind: ChangeKind,
    pub key: Key,
    pub new_image: Option<Item>,
    pub old_image: Option<Item>,
}

#[async_trait]
pub trait ChangeConsumer: Send + Sync {
    /// Whether this item's changes interest the consumer (moim-local emits
    /// only those; the template's event filter does the same on AWS).
    fn wants(&self, key: &Key) -> bool;
    /// Handles records in order; returns the ids of those that failed.
    async fn consume(&self, records: &[ChangeRecord]) -> Vec<String>;
}

/// A DynamoDB Streams event (as Lambda receives it) → records. A record that
/// cannot be read is returned as an error with its sequence number, so the
/// caller can fail just that one.
pub fn from_stream_event(event: &Value) -> Vec<Result<ChangeRecord, (String, String)>> {
    let records = event.get("Records").and_then(Value::as_array).cloned().unwrap_or_default();
    records.iter().map(parse_record).collect()
}

fn parse_record(r: &Value) -> Result<ChangeRecord, (String, String)> {
    let ddb = r.get("dynamodb").cloned().unwrap_or(Value::Null);
    let id = ddb
        .get("SequenceNumber")
        .and_then(Value::as_str)
        .or_else(|| r.get("eventID").and_then(Value::as_str))
        .unwrap_or_default()
        .to_string();
    let fail = |why: &str| (id.clone(), why.to_string());
    let kind = match r.get("eventName").and_then(Value::as_str) {
        Some("INSERT") => ChangeKind::Insert,
        Some("MODIFY") => ChangeKind::Modify,
        Some("REMOVE") => ChangeKind::Remove,
        other => return Err(fail(&format!("unknown eventName {other:?}"))),
    };
    let image = |name: &str| ddb.get(name).map(attribute_map).transpose();
    let keys = attribute_map(ddb.get("Keys").ok_or_else(|| fail("no Keys"))?).map_err(|e| fail(&e))?;
    let key = Key::of(&keys).ok_or_else(|| fail("Keys without PK/SK"))?;
    Ok(ChangeRecord {
        id: id.clone(),
        kind,
        key,
        new_image: image("NewImage").map_err(|e| fail(&e))?,
        old_image: image("OldImage").map_err(|e| fail(&e))?,
    })
}

/// `{"attr": {"S": "x"}, …}` (DynamoDB JSON) → a plain item.
fn attribute_map(v: &Value) -> Result<Item, String> {
    let obj = v.as_object().ok_or("an image is not an object")?;
    obj.iter().map(|(k, a)| Ok((k.clone(), attribute(a)?))).collect()
}

fn attribute(a: &Value) -> Result<Value, String> {
    let obj = a.as_object().filter(|o| o.len() == 1).ok_or_else(|| format!("not an attribute value: {a}"))?;
    let (tag, v) = obj.iter().next().ok_or("empty attribute")?;
    Ok(match tag.as_str() {
        "S" => v.clone(),
        "N" => {
            let n = v.as_str().ok_or("N is not a string")?;
            match n.parse::<i64>() {
                Ok(i) => Value::from(i),
                Err(_) => n.parse::<f64>().map(Value::from).map_err(|_| format!("bad number {n}"))?,
            }
        }
        "BOOL" => Value::Bool(v.as_bool().ok_or("BOOL is not a bool")?),
        "NULL" => Value::Null,
        "M" => Value::Object(attribute_map(v)?.into_iter().collect::<Map<_, _>>()),
        "L" => Value::Array(v.as_array().ok_or("L is not a list")?.iter().map(attribute).collect::<Result<_, _>>()?),
        "SS" => v.clone(),
        "NS" => Value::Array(
            v.as_array()
                .ok_or("NS is not a list")?
                .iter()
                .map(|n| n.as_str().and_then(|s| s.parse::<f64>().ok()).map(Value::from).ok_or("bad NS"))
                .collect::<Result<_, _>>()?,
        ),
        other => return Err(format!("unsupported attribute type {other}")),
    })
}

/// moim-local's change feed: after each successful transact, the items it
/// wrote that a consumer wants are read back and handed to the consumers
/// before the call returns (so a write is searchable when it is answered).
/// Concurrent writers may emit out of order or read a newer image than they
/// wrote; consumers keep the highest version, as with a redelivered stream.
pub struct FeedTable {
    inner: Arc<dyn Table>,
    consumers: Vec<Arc<dyn ChangeConsumer>>,
    sequence: AtomicU64,
}

impl FeedTable {
    pub fn new(inner: Arc<dyn Table>, consumers: Vec<Arc<dyn ChangeConsumer>>) -> FeedTable {
        FeedTable { inner, consumers, sequence: AtomicU64::new(0) }
    }
}

#[async_trait]
impl Table for FeedTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        self.inner.get(key).await
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        self.inner.query(query).await
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        let watched: Vec<(Key, bool)> = ops
            .iter()
            .filter_map(|op| {
                let key = op.key()?;
                let delete = matches!(op, WriteOp::Delete { .. });
                self.consumers.iter().any(|c| c.wants(&key)).then_some((key, delete))
            })
            .collect();
        // A delete's record carries the image it removed: read it first.
        let mut before = Vec::new();
        for (key, delete) in &watched {
            before.push(if *delete { self.inner.get(key).await? } else { None });
        }
        self.inner.transact(ops).await?;
        let mut records = Vec::new();
        for ((key, delete), old) in watched.into_iter().zip(before) {
            let id = format!("{:020}", self.sequence.fetch_add(1, Ordering::Relaxed));
            let record = if delete {
                match old {
                    Some(old) => {
                        ChangeRecord { id, kind: ChangeKind::Remove, key, new_image: None, old_image: Some(old) }
                    }
                    None => continue,
                }
            } else {
                match self.inner.get(&key).await? {
                    Some(new) => {
                        ChangeRecord { id, kind: ChangeKind::Modify, key, new_image: Some(new), old_image: None }
                    }
                    None => continue,
                }
            };
            records.push(record);
        }
        for consumer in &self.consumers {
            let mine: Vec<ChangeRecord> = records.iter().filter(|r| consumer.wants(&r.key)).cloned().collect();
            if mine.is_empty() {
                continue;
            }
            let failed = consumer.consume(&mine).await;
            if !failed.is_empty() {
                // Locally there is no dead-letter queue: the log is where a failure shows.
                tracing::error!(records = ?failed, "change feed consumer failed");
            }
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn stream_records_become_plain_items() {
        let event = json!({"Records": [
            {"eventID": "e1", "eventName": "MODIFY", "dynamodb": {
                "Keys": {"PK": {"S": "GROUP#1"}, "SK": {"S": "META"}},
                "NewImage": {"PK": {"S": "GROUP#1"}, "SK": {"S": "META"}, "version": {"N": "3"}, "ratio": {"N": "0.5"},
                    "title": {"S": "자바"}, "tags": {"L": [{"S": "a"}]}, "host": {"M": {"userId": {"N": "7"}}},
                    "endTime": {"NULL": true}, "ok": {"BOOL": true}},
                "SequenceNumber": "111"}},
            {"eventID": "e2", "eventName": "REMOVE", "dynamodb": {"Keys": {"PK": {"S": "GROUP#2"}}, "SequenceNumber": "222"}},
            {"eventID": "e3", "eventName": "INSERT", "dynamodb": {"Keys": {"PK": {"S": "X"}, "SK": {"S": "Y"}},
                "NewImage": {"bad": {"Q": "1"}}, "SequenceNumber": "333"}}
        ]});
        let out = from_stream_event(&event);
        let first = out[0].as_ref().unwrap();
        assert_eq!((first.id.as_str(), first.kind, first.key.pk.as_str()), ("111", ChangeKind::Modify, "GROUP#1"));
        let img = first.new_image.as_ref().unwrap();
        assert_eq!(img["version"], 3);
        assert_eq!(img["ratio"], 0.5);
        assert_eq!(img["tags"], json!(["a"]));
        assert_eq!(img["host"]["userId"], 7);
        assert_eq!(img["endTime"], Value::Null);
        assert_eq!(out[1].as_ref().unwrap_err().0, "222", "keys without SK: that record fails, by its sequence number");
        assert_eq!(out[2].as_ref().unwrap_err().0, "333");
    }
}
