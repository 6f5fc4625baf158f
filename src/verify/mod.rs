//! VERIFY: the packet-path evaluator. Given a [`Packet`] and a typed
//! [`Ruleset`](crate::nft::Ruleset) snapshot (a dump, sets and elements
//! included), it walks every base chain the packet meets — across all
//! tables of the applicable families, in priority order, following
//! jumps, gotos, returns and policies — and answers accept, drop, or
//! unknown with the reasons (ARCHITECTURE.md decision 6: the verifier
//! evaluates, not greps).
//!
//! ```
//! use nftguard::nft::{Chain, ChainPolicy, Family, Hook, Rule, Ruleset, Table};
//! use nftguard::verify::{Decision, Evaluator, HostFacts, Packet};
//!
//! let mut rs = Ruleset::default();
//! rs.tables.push(Table::new(Family::Inet, "f"));
//! rs.chains.push(Chain::base(Family::Inet, "f", "input", Hook::Input, 0).with_policy(ChainPolicy::Drop));
//! rs.rules.push(Rule::new(Family::Inet, "f", "input").tcp().dport(22).accept());
//!
//! let host = HostFacts::none();
//! let ev = Evaluator::new(&rs, &host);
//! let ssh = Packet::tcp_syn(Hook::Input, "192.0.2.1".parse().unwrap(), 40000, "192.0.2.2".parse().unwrap(), 22);
//! assert_eq!(ev.evaluate(&ssh).unwrap().verdict, Decision::Accept);
//! let web = Packet::tcp_syn(Hook::Input, "192.0.2.1".parse().unwrap(), 40000, "192.0.2.2".parse().unwrap(), 80);
//! assert_eq!(ev.evaluate(&web).unwrap().verdict, Decision::Drop);
//! ```
//!
//! What it decides and what it cannot: see [`eval`] (the walk) and the
//! per-expression semantics in `matchers.rs`.

pub mod bits;
pub mod checks;
pub mod controls;
pub mod eval;
pub mod explain;
pub mod host;
pub mod listeners;
pub(crate) mod matchers;
pub mod metrics;
pub mod packet;
pub mod planned;
pub mod probe;
pub mod registers;
pub mod report;
pub mod sets;
pub mod trace;

pub use checks::{run_checks, Check, Exposure, Status, VerifyOptions, VerifyReport};
pub use eval::{Branch, BranchVerdict, Decision, Evaluation, Evaluator, Path};
pub use explain::{
    explain, explain_planned, explain_ruleset, ExplainHook, ExplainProto, ExplainRequest,
    Explanation,
};
pub use host::{HostAddress, HostFacts, HostInterface, HostRoute};
pub use packet::{
    CtDirection, CtInfo, CtState, Interface, IpFamily, Packet, PktType, SocketInfo, L4,
};
pub use planned::planned_ruleset;
pub use trace::{describe_rule, describe_rule_in, TraceEvent};
