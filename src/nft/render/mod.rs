//! Renderers: the ruleset as nft text (exactly as `nft list ruleset`
//! prints it).
//!
//! - [`text`]: table and chain layout, base-chain priorities.
//! - [`statement`]: a rule's expressions back into nft statements.
//! - [`simple`]: statements printed from one expression alone (verdicts,
//!   `limit`, `log`, …).
//! - [`set`], [`object`], [`flowtable`]: named sets and maps with their
//!   elements, stateful objects, flowtables.
//! - [`datatype`]: nft's set datatypes by number.
//! - [`keys`]: names and datatypes of meta/ct/fib/exthdr keys.
//! - [`proto`]: protocol header templates for naming payload loads.
//! - [`untyped`]: printing expressions the core keeps opaque.
//! - [`value`]: datatype formatting.
//! - [`xt`]: iptables-nft's xt matches and targets as nft translates them.
//! - [`json`]: the libnftables JSON schema (`nft -j list ruleset`).

pub mod datatype;
pub mod flowtable;
pub mod json;
pub mod keys;
pub mod object;
pub mod proto;
pub mod set;
pub mod simple;
pub mod statement;
pub mod text;
pub mod untyped;
pub mod value;
pub mod xt;

pub use json::nft_json;
pub use text::{nft_text, nft_text_with};
