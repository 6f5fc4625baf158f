//! Shared by the plan tests: fixed audit facts and requests.
#![allow(dead_code)]
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::path::PathBuf;

use nftguard::detect::Audit;
use nftguard::plan::{AuditSource, PlanRequest, ProfileParams, Selection};

/// The audit of a plain host (no frontend, SSH on 22), fixed.
pub fn plain_audit() -> Audit {
    serde_json::from_str(include_str!("../fixtures/plan/audit-plain-host.json")).unwrap()
}

/// A request for `selection` with default parameters.
pub fn request(selection: Selection) -> PlanRequest {
    PlanRequest {
        selection,
        params: ProfileParams::default(),
        operator: None,
        state_dir: PathBuf::from("/var/lib/nftguard"),
        netns: None,
        docker_user: None,
    }
}

/// A fixed audit source.
pub fn fixed_source() -> AuditSource {
    AuditSource {
        cached: false,
        cache_file: PathBuf::from("/var/lib/nftguard/audit-cache.json"),
    }
}
