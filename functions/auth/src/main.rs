#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    moim_web::run_lambda::<{ moim_auth::PORTS }>(moim_auth::ROUTES).await
}
