//! iptables-nft compatibility: the typed view of xt `match`/`target`
//! expressions ([`xt`]), an `iptables-nft-save` renderer ([`save`]), rule
//! encoding exactly as iptables-nft writes it ([`encode`]), and detection
//! of iptables-legacy tables ([`legacy`]).
//!
//! iptables-nft keeps its rules in nf_tables tables named `filter`, `nat`,
//! `mangle`, `raw` and `security` (families ip and ip6), with uppercase
//! base chains at fixed priorities. Matches it can express natively
//! (`-s/-d`, `-i/-o`, `-p`, `tcp`/`udp` ports and flags, `limit`, `mark`)
//! are native expressions; everything else is an xt extension carried
//! through the kernel's nft_compat module.

pub mod encode;
pub mod ipset;
pub mod legacy;
pub mod save;
pub mod xt;

pub use xt::{XtExpr, XtInfo, XtKind};
