//! Typed configuration from environment variables, read once per cold start.
//! Local defaults just work; a Lambda must be given its table, bucket and secret.

use std::path::PathBuf;

/// Which storage engines back the ports.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum StoreKind {
    /// SQLite file + filesystem blobs under `data_dir` (moim-local's default).
    Embedded,
    /// DynamoDB table + S3 bucket (AWS, or emulators through the endpoints).
    DynamoDb,
}

#[derive(Debug, Clone)]
pub struct Config {
    /// `MOIM_STORE`: `embedded` (default) or `dynamodb`.
    pub store: StoreKind,
    /// `MOIM_DATA_DIR`: where the embedded engine keeps its files (default `.moim`).
    pub data_dir: PathBuf,
    /// `TABLE_NAME` (DynamoDB).
    pub table_name: String,
    /// `BUCKET_NAME` (S3).
    pub bucket_name: String,
    /// `DYNAMODB_ENDPOINT`: e.g. DynamoDB Local; unset on AWS.
    pub dynamodb_endpoint: Option<String>,
    /// `S3_ENDPOINT`: e.g. moto; unset on AWS.
    pub s3_endpoint: Option<String>,
    /// `PUBLIC_BASE_URL`: where blobs are read from (the gateway locally, a CDN on AWS).
    pub public_base_url: String,
    /// `JWT_SECRET`: HMAC key; locally generated once into the data dir.
    pub jwt_secret: Vec<u8>,
    /// `JWT_ISSUER` (default `moim`): written to and required in every token.
    pub jwt_issuer: String,
    /// `COOKIE_DOMAIN`: refresh cookie domain; empty = host-only (local).
    pub cookie_domain: Option<String>,
    /// `COOKIE_SECURE` (default true): false only for local plain-HTTP runs.
    pub cookie_secure: bool,
    /// `CORS_ORIGINS`: comma-separated allowed origins.
    pub cors_origins: Vec<String>,
    /// `MOIM_LOCAL`: running under moim-local (relaxed CORS, outbox, no Secure).
    pub local: bool,
    /// `WEBSOCKET_ENDPOINT`: the WebSocket API's management endpoint
    /// (`https://{api}.execute-api.{region}.amazonaws.com/{stage}`; moim-local's own
    /// base URL locally). Unset: nothing is pushed live.
    pub websocket_endpoint: Option<String>,
    /// `WS_SERIALIZE`: run each connection's `$default` messages through its
    /// inbox, one drainer at a time, in arrival order (API Gateway may invoke
    /// concurrently for one connection; moim-local never does). Default off.
    pub ws_serialize: bool,
    /// `MAIL_FROM`: the SES sender; unset on AWS = no mail is sent; moim-local always uses the outbox.
    pub mail_from: Option<String>,
    /// `SES_CONFIGURATION_SET`: optional SES configuration set.
    pub ses_configuration_set: Option<String>,
    /// `SES_ENDPOINT`: e.g. moto; unset on AWS.
    pub ses_endpoint: Option<String>,
    /// `REQUIRE_EMAIL_VERIFICATION` (default off): login answers 403
    /// `EMAIL_NOT_VERIFIED` until the address is verified.
    pub require_email_verification: bool,
    /// `FRONTEND_URL`: where mail links and the Kakao redirect flow lead
    /// (default `http://localhost:3000`).
    pub frontend_url: String,
    /// `EMAIL_VERIFY_URL`: the page a verification mail links to, `?code=` appended
    /// (default `<FRONTEND_URL>/verify-email`).
    pub email_verify_url: String,
    /// `PASSWORD_RESET_URL`: the page a reset mail links to, `?token=` appended
    /// (default `<FRONTEND_URL>/password-reset`).
    pub password_reset_url: String,
    /// Google login (`GOOGLE_*`); None while `GOOGLE_CLIENT_ID` is unset.
    pub google: Option<OAuthProvider>,
    /// Kakao login (`KAKAO_*`); None while `KAKAO_CLIENT_ID` is unset.
    pub kakao: Option<OAuthProvider>,
    /// `OAUTH_TIMEOUT_MS` (default 5000): per call to a provider.
    pub oauth_timeout_ms: u64,
    /// `SEARCH_ENGINE`: which engine answers keyword lists.
    pub search: SearchEngine,
}

/// The keyword-search engine (`SEARCH_ENGINE`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum SearchEngine {
    /// `none`: keyword lists filter the listing in memory within a read budget
    /// (the default on AWS: no domain to pay for in small deployments).
    None,
    /// `embedded`: SQLite FTS5 in the data dir (moim-local's default).
    Embedded,
    /// `opensearch`: an OpenSearch Service domain at `OPENSEARCH_URL`, index
    /// `OPENSEARCH_INDEX` (default `moim-groups`), signed for `AWS_REGION`.
    OpenSearch { url: String, index: String, region: String },
}

/// One OAuth provider's client and endpoints. The endpoints default to the
/// provider's documented production ones; tests point them at a stand-in.
#[derive(Clone)]
pub struct OAuthProvider {
    pub client_id: String,
    /// From the environment (on AWS a NoEcho stack parameter), never the repository.
    pub client_secret: Option<String>,
    pub authorize_url: String,
    pub token_url: String,
    pub userinfo_url: String,
    /// The redirect URI registered with the provider (Kakao's redirect flow).
    pub redirect_uri: Option<String>,
}

impl std::fmt::Debug for OAuthProvider {
    // The secret never reaches a log line.
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("OAuthProvider")
            .field("client_id", &self.client_id)
            .field("client_secret", &self.client_secret.as_ref().map(|_| "<set>"))
            .field("authorize_url", &self.authorize_url)
            .field("token_url", &self.token_url)
            .field("userinfo_url", &self.userinfo_url)
            .field("redirect_uri", &self.redirect_uri)
            .finish()
    }
}

/// Reads `<PREFIX>_CLIENT_ID`, `_CLIENT_SECRET`, `_AUTHORIZE_URL`, `_TOKEN_URL`,
/// `_USERINFO_URL`, `_REDIRECT_URI`.
fn oauth_provider(prefix: &str, defaults: [&str; 3]) -> Option<OAuthProvider> {
    let v = |name: &str| var(&format!("{prefix}_{name}"));
    Some(OAuthProvider {
        client_id: v("CLIENT_ID")?,
        client_secret: v("CLIENT_SECRET"),
        authorize_url: v("AUTHORIZE_URL").unwrap_or_else(|| defaults[0].into()),
        token_url: v("TOKEN_URL").unwrap_or_else(|| defaults[1].into()),
        userinfo_url: v("USERINFO_URL").unwrap_or_else(|| defaults[2].into()),
        redirect_uri: v("REDIRECT_URI"),
    })
}

/// Google's OAuth 2.0 / OpenID Connect endpoints.
pub const GOOGLE_ENDPOINTS: [&str; 3] = [
    "https://accounts.google.com/o/oauth2/v2/auth",
    "https://oauth2.googleapis.com/token",
    "https://openidconnect.googleapis.com/v1/userinfo",
];
/// Kakao Login's REST endpoints.
pub const KAKAO_ENDPOINTS: [&str; 3] = [
    "https://kauth.kakao.com/oauth/authorize",
    "https://kauth.kakao.com/oauth/token",
    "https://kapi.kakao.com/v2/user/me",
];

#[derive(Debug, thiserror::Error)]
#[error("configuration: {0}")]
pub struct ConfigError(pub String);

fn var(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.trim().is_empty())
}

fn flag(name: &str, default: bool) -> bool {
    match var(name).as_deref() {
        Some("1" | "true" | "yes") => true,
        Some("0" | "false" | "no") => false,
        _ => default,
    }
}

pub const DEFAULT_CORS_ORIGINS: &str =
    "https://wego.monster,https://local.wego.monster,https://local.wego.monster:3000,http://localhost:3000";

/// Defaults for a moim-local run: data dir and the gateway's own base URL.
#[derive(Debug, Clone)]
pub struct LocalDefaults {
    pub data_dir: PathBuf,
    pub base_url: String,
}

impl Config {
    /// Configuration of a deployed function (or of tests that set the variables).
    pub fn from_env() -> Result<Config, ConfigError> {
        Self::read(None)
    }

    /// Configuration under moim-local: environment first, then local defaults
    /// (embedded store in `data_dir`, host-only cookies without `Secure`).
    pub fn local(defaults: LocalDefaults) -> Result<Config, ConfigError> {
        Self::read(Some(defaults))
    }

    fn read(local_defaults: Option<LocalDefaults>) -> Result<Config, ConfigError> {
        let store = match var("MOIM_STORE").as_deref() {
            None | Some("embedded") => StoreKind::Embedded,
            Some("dynamodb") => StoreKind::DynamoDb,
            Some(other) => return Err(ConfigError(format!("MOIM_STORE={other}: use embedded or dynamodb"))),
        };
        let local = local_defaults.is_some() || flag("MOIM_LOCAL", false);
        let data_dir = match &local_defaults {
            Some(d) => d.data_dir.clone(),
            None => PathBuf::from(var("MOIM_DATA_DIR").unwrap_or_else(|| ".moim".into())),
        };
        let default_base = local_defaults.as_ref().map(|d| d.base_url.clone());
        let jwt_secret = match var("JWT_SECRET") {
            Some(s) if s.len() >= 32 => s.into_bytes(),
            Some(_) => return Err(ConfigError("JWT_SECRET must be at least 32 characters".into())),
            None if local || store == StoreKind::Embedded => local_secret(&data_dir)?,
            None => return Err(ConfigError("JWT_SECRET is required".into())),
        };
        let public_base_url = var("PUBLIC_BASE_URL")
            .or_else(|| s3_public_base(&store))
            .or(default_base)
            .unwrap_or_else(|| "http://127.0.0.1:3000".into());
        let search = match var("SEARCH_ENGINE").as_deref() {
            None if local => SearchEngine::Embedded,
            None | Some("none") => SearchEngine::None,
            Some("embedded") => SearchEngine::Embedded,
            Some("opensearch") => SearchEngine::OpenSearch {
                url: var("OPENSEARCH_URL")
                    .ok_or_else(|| ConfigError("SEARCH_ENGINE=opensearch needs OPENSEARCH_URL".into()))?,
                index: var("OPENSEARCH_INDEX").unwrap_or_else(|| "moim-groups".into()),
                region: var("AWS_REGION").unwrap_or_else(|| "us-east-1".into()),
            },
            Some(other) => return Err(ConfigError(format!("SEARCH_ENGINE={other}: use none, embedded or opensearch"))),
        };
        let frontend_url =
            var("FRONTEND_URL").unwrap_or_else(|| "http://localhost:3000".into()).trim_end_matches('/').to_string();
        Ok(Config {
            require_email_verification: flag("REQUIRE_EMAIL_VERIFICATION", false),
            email_verify_url: var("EMAIL_VERIFY_URL").unwrap_or_else(|| format!("{frontend_url}/verify-email")),
            password_reset_url: var("PASSWORD_RESET_URL").unwrap_or_else(|| format!("{frontend_url}/password-reset")),
            frontend_url,
            google: oauth_provider("GOOGLE", GOOGLE_ENDPOINTS),
            kakao: oauth_provider("KAKAO", KAKAO_ENDPOINTS),
            oauth_timeout_ms: var("OAUTH_TIMEOUT_MS").and_then(|v| v.parse().ok()).unwrap_or(5000),
            search,
            store,
            public_base_url,
            table_name: var("TABLE_NAME").unwrap_or_else(|| "moim".into()),
            bucket_name: var("BUCKET_NAME").unwrap_or_else(|| "moim-images".into()),
            dynamodb_endpoint: var("DYNAMODB_ENDPOINT"),
            s3_endpoint: var("S3_ENDPOINT"),
            jwt_secret,
            jwt_issuer: var("JWT_ISSUER").unwrap_or_else(|| "moim".into()),
            cookie_domain: var("COOKIE_DOMAIN"),
            cookie_secure: flag("COOKIE_SECURE", !local),
            cors_origins: var("CORS_ORIGINS")
                .unwrap_or_else(|| DEFAULT_CORS_ORIGINS.into())
                .split(',')
                .map(|s| s.trim().to_string())
                .filter(|s| !s.is_empty())
                .collect(),
            ws_serialize: flag("WS_SERIALIZE", false),
            mail_from: var("MAIL_FROM"),
            ses_configuration_set: var("SES_CONFIGURATION_SET"),
            ses_endpoint: var("SES_ENDPOINT"),
            websocket_endpoint: var("WEBSOCKET_ENDPOINT").or(local_defaults.map(|d| d.base_url)),
            local,
            data_dir,
        })
    }
}

/// With an S3 endpoint (moto), objects are read path-style from the endpoint.
fn s3_public_base(store: &StoreKind) -> Option<String> {
    if *store != StoreKind::DynamoDb {
        return None;
    }
    let endpoint = var("S3_ENDPOINT")?;
    let bucket = var("BUCKET_NAME").unwrap_or_else(|| "moim-images".into());
    Some(format!("{}/{bucket}", endpoint.trim_end_matches('/')))
}

/// The local signing key: generated once (256 random bits) into the data dir,
/// readable only by its owner, never in the repository.
fn local_secret(data_dir: &std::path::Path) -> Result<Vec<u8>, ConfigError> {
    use base64::Engine as _;
    let path = data_dir.join("jwt-secret");
    if let Ok(s) = std::fs::read_to_string(&path) {
        if s.trim().len() >= 32 {
            return Ok(s.trim().as_bytes().to_vec());
        }
    }
    std::fs::create_dir_all(data_dir).map_err(|e| ConfigError(format!("{}: {e}", data_dir.display())))?;
    let secret = base64::engine::general_purpose::STANDARD_NO_PAD.encode(rand::random::<[u8; 32]>());
    write_private(&path, secret.as_bytes()).map_err(|e| ConfigError(format!("{}: {e}", path.display())))?;
    Ok(secret.into_bytes())
}

#[cfg(unix)]
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    use std::io::Write;
    use std::os::unix::fs::OpenOptionsExt;
    let mut f = std::fs::OpenOptions::new().write(true).create(true).truncate(true).mode(0o600).open(path)?;
    f.write_all(bytes)
}

#[cfg(not(unix))]
fn write_private(path: &std::path::Path, bytes: &[u8]) -> std::io::Result<()> {
    std::fs::write(path, bytes)
}
