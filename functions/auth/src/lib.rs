//! The auth function (API.md §2, §2.1): signup with a mailed verification
//! code, login, refresh with rotation and reuse detection, logout, withdraw,
//! password reset by mail, and Google / Kakao login. It also answers API
//! Gateway's catch-all route with the contract's 404/405.

/// The engines this function links besides the table (mail: verification and reset links (SES)).
pub const PORTS: u8 = moim_web::ports::MAIL;

mod mail;
mod oauth;
mod password;
mod provider;
mod reset;
mod session;
mod signup;
mod verification;

use chrono::{DateTime, Utc};
use moim_domain::time;
use moim_domain::user::User;
use moim_store::users::{self as repo, Session};
use moim_store::{StoreError, WriteOp};
use moim_web::auth::{refresh_cookie, Issued, ACCESS_TTL_SECS, REFRESH_TTL_SECS};
use moim_web::{route, ApiError, AppContext, Route};
use serde_json::{json, Value};

pub static ROUTES: &[Route] = &[
    route!("POST /api/v1/auth/signup", signup::signup),
    route!("POST /api/v1/auth/login", session::login),
    route!("POST /api/v1/auth/refresh", session::refresh),
    route!("POST /api/v1/auth/logout", session::logout),
    route!("DELETE /api/v1/auth/withdraw", session::withdraw),
    route!("POST /api/v1/auth/google", oauth::google),
    route!("GET /api/v1/oauth/kakao/authorize", oauth::kakao_authorize),
    route!("GET /api/v1/oauth/kakao/callback", oauth::kakao_redirect),
    route!("POST /api/v1/oauth/kakao/callback", oauth::kakao_callback),
    route!("POST /api/v1/users/signup/verify", verification::verify),
    route!("POST /api/v1/users/signup/verify/resend", verification::resend),
    route!("POST /api/v1/users/password/change/link-send", reset::link_send),
    route!("POST /api/v1/users/password/change", reset::change),
];

/// Retries of a write whose generated id collided with another process's.
const ID_RETRIES: usize = 3;

/// A signed-in session: the LoginResult body of API.md §2 and the refresh cookie.
struct SignedIn {
    body: Value,
    cookie: String,
}

/// Starts a session for `user` (with `extra` ops in the same transaction, e.g.
/// clearing the login failures) and issues both tokens.
async fn sign_in(ctx: &AppContext, user: &User, extra: Vec<WriteOp>) -> Result<SignedIn, ApiError> {
    let now = Utc::now();
    let session = new_session(user.user_id, uuid::Uuid::new_v4().to_string(), now);
    let mut ops = vec![repo::put_session(&session)];
    ops.extend(extra);
    ctx.table.transact(ops).await?;
    let access = ctx.tokens.access(user.user_id, now.timestamp());
    let refresh = ctx.tokens.refresh(user.user_id, &session.jti, now.timestamp());
    Ok(SignedIn {
        body: json!({
            "accessToken": access.token,
            "tokenType": "Bearer",
            "expiresIn": ACCESS_TTL_SECS,
            "expiresAt": expires_at(&access),
            "user": user.own_view(),
        }),
        cookie: cookie(ctx, Some(&refresh.token)),
    })
}

fn new_session(user_id: i64, family: String, now: DateTime<Utc>) -> Session {
    Session {
        jti: uuid::Uuid::new_v4().to_string(),
        user_id,
        family,
        replaced_by: None,
        expires_at: now.timestamp() + REFRESH_TTL_SECS,
    }
}

fn expires_at(issued: &Issued) -> String {
    time::format(DateTime::from_timestamp(issued.expires_at, 0).unwrap_or_default())
}

fn cookie(ctx: &AppContext, token: Option<&str>) -> String {
    refresh_cookie(token, ctx.config.cookie_domain.as_deref(), ctx.config.cookie_secure)
}

/// Deletes every session of a user (withdrawal, password change).
async fn revoke_all(ctx: &AppContext, user_id: i64) -> Result<(), StoreError> {
    let sessions = repo::sessions(&*ctx.table, user_id).await?;
    for chunk in sessions.chunks(100) {
        ctx.table.transact(repo::delete_sessions(chunk)).await?;
    }
    Ok(())
}

impl From<password::HashError> for ApiError {
    fn from(e: password::HashError) -> Self {
        ApiError::Internal(e.to_string())
    }
}
