//! The ports a function works with, built once per cold start from [`Config`].

use std::sync::Arc;

use moim_store::blob::{Blobs, FsBlobs, S3Blobs};
use moim_store::mail::{Mailer, NoMail, OutboxMailer, SesMailer};
use moim_store::push::{ApiGatewayPush, NoPush, Push};
use moim_store::{DynamoTable, EmbeddedTable, Table};

use crate::auth::Tokens;
use crate::config::{Config, ConfigError, SearchEngine, StoreKind};
use moim_store::search::{EmbeddedSearch, Search};

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
    /// Builds the ports the configuration names. SDK clients are created here,
    /// once; nothing is called over the network.
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
                let client = moim_store::dynamo::client(config.dynamodb_endpoint.as_deref()).await;
                let s3 = moim_store::blob::s3_client(config.s3_endpoint.as_deref()).await;
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

    /// The same context pushing through another engine.
    pub fn with_push(self, push: Arc<dyn Push>) -> AppContext {
        AppContext { push, ..self }
    }

    pub async fn from_env() -> Result<AppContext, ConfigError> {
        Self::from_config(Config::from_env()?).await
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

/// The search engine the configuration names (nothing is called over the network).
pub async fn search_engine(config: &Config) -> Result<Option<Arc<dyn Search>>, ConfigError> {
    Ok(match &config.search {
        SearchEngine::None => None,
        SearchEngine::Embedded => Some(Arc::new(
            EmbeddedSearch::open(config.data_dir.join(SEARCH_FILE)).map_err(|e| ConfigError(e.to_string()))?,
        )),
        SearchEngine::OpenSearch { url, index, region } => {
            Some(Arc::new(moim_store::search::OpenSearch::new(url, index, region).await))
        }
    })
}
