//! The function binaries moim-local can run in-process, by binary name.

use moim_web::Route;

/// (binary name as in template.yaml's BuildProperties, its route table)
pub const FUNCTIONS: &[(&str, &[Route])] = &[
    ("auth", moim_auth::ROUTES),
    ("users", moim_users::ROUTES),
    ("groups", moim_groups::ROUTES),
    ("notifications", moim_notifications::ROUTES),
];

pub fn routes_of(binary: &str) -> Option<&'static [Route]> {
    FUNCTIONS.iter().find(|(b, _)| *b == binary).map(|(_, r)| *r)
}
