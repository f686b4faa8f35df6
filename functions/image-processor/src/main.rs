use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::Value;

#[tokio::main]
async fn main() -> Result<(), Error> {
    moim_web::router::init_tracing();
    let ctx = moim_web::AppContext::from_env_for_lambda::<{ moim_image_processor::PORTS }>()?;
    lambda_runtime::run(service_fn(|ev: LambdaEvent<Value>| {
        let ctx = ctx.clone();
        async move { moim_image_processor::handle(&ctx, ev.payload).await.map_err(Error::from) }
    }))
    .await
}
