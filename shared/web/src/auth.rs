//! JWTs (HS256 pinned, issuer and expiry required) and the refresh cookie.

use jsonwebtoken::{decode, encode, errors::ErrorKind, Algorithm, DecodingKey, EncodingKey, Header, Validation};
use moim_domain::{DomainError, ErrorCode};
use serde::{Deserialize, Serialize};

pub const ACCESS_TTL_SECS: i64 = 3600;
pub const REFRESH_TTL_SECS: i64 = 7 * 24 * 3600;
pub const REFRESH_COOKIE: &str = "refreshToken";

#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum TokenType {
    Access,
    Refresh,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
pub struct Claims {
    pub iss: String,
    pub sub: String,
    #[serde(rename = "type")]
    pub typ: TokenType,
    pub iat: i64,
    pub exp: i64,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl Claims {
    /// The user id in `sub`.
    pub fn user_id(&self) -> Result<i64, DomainError> {
        self.sub.parse().map_err(|_| DomainError::new(ErrorCode::INVALID_TOKEN))
    }
}

pub struct Tokens {
    encoding: EncodingKey,
    decoding: DecodingKey,
    validation: Validation,
    issuer: String,
}

/// A freshly issued token with its expiry (epoch seconds).
#[derive(Debug, Clone)]
pub struct Issued {
    pub token: String,
    pub expires_at: i64,
}

impl Tokens {
    pub fn new(secret: &[u8], issuer: &str) -> Tokens {
        let mut validation = Validation::new(Algorithm::HS256);
        validation.set_issuer(&[issuer]);
        validation.set_required_spec_claims(&["exp", "iss", "sub"]);
        validation.leeway = 5;
        Tokens {
            encoding: EncodingKey::from_secret(secret),
            decoding: DecodingKey::from_secret(secret),
            validation,
            issuer: issuer.to_string(),
        }
    }

    fn issue(&self, user_id: i64, typ: TokenType, ttl: i64, jti: Option<String>, now: i64) -> Issued {
        let claims = Claims { iss: self.issuer.clone(), sub: user_id.to_string(), typ, iat: now, exp: now + ttl, jti };
        // Encoding HS256 with a valid key cannot fail.
        let token = encode(&Header::new(Algorithm::HS256), &claims, &self.encoding).unwrap_or_default();
        Issued { token, expires_at: now + ttl }
    }

    pub fn access(&self, user_id: i64, now: i64) -> Issued {
        self.issue(user_id, TokenType::Access, ACCESS_TTL_SECS, None, now)
    }

    pub fn refresh(&self, user_id: i64, jti: &str, now: i64) -> Issued {
        self.issue(user_id, TokenType::Refresh, REFRESH_TTL_SECS, Some(jti.to_string()), now)
    }

    /// Verifies signature (HS256 only), issuer, expiry and the token type.
    pub fn verify(&self, token: &str, typ: TokenType) -> Result<Claims, DomainError> {
        let data = decode::<Claims>(token, &self.decoding, &self.validation).map_err(|e| match e.kind() {
            ErrorKind::ExpiredSignature => DomainError::new(ErrorCode::EXPIRED_TOKEN),
            _ => DomainError::new(ErrorCode::INVALID_TOKEN),
        })?;
        if data.claims.typ != typ {
            return Err(DomainError::new(ErrorCode::INVALID_TOKEN));
        }
        Ok(data.claims)
    }
}

/// `Set-Cookie` for the refresh token; `None` clears it (same attributes, Max-Age=0).
pub fn refresh_cookie(token: Option<&str>, domain: Option<&str>, secure: bool) -> String {
    let (value, max_age) = match token {
        Some(t) => (t, REFRESH_TTL_SECS),
        None => ("", 0),
    };
    let mut c = format!("{REFRESH_COOKIE}={value}; Path=/; Max-Age={max_age}; HttpOnly; SameSite=Strict");
    if let Some(d) = domain {
        c.push_str(&format!("; Domain={d}"));
    }
    if secure {
        c.push_str("; Secure");
    }
    c
}

/// The value of a cookie in a `Cookie` header.
pub fn cookie_value<'a>(header: &'a str, name: &str) -> Option<&'a str> {
    header.split(';').find_map(|kv| {
        let (k, v) = kv.trim().split_once('=')?;
        (k == name).then_some(v)
    })
}

#[cfg(test)]
mod tests {
    use super::*;
    use base64::Engine as _;

    fn tokens() -> Tokens {
        Tokens::new(b"0123456789abcdef0123456789abcdef", "moim")
    }
    fn now() -> i64 {
        chrono::Utc::now().timestamp()
    }

    #[test]
    fn access_token_round_trips() {
        let t = tokens();
        let issued = t.access(42, now());
        let c = t.verify(&issued.token, TokenType::Access).unwrap();
        assert_eq!(c.user_id().unwrap(), 42);
        assert_eq!(issued.expires_at - now(), ACCESS_TTL_SECS);
    }

    #[test]
    fn wrong_type_wrong_key_wrong_issuer_and_expiry_are_refused() {
        let t = tokens();
        let refresh = t.refresh(1, "j", now());
        assert_eq!(t.verify(&refresh.token, TokenType::Access).unwrap_err().code, ErrorCode::INVALID_TOKEN);
        let other_key = Tokens::new(b"ffffffffffffffffffffffffffffffff", "moim").access(1, now());
        assert_eq!(t.verify(&other_key.token, TokenType::Access).unwrap_err().code, ErrorCode::INVALID_TOKEN);
        let other_iss = Tokens::new(b"0123456789abcdef0123456789abcdef", "evil").access(1, now());
        assert_eq!(t.verify(&other_iss.token, TokenType::Access).unwrap_err().code, ErrorCode::INVALID_TOKEN);
        let old = t.access(1, now() - 2 * ACCESS_TTL_SECS);
        assert_eq!(t.verify(&old.token, TokenType::Access).unwrap_err().code, ErrorCode::EXPIRED_TOKEN);
        assert_eq!(t.verify("garbage", TokenType::Access).unwrap_err().code, ErrorCode::INVALID_TOKEN);
    }

    #[test]
    fn alg_none_and_tampered_payloads_are_refused() {
        let t = tokens();
        let good = t.access(1, now()).token;
        let parts: Vec<&str> = good.split('.').collect();
        let b64 = base64::engine::general_purpose::URL_SAFE_NO_PAD;
        let none_header = b64.encode(r#"{"alg":"none","typ":"JWT"}"#);
        assert!(t.verify(&format!("{none_header}.{}.", parts[1]), TokenType::Access).is_err());
        let payload =
            String::from_utf8(b64.decode(parts[1]).unwrap()).unwrap().replace("\"sub\":\"1\"", "\"sub\":\"2\"");
        let tampered = format!("{}.{}.{}", parts[0], b64.encode(payload), parts[2]);
        assert_eq!(t.verify(&tampered, TokenType::Access).unwrap_err().code, ErrorCode::INVALID_TOKEN);
    }

    #[test]
    fn refresh_cookie_attributes() {
        let c = refresh_cookie(Some("abc"), Some("wego.monster"), true);
        assert_eq!(
            c,
            "refreshToken=abc; Path=/; Max-Age=604800; HttpOnly; SameSite=Strict; Domain=wego.monster; Secure"
        );
        let cleared = refresh_cookie(None, None, false);
        assert_eq!(cleared, "refreshToken=; Path=/; Max-Age=0; HttpOnly; SameSite=Strict");
        assert_eq!(cookie_value("a=1; refreshToken=xyz; b=2", REFRESH_COOKIE), Some("xyz"));
        assert_eq!(cookie_value("a=1", REFRESH_COOKIE), None);
    }
}
