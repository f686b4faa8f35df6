use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    moim_web::router::init_tracing();
    let config = moim_web::config::Config::from_env()?;
    let sdk = moim_store::aws::from_environment()?;
    let search = moim_web::context::lambda_search_engine(&config, &sdk)?.ok_or("SEARCH_ENGINE is not set")?;
    // One call per cold start: the index exists (with its mapping) before the first write.
    search.prepare().await?;
    let indexer = moim_search_indexer::SearchIndexer { search };
    lambda_runtime::run(service_fn(|event: LambdaEvent<Value>| {
        let indexer = &indexer;
        async move { Ok::<Value, Error>(moim_search_indexer::handle(indexer, event.payload).await) }
    }))
    .await
}
