#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    moim_web::run_lambda::<{ moim_notifications::PORTS }>(moim_notifications::ROUTES).await
}
