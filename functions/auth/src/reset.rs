//! Password reset by mail (API.md §2.1): the link-send answers the same
//! whatever the address (no account enumeration) and mails at most five links
//! an hour per address; a link's token works once, within 30 minutes, and
//! using it revokes every session of the account.

use std::time::Duration;

use chrono::Utc;
use moim_domain::account::{MailKind, RESET_TOKEN_TTL_SECS};
use moim_domain::user;
use moim_domain::{DomainError, Fields};
use moim_store::users as repo;
use moim_store::{accounts, StoreError};
use moim_web::{ApiResult, AppContext, Reply, Req};
use serde::Deserialize;
use serde_json::Value;

use crate::{mail, password, revoke_all};

#[derive(Deserialize)]
struct LinkSendBody {
    email: Option<String>,
}

/// Rounds of "find a free slot, take it" (a round is lost only to a
/// concurrent link-send for the same address).
const ISSUE_ATTEMPTS: usize = 2 * moim_domain::account::RESET_MAILS_PER_HOUR + 2;

pub(crate) async fn link_send(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let body: LinkSendBody = req.json()?;
    Fields::new().check(body.email.as_deref().is_some_and(user::valid_email), "email", user::EMAIL_REASON).finish()?;
    let email = user::normalize_email(body.email.as_deref().unwrap_or_default());
    let account = match repo::user_id_by_email(&*ctx.table, &email).await? {
        Some(id) => repo::get_user(&*ctx.table, id).await?.filter(|u| !u.is_withdrawn()),
        None => None,
    };
    if let Some(account) = account {
        issue(ctx, &req, &email, &account).await?;
    }
    Ok(Reply::ok(Value::Null))
}

/// Takes an hourly slot and mails a fresh token; past the limit, nothing is sent.
async fn issue(ctx: &AppContext, req: &Req, email: &str, account: &user::User) -> ApiResult<()> {
    let window = accounts::reset_window(email);
    for _ in 0..ISSUE_ATTEMPTS {
        let Some(slot) = window.free_slot(&window.taken(&*ctx.table).await?) else {
            tracing::info!(user_id = account.user_id, "reset mail limit reached; nothing sent");
            return Ok(());
        };
        let (token, hash) = accounts::new_secret();
        match ctx.table.transact(accounts::issue_reset(email, slot, &hash, account, Utc::now().timestamp())).await {
            Ok(()) => {
                let link = mail::link(&ctx.config.password_reset_url, "token", &token);
                let minutes = (RESET_TOKEN_TTL_SECS / 60).to_string();
                let values = [("nickname", account.nick_name.as_str()), ("link", &link), ("minutes", &minutes)];
                // Delivered or not, the answer stays the same (the failure is logged).
                mail::send(ctx, MailKind::Reset, mail::lang_of(req), email, &values).await;
                return Ok(());
            }
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(StoreError::Conflict) => {
                tokio::time::sleep(Duration::from_millis(rand::random_range(5..40))).await;
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
    tracing::info!(user_id = account.user_id, "reset mail limit reached under contention; nothing sent");
    Ok(())
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct ChangeBody {
    token: Option<String>,
    new_password: Option<String>,
}

pub(crate) async fn change(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let body: ChangeBody = req.json()?;
    let token = body.token.as_deref().map(str::trim).unwrap_or_default();
    Fields::new()
        .check(!token.is_empty(), "token", "회원 : 재설정 토큰이 필요합니다.")
        .check(body.new_password.as_deref().is_some_and(user::valid_password), "newPassword", user::PASSWORD_REASON)
        .finish()?;
    let hash = accounts::secret_hash(token);
    let stored = accounts::reset_token(&*ctx.table, &hash).await?.ok_or_else(DomainError::bad_mail_token)?;
    let account = repo::get_user(&*ctx.table, stored.user_id)
        .await?
        .filter(|u| !u.is_withdrawn())
        .ok_or_else(DomainError::bad_mail_token)?;
    let new_hash = password::hash(body.new_password.unwrap_or_default()).await?;
    let ops = accounts::change_password(&hash, &stored, &account.email, &new_hash, Utc::now().timestamp());
    match ctx.table.transact(ops).await {
        Ok(()) => {}
        // Used concurrently, expired, or the password changed since the link was sent.
        Err(StoreError::ConditionFailed { .. }) => return Err(DomainError::bad_mail_token().into()),
        Err(e) => return Err(e.into()),
    }
    revoke_all(ctx, account.user_id).await?;
    Ok(Reply::ok("비밀번호가 변경되었습니다."))
}
