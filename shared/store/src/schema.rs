//! The table definition, read from `template.yaml` (the one source of the key
//! schema): used to create the table on DynamoDB Local / a fresh account and to
//! check the embedded engine's index layout against it.

use aws_sdk_dynamodb::types::{
    AttributeDefinition, BillingMode, GlobalSecondaryIndex, KeySchemaElement, KeyType, Projection, ProjectionType,
    ScalarAttributeType, TimeToLiveSpecification,
};
use serde_yaml::Value as Yaml;

use crate::table::StoreError;

/// The template this workspace deploys, compiled in so tools run from anywhere.
pub const TEMPLATE_YAML: &str = include_str!("../../../template.yaml");

#[derive(Debug, Clone, PartialEq)]
pub struct TableDef {
    pub attributes: Vec<(String, String)>,
    pub hash_key: String,
    pub range_key: String,
    /// (index name, hash attribute, range attribute, projection type)
    pub indexes: Vec<(String, String, String, String)>,
    pub ttl_attribute: Option<String>,
}

fn s(v: &Yaml, key: &str) -> Option<String> {
    v.get(key)?.as_str().map(str::to_string)
}

fn key_schema(v: &Yaml) -> Option<(String, String)> {
    let mut hash = None;
    let mut range = None;
    for k in v.as_sequence()? {
        match k.get("KeyType")?.as_str()? {
            "HASH" => hash = s(k, "AttributeName"),
            "RANGE" => range = s(k, "AttributeName"),
            _ => {}
        }
    }
    Some((hash?, range?))
}

impl TableDef {
    /// Reads the first `AWS::DynamoDB::Table` resource of a SAM/CloudFormation template.
    pub fn from_template(yaml: &str) -> Result<TableDef, StoreError> {
        let bad = |what: &str| StoreError::Invalid(format!("template.yaml: {what}"));
        let doc: Yaml = serde_yaml::from_str(yaml).map_err(|e| bad(&e.to_string()))?;
        let resources = doc.get("Resources").and_then(Yaml::as_mapping).ok_or_else(|| bad("no Resources"))?;
        let props = resources
            .values()
            .find(|r| r.get("Type").and_then(Yaml::as_str) == Some("AWS::DynamoDB::Table"))
            .and_then(|r| r.get("Properties"))
            .ok_or_else(|| bad("no AWS::DynamoDB::Table"))?;
        let attributes = props
            .get("AttributeDefinitions")
            .and_then(Yaml::as_sequence)
            .ok_or_else(|| bad("no AttributeDefinitions"))?
            .iter()
            .map(|a| Some((s(a, "AttributeName")?, s(a, "AttributeType")?)))
            .collect::<Option<Vec<_>>>()
            .ok_or_else(|| bad("bad AttributeDefinitions"))?;
        let (hash_key, range_key) = props.get("KeySchema").and_then(key_schema).ok_or_else(|| bad("bad KeySchema"))?;
        let mut indexes = Vec::new();
        for gsi in props.get("GlobalSecondaryIndexes").and_then(Yaml::as_sequence).into_iter().flatten() {
            let name = s(gsi, "IndexName").ok_or_else(|| bad("GSI without IndexName"))?;
            let (h, r) = gsi.get("KeySchema").and_then(key_schema).ok_or_else(|| bad("bad GSI KeySchema"))?;
            let proj = gsi.get("Projection").and_then(|p| s(p, "ProjectionType")).unwrap_or_else(|| "ALL".into());
            indexes.push((name, h, r, proj));
        }
        let ttl_attribute = props
            .get("TimeToLiveSpecification")
            .filter(|t| t.get("Enabled").and_then(Yaml::as_bool) == Some(true))
            .and_then(|t| s(t, "AttributeName"));
        Ok(TableDef { attributes, hash_key, range_key, indexes, ttl_attribute })
    }

    /// The definition of this workspace's `template.yaml`.
    pub fn from_workspace_template() -> Result<TableDef, StoreError> {
        Self::from_template(TEMPLATE_YAML)
    }

    /// Creates the table (on-demand) with its GSIs and TTL; an existing table is left alone.
    pub async fn create(&self, client: &aws_sdk_dynamodb::Client, table_name: &str) -> Result<(), StoreError> {
        let backend = |e: String| StoreError::Backend(e);
        let kse = |name: &str, kt: KeyType| {
            KeySchemaElement::builder().attribute_name(name).key_type(kt).build().map_err(|e| backend(e.to_string()))
        };
        let mut req = client.create_table().table_name(table_name).billing_mode(BillingMode::PayPerRequest);
        for (name, ty) in &self.attributes {
            req = req.attribute_definitions(
                AttributeDefinition::builder()
                    .attribute_name(name)
                    .attribute_type(ScalarAttributeType::from(ty.as_str()))
                    .build()
                    .map_err(|e| backend(e.to_string()))?,
            );
        }
        req = req.key_schema(kse(&self.hash_key, KeyType::Hash)?).key_schema(kse(&self.range_key, KeyType::Range)?);
        for (name, h, r, proj) in &self.indexes {
            req = req.global_secondary_indexes(
                GlobalSecondaryIndex::builder()
                    .index_name(name)
                    .key_schema(kse(h, KeyType::Hash)?)
                    .key_schema(kse(r, KeyType::Range)?)
                    .projection(Projection::builder().projection_type(ProjectionType::from(proj.as_str())).build())
                    .build()
                    .map_err(|e| backend(e.to_string()))?,
            );
        }
        match req.send().await {
            Ok(_) => {}
            Err(e) if e.as_service_error().is_some_and(|s| s.is_resource_in_use_exception()) => return Ok(()),
            Err(e) => return Err(backend(format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&e)))),
        }
        if let Some(attr) = &self.ttl_attribute {
            client
                .update_time_to_live()
                .table_name(table_name)
                .time_to_live_specification(
                    TimeToLiveSpecification::builder()
                        .attribute_name(attr)
                        .enabled(true)
                        .build()
                        .map_err(|e| backend(e.to_string()))?,
                )
                .send()
                .await
                .map_err(|e| backend(format!("{}", aws_sdk_dynamodb::error::DisplayErrorContext(&e))))?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::table::*;

    #[test]
    fn template_table_matches_the_attributes_the_engines_use() {
        let def = TableDef::from_workspace_template().unwrap();
        assert_eq!((def.hash_key.as_str(), def.range_key.as_str()), (PK, SK));
        let idx: Vec<_> = def.indexes.iter().map(|(n, h, r, _)| (n.as_str(), h.as_str(), r.as_str())).collect();
        assert_eq!(idx, vec![("GSI1", GSI1PK, GSI1SK), ("GSI2", GSI2PK, GSI2SK)]);
        for index in [Index::Gsi1, Index::Gsi2] {
            let (h, r) = index.attrs();
            assert!(def
                .indexes
                .iter()
                .any(|(n, hh, rr, p)| Some(n.as_str()) == index.name() && hh == h && rr == r && p == "ALL"));
        }
        assert_eq!(def.ttl_attribute.as_deref(), Some(EXPIRES_AT));
    }

    #[test]
    fn template_without_table_is_rejected() {
        assert!(TableDef::from_template("Resources: {}\n").is_err());
    }
}
