#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    moim_web::run_lambda::<{ moim_groups::PORTS }>(moim_groups::ROUTES).await
}
