//! The reference for cold starts (bench/REPORT.md): nothing but the runtime
//! loop, answering every event with a constant.

use lambda_runtime::{service_fn, Error, LambdaEvent};
use serde_json::{json, Value};

#[tokio::main]
async fn main() -> Result<(), Error> {
    lambda_runtime::run(service_fn(|_: LambdaEvent<Value>| async { Ok::<Value, Error>(json!({ "hello": "moim" })) }))
        .await
}
