use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    moim_web::router::init_tracing();
    let ctx = moim_web::AppContext::from_env_for_lambda::<{ moim_sweeper::PORTS }>()?;
    lambda_runtime::run(service_fn(|_: LambdaEvent<Value>| {
        let ctx = ctx.clone();
        async move { moim_sweeper::handle(&ctx).await.map_err(Error::from) }
    }))
    .await
}
