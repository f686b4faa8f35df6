//! STOMP 1.2 over SockJS (websocket transport), as spoken by stompjs clients.
//!
//! Pure codecs, no I/O: [`parse_frames`] / [`Frame::encode`] for STOMP frames and
//! [`sockjs_decode`] / [`sockjs_array`] and friends for the SockJS envelope.
//! One WebSocket message is parsed on its own; nothing is buffered across messages.

mod frame;
mod sockjs;

pub use frame::{parse_frames, Frame, FrameError, MAX_HEADERS, MAX_HEADER_LINE_BYTES, MAX_MESSAGE_BYTES};
pub use sockjs::{sockjs_array, sockjs_close, sockjs_decode, sockjs_heartbeat, sockjs_open, SockJsError};
