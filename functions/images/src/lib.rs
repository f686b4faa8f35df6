//! The images function: photo pre-upload (API.md §4.1) by multipart and by
//! presigned PUT, and the profile photo (§3). `pipeline` is the pixel path the
//! S3-triggered image-processor runs too; pixels come from `moim-media`, which
//! only these two functions link.

/// The engines this function links besides the table (blobs: sources and variants).
pub const PORTS: u8 = moim_web::ports::BLOBS;

mod multipart;
pub mod pipeline;
mod profile;
mod upload;

use moim_web::{route, Route};

pub static ROUTES: &[Route] = &[
    route!("POST /api/v2/groups/images/upload", upload::upload),
    route!("POST /api/v2/groups/images/presign", upload::presign),
    route!("PATCH /api/v1/users/profile-image", profile::profile_image),
];
