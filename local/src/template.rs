//! Reads the functions and their HTTP API routes from template.yaml, the single
//! source of truth for routing (the same file `sam deploy` uses).

use serde_yaml::Value as Yaml;

/// One `AWS::Serverless::Function` with its binary and route keys.
#[derive(Debug, Clone, PartialEq)]
pub struct Function {
    pub logical_id: String,
    /// `Metadata.BuildProperties.Binary` (the cargo-lambda binary name).
    pub binary: String,
    /// Route keys such as `GET /api/v1/users/{userId}`, or `$default`.
    pub routes: Vec<String>,
    /// Key prefixes of its S3 ObjectCreated triggers (`""` = every key).
    pub s3_prefixes: Vec<String>,
    /// Its Schedule expressions, e.g. `rate(1 hour)`.
    pub schedules: Vec<String>,
    /// The streams it reads (`DynamoDB` events: the `Stream` expression); moim-local
    /// feeds such a function from its in-process change feed.
    pub streams: Vec<String>,
    /// `Metadata.LocalPath`: where moim-local serves a streaming function URL.
    pub local_path: Option<String>,
}

/// The `prefix` rule of an S3 event's key filter, or "" without one.
fn s3_prefix(props: Option<&Yaml>) -> String {
    let rules = props.and_then(|p| p.get("Filter")).and_then(|f| f.get("S3Key")).and_then(|k| k.get("Rules"));
    rules
        .and_then(Yaml::as_sequence)
        .into_iter()
        .flatten()
        .find(|r| r.get("Name").and_then(Yaml::as_str) == Some("prefix"))
        .and_then(|r| r.get("Value").and_then(Yaml::as_str))
        .unwrap_or_default()
        .to_string()
}

pub fn functions(yaml: &str) -> Result<Vec<Function>, String> {
    let doc: Yaml = serde_yaml::from_str(yaml).map_err(|e| format!("template.yaml: {e}"))?;
    let resources = doc.get("Resources").and_then(Yaml::as_mapping).ok_or("template.yaml: no Resources")?;
    let mut out = Vec::new();
    for (id, res) in resources {
        if res.get("Type").and_then(Yaml::as_str) != Some("AWS::Serverless::Function") {
            continue;
        }
        let logical_id = id.as_str().unwrap_or_default().to_string();
        let binary = res
            .get("Metadata")
            .and_then(|m| m.get("BuildProperties"))
            .and_then(|b| b.get("Binary"))
            .and_then(Yaml::as_str)
            .ok_or_else(|| format!("{logical_id}: no Metadata.BuildProperties.Binary"))?
            .to_string();
        let (mut routes, mut s3_prefixes, mut schedules, mut streams) =
            (Vec::new(), Vec::new(), Vec::new(), Vec::new());
        let events = res.get("Properties").and_then(|p| p.get("Events")).and_then(Yaml::as_mapping);
        for (_, ev) in events.into_iter().flatten() {
            let props = ev.get("Properties");
            match ev.get("Type").and_then(Yaml::as_str) {
                Some("HttpApi") => {}
                Some("S3") => {
                    s3_prefixes.push(s3_prefix(props));
                    continue;
                }
                Some("DynamoDB") => {
                    let stream = props.and_then(|p| p.get("Stream"));
                    streams.push(stream.map(|s| format!("{s:?}")).unwrap_or_default());
                    continue;
                }
                Some("Schedule") => {
                    let expr = props.and_then(|p| p.get("Schedule")).and_then(Yaml::as_str).unwrap_or_default();
                    schedules.push(expr.to_string());
                    continue;
                }
                _ => continue,
            }
            let path = props.and_then(|p| p.get("Path")).and_then(Yaml::as_str);
            let method = props.and_then(|p| p.get("Method")).and_then(Yaml::as_str);
            match (method, path) {
                (Some(m), Some(p)) => routes.push(format!("{} {p}", m.to_uppercase())),
                (None, None) => routes.push(moim_web::routes::DEFAULT_ROUTE.to_string()),
                _ => return Err(format!("{logical_id}: an HttpApi event needs both Path and Method, or neither")),
            }
        }
        let local_path =
            res.get("Metadata").and_then(|m| m.get("LocalPath")).and_then(Yaml::as_str).map(str::to_string);
        out.push(Function { logical_id, binary, routes, s3_prefixes, schedules, streams, local_path });
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn reads_functions_binaries_and_routes() {
        let yaml = r#"
Resources:
  T: { Type: AWS::DynamoDB::Table }
  F:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: f } }
    Properties:
      Events:
        A: { Type: HttpApi, Properties: { ApiId: !Ref Api, Path: "/x/{id}", Method: get } }
        D: { Type: HttpApi, Properties: { ApiId: !Ref Api } }
  P:
    Type: AWS::Serverless::Function
    Metadata: { BuildProperties: { Binary: p } }
    Properties:
      Events:
        S:
          Type: S3
          Properties:
            Bucket: !Ref B
            Events: s3:ObjectCreated:*
            Filter: { S3Key: { Rules: [ { Name: prefix, Value: incoming/ } ] } }
        H: { Type: Schedule, Properties: { Schedule: rate(1 hour) } }
"#;
        let f = functions(yaml).unwrap();
        assert_eq!(
            f,
            vec![
                Function {
                    logical_id: "F".into(),
                    binary: "f".into(),
                    routes: vec!["GET /x/{id}".into(), "$default".into()],
                    s3_prefixes: vec![],
                    streams: vec![],
                    schedules: vec![],
                    local_path: None,
                },
                Function {
                    logical_id: "P".into(),
                    binary: "p".into(),
                    routes: vec![],
                    s3_prefixes: vec!["incoming/".into()],
                    schedules: vec!["rate(1 hour)".into()],
                    streams: vec![],
                    local_path: None,
                }
            ]
        );
    }
}
