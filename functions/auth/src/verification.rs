//! Email verification (API.md §2.1): using the mailed code, and resending it
//! (at most one a minute and ten a day, each limit a conditional write).

use std::time::Duration;

use chrono::Utc;
use moim_domain::{DomainError, ErrorCode};
use moim_store::{accounts, StoreError};
use moim_web::{ApiResult, AppContext, Reply, Req};

use crate::{mail, signup};

pub(crate) async fn verify(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let code = req.query_required("code")?;
    let hash = accounts::secret_hash(code.trim());
    let user_id = accounts::code_owner(&*ctx.table, &hash).await?.ok_or_else(DomainError::bad_mail_token)?;
    match ctx.table.transact(accounts::verify_email(user_id, &hash, Utc::now().timestamp())).await {
        Ok(()) => Ok(Reply::ok("이메일 인증이 완료되었습니다.")),
        // Used (or replaced by a newer code) between the read and the write.
        Err(StoreError::ConditionFailed { .. }) => Err(DomainError::bad_mail_token().into()),
        Err(e) => Err(e.into()),
    }
}

/// Rounds of "read the limits, write" before a resend gives up; a round is
/// lost only to a concurrent resend of the same user.
const RESEND_ATTEMPTS: usize = 8;

pub(crate) async fn resend(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let caller = req.auth(ctx).await?;
    let (_, day) = accounts::resend_windows(caller.id());
    for _ in 0..RESEND_ATTEMPTS {
        let (user, previous) =
            accounts::user_with_code(&*ctx.table, caller.id()).await?.ok_or(ErrorCode::INVALID_TOKEN)?;
        if user.email_verified {
            return Err(ErrorCode::EMAIL_ALREADY_VERIFIED.into());
        }
        let Some(slot) = day.free_slot(&day.taken(&*ctx.table).await?) else {
            return Err(too_many("오늘은 더 이상 인증 메일을 보낼 수 없습니다. 내일 다시 시도해 주세요.").into());
        };
        let (code, hash) = accounts::new_secret();
        let now = Utc::now().timestamp();
        match ctx.table.transact(accounts::resend_code(user.user_id, slot, &hash, previous.as_deref(), now)).await {
            Ok(()) => {
                if !signup::send_code(ctx, mail::lang_of(&req), &user, &code).await {
                    return Err(ErrorCode::DEPENDENCY_FAILURE.into());
                }
                return Ok(Reply::no_content());
            }
            Err(StoreError::ConditionFailed { index: accounts::RESEND_MINUTE_OP }) => {
                return Err(too_many("인증 메일은 1분에 한 번 보낼 수 있습니다. 잠시 후 다시 시도해 주세요.").into());
            }
            // A concurrent resend took the day slot or replaced the code: look again.
            Err(StoreError::ConditionFailed { .. }) => continue,
            Err(StoreError::Conflict) => {
                tokio::time::sleep(Duration::from_millis(rand::random_range(5..40))).await;
                continue;
            }
            Err(e) => return Err(e.into()),
        }
    }
    Err(ErrorCode::TOO_MANY_MAIL_REQUESTS.into())
}

fn too_many(detail: &str) -> DomainError {
    DomainError::with_detail(ErrorCode::TOO_MANY_MAIL_REQUESTS, format!("회원 : {detail}"))
}
