#[tokio::main]
async fn main() -> Result<(), lambda_http::Error> {
    moim_web::run_lambda::<{ moim_images::PORTS }>(moim_images::ROUTES).await
}
