//! nftguard manages a Linux host's firewall by talking netlink directly to
//! nf_tables: typed tables, chains, rules and expressions, atomic
//! generation-checked transactions, and lossless dumps.
//!
//! ```no_run
//! use nftguard::{engine::{GenCheck, Ruleset, Transaction, DumpFilter}, netlink::Socket};
//! use nftguard::nft::{Chain, Family, Rule, Table, ChainPolicy, Hook};
//!
//! # fn main() -> nftguard::Result<()> {
//! let mut sock = Socket::new()?;
//! let live = Ruleset::dump(&mut sock, &DumpFilter::default())?;
//! let mut tx = Transaction::new();
//! tx.add_table(Table::new(Family::Inet, "nftguard"));
//! tx.add_chain(Chain::base(Family::Inet, "nftguard", "input", Hook::Input, 0).with_policy(ChainPolicy::Drop));
//! tx.add_rule(Rule::new(Family::Inet, "nftguard", "input").iifname("lo").accept());
//! tx.add_rule(Rule::new(Family::Inet, "nftguard", "input").tcp().dport(22).accept());
//! let done = tx.commit(&mut sock, GenCheck::Expect(live.genid))?;
//! println!("committed generation {}", done.genid);
//! # Ok(()) }
//! ```
#![deny(missing_docs)]
#![deny(unsafe_code)]

pub mod compat;
pub mod detect;
pub mod engine;
pub mod error;
pub mod netlink;
pub mod nft;
pub mod plan;
pub mod policy;
pub mod txn;
pub mod verify;

pub use error::{Error, Result};

/// The README's examples, compiled as doctests so they cannot rot.
#[cfg(doctest)]
#[doc = include_str!("../README.md")]
pub struct ReadmeDoctests;
