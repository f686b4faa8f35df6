//! DynamoDB engine (production): aws-sdk-dynamodb, items mapped with serde_dynamo.
//!
//! Every write is one TransactWriteItems; reads of the base table are strongly
//! consistent. Expired items (TTL deletes lazily) are filtered out client-side so
//! the engine shows exactly what the embedded one shows.

use std::collections::HashMap;

use async_trait::async_trait;
use aws_sdk_dynamodb::error::{ProvideErrorMetadata, SdkError};
use aws_sdk_dynamodb::operation::transact_write_items::TransactWriteItemsError;
use aws_sdk_dynamodb::types::{AttributeValue, ConditionCheck, Delete, Put, TransactWriteItem, Update as DdbUpdate};
use aws_sdk_dynamodb::Client;
use serde_json::Value;

use crate::table::*;

#[derive(Clone)]
pub struct DynamoTable {
    client: Client,
    table: String,
}

type Attrs = HashMap<String, AttributeValue>;

fn backend(e: impl std::fmt::Display) -> StoreError {
    StoreError::Backend(e.to_string())
}

/// Builds a client from the environment; `endpoint` points it at DynamoDB Local.
pub async fn client(endpoint: Option<&str>) -> Client {
    client_from(&crate::aws::default_chain().await, endpoint)
}

/// A client over a given SDK configuration (see [`crate::aws`]).
pub fn client_from(sdk: &aws_types::sdk_config::SdkConfig, endpoint: Option<&str>) -> Client {
    let mut conf = aws_sdk_dynamodb::config::Builder::from(sdk);
    if let Some(ep) = endpoint {
        conf = conf.endpoint_url(ep);
    }
    Client::from_conf(conf.build())
}

fn to_attrs(item: &Item) -> Result<Attrs, StoreError> {
    serde_dynamo::to_item(Value::Object(item.clone())).map_err(backend)
}

fn from_attrs(attrs: Attrs) -> Result<Item, StoreError> {
    serde_dynamo::from_item(attrs).map_err(backend)
}

fn av(v: &Value) -> Result<AttributeValue, StoreError> {
    serde_dynamo::to_attribute_value(v.clone()).map_err(backend)
}

fn key_attrs(key: &Key) -> Attrs {
    HashMap::from([
        (PK.to_string(), AttributeValue::S(key.pk.clone())),
        (SK.to_string(), AttributeValue::S(key.sk.clone())),
    ])
}

/// Collects `#n` names and `:v` values while an expression is written.
#[derive(Default)]
struct Expr {
    names: HashMap<String, String>,
    values: Attrs,
}

impl Expr {
    fn name(&mut self, attr: &str) -> String {
        if let Some((k, _)) = self.names.iter().find(|(_, v)| v.as_str() == attr) {
            return k.clone();
        }
        let k = format!("#n{}", self.names.len());
        self.names.insert(k.clone(), attr.to_string());
        k
    }
    fn value(&mut self, v: AttributeValue) -> String {
        let k = format!(":v{}", self.values.len());
        self.values.insert(k.clone(), v);
        k
    }
    fn cond(&mut self, conds: &[Cond]) -> Result<Option<String>, StoreError> {
        let mut parts = Vec::new();
        for c in conds {
            let part = match c {
                Cond::Absent => format!("attribute_not_exists({})", self.name(PK)),
                Cond::Exists => format!("attribute_exists({})", self.name(PK)),
                Cond::Equals(a, v) => {
                    let v = av(v)?;
                    format!("{} = {}", self.name(a), self.value(v))
                }
                Cond::LessThan(a, n) => format!("{} < {}", self.name(a), self.value(AttributeValue::N(n.to_string()))),
                Cond::GreaterThan(a, n) => {
                    format!("{} > {}", self.name(a), self.value(AttributeValue::N(n.to_string())))
                }
                Cond::AttrAbsent(a) => format!("attribute_not_exists({})", self.name(a)),
                Cond::AbsentOrExpired { now } => format!(
                    "(attribute_not_exists({}) OR {} <= {})",
                    self.name(PK),
                    self.name(EXPIRES_AT),
                    self.value(AttributeValue::N(now.to_string()))
                ),
            };
            parts.push(part);
        }
        Ok((!parts.is_empty()).then(|| parts.join(" AND ")))
    }
    fn names(&self) -> Option<HashMap<String, String>> {
        (!self.names.is_empty()).then(|| self.names.clone())
    }
    fn values(&self) -> Option<Attrs> {
        (!self.values.is_empty()).then(|| self.values.clone())
    }
}

impl DynamoTable {
    pub fn new(client: Client, table: impl Into<String>) -> Self {
        DynamoTable { client, table: table.into() }
    }

    fn write_item(&self, op: &WriteOp) -> Result<TransactWriteItem, StoreError> {
        let mut e = Expr::default();
        let cond = e.cond(op.conds())?;
        let item = match op {
            WriteOp::Put { item, .. } => TransactWriteItem::builder().put(
                Put::builder()
                    .table_name(&self.table)
                    .set_item(Some(to_attrs(item)?))
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .build()
                    .map_err(backend)?,
            ),
            WriteOp::Update { key, update, .. } => {
                let mut clauses = Vec::new();
                if !update.set.is_empty() {
                    let mut sets = Vec::new();
                    for (a, v) in &update.set {
                        let v = av(v)?;
                        sets.push(format!("{} = {}", e.name(a), e.value(v)));
                    }
                    clauses.push(format!("SET {}", sets.join(", ")));
                }
                if !update.add.is_empty() {
                    let adds: Vec<String> = update
                        .add
                        .iter()
                        .map(|(a, n)| format!("{} {}", e.name(a), e.value(AttributeValue::N(n.to_string()))))
                        .collect();
                    clauses.push(format!("ADD {}", adds.join(", ")));
                }
                if !update.remove.is_empty() {
                    let rems: Vec<String> = update.remove.iter().map(|a| e.name(a)).collect();
                    clauses.push(format!("REMOVE {}", rems.join(", ")));
                }
                if clauses.is_empty() {
                    // Nothing to change: an update that only asserts its conditions.
                    return self.write_item(&WriteOp::Check { key: key.clone(), conds: op.conds().to_vec() });
                }
                TransactWriteItem::builder().update(
                    DdbUpdate::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_attrs(key)))
                        .update_expression(clauses.join(" "))
                        .set_condition_expression(cond)
                        .set_expression_attribute_names(e.names())
                        .set_expression_attribute_values(e.values())
                        .build()
                        .map_err(backend)?,
                )
            }
            WriteOp::Delete { key, .. } => TransactWriteItem::builder().delete(
                Delete::builder()
                    .table_name(&self.table)
                    .set_key(Some(key_attrs(key)))
                    .set_condition_expression(cond)
                    .set_expression_attribute_names(e.names())
                    .set_expression_attribute_values(e.values())
                    .build()
                    .map_err(backend)?,
            ),
            WriteOp::Check { key, .. } => {
                let cond = cond.unwrap_or_else(|| format!("attribute_exists({})", e.name(PK)));
                TransactWriteItem::builder().condition_check(
                    ConditionCheck::builder()
                        .table_name(&self.table)
                        .set_key(Some(key_attrs(key)))
                        .condition_expression(cond)
                        .set_expression_attribute_names(e.names())
                        .set_expression_attribute_values(e.values())
                        .build()
                        .map_err(backend)?,
                )
            }
        };
        Ok(item.build())
    }
}

fn map_sdk_error<E, R>(err: SdkError<E, R>) -> StoreError
where
    E: ProvideErrorMetadata + std::error::Error + Send + Sync + 'static,
    R: std::fmt::Debug,
{
    let code = err.code().map(str::to_string);
    match code.as_deref() {
        Some("ProvisionedThroughputExceededException" | "ThrottlingException" | "RequestLimitExceeded") => {
            StoreError::Throttled
        }
        Some("ValidationException") => StoreError::Invalid(err.message().unwrap_or_default().to_string()),
        _ => StoreError::Backend(format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&err))),
    }
}

#[async_trait]
impl Table for DynamoTable {
    async fn get(&self, key: &Key) -> Result<Option<Item>, StoreError> {
        let out = self
            .client
            .get_item()
            .table_name(&self.table)
            .set_key(Some(key_attrs(key)))
            .consistent_read(true)
            .send()
            .await
            .map_err(map_sdk_error)?;
        let now = now_epoch();
        match out.item {
            Some(attrs) => {
                let item = from_attrs(attrs)?;
                Ok((!is_expired(&item, now)).then_some(item))
            }
            None => Ok(None),
        }
    }

    async fn query(&self, query: Query) -> Result<Page, StoreError> {
        let mut e = Expr::default();
        let (pa, sa) = query.index.attrs();
        let mut kc = format!("{} = {}", e.name(pa), e.value(AttributeValue::S(query.pk.clone())));
        match &query.sk {
            None => {}
            Some(SkCond::Eq(v)) => kc += &format!(" AND {} = {}", e.name(sa), e.value(AttributeValue::S(v.clone()))),
            Some(SkCond::BeginsWith(p)) => {
                kc += &format!(" AND begins_with({}, {})", e.name(sa), e.value(AttributeValue::S(p.clone())))
            }
            Some(SkCond::Between(lo, hi)) => {
                let lo = e.value(AttributeValue::S(lo.clone()));
                let hi = e.value(AttributeValue::S(hi.clone()));
                kc += &format!(" AND {} BETWEEN {lo} AND {hi}", e.name(sa));
            }
        }
        let mut start: Option<Attrs> = match &query.cursor {
            Some(c) => {
                let m = decode_cursor(query.index, c)?;
                if m.get(pa).and_then(Value::as_str) != Some(query.pk.as_str()) {
                    return Err(StoreError::Invalid("cursor from another query".into()));
                }
                Some(to_attrs(&m)?)
            }
            None => None,
        };
        // Read one item past the page so the cursor is set only when more follow.
        let want = query.limit + 1;
        let now = now_epoch();
        let mut items: Vec<Item> = Vec::with_capacity(want);
        loop {
            let out = self
                .client
                .query()
                .table_name(&self.table)
                .set_index_name(query.index.name().map(str::to_string))
                .key_condition_expression(&kc)
                .set_expression_attribute_names(e.names())
                .set_expression_attribute_values(e.values())
                .scan_index_forward(query.forward)
                .consistent_read(query.index == Index::Table)
                .limit((want - items.len()) as i32)
                .set_exclusive_start_key(start.take())
                .send()
                .await
                .map_err(map_sdk_error)?;
            for attrs in out.items.unwrap_or_default() {
                let item = from_attrs(attrs)?;
                if !is_expired(&item, now) {
                    items.push(item);
                }
            }
            match out.last_evaluated_key {
                Some(lek) if items.len() < want => start = Some(lek),
                _ => break,
            }
        }
        let cursor = if items.len() > query.limit {
            items.truncate(query.limit);
            items.last().map(|i| encode_cursor(query.index, i))
        } else {
            None
        };
        Ok(Page { items, cursor })
    }

    async fn transact(&self, ops: Vec<WriteOp>) -> Result<(), StoreError> {
        validate_transact(&ops)?;
        let items = ops.iter().map(|op| self.write_item(op)).collect::<Result<Vec<_>, _>>()?;
        match self.client.transact_write_items().set_transact_items(Some(items)).send().await {
            Ok(_) => Ok(()),
            Err(err) => {
                if let Some(TransactWriteItemsError::TransactionCanceledException(c)) = err.as_service_error() {
                    let reasons = c.cancellation_reasons();
                    if let Some(index) = reasons.iter().position(|r| r.code() == Some("ConditionalCheckFailed")) {
                        return Err(StoreError::ConditionFailed { index });
                    }
                    if reasons.iter().any(|r| r.code() == Some("TransactionConflict")) {
                        return Err(StoreError::Conflict);
                    }
                    if reasons
                        .iter()
                        .any(|r| matches!(r.code(), Some("ThrottlingError" | "ProvisionedThroughputExceeded")))
                    {
                        return Err(StoreError::Throttled);
                    }
                }
                Err(map_sdk_error(err))
            }
        }
    }
}
