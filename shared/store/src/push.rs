//! The push port: sending a frame to one WebSocket connection, and closing one.
//! Production: API Gateway's `@connections` API through
//! `aws-sdk-apigatewaymanagement`. moim-local serves a compatible `@connections`
//! endpoint, so the same engine runs there; its in-process hub is the local engine.

use async_trait::async_trait;

#[derive(Debug, thiserror::Error)]
pub enum PushError {
    /// The connection is gone (410): its records should be deleted.
    #[error("connection gone")]
    Gone,
    #[error("push failed: {0}")]
    Failed(String),
}

#[async_trait]
pub trait Push: Send + Sync {
    /// Sends one text frame to a connection.
    async fn post(&self, connection_id: &str, data: &str) -> Result<(), PushError>;
    /// Closes a connection (a gone one counts as closed).
    async fn close(&self, connection_id: &str) -> Result<(), PushError>;
}

/// For functions deployed without a WebSocket API: every connection is gone.
pub struct NoPush;

#[async_trait]
impl Push for NoPush {
    async fn post(&self, _: &str, _: &str) -> Result<(), PushError> {
        Err(PushError::Gone)
    }
    async fn close(&self, _: &str) -> Result<(), PushError> {
        Ok(())
    }
}

/// API Gateway's management API at `https://{api}.execute-api.{region}.amazonaws.com/{stage}`
/// (or moim-local's base URL).
pub struct ApiGatewayPush {
    client: aws_sdk_apigatewaymanagement::Client,
}

impl ApiGatewayPush {
    /// Built once per container; nothing is called over the network here.
    /// `local` signs with fixed credentials (moim-local does not check them).
    pub async fn new(endpoint: &str, local: bool) -> ApiGatewayPush {
        let sdk = if local {
            crate::aws::fixed_local(crate::aws::LazyHttpsClient::default())
        } else {
            crate::aws::default_chain().await
        };
        Self::from_sdk(&sdk, endpoint)
    }

    /// Over a given SDK configuration (see [`crate::aws`]).
    pub fn from_sdk(sdk: &aws_types::sdk_config::SdkConfig, endpoint: &str) -> ApiGatewayPush {
        let conf = aws_sdk_apigatewaymanagement::config::Builder::from(sdk).endpoint_url(endpoint).build();
        ApiGatewayPush { client: aws_sdk_apigatewaymanagement::Client::from_conf(conf) }
    }
}

type SdkError<E> =
    aws_sdk_apigatewaymanagement::error::SdkError<E, aws_sdk_apigatewaymanagement::config::http::HttpResponse>;

/// 410 GoneException: the connection ended (or never finished $connect).
fn is_gone<E: aws_sdk_apigatewaymanagement::error::ProvideErrorMetadata>(e: &SdkError<E>) -> bool {
    e.as_service_error().and_then(|s| s.code()).is_some_and(|c| c == "GoneException")
        || e.raw_response().is_some_and(|r| r.status().as_u16() == 410)
}

#[async_trait]
impl Push for ApiGatewayPush {
    async fn post(&self, connection_id: &str, data: &str) -> Result<(), PushError> {
        let blob = aws_sdk_apigatewaymanagement::primitives::Blob::new(data.as_bytes());
        match self.client.post_to_connection().connection_id(connection_id).data(blob).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_gone(&e) => Err(PushError::Gone),
            Err(e) => Err(PushError::Failed(aws_sdk_apigatewaymanagement::error::DisplayErrorContext(e).to_string())),
        }
    }

    async fn close(&self, connection_id: &str) -> Result<(), PushError> {
        match self.client.delete_connection().connection_id(connection_id).send().await {
            Ok(_) => Ok(()),
            Err(e) if is_gone(&e) => Ok(()),
            Err(e) => Err(PushError::Failed(aws_sdk_apigatewaymanagement::error::DisplayErrorContext(e).to_string())),
        }
    }
}
