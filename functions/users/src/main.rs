#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    moim_web::run_lambda::<{ moim_users::PORTS }>(moim_users::ROUTES).await
}
