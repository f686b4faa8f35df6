//! Where the AWS SDK clients get their region and credentials.
//!
//! A Lambda function needs neither profiles nor SSO nor instance metadata: the
//! runtime puts the region and the execution role's credentials in the
//! environment. [`from_environment`] reads exactly that and never links
//! `aws-config`'s provider chain (its STS, SSO and IMDS clients are most of a
//! megabyte of a package). [`default_chain`] is the full chain, for moim-local
//! and the tools a developer runs against a real account with a profile.

use aws_credential_types::provider::SharedCredentialsProvider;
use aws_credential_types::Credentials;
use aws_types::region::Region;
use aws_types::sdk_config::SdkConfig;

/// Region and credentials from `AWS_REGION` and `AWS_ACCESS_KEY_ID` /
/// `AWS_SECRET_ACCESS_KEY` / `AWS_SESSION_TOKEN`, read once (they do not change
/// during a Lambda sandbox's life). The HTTP client, retries, timeouts and
/// sleeps are the SDK's defaults, filled in by each client.
pub fn from_environment() -> Result<SdkConfig, String> {
    from_vars(|name| std::env::var(name).ok().filter(|v| !v.is_empty()))
}

fn from_vars(var: impl Fn(&str) -> Option<String>) -> Result<SdkConfig, String> {
    let region = var("AWS_REGION").or_else(|| var("AWS_DEFAULT_REGION")).ok_or("AWS_REGION is not set")?;
    let key = var("AWS_ACCESS_KEY_ID").ok_or("AWS_ACCESS_KEY_ID is not set")?;
    let secret = var("AWS_SECRET_ACCESS_KEY").ok_or("AWS_SECRET_ACCESS_KEY is not set")?;
    let credentials = Credentials::new(key, secret, var("AWS_SESSION_TOKEN"), None, "environment");
    Ok(SdkConfig::builder()
        .behavior_version(aws_sdk_dynamodb::config::BehaviorVersion::latest())
        .region(Region::new(region))
        .credentials_provider(SharedCredentialsProvider::new(credentials))
        .build())
}

/// `aws-config`'s default chain (environment, profiles, SSO, web identity,
/// container and instance metadata).
pub async fn default_chain() -> SdkConfig {
    aws_config::defaults(aws_config::BehaviorVersion::latest()).load().await
}

#[cfg(test)]
mod tests {
    use super::*;
    use aws_credential_types::provider::ProvideCredentials;

    fn vars<'a>(pairs: &'a [(&'a str, &'a str)]) -> impl Fn(&str) -> Option<String> + 'a {
        move |name| pairs.iter().find(|(k, _)| *k == name).map(|(_, v)| v.to_string())
    }

    #[tokio::test]
    async fn reads_the_lambda_environment() {
        let conf = from_vars(vars(&[
            ("AWS_REGION", "ap-northeast-2"),
            ("AWS_ACCESS_KEY_ID", "AKID"),
            ("AWS_SECRET_ACCESS_KEY", "SECRET"),
            ("AWS_SESSION_TOKEN", "TOKEN"),
        ]))
        .unwrap();
        assert_eq!(conf.region().unwrap().as_ref(), "ap-northeast-2");
        let creds = conf.credentials_provider().unwrap().provide_credentials().await.unwrap();
        assert_eq!((creds.access_key_id(), creds.secret_access_key()), ("AKID", "SECRET"));
        assert_eq!(creds.session_token(), Some("TOKEN"));
    }

    #[test]
    fn names_what_is_missing() {
        let missing = |pairs: &[(&str, &str)]| from_vars(vars(pairs)).unwrap_err();
        assert_eq!(missing(&[]), "AWS_REGION is not set");
        assert_eq!(missing(&[("AWS_DEFAULT_REGION", "us-east-1")]), "AWS_ACCESS_KEY_ID is not set");
        assert_eq!(
            missing(&[("AWS_REGION", "us-east-1"), ("AWS_ACCESS_KEY_ID", "A")]),
            "AWS_SECRET_ACCESS_KEY is not set"
        );
    }
}
