//! The ports a function works with, built once per cold start from [`Config`].

use std::sync::Arc;

use aws_types::sdk_config::SdkConfig;
use moim_store::blob::{Blobs, FsBlobs, S3Blobs, UrlsOnly};
use moim_store::mail::{Mailer, NoMail, OutboxMailer, SesMailer};
use moim_store::push::{ApiGatewayPush, NoPush, Push};
use moim_store::{DynamoTable, EmbeddedTable, Table};

use crate::auth::Tokens;
use crate::config::{Config, ConfigError, SearchEngine, StoreKind};
use crate::ports;
use moim_store::search::{EmbeddedSearch, OpenSearch, Search};

#[derive(Clone)]
pub struct AppContext {
    pub table: Arc<dyn Table>,
    pub blobs: Arc<dyn Blobs>,
    pub config: Arc<Config>,
    pub tokens: Arc<Tokens>,
    /// Live frames to WebSocket connections (API.md §9).
    pub push: Arc<dyn Push>,
    /// Keyword search (`SEARCH_ENGINE`); None = the listing's bounded in-memory filter.
    pub search: Option<Arc<dyn Search>>,
    /// Outgoing mail: the outbox in the data dir under moim-local; SES when
    /// `MAIL_FROM` is set elsewhere; else none.
    pub mailer: Arc<dyn Mailer>,
}

impl AppContext {
    /// Builds every port the configuration names with every engine linked and
    /// the AWS SDK's full credential chain (moim-local, tests and tools).
    pub async fn from_config(config: Config) -> Result<AppContext, ConfigError> {
        let (table, blobs): (Arc<dyn Table>, Arc<dyn Blobs>) = match config.store {
            StoreKind::Embedded => {
                let table = EmbeddedTable::open(config.data_dir.join("moim.sqlite3"))
                    .map_err(|e| ConfigError(e.to_string()))?;
                let blobs = FsBlobs::new(
                    config.data_dir.join("blobs"),
                    config.public_base_url.clone(),
                    config.jwt_secret.clone(),
                );
                (Arc::new(table), Arc::new(blobs))
            }
            StoreKind::DynamoDb => {
                let sdk = moim_store::aws::default_chain().await;
                let client = moim_store::dynamo::client_from(&sdk, config.dynamodb_endpoint.as_deref());
                let s3 = moim_store::blob::s3_client_from(&sdk, config.s3_endpoint.as_deref());
                (
                    Arc::new(DynamoTable::new(client, config.table_name.clone())),
                    Arc::new(S3Blobs::new(s3, config.bucket_name.clone(), config.public_base_url.clone())),
                )
            }
        };
        let push: Arc<dyn Push> = match &config.websocket_endpoint {
            Some(ep) => Arc::new(ApiGatewayPush::new(ep, config.local).await),
            None => Arc::new(NoPush),
        };
        let mailer: Arc<dyn Mailer> = match (&config.mail_from, config.local) {
            (Some(from), false) => Arc::new(
                SesMailer::new(config.ses_endpoint.as_deref(), from.clone(), config.ses_configuration_set.clone())
                    .await,
            ),
            (_, true) => Arc::new(OutboxMailer::new(config.data_dir.join("outbox"))),
            (None, false) => Arc::new(NoMail),
        };
        let search = search_engine(&config).await?;
        Ok(AppContext { mailer, search, ..Self::with_ports(config, table, blobs).with_push(push) })
    }

    /// The context of a Lambda function: the DynamoDB table and the engines
    /// `PORTS` names ([`ports`]), the others empty; region and credentials from
    /// the environment. Synchronous on purpose: an engine behind a constant
    /// `false` is then dead code the linker drops, where an `.await` in an
    /// async builder would keep it reachable from the future's resume points.
    pub fn for_lambda<const PORTS: u8>(config: Config) -> Result<AppContext, ConfigError> {
        if PORTS & ports::LOCAL != 0 || config.store == StoreKind::Embedded {
            return Err(ConfigError("a Lambda function runs on DynamoDB (MOIM_STORE=dynamodb)".into()));
        }
        let sdk = moim_store::aws::from_environment().map_err(ConfigError)?;
        let client = moim_store::dynamo::client_from(&sdk, config.dynamodb_endpoint.as_deref());
        let table: Arc<dyn Table> = Arc::new(DynamoTable::new(client, config.table_name.clone()));
        let blobs: Arc<dyn Blobs> = if PORTS & ports::BLOBS != 0 {
            let s3 = moim_store::blob::s3_client_from(&sdk, config.s3_endpoint.as_deref());
            Arc::new(S3Blobs::new(s3, config.bucket_name.clone(), config.public_base_url.clone()))
        } else {
            Arc::new(UrlsOnly::public_base(&config.public_base_url))
        };
        let push: Arc<dyn Push> = match &config.websocket_endpoint {
            Some(ep) if PORTS & ports::PUSH != 0 => Arc::new(ApiGatewayPush::from_sdk(&sdk, ep)),
            _ => Arc::new(NoPush),
        };
        let mailer: Arc<dyn Mailer> = match &config.mail_from {
            Some(from) if PORTS & ports::MAIL != 0 => Arc::new(SesMailer::from_sdk(
                &sdk,
                config.ses_endpoint.as_deref(),
                from.clone(),
                config.ses_configuration_set.clone(),
            )),
            _ => Arc::new(NoMail),
        };
        let search = if PORTS & ports::SEARCH != 0 { lambda_search_engine(&config, &sdk)? } else { None };
        Ok(AppContext { mailer, search, ..Self::with_ports(config, table, blobs).with_push(push) })
    }

    /// [`AppContext::for_lambda`] from the environment.
    pub fn from_env_for_lambda<const PORTS: u8>() -> Result<AppContext, ConfigError> {
        Self::for_lambda::<PORTS>(Config::from_env()?)
    }

    /// The context a function linking only the engines `PORTS` names would
    /// have: moim-local serves each function through this view of its one
    /// context, so a function that uses a port it does not declare fails its
    /// tests instead of failing in the cloud.
    pub fn limited_to(&self, ports: u8) -> AppContext {
        let mut ctx = self.clone();
        if ports & ports::BLOBS == 0 {
            ctx.blobs = Arc::new(UrlsOnly::of(self.blobs.clone()));
        }
        if ports & ports::PUSH == 0 {
            ctx.push = Arc::new(NoPush);
        }
        if ports & ports::MAIL == 0 {
            ctx.mailer = Arc::new(NoMail);
        }
        if ports & ports::SEARCH == 0 {
            ctx.search = None;
        }
        ctx
    }

    /// The same context pushing through another engine.
    pub fn with_push(self, push: Arc<dyn Push>) -> AppContext {
        AppContext { push, ..self }
    }

    /// A context over given ports (tests wrap the table, e.g. to count calls).
    pub fn with_ports(config: Config, table: Arc<dyn Table>, blobs: Arc<dyn Blobs>) -> AppContext {
        let tokens = Tokens::new(&config.jwt_secret, &config.jwt_issuer);
        let mailer = Arc::new(OutboxMailer::new(config.data_dir.join("outbox")));
        AppContext {
            table,
            blobs,
            tokens: Arc::new(tokens),
            config: Arc::new(config),
            push: Arc::new(NoPush),
            mailer,
            search: None,
        }
    }

    /// The same context answering keyword lists with another search engine.
    pub fn with_search(self, search: Option<Arc<dyn Search>>) -> AppContext {
        AppContext { search, ..self }
    }
}

/// The embedded search index's file in the data dir.
pub const SEARCH_FILE: &str = "search.sqlite3";

/// The search engine the configuration names, any engine, credentials from the
/// default chain (nothing is called over the network).
pub async fn search_engine(config: &Config) -> Result<Option<Arc<dyn Search>>, ConfigError> {
    Ok(match &config.search {
        SearchEngine::None => None,
        SearchEngine::Embedded => Some(Arc::new(
            EmbeddedSearch::open(config.data_dir.join(SEARCH_FILE)).map_err(|e| ConfigError(e.to_string()))?,
        )),
        SearchEngine::OpenSearch { url, index, region } => Some(Arc::new(OpenSearch::new(url, index, region).await)),
    })
}

/// The search engine of a Lambda function: OpenSearch signed with `sdk`'s
/// credentials, or none.
pub fn lambda_search_engine(config: &Config, sdk: &SdkConfig) -> Result<Option<Arc<dyn Search>>, ConfigError> {
    Ok(match &config.search {
        SearchEngine::None => None,
        SearchEngine::Embedded => {
            return Err(ConfigError("SEARCH_ENGINE=embedded runs in moim-local only; use opensearch".into()))
        }
        SearchEngine::OpenSearch { url, index, region } => {
            let credentials = sdk.credentials_provider().ok_or_else(|| ConfigError("no AWS credentials".into()))?;
            Some(Arc::new(OpenSearch::with_provider(url, index, region, credentials)))
        }
    })
}
