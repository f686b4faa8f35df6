//! Sequential storage round trips per endpoint: of the calls an endpoint makes
//! (counted in storage_calls.rs), how many wait for one another. Independent
//! reads go out together (e.g. the caller's user beside the group), so a
//! request's latency follows this number, not the call count. A handler that
//! starts awaiting reads one by one fails here; update bench/REPORT.md with it.

mod common;

use common::{rig, Rig};
use moim_web::Route;

struct Case {
    routes: &'static [Route],
    route: &'static str,
    path: String,
    query: &'static str,
    who: Option<usize>,
    body: String,
    /// (status, storage calls, sequential round trips)
    expect: (u64, usize, usize),
}

fn case(
    routes: &'static [Route],
    route: &'static str,
    path: String,
    who: Option<usize>,
    expect: (u64, usize, usize),
) -> Case {
    Case { routes, route, path, query: "", who, body: String::new(), expect }
}

/// A write: run in order after the reads, on the state they leave.
fn write(
    routes: &'static [Route],
    route: &'static str,
    path: String,
    query: &'static str,
    body: String,
    who: usize,
    expect: (u64, usize, usize),
) -> Case {
    Case { routes, route, path, query, who: Some(who), body, expect }
}

async fn login(r: &Rig, email: &str, nick: &str) -> (String, i64) {
    let auth = moim_auth::ROUTES;
    let body = format!(r#"{{"email":"{email}","password":"password1!","nickName":"{nick}"}}"#);
    r.call(auth, "POST /api/v1/auth/signup", "/api/v1/auth/signup", "", &[], &body).await;
    let login = format!(r#"{{"email":"{email}","password":"password1!"}}"#);
    let (_, b, _, _) = r.call(auth, "POST /api/v1/auth/login", "/api/v1/auth/login", "", &[], &login).await;
    (format!("Bearer {}", b["data"]["accessToken"].as_str().unwrap()), b["data"]["user"]["userId"].as_i64().unwrap())
}

#[tokio::test]
async fn independent_reads_are_issued_together() {
    let r = rig();
    let (users, groups, notes, chat) =
        (moim_users::ROUTES, moim_groups::ROUTES, moim_notifications::ROUTES, moim_chat::ROUTES);
    let (host, host_id) = login(&r, "h@b.com", "Host").await;
    let (member, _) = login(&r, "m@b.com", "Member").await;
    let tokens = [host.clone(), member.clone()];
    let h = |t: &str| [("authorization", t.to_string())];
    let start = (chrono::Utc::now() + chrono::Duration::days(2)).format("%Y-%m-%dT%H:%M:%S").to_string();
    let body = format!(
        r#"{{"title":"t","location":"l","startTime":"{start}","description":"d","maxParticipants":4,"joinPolicy":"FREE"}}"#
    );
    let hh = h(&host);
    let hh: Vec<(&str, &str)> = hh.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let (_, b, _, _) = r.call(groups, "POST /api/v2/groups/create", "/api/v2/groups/create", "", &hh, &body).await;
    let gid = b["data"]["id"].as_i64().unwrap();
    let mh = h(&member);
    let mh: Vec<(&str, &str)> = mh.iter().map(|(k, v)| (*k, v.as_str())).collect();
    let attend = "POST /api/v2/groups/{groupId}/attend";
    r.call(groups, attend, &format!("/api/v2/groups/{gid}/attend"), "", &mh, "").await;
    let (_, b, _, _) =
        r.call(groups, "GET /api/v2/groups/{groupId}", &format!("/api/v2/groups/{gid}"), "", &hh, "").await;
    let room = b["data"]["chatRoomId"].as_i64().unwrap();
    r.call(users, "POST /api/v1/users/follow", "/api/v1/users/follow", "followNickname=Host", &mh, "").await;
    // The member's two followers, notified together when the member creates a group.
    let (fan, _) = login(&r, "f@b.com", "Fan").await;
    for follower in [&host, &fan] {
        let fh = [("authorization", follower.as_str())];
        r.call(users, "POST /api/v1/users/follow", "/api/v1/users/follow", "followNickname=Member", &fh, "").await;
        let on = "isNotificationEnabled=true";
        r.call(users, "PATCH /api/v1/users/notification", "/api/v1/users/notification", on, &fh, "").await;
    }

    // Left sequential on purpose: my groups read the memberships, then their groups;
    // a room list reads the participations, then each room (room, participants,
    // newest messages together), then a group room's group; a room reads itself,
    // then its group.
    let cases = [
        case(users, "GET /api/v1/users/me", "/api/v1/users/me".into(), Some(0), (200, 1, 1)),
        case(users, "GET /api/v1/users/{userId}", format!("/api/v1/users/{host_id}"), Some(1), (200, 3, 1)),
        case(groups, "GET /api/v2/groups", "/api/v2/groups".into(), None, (200, 8, 1)),
        case(groups, "GET /api/v2/groups/{groupId}", format!("/api/v2/groups/{gid}"), None, (200, 1, 1)),
        case(groups, "GET /api/v2/groups/{groupId}", format!("/api/v2/groups/{gid}"), Some(1), (200, 2, 1)),
        case(groups, "GET /api/v2/groups/me", "/api/v2/groups/me".into(), Some(1), (200, 3, 2)),
        case(notes, "GET /api/v1/notifications", "/api/v1/notifications".into(), Some(0), (200, 2, 1)),
        case(
            notes,
            "GET /api/v1/notifications/unread-count",
            "/api/v1/notifications/unread-count".into(),
            Some(0),
            (200, 2, 1),
        ),
        case(chat, "GET /api/v1/chat/rooms", "/api/v1/chat/rooms".into(), Some(1), (200, 6, 3)),
        case(chat, "GET /api/v1/chat/rooms/{roomId}", format!("/api/v1/chat/rooms/{room}"), Some(1), (200, 4, 2)),
        case(
            chat,
            "GET /api/v1/chat/rooms/{roomId}/messages",
            format!("/api/v1/chat/rooms/{room}/messages"),
            Some(1),
            (200, 4, 1),
        ),
        // Writes: the caller beside the first read; then what depends on it (the
        // coalesced notice's unread check, the transaction); then the room's live
        // update (one subscriber read) beside the notifications' pushes.
        // left: caller + group, notice, transact, room ∥ host's push.
        // attend: the same chain (its SYSTEM message, the host's notice).
        // create: caller + cooldown + follower list, the two followers' users,
        // transact, both followers' pushes together.
        // unfollow: caller + (nickname, user), transact.
        // follow: caller + (nickname, user), transact, the followee's push.
        // read-all: caller + unread set, transact.
        // profile (the member is in two groups): caller + the nickname's holder,
        // transact, memberships ∥ the answer's user, the user ∥ both groups,
        // both groups' transactions together.
        write(
            groups,
            "POST /api/v2/groups/{groupId}/left",
            format!("/api/v2/groups/{gid}/left"),
            "",
            String::new(),
            1,
            (200, 6, 4),
        ),
        write(
            groups,
            "POST /api/v2/groups/{groupId}/attend",
            format!("/api/v2/groups/{gid}/attend"),
            "",
            String::new(),
            1,
            (200, 6, 4),
        ),
        write(groups, "POST /api/v2/groups/create", "/api/v2/groups/create".into(), "", body.clone(), 1, (201, 8, 4)),
        write(
            users,
            "DELETE /api/v1/users/unfollow",
            "/api/v1/users/unfollow".into(),
            "unFollowNickname=Host",
            String::new(),
            1,
            (200, 4, 3),
        ),
        write(
            users,
            "POST /api/v1/users/follow",
            "/api/v1/users/follow".into(),
            "followNickname=Host",
            String::new(),
            1,
            (201, 5, 4),
        ),
        write(
            users,
            "PATCH /api/v1/users/profile",
            "/api/v1/users/profile".into(),
            "",
            r#"{"nickName":"Member2"}"#.into(),
            1,
            (200, 10, 5),
        ),
        write(
            notes,
            "POST /api/v1/notifications/read-all",
            "/api/v1/notifications/read-all".into(),
            "",
            String::new(),
            0,
            (204, 3, 2),
        ),
    ];
    let mut table =
        String::from("| endpoint | caller | status | storage calls | sequential |\n|---|---|---:|---:|---:|\n");
    let mut wrong = Vec::new();
    for c in &cases {
        let auth = c.who.map(|i| h(&tokens[i]));
        let headers: Vec<(&str, &str)> = auth.iter().flatten().map(|(k, v)| (*k, v.as_str())).collect();
        let got = r.call_sequential(c.routes, c.route, &c.path, c.query, &headers, &c.body).await;
        let who = match c.who {
            None => "anonymous",
            Some(0) => "host",
            Some(_) => "member",
        };
        table += &format!("| `{}` | {who} | {} | {} | {} |\n", c.route, got.0, got.1, got.2);
        if got != c.expect {
            wrong.push(format!("{} as {who}: got {got:?}, expected {:?}", c.route, c.expect));
        }
    }
    println!("{table}");
    assert!(wrong.is_empty(), "{}\n{table}", wrong.join("\n"));
}
