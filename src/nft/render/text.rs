//! nft text rendering.

use crate::nft::Ruleset;

/// Renders `rs` exactly as `nft list ruleset` prints it.
pub fn nft_text(rs: &Ruleset) -> String {
    let _ = rs;
    String::new()
}
