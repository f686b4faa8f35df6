//! STOMP 1.2 frames: <https://stomp.github.io/stomp-specification-1.2.html>.

use std::fmt;

/// Largest WebSocket message (after SockJS decoding) [`parse_frames`] accepts, in bytes.
pub const MAX_MESSAGE_BYTES: usize = 64 * 1024;
/// Most headers one frame may carry.
pub const MAX_HEADERS: usize = 64;
/// Longest command or header line, in bytes, not counting the EOL.
pub const MAX_HEADER_LINE_BYTES: usize = 8 * 1024;

/// One STOMP frame. Header names are case-sensitive and kept in wire order, duplicates included.
#[derive(Debug, Clone, PartialEq, Eq, Default)]
pub struct Frame {
    pub command: String,
    pub headers: Vec<(String, String)>,
    pub body: String,
}

impl Frame {
    pub fn new(command: impl Into<String>) -> Self {
        Frame { command: command.into(), headers: Vec::new(), body: String::new() }
    }

    #[must_use]
    pub fn with_header(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.headers.push((name.into(), value.into()));
        self
    }

    #[must_use]
    pub fn with_body(mut self, body: impl Into<String>) -> Self {
        self.body = body.into();
        self
    }

    /// The value of the first header called `name`: STOMP 1.2 says repeated headers after the first are ignored.
    pub fn header(&self, name: &str) -> Option<&str> {
        self.headers.iter().find(|(n, _)| n == name).map(|(_, v)| v.as_str())
    }

    /// Serialises to `COMMAND\n` + headers + `\n` + body + NUL.
    ///
    /// Header names and values are escaped (`\r` `\n` `:` `\`), except in CONNECT/CONNECTED, which
    /// the spec leaves unescaped; there CR and LF (and `:` in names) cannot be represented and are
    /// dropped. NUL has no escape in any frame and is dropped from headers, so a header can never
    /// end the frame early. `command` is written as is and must be a bare token. No `content-length`
    /// is added: a body containing NUL needs one from the caller.
    pub fn encode(&self) -> String {
        let escape = escapes_headers(&self.command);
        let headers_len: usize = self.headers.iter().map(|(n, v)| n.len() + v.len() + 2).sum();
        let mut out = String::with_capacity(self.command.len() + headers_len + self.body.len() + 3);
        out.push_str(&self.command);
        out.push('\n');
        for (name, value) in &self.headers {
            if escape {
                push_escaped(&mut out, name);
                out.push(':');
                push_escaped(&mut out, value);
            } else {
                out.extend(name.chars().filter(|&c| !matches!(c, '\r' | '\n' | '\0' | ':')));
                out.push(':');
                out.extend(value.chars().filter(|&c| !matches!(c, '\r' | '\n' | '\0')));
            }
            out.push('\n');
        }
        out.push('\n');
        out.push_str(&self.body);
        out.push('\0');
        out
    }
}

/// Why a message could not be parsed. The `Display` text is static (it never echoes input) and has
/// no CR, LF, NUL or colon, so it can go straight into an ERROR frame's `message` header.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum FrameError {
    /// The message ends inside a frame (no NUL, or `content-length` runs past the end).
    Incomplete,
    /// A frame starts with NUL where its command should be.
    EmptyCommand,
    /// A NUL appears before the blank line that ends the headers.
    UnexpectedNul,
    /// A header line has no `:`, an empty name, or a bare CR.
    MalformedHeader,
    /// A header uses an escape other than `\r` `\n` `\c` `\\`.
    InvalidEscape,
    /// `content-length` is not a plain decimal number.
    InvalidContentLength,
    /// The `content-length` octets are not followed by NUL, or end inside a UTF-8 character.
    ContentLengthMismatch,
    TooManyHeaders,
    HeaderTooLong,
    MessageTooLarge,
}

impl fmt::Display for FrameError {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            FrameError::Incomplete => f.write_str("frame is not terminated by a NUL octet"),
            FrameError::EmptyCommand => f.write_str("frame has an empty command"),
            FrameError::UnexpectedNul => f.write_str("NUL octet before the end of the frame headers"),
            FrameError::MalformedHeader => f.write_str("malformed header line"),
            FrameError::InvalidEscape => f.write_str("undefined escape sequence in a header"),
            FrameError::InvalidContentLength => f.write_str("content-length is not a decimal number"),
            FrameError::ContentLengthMismatch => f.write_str("content-length does not match the frame body"),
            FrameError::TooManyHeaders => write!(f, "frame has more than {MAX_HEADERS} headers"),
            FrameError::HeaderTooLong => write!(f, "header line is longer than {MAX_HEADER_LINE_BYTES} bytes"),
            FrameError::MessageTooLarge => write!(f, "message is larger than {MAX_MESSAGE_BYTES} bytes"),
        }
    }
}

impl std::error::Error for FrameError {}

/// Parses every frame in one WebSocket text message.
///
/// Heart-beat EOLs before, between and after frames are skipped, so a heart-beat-only message
/// gives an empty `Vec`. Unknown commands are returned for the caller to judge. Any error
/// rejects the whole message.
pub fn parse_frames(input: &str) -> Result<Vec<Frame>, FrameError> {
    if input.len() > MAX_MESSAGE_BYTES {
        return Err(FrameError::MessageTooLarge);
    }
    let mut frames = Vec::new();
    let mut rest = input;
    loop {
        // The spec's heart-beat is EOL (`\n` or `\r\n`); a stray CR here is skipped too.
        rest = rest.trim_start_matches(['\r', '\n']);
        if rest.is_empty() {
            return Ok(frames);
        }
        let (frame, tail) = parse_frame(rest)?;
        frames.push(frame);
        rest = tail;
    }
}

/// Parses one frame at the start of `input` (which does not start with an EOL); returns it and what follows its NUL.
fn parse_frame(input: &str) -> Result<(Frame, &str), FrameError> {
    if input.starts_with('\0') {
        return Err(FrameError::EmptyCommand);
    }
    let (command, mut rest) = next_line(input)?;
    let escape = escapes_headers(command);

    let mut headers = Vec::new();
    loop {
        let (line, tail) = next_line(rest)?;
        rest = tail;
        if line.is_empty() {
            break;
        }
        if headers.len() == MAX_HEADERS {
            return Err(FrameError::TooManyHeaders);
        }
        headers.push(parse_header(line, escape)?);
    }

    let content_length = headers
        .iter()
        .find(|(name, _)| name == "content-length")
        .map(|(_, value)| parse_content_length(value))
        .transpose()?;
    let (body, rest) = match content_length {
        Some(len) => {
            // `get` is None when `len` is past the end or inside a multi-byte character.
            let body = rest.get(..len).ok_or(if len > rest.len() {
                FrameError::Incomplete
            } else {
                FrameError::ContentLengthMismatch
            })?;
            let after = &rest[body.len()..];
            match after.strip_prefix('\0') {
                Some(after) => (body, after),
                None if after.is_empty() => return Err(FrameError::Incomplete),
                None => return Err(FrameError::ContentLengthMismatch),
            }
        }
        None => rest.split_once('\0').ok_or(FrameError::Incomplete)?,
    };

    Ok((Frame { command: command.to_owned(), headers, body: body.to_owned() }, rest))
}

/// Splits off one line ending in LF (a CR before it is dropped). A NUL before the LF is an error:
/// the frame would end inside its headers.
fn next_line(input: &str) -> Result<(&str, &str), FrameError> {
    let end = input.find(['\n', '\0']);
    let line = &input[..end.unwrap_or(input.len())];
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.len() > MAX_HEADER_LINE_BYTES {
        return Err(FrameError::HeaderTooLong);
    }
    match end {
        Some(end) => match input[end..].strip_prefix('\n') {
            Some(rest) => Ok((line, rest)),
            None => Err(FrameError::UnexpectedNul),
        },
        None => Err(FrameError::Incomplete),
    }
}

fn parse_header(line: &str, escape: bool) -> Result<(String, String), FrameError> {
    // Split at the first raw colon; later colons stay in the value (common in CONNECT, which cannot escape them).
    let (name, value) = line.split_once(':').ok_or(FrameError::MalformedHeader)?;
    if name.is_empty() || line.contains('\r') {
        return Err(FrameError::MalformedHeader);
    }
    if escape {
        Ok((unescape(name)?, unescape(value)?))
    } else {
        Ok((name.to_owned(), value.to_owned()))
    }
}

fn parse_content_length(value: &str) -> Result<usize, FrameError> {
    // `usize::from_str` also takes a leading `+`; the spec means plain digits.
    if value.is_empty() || !value.bytes().all(|b| b.is_ascii_digit()) {
        return Err(FrameError::InvalidContentLength);
    }
    value.parse().map_err(|_| FrameError::InvalidContentLength)
}

/// CONNECT and CONNECTED do not escape headers, for STOMP 1.0 compatibility.
fn escapes_headers(command: &str) -> bool {
    command != "CONNECT" && command != "CONNECTED"
}

fn unescape(raw: &str) -> Result<String, FrameError> {
    if !raw.contains('\\') {
        return Ok(raw.to_owned());
    }
    let mut out = String::with_capacity(raw.len());
    let mut chars = raw.chars();
    while let Some(c) = chars.next() {
        if c != '\\' {
            out.push(c);
            continue;
        }
        out.push(match chars.next() {
            Some('r') => '\r',
            Some('n') => '\n',
            Some('c') => ':',
            Some('\\') => '\\',
            _ => return Err(FrameError::InvalidEscape),
        });
    }
    Ok(out)
}

fn push_escaped(out: &mut String, s: &str) {
    for c in s.chars() {
        match c {
            '\r' => out.push_str("\\r"),
            '\n' => out.push_str("\\n"),
            ':' => out.push_str("\\c"),
            '\\' => out.push_str("\\\\"),
            '\0' => {}
            c => out.push(c),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    fn one(input: &str) -> Frame {
        let mut frames = parse_frames(input).expect("parses");
        assert_eq!(frames.len(), 1, "{input:?}");
        frames.remove(0)
    }

    fn headers(pairs: &[(&str, &str)]) -> Vec<(String, String)> {
        pairs.iter().map(|(n, v)| (n.to_string(), v.to_string())).collect()
    }

    #[test]
    fn stompjs_connect() {
        let f =
            one("CONNECT\naccept-version:1.2,1.1,1.0\nheart-beat:4000,4000\nAuthorization:Bearer abc.def\n\n\u{0000}");
        assert_eq!(f.command, "CONNECT");
        assert_eq!(
            f.headers,
            headers(&[
                ("accept-version", "1.2,1.1,1.0"),
                ("heart-beat", "4000,4000"),
                ("Authorization", "Bearer abc.def")
            ])
        );
        assert_eq!(f.header("Authorization"), Some("Bearer abc.def"));
        assert_eq!(f.header("authorization"), None, "header names are case-sensitive");
        assert_eq!(f.body, "");
    }

    #[test]
    fn stompjs_send_with_content_length() {
        let body = r#"{"chatRoomId":55,"content":"hi"}"#;
        let msg = format!("SEND\ndestination:/pub/chat/message\ncontent-length:{}\n\n{body}\u{0000}", body.len());
        let f = one(&msg);
        assert_eq!(f.command, "SEND");
        assert_eq!(f.header("destination"), Some("/pub/chat/message"));
        assert_eq!(f.header("content-length"), Some("32"));
        assert_eq!(f.body, body);

        // The brief's literal says 33, one too many: that swallows the NUL and the frame is cut short.
        let wrong = format!("SEND\ndestination:/pub/chat/message\ncontent-length:33\n\n{body}\u{0000}");
        assert_eq!(parse_frames(&wrong), Err(FrameError::Incomplete));
    }

    #[test]
    fn content_length_counts_utf8_bytes() {
        let body = r#"{"chatRoomId":5,"content":"안녕하세요 👋"}"#;
        let msg = format!("SEND\ndestination:/pub/chat/message\ncontent-length:{}\n\n{body}\0", body.len());
        assert_eq!(one(&msg).body, body);
    }

    #[test]
    fn stompjs_subscribe() {
        let f = one("SUBSCRIBE\nid:sub-0\ndestination:/sub/chat/room/5\n\n\u{0000}");
        assert_eq!(
            f,
            Frame::new("SUBSCRIBE").with_header("id", "sub-0").with_header("destination", "/sub/chat/room/5")
        );
    }

    #[test]
    fn several_frames_and_heartbeats_in_one_message() {
        let msg = "\n\r\nSUBSCRIBE\nid:sub-0\ndestination:/a\n\n\0\n\nSEND\ndestination:/a\n\nhello\0\r\n\nDISCONNECT\nreceipt:77\n\n\0\n";
        let frames = parse_frames(msg).expect("parses");
        let commands: Vec<_> = frames.iter().map(|f| f.command.as_str()).collect();
        assert_eq!(commands, ["SUBSCRIBE", "SEND", "DISCONNECT"]);
        assert_eq!(frames[1].body, "hello");
        assert_eq!(frames[2].header("receipt"), Some("77"));
        // Frames back to back with no EOL between them.
        assert_eq!(parse_frames("SEND\n\na\0SEND\n\nb\0").expect("parses").len(), 2);
    }

    #[test]
    fn heartbeat_only_messages_are_empty() {
        for msg in ["", "\n", "\r\n", "\n\n\r\n\n"] {
            assert_eq!(parse_frames(msg), Ok(vec![]), "{msg:?}");
        }
    }

    #[test]
    fn crlf_line_endings() {
        let f = one("SEND\r\ndestination:/a\r\nx:y\r\n\r\nbody\r\n\0\r\n");
        assert_eq!(f, Frame::new("SEND").with_header("destination", "/a").with_header("x", "y").with_body("body\r\n"));
    }

    #[test]
    fn header_escapes_are_decoded() {
        let f = one("SEND\ndestination:/a\\cb\\nc\\\\d\\re\na\\cb:1\n\n\0");
        assert_eq!(f.header("destination"), Some("/a:b\nc\\d\re"));
        assert_eq!(f.header("a:b"), Some("1"));
    }

    #[test]
    fn undefined_escape_is_an_error() {
        for msg in ["SEND\nx:a\\tb\n\n\0", "SEND\nx:a\\\n\n\0", "SEND\nx\\t:a\n\n\0"] {
            assert_eq!(parse_frames(msg), Err(FrameError::InvalidEscape), "{msg:?}");
        }
    }

    #[test]
    fn connect_and_connected_are_not_unescaped() {
        let f = one("CONNECT\nlogin:a\\cb\\n\\t\\\nhost:example.com:443\n\n\0");
        assert_eq!(f.header("login"), Some("a\\cb\\n\\t\\"));
        assert_eq!(f.header("host"), Some("example.com:443"));
        let f = one("CONNECTED\nserver:moim\\c1\n\n\0");
        assert_eq!(f.header("server"), Some("moim\\c1"));
        // STOMP is not exempt: the spec names only CONNECT and CONNECTED.
        assert_eq!(parse_frames("STOMP\nlogin:a\\t\n\n\0"), Err(FrameError::InvalidEscape));
    }

    #[test]
    fn first_header_wins() {
        let f = one("SEND\ndestination:/first\ndestination:/second\n\n\0");
        assert_eq!(f.header("destination"), Some("/first"));
        assert_eq!(f.headers.len(), 2);
        // Also for content-length.
        let f = one("SEND\ncontent-length:3\ncontent-length:1\n\na\0b\0");
        assert_eq!(f.body, "a\0b");
    }

    #[test]
    fn content_length_allows_nul_in_body() {
        let frames = parse_frames("SEND\ncontent-length:5\n\na\0b\0c\0SEND\n\nnext\0").expect("parses");
        assert_eq!(frames[0].body, "a\0b\0c");
        assert_eq!(frames[1].body, "next");
        assert_eq!(one("SEND\ncontent-length:0\n\n\0").body, "");
    }

    #[test]
    fn content_length_errors() {
        assert_eq!(parse_frames("SEND\ncontent-length:2\n\nabc\0"), Err(FrameError::ContentLengthMismatch));
        assert_eq!(parse_frames("SEND\ncontent-length:4\n\nabc\0"), Err(FrameError::Incomplete));
        assert_eq!(parse_frames("SEND\ncontent-length:9\n\nabc\0"), Err(FrameError::Incomplete));
        // 1 byte into the 3-byte "한".
        assert_eq!(parse_frames("SEND\ncontent-length:1\n\n한\0"), Err(FrameError::ContentLengthMismatch));
        for bad in ["", "abc", "+3", "-1", " 3", "3 ", "0x3", "99999999999999999999999"] {
            let msg = format!("SEND\ncontent-length:{bad}\n\nabc\0");
            assert_eq!(parse_frames(&msg), Err(FrameError::InvalidContentLength), "{bad:?}");
        }
    }

    #[test]
    fn incomplete_frames() {
        for msg in [
            "SEND",
            "SEND\n",
            "SEND\ndestination:/a",
            "SEND\ndestination:/a\n",
            "SEND\ndestination:/a\n\nbody",
            "SEND\n\na\0SEND\n\nb",
            "SEND\n\na\0\nX",
        ] {
            assert_eq!(parse_frames(msg), Err(FrameError::Incomplete), "{msg:?}");
        }
    }

    #[test]
    fn empty_command_and_stray_nul() {
        assert_eq!(parse_frames("\0"), Err(FrameError::EmptyCommand));
        assert_eq!(parse_frames("\n\n\0"), Err(FrameError::EmptyCommand));
        assert_eq!(parse_frames("SEND\n\n\0\0"), Err(FrameError::EmptyCommand));
        assert_eq!(parse_frames("SEND\0"), Err(FrameError::UnexpectedNul));
        assert_eq!(parse_frames("SEND\n\0"), Err(FrameError::UnexpectedNul));
        assert_eq!(parse_frames("SEND\ndestination:/a\0\n\n\0"), Err(FrameError::UnexpectedNul));
    }

    #[test]
    fn malformed_headers() {
        for msg in ["SEND\nnocolon\n\n\0", "SEND\n:value\n\n\0", "SEND\na:b\rc\n\n\0", "SEND\na:b\r\r\n\n\0"] {
            assert_eq!(parse_frames(msg), Err(FrameError::MalformedHeader), "{msg:?}");
        }
        // Empty value is fine.
        assert_eq!(one("SEND\nx:\n\n\0").header("x"), Some(""));
    }

    #[test]
    fn unknown_commands_are_returned() {
        assert_eq!(one("FROB\nx:y\n\n\0").command, "FROB");
    }

    #[test]
    fn header_count_limit() {
        let frame = |n: usize| {
            let hs: String = (0..n).map(|i| format!("h{i}:v\n")).collect();
            format!("SEND\n{hs}\n\0")
        };
        assert_eq!(one(&frame(MAX_HEADERS)).headers.len(), MAX_HEADERS);
        assert_eq!(parse_frames(&frame(MAX_HEADERS + 1)), Err(FrameError::TooManyHeaders));
    }

    #[test]
    fn header_line_limit() {
        let line = |len: usize| format!("x:{}", "v".repeat(len - 2));
        let ok = format!("SEND\n{}\r\n\n\0", line(MAX_HEADER_LINE_BYTES));
        assert_eq!(one(&ok).header("x").map(str::len), Some(MAX_HEADER_LINE_BYTES - 2));
        let long = format!("SEND\n{}\n\n\0", line(MAX_HEADER_LINE_BYTES + 1));
        assert_eq!(parse_frames(&long), Err(FrameError::HeaderTooLong));
        // Also when the line never ends, and for the command line.
        assert_eq!(parse_frames(&format!("SEND\n{}", line(MAX_HEADER_LINE_BYTES + 1))), Err(FrameError::HeaderTooLong));
        assert_eq!(
            parse_frames(&format!("{}\n\n\0", "S".repeat(MAX_HEADER_LINE_BYTES + 1))),
            Err(FrameError::HeaderTooLong)
        );
    }

    #[test]
    fn message_size_limit() {
        let msg = |len: usize| format!("SEND\n\n{}\0", "b".repeat(len - 7));
        assert_eq!(one(&msg(MAX_MESSAGE_BYTES)).body.len(), MAX_MESSAGE_BYTES - 7);
        assert_eq!(parse_frames(&msg(MAX_MESSAGE_BYTES + 1)), Err(FrameError::MessageTooLarge));
        assert_eq!(parse_frames(&"\n".repeat(MAX_MESSAGE_BYTES + 1)), Err(FrameError::MessageTooLarge));
    }

    #[test]
    fn encode_exact_bytes() {
        let f = Frame::new("MESSAGE")
            .with_header("destination", "/sub/chat/room/5")
            .with_header("subscription", "sub-0")
            .with_header("message-id", "m-1")
            .with_body(r#"{"content":"안녕"}"#);
        assert_eq!(
            f.encode(),
            "MESSAGE\ndestination:/sub/chat/room/5\nsubscription:sub-0\nmessage-id:m-1\n\n{\"content\":\"안녕\"}\0"
        );
        assert_eq!(Frame::new("RECEIPT").encode(), "RECEIPT\n\n\0");
    }

    #[test]
    fn encode_escapes_headers() {
        let f = Frame::new("ERROR").with_header("message", "a:b\nc\\d\re").with_header("x:y", "1");
        assert_eq!(f.encode(), "ERROR\nmessage:a\\cb\\nc\\\\d\\re\nx\\cy:1\n\n\0");
        assert_eq!(one(&f.encode()), f);
    }

    #[test]
    fn encode_connected_is_not_escaped() {
        let f = Frame::new("CONNECTED").with_header("version", "1.2").with_header("server", "moim:1\\0");
        assert_eq!(f.encode(), "CONNECTED\nversion:1.2\nserver:moim:1\\0\n\n\0");
        assert_eq!(one(&f.encode()), f);
        // Unrepresentable octets are dropped rather than splitting the frame.
        let f = Frame::new("CONNECTED").with_header("a:b\n", "x\r\ny\0");
        assert_eq!(f.encode(), "CONNECTED\nab:xy\n\n\0");
    }

    #[test]
    fn encode_drops_nul_from_headers() {
        let f = Frame::new("MESSAGE").with_header("na\0me", "va\0lue").with_body("b");
        assert_eq!(f.encode(), "MESSAGE\nname:value\n\nb\0");
    }

    #[test]
    fn error_messages_fit_an_error_frame() {
        let all = [
            FrameError::Incomplete,
            FrameError::EmptyCommand,
            FrameError::UnexpectedNul,
            FrameError::MalformedHeader,
            FrameError::InvalidEscape,
            FrameError::InvalidContentLength,
            FrameError::ContentLengthMismatch,
            FrameError::TooManyHeaders,
            FrameError::HeaderTooLong,
            FrameError::MessageTooLarge,
        ];
        for e in all {
            let msg = e.to_string();
            assert!(!msg.is_empty() && !msg.contains(['\r', '\n', '\0', ':', '\\']), "{msg:?}");
            let frame = Frame::new("ERROR").with_header("message", msg.clone());
            assert_eq!(one(&frame.encode()).header("message"), Some(msg.as_str()));
        }
    }

    // Names, values and bodies without NUL (not representable in headers, and the body terminator).
    fn frame_strategy() -> impl Strategy<Value = Frame> {
        (
            "[A-Z]{1,12}".prop_filter("CONNECT frames do not escape", |c| escapes_headers(c)),
            prop::collection::vec(("[^\0]{1,20}", "[^\0]{0,40}"), 0..10),
            "[^\0]{0,200}",
        )
            .prop_filter("content-length is tested separately", |(_, hs, _)| {
                hs.iter().all(|(n, _)| n != "content-length")
            })
            .prop_map(|(command, headers, body)| Frame { command, headers, body })
    }

    proptest! {
        #[test]
        fn encode_parse_round_trip(frames in prop::collection::vec(frame_strategy(), 1..5), eols in "[\r\n]{0,4}") {
            let msg: String = frames.iter().map(|f| format!("{eols}{}{eols}", f.encode())).collect();
            prop_assert_eq!(parse_frames(&msg), Ok(frames));
        }

        #[test]
        fn content_length_round_trip(frame in frame_strategy(), body in "\\PC{0,50}") {
            let frame = frame.with_header("content-length", body.len().to_string()).with_body(body);
            let next = Frame::new("SEND").with_body("after");
            let msg = frame.encode() + &next.encode();
            prop_assert_eq!(parse_frames(&msg), Ok(vec![frame, next]));
        }

        #[test]
        fn connect_round_trip(
            command in "CONNECT|CONNECTED",
            headers in prop::collection::vec(("[^\0\r\n:]{1,20}", "[^\0\r\n]{0,40}"), 0..10),
        ) {
            let frame = Frame { command, headers, body: String::new() };
            prop_assert_eq!(parse_frames(&frame.encode()), Ok(vec![frame]));
        }

        #[test]
        fn arbitrary_input_never_panics(input in "\\PC{0,300}") {
            let _ = parse_frames(&input);
        }

        // Mostly STOMP-significant characters, so the parser gets deep into frames.
        #[test]
        fn frame_like_input_never_panics(input in "(SEND|CONNECT|[A-Z]|\n|\r|:|\\\\|[rnct]|\0|content-length:|[0-9]|한)*") {
            let _ = parse_frames(&input);
        }
    }
}
