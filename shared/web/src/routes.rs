//! Route keys and path matching, shared by the functions' dispatch, the
//! catch-all 404/405 and moim-local (which reads the routes from template.yaml).

/// Every HTTP route the product serves, as API Gateway route keys. A test
/// checks this list against template.yaml and against the functions' tables.
pub const CATALOG: &[&str] = &[
    "POST /api/v1/auth/signup",
    "POST /api/v1/auth/login",
    "POST /api/v1/auth/refresh",
    "POST /api/v1/auth/logout",
    "DELETE /api/v1/auth/withdraw",
    "POST /api/v1/auth/google",
    "GET /api/v1/oauth/kakao/authorize",
    "GET /api/v1/oauth/kakao/callback",
    "POST /api/v1/oauth/kakao/callback",
    "POST /api/v1/users/signup/verify",
    "POST /api/v1/users/signup/verify/resend",
    "POST /api/v1/users/password/change/link-send",
    "POST /api/v1/users/password/change",
    "GET /api/v1/users/me",
    "GET /api/v1/users/{userId}",
    "PATCH /api/v1/users/profile",
    "PATCH /api/v1/users/notification",
    "GET /api/v1/users/email/availability",
    "GET /api/v1/users/nickname/availability",
    "POST /api/v1/users/follow",
    "DELETE /api/v1/users/unfollow",
    "GET /api/v1/users/{userId}/follow",
    "GET /api/v1/users/{userId}/follower",
    "POST /api/v2/groups/images/upload",
    "POST /api/v2/groups/images/presign",
    "PATCH /api/v1/users/profile-image",
    "POST /api/v2/groups/create",
    "GET /api/v2/groups",
    "GET /api/v2/groups/me",
    "GET /api/v2/groups/{groupId}",
    "PATCH /api/v2/groups/{groupId}",
    "DELETE /api/v2/groups/{groupId}",
    "POST /api/v2/groups/{groupId}/attend",
    "POST /api/v2/groups/{groupId}/left",
    "GET /api/v2/groups/{groupId}/attendance",
    "POST /api/v2/groups/{groupId}/attendance/{targetUserId}/approve",
    "POST /api/v2/groups/{groupId}/attendance/{targetUserId}/reject",
    "POST /api/v2/groups/{groupId}/attendance/{targetUserId}/kick",
    "POST /api/v2/groups/{groupId}/attendance/{targetUserId}/ban",
    "POST /api/v2/groups/{groupId}/attendance/{targetUserId}/unban",
    "GET /api/v2/groups/{groupId}/attendance/kick-targets",
    "GET /api/v2/groups/{groupId}/attendance/ban-targets",
    "GET /api/v2/groups/{groupId}/attendance/banned-targets",
    "GET /api/v1/notifications",
    "GET /api/v1/notifications/unread-count",
    "POST /api/v1/notifications/{id}/read",
    "POST /api/v1/notifications/read-all",
    "DELETE /api/v1/notifications/{id}",
    "DELETE /api/v1/notifications",
    "GET /api/v1/chat/rooms",
    "POST /api/v1/chat/dm",
    "GET /api/v1/chat/rooms/{roomId}",
    "GET /api/v1/chat/rooms/{roomId}/messages",
    "PUT /api/v1/chat/rooms/{roomId}/read",
    "GET /api/v1/chat/rooms/{roomId}/participants",
    "POST /api/v1/chat/rooms/{roomId}/kick",
];

/// The route key of API Gateway's catch-all route.
pub const DEFAULT_ROUTE: &str = "$default";

/// Splits a route key into (method, path pattern).
pub fn split_key(key: &str) -> (&str, &str) {
    key.split_once(' ').unwrap_or(("", key))
}

/// Matches a path against a pattern with `{name}` segments; returns the
/// captured parameters, or None.
pub fn match_path(pattern: &str, path: &str) -> Option<Vec<(String, String)>> {
    let pat: Vec<&str> = pattern.trim_matches('/').split('/').collect();
    let segs: Vec<&str> = path.trim_matches('/').split('/').collect();
    if pat.len() != segs.len() {
        return None;
    }
    let mut params = Vec::new();
    for (p, s) in pat.iter().zip(&segs) {
        if let Some(name) = p.strip_prefix('{').and_then(|p| p.strip_suffix('}')) {
            if s.is_empty() {
                return None;
            }
            params.push((name.to_string(), percent_decode(s)));
        } else if p != s {
            return None;
        }
    }
    Some(params)
}

/// Specificity of a pattern, as API Gateway ranks routes: literal segments win
/// over parameters, earlier segments first.
pub fn specificity(pattern: &str) -> Vec<u8> {
    pattern.trim_matches('/').split('/').map(|s| if s.starts_with('{') { 0 } else { 1 }).collect()
}

/// A matched route key with its path parameters.
pub type Resolved<'a> = (&'a str, Vec<(String, String)>);

/// Finds the most specific route key among `keys` for a method and path, with its
/// parameters. `Err(true)` = the path exists under another method (405).
pub fn resolve<'a>(keys: impl IntoIterator<Item = &'a str>, method: &str, path: &str) -> Result<Resolved<'a>, bool> {
    let mut best: Option<Resolved<'a>> = None;
    let mut path_known = false;
    for key in keys {
        let (m, pattern) = split_key(key);
        let Some(params) = match_path(pattern, path) else { continue };
        path_known = true;
        if !m.eq_ignore_ascii_case(method) && m != "ANY" {
            continue;
        }
        if best.as_ref().is_none_or(|(b, _)| specificity(pattern) > specificity(split_key(b).1)) {
            best = Some((key, params));
        }
    }
    best.ok_or(path_known)
}

/// Whether a more specific resource than `key`'s pattern is at `path`: API
/// Gateway routes `DELETE /notifications/read-all` to `DELETE /notifications/{id}`
/// because no DELETE is literal there, but the resource at that path is
/// `read-all`, which has no DELETE: the answer is its 405, as the spec says.
pub fn shadowed(key: &str, path: &str) -> bool {
    let own = specificity(split_key(key).1);
    CATALOG
        .iter()
        .map(|k| split_key(k).1)
        .any(|pattern| match_path(pattern, path).is_some() && specificity(pattern) > own)
}

/// The methods of the resource at `path`, sorted: the `Allow` header of a 405
/// (RFC 9110 §15.5.6). The resource is the most specific pattern matching the
/// path, as the spec documents it: `/notifications/read-all` allows POST only,
/// although a DELETE there still reaches `DELETE /notifications/{id}` (and its
/// 400), as API Gateway routes it.
pub fn allowed_methods<'a>(keys: impl IntoIterator<Item = &'a str>, path: &str) -> Vec<&'a str> {
    let matching: Vec<(&str, &str)> =
        keys.into_iter().map(split_key).filter(|(_, pattern)| match_path(pattern, path).is_some()).collect();
    let Some(best) = matching.iter().map(|(_, pattern)| specificity(pattern)).max() else { return vec![] };
    let mut methods: Vec<&str> =
        matching.into_iter().filter(|(_, pattern)| specificity(pattern) == best).map(|(m, _)| m).collect();
    methods.sort_unstable();
    methods.dedup();
    methods
}

fn percent_decode(s: &str) -> String {
    let bytes = s.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%' && i + 2 < bytes.len() {
            if let Ok(b) = u8::from_str_radix(&s[i + 1..i + 3], 16) {
                out.push(b);
                i += 3;
                continue;
            }
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn literal_routes_win_over_parameters() {
        let (k, p) = resolve(CATALOG.iter().copied(), "GET", "/api/v1/users/me").unwrap();
        assert_eq!(k, "GET /api/v1/users/me");
        assert!(p.is_empty());
        let (k, p) = resolve(CATALOG.iter().copied(), "GET", "/api/v1/users/12").unwrap();
        assert_eq!(k, "GET /api/v1/users/{userId}");
        assert_eq!(p, [("userId".to_string(), "12".to_string())]);
        let (k, _) = resolve(CATALOG.iter().copied(), "GET", "/api/v1/users/email/availability").unwrap();
        assert_eq!(k, "GET /api/v1/users/email/availability");
        let (k, _) = resolve(CATALOG.iter().copied(), "GET", "/api/v1/users/7/follower").unwrap();
        assert_eq!(k, "GET /api/v1/users/{userId}/follower");
    }

    #[test]
    fn unknown_paths_and_methods() {
        assert!(!resolve(CATALOG.iter().copied(), "GET", "/api/v1/nope").unwrap_err(), "unknown path: 404");
        assert!(resolve(CATALOG.iter().copied(), "GET", "/api/v1/auth/login").unwrap_err(), "other method: 405");
        assert!(resolve(CATALOG.iter().copied(), "DELETE", "/api/v1/users/me").unwrap_err(), "other method: 405");
    }

    #[test]
    fn allow_names_the_methods_of_the_most_specific_resource() {
        let allow = |path| allowed_methods(CATALOG.iter().copied(), path);
        assert_eq!(allow("/api/v1/notifications/read-all"), ["POST"]);
        assert_eq!(allow("/api/v2/groups/create"), ["POST"]);
        assert_eq!(allow("/api/v2/groups/12"), ["DELETE", "GET", "PATCH"]);
        assert_eq!(allow("/api/v1/users/profile"), ["PATCH"]);
        assert!(allow("/api/v1/nope").is_empty());
    }

    #[test]
    fn a_parameter_route_does_not_serve_a_literal_resource() {
        assert!(shadowed("DELETE /api/v1/notifications/{id}", "/api/v1/notifications/read-all"));
        assert!(shadowed("GET /api/v1/users/{userId}", "/api/v1/users/profile"));
        assert!(!shadowed("DELETE /api/v1/notifications/{id}", "/api/v1/notifications/12"));
        assert!(!shadowed("GET /api/v1/users/me", "/api/v1/users/me"));
        assert!(!shadowed("GET /api/v1/users/{userId}", "/api/v1/users/abc"), "a bad id is the route's own 400");
    }

    #[test]
    fn parameters_are_percent_decoded() {
        let p = match_path("/a/{x}", "/a/b%20c").unwrap();
        assert_eq!(p[0].1, "b c");
    }
}
