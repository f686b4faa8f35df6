//! Storage for moim: the table port and its engines, the blob port and its
//! engines, the key design, and the item mappings of each aggregate.

pub mod accounts;
pub mod aws;
pub mod blob;
pub mod chat;
pub mod dynamo;
pub mod embedded;
pub mod feed;
pub mod groups;
pub mod http;
pub mod keys;
pub mod limits;
pub mod mail;
pub mod notifications;
pub mod push;
pub mod realtime;
pub mod schema;
pub mod search;
pub mod table;
pub mod uploads;
pub mod users;

pub use blob::{Blob, Blobs, FsBlobs, S3Blobs};
pub use dynamo::DynamoTable;
pub use embedded::EmbeddedTable;
pub use table::{Cond, Index, Item, Key, Page, Query, SkCond, StoreError, Table, Update, WriteOp};
