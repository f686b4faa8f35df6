//! Signup (API.md §2): the account, its unique claims and its first
//! verification code in one transaction; the code is mailed after the commit.

use chrono::Utc;
use moim_domain::account::{MailKind, VERIFY_CODE_TTL_SECS};
use moim_domain::user::{self, User};
use moim_domain::{time, ErrorCode};
use moim_store::accounts;
use moim_store::users as repo;
use moim_store::{keys, StoreError};
use moim_web::{ApiResult, AppContext, Reply, Req};
use serde::Deserialize;
use serde_json::json;

use crate::{mail, password, ID_RETRIES};

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct SignupBody {
    email: Option<String>,
    password: Option<String>,
    nick_name: Option<String>,
}

pub(crate) async fn signup(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let body: SignupBody = req.json()?;
    user::validate_signup(body.email.as_deref(), body.password.as_deref(), body.nick_name.as_deref())?;
    let email = user::normalize_email(body.email.as_deref().unwrap_or_default());
    let nick = body.nick_name.as_deref().unwrap_or_default().trim().to_string();
    if repo::user_id_by_email(&*ctx.table, &email).await?.is_some() {
        return Err(ErrorCode::ALREADY_EXISTS_USER.into());
    }
    if repo::user_id_by_nickname(&*ctx.table, &nick).await?.is_some() {
        return Err(ErrorCode::ALREADY_EXIST_NICKNAME.into());
    }
    let hash = password::hash(body.password.unwrap_or_default()).await?;
    let (code, code_hash) = accounts::new_secret();
    let user = create(ctx, &email, &nick, hash, &code_hash).await?;
    // The account stands whatever the mail does: a lost code is resent on request.
    send_code(ctx, mail::lang_of(&req), &user, &code).await;
    Ok(Reply::created(json!({
        "userId": user.user_id,
        "id": user.user_id,
        "email": user.email,
        "nickName": user.nick_name,
        "createdAt": time::format(user.created_at),
    })))
}

/// Stores the account; email and nickname are claimed in the same
/// transaction, so concurrent signups cannot both take one.
async fn create(ctx: &AppContext, email: &str, nick: &str, hash: String, code_hash: &str) -> ApiResult<User> {
    for _ in 0..ID_RETRIES {
        let now = Utc::now();
        let user = User::new(keys::next_id(), email, nick, hash.clone(), now);
        match ctx.table.transact(accounts::create_user_with_code(&user, code_hash, now.timestamp())).await {
            Ok(()) => return Ok(user),
            Err(StoreError::ConditionFailed { index: accounts::SIGNUP_EMAIL_OP }) => {
                return Err(ErrorCode::ALREADY_EXISTS_USER.into())
            }
            Err(StoreError::ConditionFailed { index: accounts::SIGNUP_NICK_OP }) => {
                return Err(ErrorCode::ALREADY_EXIST_NICKNAME.into())
            }
            Err(StoreError::ConditionFailed { .. }) => continue, // id clash: new id
            Err(e) => return Err(e.into()),
        }
    }
    Err(ErrorCode::DATA_INTEGRITY_VIOLATION.into())
}

/// Mails a verification code (and a link carrying it) to the user.
pub(crate) async fn send_code(ctx: &AppContext, lang: moim_domain::account::Lang, user: &User, code: &str) -> bool {
    let link = mail::link(&ctx.config.email_verify_url, "code", code);
    let hours = (VERIFY_CODE_TTL_SECS / 3600).to_string();
    mail::send(
        ctx,
        MailKind::Verify,
        lang,
        &user.email,
        &[("nickname", &user.nick_name), ("code", code), ("link", &link), ("hours", &hours)],
    )
    .await
}
