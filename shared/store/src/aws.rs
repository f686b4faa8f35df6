//! Where the AWS SDK clients get their region and credentials.
//!
//! A Lambda function needs neither profiles nor SSO nor instance metadata: the
//! runtime puts the region and the execution role's credentials in the
//! environment. [`from_environment`] reads exactly that and never links
//! `aws-config`'s provider chain (its STS, SSO and IMDS clients are most of a
//! megabyte of a package). [`default_chain`] is the full chain, for moim-local
//! and the tools a developer runs against a real account with a profile.

use std::sync::{Arc, OnceLock};

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_smithy_http_client::proxy::ProxyConfig;
use aws_smithy_http_client::tls::{rustls_provider::CryptoMode, Provider};
use aws_smithy_http_client::ConnectorBuilder;
use aws_smithy_runtime_api::client::http::{HttpClient, HttpConnectorSettings, SharedHttpClient, SharedHttpConnector};
use aws_smithy_runtime_api::client::runtime_components::RuntimeComponents;
use aws_types::region::Region;
use aws_types::sdk_config::SdkConfig;

/// Region and credentials from `AWS_REGION` and `AWS_ACCESS_KEY_ID` /
/// `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, read once (they do not change
/// during a Lambda sandbox's life), and one [`LazyHttpsClient`] shared by every
/// SDK client built from it. Retries, timeouts and sleeps are the SDK's defaults.
pub fn from_environment() -> Result<SdkConfig, String> {
    from_vars(|name| std::env::var(name).ok().filter(|v| !v.is_empty()), LazyHttpsClient::default())
}

fn from_vars(var: impl Fn(&str) -> Option<String>, http: LazyHttpsClient) -> Result<SdkConfig, String> {
    let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")).ok_or("AWS_REGION is not set")?;
    let key = var("AWS_ACCESS_KEY_ID").ok_or("AWS_ACCESS_KEY_ID is not set")?;
    let secret = var("AWS_SECRET_ACCESS_KEY").ok_or("AWS_SECRET_ACCESS_KEY is not set")?;
    let credentials = Credentials::new(key, secret, var("AWS_SESSION_TOKEN"), None, "environment");
    Ok(fixed(Region::new(region), credentials, http))
}

/// One region, one set of credentials, requests through `http`.
fn fixed(region: Region, credentials: Credentials, http: LazyHttpsClient) -> SdkConfig {
    SdkConfig::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(region)
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .http_client(http)
        .build()
}

/// The SDK's default HTTPS client (hyper, rustls on aws-lc), built on the first
/// request instead of at client construction. The default one builds its TLS
/// connector, and so reads and parses every root certificate of the system,
/// while each SDK client is constructed (`validate_base_client_config`), once per
/// client: at a Lambda's init, where a request that needs no storage (a 401, a
/// validation error) then waits for it too. Shared, its connectors (and their
/// connection pools) are also built once per process instead of once per client.
/// Its connectors are built as the SDK's default ones are (aws-smithy-runtime's
/// `default_https_client`): the connector settings, the sleep, and the proxy
/// from `HTTP_PROXY` / `HTTPS_PROXY` / `NO_PROXY`, as the default honours them.
#[derive(Debug, Default, Clone)]
pub struct LazyHttpsClient {
    inner: Arc<OnceLock<SharedHttpClient>>,
}

impl LazyHttpsClient {
    fn inner(&self) -> &SharedHttpClient {
        self.inner.get_or_init(|| {
            aws_smithy_http_client::Builder::new().build_with_connector_fn(|settings, components| {
                let mut connector = ConnectorBuilder::default().tls_provider(Provider::Rustls(CryptoMode::AwsLc));
                connector.set_connector_settings(settings.cloned());
                if let Some(components) = components {
                    connector.set_sleep_impl(components.sleep_impl());
                }
                connector.set_proxy_config(Some(ProxyConfig::from_env()));
                connector.build()
            })
        })
    }

    /// Whether the TLS client exists yet.
    pub fn is_built(&self) -> bool {
        self.inner.get().is_some()
    }
}

impl HttpClient for LazyHttpsClient {
    fn http_connector(&self, settings: &HttpConnectorSettings, components: &RuntimeComponents) -> SharedHttpConnector {
        self.inner().http_connector(settings, components)
    }
}

/// A fixed region and fixed credentials, for the endpoints moim-local serves
/// itself (it checks no signature), over `http` as the Lambda configuration is.
pub fn fixed_local(http: LazyHttpsClient) -> SdkConfig {
    fixed(Region::new("us-east-1"), Credentials::new("local", "local", None, None, "moim-local"), http)
}

/// `aws-config`'s default chain (environment, profiles, SSO, web identity,
/// container and instance metadata), over a [`LazyHttpsClient`] too.
pub async fn default_chain() -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).http_client(LazyHttpsClient::default()).load().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::provider::ProvideCredentials;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    const LAMBDA_ENV: &[(&str, &str)] = &[
        ("AWS_REGION", "ap-northeast-2"),
        ("AWS_ACCESS_KEY_ID", "AKID"),
        ("AWS_SECRET_ACCESS_KEY", "SECRET"),
        ("AWS_SESSION_TOKEN", "TOKEN"),
    ];

    #[tokio::test]
    async fn reads_the_lambda_environment() {
        let conf = from_vars(vars(LAMBDA_ENV), LazyHttpsClient::default()).unwrap();
        assert_eq!(conf.region().unwrap().as_ref(), "ap-northeast-2");
        let creds = conf.credentials_provider().unwrap().provide_credentials().await.unwrap();
        assert_eq!((creds.access_key_id(), creds.secret_access_key()), ("AKID", "SECRET"));
        assert_eq!(creds.session_token(), Some("TOKEN"));
    }

    // Building clients must not build TLS (the cold start of a request that needs
    // no storage); every client's first request goes through the one shared client.
    #[tokio::test]
    async fn builds_the_https_client_on_the_first_request_only() {
        let http = LazyHttpsClient::default();
        let conf = from_vars(vars(LAMBDA_ENV), http.clone()).unwrap();
        let dynamo = crate::dynamo::client_from(&conf, Some("http://127.0.0.1:9"));
        let _s3 = crate::blob::s3_client_from(&conf, Some("http://127.0.0.1:9"));
        assert!(!http.is_built(), "constructing SDK clients built the HTTPS client");
        let refused = dynamo.list_tables().send().await;
        assert!(refused.is_err(), "nothing listens on port 9");
        assert!(http.is_built(), "the request did not go through the shared client");
    }

    // moim-local's own endpoints too: its push client read every system root
    // certificate at start (4 of the 11 ms of a `moim-local invoke`) until it used this.
    #[tokio::test]
    async fn the_local_push_builds_the_https_client_on_its_first_push_only() {
        use crate::push::Push;
        let http = LazyHttpsClient::default();
        let push = crate::push::ApiGatewayPush::from_sdk(&fixed_local(http.clone()), "http://127.0.0.1:9");
        assert!(!http.is_built(), "constructing the push client built the HTTPS client");
        assert!(push.post("c1", "frame").await.is_err(), "nothing listens on port 9");
        assert!(http.is_built(), "the push did not go through the shared client");
    }

    // As the SDK's default client: HTTP_PROXY routes a plain-HTTP endpoint through
    // the proxy (a request line with the absolute URI), e.g. behind a corporate proxy.
    #[tokio::test]
    async fn honours_the_proxy_of_the_environment() {
        use tokio::io::{AsyncBufReadExt, BufReader};
        let proxy = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = proxy.local_addr().unwrap();
        let seen = tokio::spawn(async move {
            let (socket, _) = proxy.accept().await.unwrap();
            let mut line = String::new();
            BufReader::new(socket).read_line(&mut line).await.unwrap();
            line
        });
        // Edition 2021: safe; nextest runs each test in its own process.
        std::env::set_var("HTTP_PROXY", format!("http://{addr}"));
        let http = LazyHttpsClient::default();
        let conf = from_vars(vars(LAMBDA_ENV), http).unwrap();
        let dynamo = crate::dynamo::client_from(&conf, Some("http://dynamodb.moim-proxy-test.invalid:8000"));
        let call = tokio::spawn(async move { dynamo.list_tables().send().await });
        let line = tokio::time::timeout(std::time::Duration::from_secs(20), seen).await;
        std::env::remove_var("HTTP_PROXY");
        call.abort();
        let line = line.expect("no connection reached the proxy").unwrap();
        assert!(line.starts_with("POST http://dynamodb.moim-proxy-test.invalid:8000/"), "request line: {line:?}");
    }

    #[test]
    fn names_what_is_missing() {
        let missing = |pairs: &[(&str, &str)]| from_vars(vars(pairs), LazyHttpsClient::default()).unwrap_err();
        assert_eq!(missing(&[]), "AWS_REGION is not set");
        assert_eq!(missing(&[("AWS_DEFAULT_REGION", "us-east-1")]), "AWS_ACCESS_KEY_ID is not set");
        assert_eq!(
            missing(&[("AWS_REGION", "us-east-1"), ("AWS_ACCESS_KEY_ID", "A")]),
            "AWS_SECRET_ACCESS_KEY is not set"
        );
    }
}
