//! Renderers: the ruleset as nft text (exactly as `nft list ruleset`
//! prints it).

pub mod text;

pub use text::nft_text;
pub mod json;
pub use json::nft_json;
