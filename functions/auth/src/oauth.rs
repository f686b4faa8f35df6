//! Google and Kakao login (API.md §2, §2.1): the authorization code is
//! exchanged at the provider's token endpoint, the user-info endpoint names
//! the person, and [`moim_domain::account::social_login`] decides whether that
//! signs in, links a verified account, or creates one. Kakao's redirect flow
//! carries a `state` bound to the browser by a short-lived cookie.

use std::time::Duration;

use chrono::Utc;
use moim_domain::account::{generated_nickname, social_login, SocialLogin};
use moim_domain::user::{self, User};
use moim_domain::{DomainError, ErrorCode, Fields};
use moim_store::users as repo;
use moim_store::{accounts, keys, StoreError};
use moim_web::config::OAuthProvider;
use moim_web::{ApiError, ApiResult, AppContext, Reply, Req};
use serde::Deserialize;
use serde_json::Value;

use crate::provider::{self, ProviderError};
use crate::{sign_in, SignedIn};

/// Who the provider says the person is.
#[derive(Debug, Clone, PartialEq)]
struct Profile {
    provider: &'static str,
    subject: String,
    email: Option<String>,
    email_verified: bool,
    name: Option<String>,
    picture: Option<String>,
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct GoogleBody {
    authorization_code: Option<String>,
    redirect_uri: Option<String>,
}

pub(crate) async fn google(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let body: GoogleBody = req.json()?;
    let p = (ctx.config.google.as_ref(), "Google", "google");
    code_login(ctx, p, body.authorization_code, "authorizationCode", body.redirect_uri).await
}

#[derive(Deserialize)]
#[serde(rename_all = "camelCase")]
struct KakaoBody {
    code: Option<String>,
    redirect_uri: Option<String>,
}

/// The app flow: the client got the code itself (and checked its own state).
pub(crate) async fn kakao_callback(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let body: KakaoBody = req.json()?;
    code_login(ctx, (ctx.config.kakao.as_ref(), "Kakao", "kakao"), body.code, "code", body.redirect_uri).await
}

/// A login from an authorization code in a JSON body (Google's, and Kakao's app
/// flow): the code is required (`code_field` names it in the error), the
/// redirect URI is the body's or else the configured one.
async fn code_login(
    ctx: &AppContext,
    (config, name, provider): (Option<&OAuthProvider>, &str, &'static str),
    code: Option<String>,
    code_field: &str,
    redirect_uri: Option<String>,
) -> ApiResult<Reply> {
    let code = code.filter(|c| !c.trim().is_empty());
    Fields::new().check(code.is_some(), code_field, "인증 코드가 필요합니다.").finish()?;
    let p = configured(config, name)?;
    let redirect_uri = redirect_uri
        .filter(|r| !r.trim().is_empty())
        .or_else(|| p.redirect_uri.clone())
        .ok_or_else(missing_redirect)?;
    let code = code.unwrap_or_default();
    let profile = exchange(ctx, p, provider, code.trim(), &redirect_uri).await?;
    let signed = social_sign_in(ctx, profile).await?;
    Ok(Reply::ok(signed.body).cookie(signed.cookie))
}

/// The cookie binding a redirect flow's `state` to the browser that started it.
const STATE_COOKIE: &str = "oauthState";
const STATE_COOKIE_PATH: &str = "/api/v1/oauth/kakao";
const STATE_TTL_SECS: i64 = 600;

fn state_cookie(ctx: &AppContext, state: Option<&str>) -> String {
    let (value, max_age) = state.map_or(("", 0), |s| (s, STATE_TTL_SECS));
    // Lax, not Strict: the callback is a top-level navigation back from Kakao.
    let mut c = format!("{STATE_COOKIE}={value}; Path={STATE_COOKIE_PATH}; Max-Age={max_age}; HttpOnly; SameSite=Lax");
    if ctx.config.cookie_secure {
        c.push_str("; Secure");
    }
    c
}

/// The redirect flow's start: a fresh state in a cookie, then 302 to Kakao.
pub(crate) async fn kakao_authorize(ctx: &AppContext, _req: Req) -> ApiResult<Reply> {
    let Some(kakao) = ctx.config.kakao.as_ref().filter(|k| k.redirect_uri.is_some()) else {
        return Ok(frontend_error(ctx, ErrorCode::OAUTH_EXCHANGE_FAILED));
    };
    let (state, _) = accounts::new_secret();
    let query = form_urlencoded::Serializer::new(String::new())
        .append_pair("response_type", "code")
        .append_pair("client_id", &kakao.client_id)
        .append_pair("redirect_uri", kakao.redirect_uri.as_deref().unwrap_or_default())
        .append_pair("state", &state)
        .finish();
    let sep = if kakao.authorize_url.contains('?') { '&' } else { '?' };
    Ok(Reply::redirect(format!("{}{sep}{query}", kakao.authorize_url)).cookie(state_cookie(ctx, Some(&state))))
}

/// The redirect flow's end: Kakao sends the browser back with `code` and
/// `state`. A state that is not this browser's is refused outright (400: a
/// forged or replayed callback); any later failure goes back to the frontend
/// as `?error=<code>`.
pub(crate) async fn kakao_redirect(ctx: &AppContext, req: Req) -> ApiResult<Reply> {
    let state = req.query("state").unwrap_or_default();
    let expected = req.cookie(STATE_COOKIE).unwrap_or_default();
    let matches = !state.is_empty()
        && aws_lc_rs::constant_time::verify_slices_are_equal(state.as_bytes(), expected.as_bytes()).is_ok();
    if !matches {
        return Err(DomainError::invalid("state", "인증 : 로그인 요청의 state가 일치하지 않습니다.").into());
    }
    let clear_state = state_cookie(ctx, None);
    let outcome = async {
        let kakao = configured(ctx.config.kakao.as_ref(), "Kakao")?;
        let redirect_uri = kakao.redirect_uri.clone().ok_or_else(missing_redirect)?;
        let code = req.query("code").filter(|c| !c.trim().is_empty()).ok_or(ErrorCode::OAUTH_EXCHANGE_FAILED)?;
        let profile = exchange(ctx, kakao, "kakao", code.trim(), &redirect_uri).await?;
        social_sign_in(ctx, profile).await
    }
    .await;
    Ok(match outcome {
        Ok(signed) => Reply::redirect(ctx.config.frontend_url.clone()).cookie(signed.cookie).cookie(clear_state),
        Err(e) => frontend_error(ctx, e.code()).cookie(clear_state),
    })
}

fn frontend_error(ctx: &AppContext, code: ErrorCode) -> Reply {
    Reply::redirect(format!("{}/?error={}", ctx.config.frontend_url, code.name()))
}

fn configured<'a>(provider: Option<&'a OAuthProvider>, name: &str) -> ApiResult<&'a OAuthProvider> {
    provider.ok_or_else(|| {
        DomainError::with_detail(
            ErrorCode::OAUTH_EXCHANGE_FAILED,
            format!("인증 : {name} 로그인이 설정되지 않았습니다."),
        )
        .into()
    })
}

fn missing_redirect() -> ApiError {
    DomainError::invalid("redirectUri", "redirectUri가 필요합니다.").into()
}

fn exchange_failed(provider: &str, e: ProviderError) -> ApiError {
    tracing::warn!(provider, error = %e, "oauth exchange failed");
    ErrorCode::OAUTH_EXCHANGE_FAILED.into()
}

/// Code → provider access token → profile.
async fn exchange(
    ctx: &AppContext,
    p: &OAuthProvider,
    provider: &'static str,
    code: &str,
    redirect_uri: &str,
) -> ApiResult<Profile> {
    let timeout = Duration::from_millis(ctx.config.oauth_timeout_ms);
    let mut form = vec![
        ("grant_type", "authorization_code"),
        ("code", code),
        ("client_id", p.client_id.as_str()),
        ("redirect_uri", redirect_uri),
    ];
    if let Some(secret) = &p.client_secret {
        form.push(("client_secret", secret));
    }
    let token = provider::post_form(&p.token_url, &form, timeout).await.map_err(|e| exchange_failed(provider, e))?;
    let access = token.get("access_token").and_then(Value::as_str).ok_or_else(|| {
        exchange_failed(provider, ProviderError::from("the token answer has no access_token".to_string()))
    })?;
    let info = provider::get_json(&p.userinfo_url, access, timeout).await.map_err(|e| exchange_failed(provider, e))?;
    let profile = match provider {
        "google" => google_profile(&info),
        _ => kakao_profile(&info),
    };
    profile.ok_or_else(|| exchange_failed(provider, ProviderError::from("the user info has no subject".to_string())))
}

/// OpenID Connect user info: `sub`, `email`, `email_verified`, `name`, `picture`.
fn google_profile(info: &Value) -> Option<Profile> {
    Some(Profile {
        provider: "google",
        subject: info.get("sub")?.as_str()?.to_string(),
        email: text(info.get("email")),
        email_verified: truthy(info.get("email_verified")),
        name: text(info.get("name")),
        picture: text(info.get("picture")),
    })
}

/// Kakao's `/v2/user/me`: `id`, and `kakao_account` with `email`,
/// `is_email_verified`, `is_email_valid` and `profile.{nickname, profile_image_url}`.
fn kakao_profile(info: &Value) -> Option<Profile> {
    let id = info.get("id")?;
    let subject = id.as_i64().map(|n| n.to_string()).or_else(|| id.as_str().map(str::to_string))?;
    let account = info.get("kakao_account").cloned().unwrap_or(Value::Null);
    let profile = account.get("profile").cloned().unwrap_or(Value::Null);
    let valid = account.get("is_email_valid").is_none_or(|v| truthy(Some(v)));
    Some(Profile {
        provider: "kakao",
        subject,
        email: text(account.get("email")),
        email_verified: valid && truthy(account.get("is_email_verified")),
        name: text(profile.get("nickname")),
        picture: text(profile.get("profile_image_url")),
    })
}

fn text(v: Option<&Value>) -> Option<String> {
    v.and_then(Value::as_str).map(str::trim).filter(|s| !s.is_empty()).map(str::to_string)
}

/// `true` or `"true"` (providers differ).
fn truthy(v: Option<&Value>) -> bool {
    matches!(v, Some(Value::Bool(true))) || v.and_then(Value::as_str) == Some("true")
}

/// Rounds of "read, decide, write" before giving up; a round is lost only to
/// a concurrent login or signup with the same identity, email or nickname.
const SOCIAL_ATTEMPTS: usize = 6;

async fn social_sign_in(ctx: &AppContext, profile: Profile) -> ApiResult<SignedIn> {
    let email =
        profile.email.as_deref().filter(|e| user::valid_email(e)).map(user::normalize_email).ok_or_else(|| {
            DomainError::with_detail(
                ErrorCode::OAUTH_EXCHANGE_FAILED,
                "인증 : 소셜 계정의 이메일 제공 동의가 필요합니다.",
            )
        })?;
    let mut nick_attempt = 0;
    for _ in 0..SOCIAL_ATTEMPTS {
        let linked = accounts::identity_owner(&*ctx.table, profile.provider, &profile.subject).await?;
        let owner = match repo::user_id_by_email(&*ctx.table, &email).await? {
            Some(id) => repo::get_user(&*ctx.table, id).await?,
            None => None,
        };
        let decision =
            social_login(linked, owner.as_ref().map(|u| (u.user_id, u.email_verified)), profile.email_verified);
        let user = match decision {
            SocialLogin::SignIn(id) => match repo::get_user(&*ctx.table, id).await? {
                Some(u) => u,
                None => return Err(ErrorCode::OAUTH_EXCHANGE_FAILED.into()),
            },
            SocialLogin::Link(id) => {
                match ctx.table.transact(accounts::link_identity(profile.provider, &profile.subject, id)).await {
                    Ok(()) => owner.ok_or(ErrorCode::OAUTH_EXCHANGE_FAILED)?,
                    Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            SocialLogin::Create => {
                let mut user = User::new(
                    keys::next_id(),
                    &email,
                    &generated_nickname(profile.name.as_deref(), nick_attempt, rand::random()),
                    String::new(), // no password: a reset mail can set one
                    Utc::now(),
                );
                user.email_verified = profile.email_verified;
                user.profile_image = profile.picture.clone();
                match ctx.table.transact(accounts::create_social_user(&user, profile.provider, &profile.subject)).await
                {
                    Ok(()) => user,
                    Err(StoreError::ConditionFailed { index: repo::CREATE_USER_NICK_OP }) => {
                        nick_attempt += 1;
                        continue;
                    }
                    Err(StoreError::ConditionFailed { .. } | StoreError::Conflict) => continue,
                    Err(e) => return Err(e.into()),
                }
            }
            SocialLogin::EmailTaken => {
                return Err(DomainError::with_detail(
                    ErrorCode::ALREADY_EXISTS_USER,
                    "회원 : 이 이메일로 가입된 계정이 있습니다. 소셜 계정의 이메일이 인증되지 않아 연결할 수 없습니다.",
                )
                .into())
            }
            SocialLogin::AccountUnverified => {
                return Err(DomainError::with_detail(
                    ErrorCode::EMAIL_NOT_VERIFIED,
                    "회원 : 이메일 인증을 마친 뒤 소셜 계정을 연결할 수 있습니다.",
                )
                .into())
            }
        };
        if user.is_withdrawn() {
            return Err(ErrorCode::DELETED_USER.into());
        }
        if ctx.config.require_email_verification && !user.email_verified {
            return Err(ErrorCode::EMAIL_NOT_VERIFIED.into());
        }
        return sign_in(ctx, &user, vec![]).await;
    }
    Err(ErrorCode::DATA_INTEGRITY_VIOLATION.into())
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn provider_documents_become_profiles() {
        let g = google_profile(
            &json!({"sub": "1", "email": "a@b.com", "email_verified": "true", "name": "A", "picture": "http://p"}),
        )
        .unwrap();
        assert_eq!((g.subject.as_str(), g.email_verified, g.picture.as_deref()), ("1", true, Some("http://p")));
        assert!(google_profile(&json!({"email": "a@b.com"})).is_none(), "no subject");
        let k = kakao_profile(
            &json!({"id": 42, "kakao_account": {"email": "k@b.com", "is_email_verified": true, "is_email_valid": true,
            "profile": {"nickname": "카카오", "profile_image_url": "http://k"}}}),
        )
        .unwrap();
        assert_eq!((k.subject.as_str(), k.email.as_deref(), k.email_verified), ("42", Some("k@b.com"), true));
        assert_eq!(k.name.as_deref(), Some("카카오"));
        let invalid = kakao_profile(&json!({"id": 42, "kakao_account": {"email": "k@b.com", "is_email_verified": true, "is_email_valid": false}}))
            .unwrap();
        assert!(!invalid.email_verified, "an address Kakao marks invalid is not vouched for");
        let bare = kakao_profile(&json!({"id": 42})).unwrap();
        assert_eq!((bare.email, bare.email_verified), (None, false));
    }
}
