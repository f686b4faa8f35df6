//! moim-local: the development gateway. `serve` puts every function of
//! template.yaml behind one HTTP server on the embedded store; `invoke` runs one
//! function on one event file, as `sam local invoke` does, without Docker.

pub mod docs;
pub mod event;
pub mod invoke;
pub mod registry;
pub mod serve;
pub mod template;
pub mod triggers;
pub mod ws;

use std::path::PathBuf;
use std::sync::Arc;

use moim_store::blob::{FsBlobs, S3Blobs};
use moim_store::schema::TableDef;
use moim_store::EmbeddedTable;
use moim_web::config::{Config, LocalDefaults, StoreKind};
use moim_web::AppContext;

/// The template compiled into this binary (the workspace's template.yaml).
pub const TEMPLATE: &str = moim_store::schema::TEMPLATE_YAML;

/// The server's default group images, seeded into the blob store at start.
const DEFAULT_IMAGES: [(&str, &[u8]); 2] = [
    (moim_groups::DEFAULT_CARD_KEY, include_bytes!("../../assets/defaults/group_440x240.webp")),
    (moim_groups::DEFAULT_THUMB_KEY, include_bytes!("../../assets/defaults/group_100x100.webp")),
];

async fn seed_default_images(blobs: &dyn moim_store::Blobs) -> Result<(), String> {
    for (key, bytes) in DEFAULT_IMAGES {
        if blobs.get(key).await.map_err(|e| e.to_string())?.is_none() {
            blobs.put(key, bytes.to_vec(), "image/webp").await.map_err(|e| e.to_string())?;
        }
    }
    Ok(())
}

/// Builds the context of a local run. Embedded: SQLite + files in `data_dir`.
/// DynamoDB with an endpoint (the emulator): the table and bucket are created
/// from template.yaml when missing.
pub async fn context(data_dir: PathBuf, base_url: String) -> Result<(Arc<AppContext>, Option<FsBlobs>), String> {
    let config = Config::local(LocalDefaults { data_dir: data_dir.clone(), base_url }).map_err(|e| e.to_string())?;
    // A search index that does not exist yet is filled from the table at start.
    let fresh_index = !data_dir.join(moim_web::context::SEARCH_FILE).exists();
    match config.store {
        StoreKind::Embedded => {
            let table = EmbeddedTable::open(data_dir.join("moim.sqlite3")).map_err(|e| e.to_string())?;
            let blobs = FsBlobs::new(data_dir.join("blobs"), config.public_base_url.clone(), config.jwt_secret.clone());
            seed_default_images(&blobs).await?;
            // Live frames go to this gateway's own @connections endpoint through the SDK client.
            let push: Arc<dyn moim_store::push::Push> = match &config.websocket_endpoint {
                Some(ep) => Arc::new(moim_store::push::ApiGatewayPush::new(ep, true).await),
                None => Arc::new(moim_store::push::NoPush),
            };
            let search = moim_web::context::search_engine(&config).await.map_err(|e| e.to_string())?;
            let ctx = AppContext::with_ports(config, Arc::new(table), Arc::new(blobs.clone()))
                .with_push(push)
                .with_search(search);
            Ok((Arc::new(with_change_feed(ctx, fresh_index).await?), Some(blobs)))
        }
        StoreKind::DynamoDb => {
            if let Some(ep) = &config.dynamodb_endpoint {
                let client = moim_store::dynamo::client(Some(ep)).await;
                TableDef::from_workspace_template()
                    .map_err(|e| e.to_string())?
                    .create(&client, &config.table_name)
                    .await
                    .map_err(|e| e.to_string())?;
            }
            if let Some(ep) = &config.s3_endpoint {
                let s3 = moim_store::blob::s3_client(Some(ep)).await;
                S3Blobs::new(s3, config.bucket_name.clone(), "").ensure_bucket().await.map_err(|e| e.to_string())?;
            }
            let ctx = AppContext::from_config(config).await.map_err(|e| e.to_string())?;
            if ctx.config.s3_endpoint.is_some() {
                seed_default_images(&*ctx.blobs).await?;
            }
            Ok((Arc::new(with_change_feed(ctx, fresh_index).await?), None))
        }
    }
}

/// The change feed of a local run: the table emits each commit's group
/// changes to the search indexer (as DynamoDB Streams feeds the indexer
/// function on AWS). A search index younger than the table is filled first.
async fn with_change_feed(ctx: AppContext, fresh_index: bool) -> Result<AppContext, String> {
    let Some(search) = ctx.search.clone() else {
        return Ok(ctx);
    };
    if fresh_index {
        let progress = |n| println!("moim-local: indexing groups for search: {n}");
        let indexed = moim_search_indexer::backfill(&*ctx.table, &*search, progress).await?;
        if indexed > 0 {
            println!("moim-local: indexed {indexed} groups for search");
        }
    }
    let indexer = Arc::new(moim_search_indexer::SearchIndexer { search });
    let table = moim_store::feed::FeedTable::new(ctx.table.clone(), vec![indexer]);
    Ok(AppContext { table: Arc::new(table), ..ctx })
}
