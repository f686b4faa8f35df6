//! SockJS framing for the raw websocket transport: <https://github.com/sockjs/sockjs-protocol>.

use std::fmt;

/// Open frame, sent once when the session starts.
pub fn sockjs_open() -> &'static str {
    "o"
}

/// Heartbeat frame; SockJS clients expect one about every 25 s.
pub fn sockjs_heartbeat() -> &'static str {
    "h"
}

/// Message frame `a[...]` carrying `msgs` as JSON strings (NUL becomes `\u0000`).
pub fn sockjs_array(msgs: &[&str]) -> String {
    // Serialising strings cannot fail; the fallback only keeps this free of unwrap.
    let json = serde_json::to_string(msgs).unwrap_or_else(|_| String::from("[]"));
    let mut out = String::with_capacity(json.len() + 1);
    out.push('a');
    out.push_str(&json);
    out
}

/// Close frame, e.g. `c[3000,"Go away!"]`. After broken client framing send `c[3000,"Broken framing."]`
/// (what sockjs-node sends) and close the socket.
pub fn sockjs_close(code: u16, reason: &str) -> String {
    let reason = serde_json::to_string(reason).unwrap_or_else(|_| String::from("\"\""));
    format!("c[{code},{reason}]")
}

/// Decodes one client websocket message: a JSON array of strings, or a single JSON string.
/// An empty message (or `[]`) carries nothing. Anything else is broken framing and the server
/// should close the session.
pub fn sockjs_decode(msg: &str) -> Result<Vec<String>, SockJsError> {
    if msg.is_empty() {
        return Ok(Vec::new());
    }
    // sockjs-node treats a payload starting with `[` as a batch; anything else is one message.
    let decoded = if msg.trim_start_matches([' ', '\t', '\n', '\r']).starts_with('[') {
        serde_json::from_str::<Vec<String>>(msg)
    } else {
        serde_json::from_str::<String>(msg).map(|s| vec![s])
    };
    decoded.map_err(SockJsError)
}

/// A client message that is not valid SockJS framing. `Display` never echoes the input.
#[derive(Debug)]
pub struct SockJsError(serde_json::Error);

impl fmt::Display for SockJsError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("broken SockJS framing")
    }
}

impl std::error::Error for SockJsError {
    fn source(&self) -> Option<&(dyn std::error::Error + 'static)> {
        Some(&self.0)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::{parse_frames, Frame};
    use proptest::prelude::*;

    /// What a SockJS client does with an `a` frame.
    fn client_receive(frame: &str) -> Vec<String> {
        let json = frame.strip_prefix('a').expect("array frame");
        serde_json::from_str(json).expect("valid JSON array")
    }

    #[test]
    fn control_frames() {
        assert_eq!(sockjs_open(), "o");
        assert_eq!(sockjs_heartbeat(), "h");
        assert_eq!(sockjs_close(3000, "Go away!"), r#"c[3000,"Go away!"]"#);
        assert_eq!(sockjs_close(3000, "Broken framing."), r#"c[3000,"Broken framing."]"#);
        assert_eq!(sockjs_close(1002, "say \"hi\"\n"), r#"c[1002,"say \"hi\"\n"]"#);
    }

    #[test]
    fn array_frame_exact_bytes() {
        let connected = Frame::new("CONNECTED").with_header("version", "1.2").with_header("heart-beat", "0,0");
        assert_eq!(sockjs_array(&[&connected.encode()]), r#"a["CONNECTED\nversion:1.2\nheart-beat:0,0\n\n\u0000"]"#);
        assert_eq!(sockjs_array(&["a", "b\"c"]), r#"a["a","b\"c"]"#);
        assert_eq!(sockjs_array(&[]), "a[]");
    }

    #[test]
    fn korean_text_round_trips() {
        let msg = Frame::new("MESSAGE")
            .with_header("destination", "/sub/chat/room/5")
            .with_body(r#"{"content":"안녕하세요, 모임!"}"#)
            .encode();
        let frame = sockjs_array(&[&msg]);
        assert!(frame.contains("안녕하세요"), "non-ASCII is sent as is: {frame}");
        assert_eq!(client_receive(&frame), std::slice::from_ref(&msg));
        assert_eq!(sockjs_decode(&frame[1..]).expect("decodes"), [msg]);
    }

    #[test]
    fn stompjs_client_messages() {
        // Exactly what stompjs over sockjs-client writes to the socket.
        let connect =
            r#"["CONNECT\naccept-version:1.2,1.1,1.0\nheart-beat:4000,4000\nAuthorization:Bearer abc.def\n\n\u0000"]"#;
        let msgs = sockjs_decode(connect).expect("decodes");
        assert_eq!(
            msgs,
            ["CONNECT\naccept-version:1.2,1.1,1.0\nheart-beat:4000,4000\nAuthorization:Bearer abc.def\n\n\0"]
        );
        let frames = parse_frames(&msgs[0]).expect("parses");
        assert_eq!(frames[0].header("Authorization"), Some("Bearer abc.def"));

        let send = r#"["SEND\ndestination:/pub/chat/message\ncontent-length:36\n\n{\"chatRoomId\":55,\"content\":\"안녕\"}\u0000"]"#;
        let msgs = sockjs_decode(send).expect("decodes");
        let frames = parse_frames(&msgs[0]).expect("parses");
        assert_eq!(frames[0].body, r#"{"chatRoomId":55,"content":"안녕"}"#);
        assert_eq!(frames[0].header("content-length"), Some(frames[0].body.len().to_string().as_str()));

        // A client heartbeat is a bare EOL inside the envelope.
        let msgs = sockjs_decode(r#"["\n"]"#).expect("decodes");
        assert_eq!(parse_frames(&msgs[0]), Ok(vec![]));
    }

    #[test]
    fn decode_accepts_arrays_and_single_strings() {
        assert_eq!(sockjs_decode(r#"["a","b"]"#).expect("decodes"), ["a", "b"]);
        assert_eq!(sockjs_decode(r#" [ "a" ] "#).expect("decodes"), ["a"]);
        assert_eq!(sockjs_decode(r#""one\u0000""#).expect("decodes"), ["one\0"]);
        assert_eq!(sockjs_decode(r#""[1]""#).expect("decodes"), ["[1]"]);
        assert!(sockjs_decode("").expect("decodes").is_empty());
        assert!(sockjs_decode("[]").expect("decodes").is_empty());
    }

    #[test]
    fn decode_rejects_broken_framing() {
        for msg in ["[", r#"["a""#, "[1]", r#"["a",null]"#, r#"[["a"]]"#, "{}", "123", "null", " ", "a", r#"["a"]x"#] {
            let err = sockjs_decode(msg).expect_err(msg);
            assert_eq!(err.to_string(), "broken SockJS framing");
            assert!(std::error::Error::source(&err).is_some());
        }
    }

    proptest! {
        #[test]
        fn array_round_trip(msgs in prop::collection::vec("\\PC*|[\0-\u{1f}\"\\\\\u{2028}\u{2029}]*", 0..5)) {
            let refs: Vec<&str> = msgs.iter().map(String::as_str).collect();
            let frame = sockjs_array(&refs);
            prop_assert_eq!(&client_receive(&frame), &msgs);
            prop_assert_eq!(sockjs_decode(&frame[1..]).expect("decodes"), msgs);
        }

        #[test]
        fn close_reason_round_trip(code: u16, reason in "\\PC*") {
            let frame = sockjs_close(code, &reason);
            let json: serde_json::Value = serde_json::from_str(&frame[1..]).expect("valid JSON");
            prop_assert_eq!(json, serde_json::json!([code, reason]));
        }

        #[test]
        fn arbitrary_input_never_panics(input in "\\PC{0,200}|[\\[\\]\"\\\\u0-9, ]{0,50}") {
            let _ = sockjs_decode(&input);
        }
    }
}
