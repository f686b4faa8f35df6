//! Password login (with the failure window), refresh rotation, logout, withdraw.

use chrono::Utc;
use moim_domain::user;
use moim_domain::ErrorCode;
use moim_store::users::{self as repo, Session};
use moim_store::StoreError;
use moim_web::auth::{TokenType, ACCESS_TTL_SECS, REFRESH_COOKIE};
use moim_web::{ApiResult, AppContext, Reply, Req};
use serde::Deserialize;
use serde_json::json;

use crate::{cookie, expires_at, new_session, password, revoke_all, sign_in};

#[derive(Deserialize)]
struct LoginBody {
    email: Option<String>,
    password: Option<String>,
}

pub(crate) async fn login(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let body: LoginBody = req.json()?;
    user::validate_login(body.email.as_deref(), body.password.as_deref())?;
    let email = user::normalize_email(body.email.as_deref().unwrap_or_default());
    // The attempt takes a failure slot before the slow password check, so
    // parallel guesses cannot outrun the limit; a success gives them all back.
    reserve_attempt(ctx, &email, Utc::now().timestamp()).await?;

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
    if ctx.config.require_email_verification && !user.email_verified {
        return Err(ErrorCode::EMAIL_NOT_VERIFIED.into());
    }
    let signed = sign_in(ctx, &user, repo::login_window(&email).clear()).await?;
    Ok(Reply::ok(signed.body).cookie(signed.cookie))
}

/// Takes one of the email's failure slots (a conditional put that only a free
/// slot accepts), or answers 429 when all are taken within the window.
async fn reserve_attempt(ctx: &AppContext, email: &str, now: i64) -> ApiResult<()> {
    let window = repo::login_window(email);
    for _ in 0..LOGIN_RESERVE_ATTEMPTS {
        let taken = window.taken(&*ctx.table).await?;
        let times: Vec<i64> = taken.iter().map(|(_, t)| *t).collect();
        user::check_login_lock(&times, now)?;
        let Some(free) = window.free_slot(&taken) else {
            continue;
        };
        match ctx.table.transact(vec![window.reserve(free, now)]).await {
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

/// Deletes every session of one login (reuse of a rotated token, or logout).
async fn revoke_family(ctx: &AppContext, user_id: i64, family: &str) -> Result<(), StoreError> {
    let sessions = repo::sessions(&*ctx.table, user_id).await?;
    let family: Vec<&Session> = sessions.iter().filter(|s| s.family == family).collect();
    for chunk in family.chunks(100) {
        ctx.table.transact(repo::delete_sessions(chunk.iter().copied())).await?;
    }
    Ok(())
}

pub(crate) async fn refresh(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
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
pub(crate) async fn logout(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
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
pub(crate) async fn withdraw(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller = req.auth(ctx).await?;
    match ctx.table.transact(repo::withdraw(caller.id(), Utc::now(), &[])).await {
        Ok(()) => {}
        Err(StoreError::ConditionFailed { .. }) => return Err(ErrorCode::INVALID_TOKEN.into()),
        Err(e) => return Err(e.into()),
    }
    revoke_all(ctx, caller.id()).await?;
    Ok(Reply::ok("회원탈퇴 성공").cookie(cookie(ctx, None)))
}
