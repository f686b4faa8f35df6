#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    moim_web::run_lambda::<{ moim_chat::PORTS }>(moim_chat::ROUTES).await
}
