//! The auth function (API.md §2): signup, login, refresh with rotation and
//! reuse detection, logout, withdraw. It also answers API Gateway's catch-all
//! route with the contract's 404/405.

mod password;

use chrono::{DateTime, Utc};
use moim_domain::user::{self, User};
use moim_domain::{time, ErrorCode};
use moim_store::users::{self as repo, Session};
use moim_store::{keys, StoreError, WriteOp};
use moim_web::auth::{refresh_cookie, Issued, TokenType, ACCESS_TTL_SECS, REFRESH_COOKIE, REFRESH_TTL_SECS};
use moim_web::{route, ApiError, ApiResult, AppContext, Reply, Req, Route};
use serde::Deserialize;
use serde_json::json;

pub static ROUTES: &[Route] = &[
    route!("POST /api/v1/auth/signup", signup),
    route!("POST /api/v1/auth/login", login),
    route!("POST /api/v1/auth/refresh", refresh),
    route!("POST /api/v1/auth/logout", logout),
    route!("DELETE /api/v1/auth/withdraw", withdraw),
];

/// Retries of a write whose generated id collided with another process's.
const ID_RETRIES: usize = 3;

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignupBody {
    email: Option<String>,
    password: Option<String>,
    nick_name: Option<String>,
}

#[derive(Deserialize)]
struct LoginBody {
    email: Option<String>,
    password: Option<String>,
}

async fn signup(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let body: SignupBody = req.json()?;
    let user = create_account(ctx, body.email.as_deref(), body.password.as_deref(), body.nick_name.as_deref()).await?;
    Ok(Reply::created(json!({
        "userId": user.user_id,
        "id": user.user_id,
        "email": user.email,
        "nickName": user.nick_name,
        "createdAt": time::format(user.created_at),
    })))
}

/// Validates, hashes and stores a new account; email and nickname are claimed
/// in the same transaction, so concurrent signups cannot both take one.
pub async fn create_account(
    ctx: &AppContext,
    email: Option<&str>,
    password: Option<&str>,
    nick: Option<&str>,
) -> ApiResult<User> {
    user::validate_signup(email, password, nick)?;
    let email = user::normalize_email(email.unwrap_or_default());
    let nick = nick.unwrap_or_default().trim().to_string();
    if repo::user_id_by_email(&*ctx.table, &email).await?.is_some() {
        return Err(ErrorCode::ALREADY_EXISTS_USER.into());
    }
    if repo::user_id_by_nickname(&*ctx.table, &nick).await?.is_some() {
        return Err(ErrorCode::ALREADY_EXIST_NICKNAME.into());
    }
    let hash = password::hash(password.unwrap_or_default().to_string()).await?;
    for _ in 0..ID_RETRIES {
        let user = User::new(keys::next_id(), &email, &nick, hash.clone(), Utc::now());
        match ctx.table.transact(repo::create_user(&user)).await {
            Ok(()) => return Ok(user),
            Err(StoreError::ConditionFailed { index: repo::CREATE_USER_EMAIL_OP }) => {
                return Err(ErrorCode::ALREADY_EXISTS_USER.into())
            }
            Err(StoreError::ConditionFailed { index: repo::CREATE_USER_NICK_OP }) => {
                return Err(ErrorCode::ALREADY_EXIST_NICKNAME.into())
            }
            Err(StoreError::ConditionFailed { .. }) => continue, // id clash: new id
            Err(e) => return Err(e.into()),
        }
    }
    Err(ErrorCode::DATA_INTEGRITY_VIOLATION.into())
}

async fn login(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let body: LoginBody = req.json()?;
    user::validate_login(body.email.as_deref(), body.password.as_deref())?;
    let email = user::normalize_email(body.email.as_deref().unwrap_or_default());
    let now = Utc::now();
    // The attempt takes a failure slot before the slow password check, so
    // parallel guesses cannot outrun the limit; a success gives them all back.
    reserve_attempt(ctx, &email, now.timestamp()).await?;

    let found = match repo::user_id_by_email(&*ctx.table, &email).await? {
        Some(id) => repo::get_user(&*ctx.table, id).await?,
        None => None,
    };
    let Some(user) = found else {
        return Err(ErrorCode::USER_NOT_FOUND.into());
    };
    if !password::verify(body.password.unwrap_or_default(), user.password_hash.clone()).await? {
        return Err(ErrorCode::INVALID_PASSWORD_VALUE.into());
    }
    if user.is_withdrawn() {
        return Err(ErrorCode::DELETED_USER.into());
    }
    // The session, and a reset of the failure count (this attempt's slot included).
    let session = new_session(user.user_id, uuid::Uuid::new_v4().to_string(), now);
    let mut ops = vec![repo::put_session(&session)];
    ops.extend((0..user::LOGIN_FAILURE_LIMIT).map(|n| WriteOp::delete(repo::login_slot_key(&email, n))));
    ctx.table.transact(ops).await?;
    let access = ctx.tokens.access(user.user_id, now.timestamp());
    let refresh = ctx.tokens.refresh(user.user_id, &session.jti, now.timestamp());
    Ok(Reply::ok(json!({
        "accessToken": access.token,
        "tokenType": "Bearer",
        "expiresIn": ACCESS_TTL_SECS,
        "expiresAt": expires_at(&access),
        "user": user.own_view(),
    }))
    .cookie(cookie(ctx, Some(&refresh.token))))
}

/// Takes one of the email's LOGIN_FAILURE_LIMIT slots (a conditional put that
/// only a free slot accepts), or answers 429 when all are taken within the window.
async fn reserve_attempt(ctx: &AppContext, email: &str, now: i64) -> ApiResult<()> {
    for _ in 0..LOGIN_RESERVE_ATTEMPTS {
        let taken = repo::login_failures(&*ctx.table, email).await?;
        let times: Vec<i64> = taken.iter().map(|(_, t)| *t).collect();
        user::check_login_lock(&times, now)?;
        let used: Vec<moim_store::Key> = taken.into_iter().map(|(k, _)| k).collect();
        let Some(free) = (0..user::LOGIN_FAILURE_LIMIT).find(|n| !used.contains(&repo::login_slot_key(email, *n)))
        else {
            continue;
        };
        match ctx.table.transact(vec![repo::reserve_login_slot(email, free, now)]).await {
            Ok(()) => return Ok(()),
            // Another attempt took that slot first: look again.
            Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => continue,
            Err(e) => return Err(e.into()),
        }
    }
    Err(ErrorCode::TOO_MANY_LOGIN_ATTEMPTS.into())
}

/// Rounds of "find a free slot, take it" before an attempt gives up with 429
/// (each lost round means another attempt took a slot).
const LOGIN_RESERVE_ATTEMPTS: usize = 2 * user::LOGIN_FAILURE_LIMIT;

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

/// Deletes every session of one login (reuse of a rotated token, or logout).
async fn revoke_family(ctx: &AppContext, user_id: i64, family: &str) -> Result<(), StoreError> {
    let sessions = repo::sessions(&*ctx.table, user_id).await?;
    let family: Vec<&Session> = sessions.iter().filter(|s| s.family == family).collect();
    for chunk in family.chunks(100) {
        ctx.table.transact(repo::delete_sessions(chunk.iter().copied())).await?;
    }
    Ok(())
}

async fn refresh(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let token = req.cookie(REFRESH_COOKIE).filter(|t| !t.is_empty()).ok_or(ErrorCode::NOT_FOUND_TOKEN)?;
    let claims = ctx.tokens.verify(&token, TokenType::Refresh)?;
    let user_id = claims.user_id()?;
    let jti = claims.jti.ok_or(ErrorCode::INVALID_TOKEN)?;
    let session = repo::get_session(&*ctx.table, user_id, &jti).await?.ok_or(ErrorCode::INVALID_TOKEN)?;
    if session.replaced_by.is_some() {
        // A rotated token came back: someone holds a copy. End the whole login.
        tracing::warn!(user_id, family = %session.family, "refresh token reuse; revoking the session family");
        revoke_family(ctx, user_id, &session.family).await?;
        return Err(ErrorCode::INVALID_TOKEN.into());
    }
    let user = repo::get_user(&*ctx.table, user_id).await?;
    if user.is_none_or(|u| u.is_withdrawn()) {
        return Err(ErrorCode::INVALID_TOKEN.into());
    }
    let now = Utc::now();
    let next = new_session(user_id, session.family.clone(), now);
    match ctx.table.transact(repo::rotate_session(&session, &next)).await {
        Ok(()) => {}
        // Rotated concurrently by another request with the same token: reuse.
        Err(StoreError::ConditionFailed { index: 0 }) => {
            revoke_family(ctx, user_id, &session.family).await?;
            return Err(ErrorCode::INVALID_TOKEN.into());
        }
        Err(e) => return Err(e.into()),
    }
    let access = ctx.tokens.access(user_id, now.timestamp());
    let refresh = ctx.tokens.refresh(user_id, &next.jti, now.timestamp());
    Ok(Reply::created(json!({
        "accessToken": access.token,
        "tokenType": "Bearer",
        "expiresIn": ACCESS_TTL_SECS,
        "expiresAt": expires_at(&access),
    }))
    .cookie(cookie(ctx, Some(&refresh.token))))
}

/// Public route: the Authorization header is ignored; the cookie's session, if
/// valid, is revoked; the cookie is always cleared.
async fn logout(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    if let Some(token) = req.cookie(REFRESH_COOKIE) {
        if let Ok(claims) = ctx.tokens.verify(&token, TokenType::Refresh) {
            if let (Ok(user_id), Some(jti)) = (claims.user_id(), claims.jti) {
                if let Some(session) = repo::get_session(&*ctx.table, user_id, &jti).await? {
                    revoke_family(ctx, user_id, &session.family).await?;
                }
            }
        }
    }
    Ok(Reply::no_content().cookie(cookie(ctx, None)))
}

/// Soft delete: the account is marked withdrawn first (which already blocks
/// login, refresh and access), then its sessions are removed.
async fn withdraw(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller = req.auth(ctx).await?;
    let now = Utc::now();
    match ctx.table.transact(repo::withdraw(caller.id(), now, &[])).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { .. }) => return Err(ErrorCode::INVALID_TOKEN.into()),
        Err(e) => return Err(e.into()),
    }
    let sessions = repo::sessions(&*ctx.table, caller.id()).await?;
    for chunk in sessions.chunks(100) {
        ctx.table.transact(repo::delete_sessions(chunk)).await?;
    }
    Ok(Reply::ok("회원탈퇴 성공").cookie(cookie(ctx, None)))
}

impl From<password::HashError> for ApiError {
    fn from(e: password::HashError) -> Self {
        ApiError::Internal(e.to_string())
    }
}
