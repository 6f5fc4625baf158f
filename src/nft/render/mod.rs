//! Renderers: the ruleset as nft text (exactly as `nft list ruleset`
//! prints it).

pub mod text;

pub use text::nft_text;
