//! moim's rules, with no I/O: error codes, wire time, user validation.
//! Storage and HTTP live elsewhere; everything here is plain data in, data out.

pub mod account;
pub mod chat;
pub mod error;
pub mod group;
pub mod group_input;
pub mod image;
pub mod notification;
pub mod search;
pub mod time;
pub mod user;

pub use error::{DomainError, ErrorCode, FieldError, Fields};
