//! Renderers: the ruleset as nft text (exactly as `nft list ruleset`
//! prints it).
//!
//! - [`text`]: table and chain layout, base-chain priorities.
//! - [`statement`]: a rule's expressions back into nft statements.
//! - [`proto`]: protocol header templates for naming payload loads.
//! - [`untyped`]: printing expressions the core keeps opaque.
//! - [`value`]: datatype formatting.

pub mod proto;
pub mod statement;
pub mod text;
pub mod untyped;
pub mod value;

pub use text::{nft_text, nft_text_with};
