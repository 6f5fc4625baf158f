//! Walking the base chains a packet meets.
//!
//! For each hook, every base chain registered on it in every table of an
//! applicable family runs, in priority order (KERNEL.md §Verdicts across
//! tables): `accept` ends only that base chain, `drop` is final, a chain
//! that runs out of rules applies its policy. Inside a chain, `jump`
//! pushes a return point, `goto` does not, `return` (or the end of a
//! regular chain) pops one.
//!
//! What cannot be decided (a rate limit, a field the packet description
//! leaves unknown, an expression nftguard does not model) is never
//! guessed. The evaluator explores each possible outcome as a separate
//! branch: a run is deterministic given the list of choices made at the
//! undecidable points met so far, and meeting a new one forks the run.
//! When every branch ends in the same verdict the answer is that verdict
//! (the unknowns did not matter); otherwise it is
//! [`Decision::Unknown`] with the reasons and each branch's assumptions.

use std::collections::HashMap;
use std::net::IpAddr;

use serde::{Deserialize, Serialize};

use super::bits::Bits;
use super::host::HostFacts;
use super::matchers::{self, Step};
use super::packet::{CtDirection, CtState, Headers, Interface, IpFamily, Packet, PktType};
use super::registers::Registers;
use super::trace::{describe_rule_in, verdict_text, TraceEvent};
use crate::error::{Error, Result};
use crate::nft::data::ChainRef;
use crate::nft::{
    Chain, ChainPolicy, Expr, Family, Hook, Rule, Ruleset, SetElement, TableFlags, Verdict,
};

/// The most branches one evaluation explores before giving up (the
/// answer is then `Unknown`).
pub const MAX_BRANCHES: usize = 4096;

/// The kernel's jump stack depth (`NFT_JUMP_STACK_SIZE`).
const JUMP_STACK: usize = 16;

/// `NF_IP_PRI_CONNTRACK` (= `NF_IP6_PRI_CONNTRACK`): base chains on
/// prerouting and output with a lower priority run before conntrack has
/// looked at the packet.
const PRI_CONNTRACK: i32 = -200;

/// The overall answer.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Decision {
    /// Every base chain let the packet through.
    Accept,
    /// Some base chain dropped (or rejected) the packet.
    Drop,
    /// It depends on something the evaluator cannot decide; see
    /// [`Evaluation::reasons`] and [`Evaluation::branches`].
    Unknown,
}

/// How one branch ended.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "verdict", rename_all = "lowercase")]
pub enum BranchVerdict {
    /// Accepted by every base chain on the path.
    Accept,
    /// Dropped.
    Drop,
    /// The branch met something that ends evaluation without a verdict
    /// the evaluator can know (a userspace queue, an unmodelled
    /// expression, …).
    Unknown {
        /// Why.
        reason: String,
    },
}

/// One explored branch: the outcomes assumed at the undecidable points it
/// met, its verdict and its trace.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Branch {
    /// `(what was undecidable, outcome assumed)`, in the order met.
    pub assumptions: Vec<(String, String)>,
    /// How it ended.
    pub verdict: BranchVerdict,
    /// What the packet met.
    pub trace: Vec<TraceEvent>,
}

/// The result of evaluating a packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Evaluation {
    /// The overall answer.
    pub verdict: Decision,
    /// Why the answer is `Unknown` (empty otherwise).
    pub reasons: Vec<String>,
    /// Every branch explored (one when nothing was undecidable).
    pub branches: Vec<Branch>,
    /// Facts that do not change the verdict (NAT, skipped chains, equal
    /// priorities, …), from every branch.
    pub notes: Vec<String>,
}

impl Evaluation {
    /// The trace of the first branch (the only one when the evaluation
    /// met nothing undecidable).
    pub fn trace(&self) -> &[TraceEvent] {
        self.branches.first().map_or(&[], |b| b.trace.as_slice())
    }
}

/// Which hooks to walk.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum Path {
    /// Exactly these hooks, in order, with the packet as described.
    Hooks(Vec<Hook>),
    /// A packet received from the network: ingress (netdev and inet
    /// chains bound to the input interface), prerouting, then input when
    /// the (possibly translated) destination is local, or forward,
    /// postrouting and egress otherwise. Needs [`HostFacts`].
    Receive,
    /// A packet sent by a local process: output, postrouting, egress.
    Send,
}

/// Where the hook walk stands: the packet as the chains see it now.
#[derive(Debug, Clone)]
pub(crate) struct PacketState {
    pub family: IpFamily,
    pub hook: Hook,
    pub headers: Headers,
    pub iif: Device,
    pub oif: Device,
    pub mark: Option<u32>,
    pub priority: Option<u32>,
    pub pkttype: Option<PktType>,
    pub length: Option<u32>,
    pub socket: super::packet::SocketInfo,
    pub ct_state: Option<CtState>,
    pub ct_direction: Option<CtDirection>,
    pub ct_status: Option<u32>,
    pub ct_mark: Option<u32>,
    /// Original tuple (src addr, src port, dst addr, dst port).
    pub ct_original: Option<Tuple>,
    /// Reply tuple.
    pub ct_reply: Option<Tuple>,
    /// `notrack` ran before conntrack.
    pub untracked_template: bool,
    /// Source / destination NAT already set up for this connection.
    pub nat_done: [bool; 2],
    /// Elements added (`true`) or deleted (`false`) by `dynset` so far.
    pub set_changes: Vec<SetChange>,
    /// Sets a `dynset` with an unknown key changed.
    pub tainted_sets: Vec<(Family, String, String)>,
}

/// A conntrack tuple as bytes: (src addr, src port, dst addr, dst port).
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) struct Tuple {
    pub src: Bits,
    pub sport: Bits,
    pub dst: Bits,
    pub dport: Bits,
}

/// One `dynset` change.
#[derive(Debug, Clone)]
pub(crate) struct SetChange {
    pub family: Family,
    pub table: String,
    pub set: String,
    pub key: Vec<u8>,
    pub added: bool,
}

/// An interface as a hook sees it.
#[derive(Debug, Clone)]
pub(crate) enum Device {
    /// The hook has no such device (`meta oif` at input): the kernel's
    /// load breaks the rule.
    Absent,
    /// Present but not described.
    Unknown,
    /// Present.
    Known(Interface),
}

/// Why a run stopped early.
#[derive(Debug)]
pub(crate) enum Halt {
    /// A new undecidable point with this many outcomes.
    Fork(usize),
    /// A terminal unknown.
    Terminal(String),
}

/// One deterministic run, following the choices already made.
pub(crate) struct Run<'e> {
    pub ev: &'e Evaluator<'e>,
    decisions: &'e [usize],
    used: usize,
    pub assumptions: Vec<(String, String)>,
    pub trace: Vec<TraceEvent>,
    pub notes: Vec<String>,
    pub state: PacketState,
}

impl Run<'_> {
    /// The outcome taken at an undecidable point with these outcomes:
    /// the next recorded choice, or a fork when none is left.
    pub fn decide(
        &mut self,
        reason: String,
        outcomes: &[String],
    ) -> std::result::Result<usize, Halt> {
        if outcomes.len() <= 1 {
            return Ok(0);
        }
        match self.decisions.get(self.used) {
            Some(&i) => {
                self.used += 1;
                let choice = outcomes.get(i).cloned().unwrap_or_default();
                self.trace.push(TraceEvent::Assumed {
                    reason: reason.clone(),
                    choice: choice.clone(),
                });
                self.assumptions.push((reason, choice));
                Ok(i)
            }
            None => Err(Halt::Fork(outcomes.len())),
        }
    }

    /// Records a note (once).
    pub fn note(&mut self, text: String) {
        if !self.notes.contains(&text) {
            self.trace.push(TraceEvent::Note { text: text.clone() });
            self.notes.push(text);
        }
    }
}

/// Where a rule is being evaluated.
#[derive(Debug, Clone)]
pub(crate) struct ChainCtx<'a> {
    pub family: Family,
    pub table: &'a str,
    pub chain: &'a str,
    pub hook: Hook,
    pub priority: i32,
    pub is_nat: bool,
}

/// Everything a matcher works with.
pub(crate) struct Cx<'r, 'e> {
    pub run: &'r mut Run<'e>,
    pub regs: &'r mut Registers,
    pub chain: ChainCtx<'e>,
    pub rule: &'e Rule,
}

impl Cx<'_, '_> {
    /// Where we are, for reasons.
    pub fn here(&self) -> String {
        match self.rule.handle {
            Some(h) => format!(
                "{} {} {} rule {h}",
                self.chain.family, self.chain.table, self.chain.chain
            ),
            None => format!(
                "{} {} {}",
                self.chain.family, self.chain.table, self.chain.chain
            ),
        }
    }

    /// Decides a condition: `Some(b)` as is, `None` by forking.
    pub fn holds(
        &mut self,
        t: super::bits::Tri,
        what: impl FnOnce() -> String,
    ) -> std::result::Result<bool, Halt> {
        match t {
            super::bits::Tri::True => Ok(true),
            super::bits::Tri::False => Ok(false),
            super::bits::Tri::Unknown => {
                let reason = format!("{}: {}", self.here(), what());
                let i = self.run.decide(
                    reason,
                    &["matches".to_string(), "does not match".to_string()],
                )?;
                Ok(i == 0)
            }
        }
    }

    /// A terminal unknown located at this rule.
    pub fn terminal(&self, why: impl std::fmt::Display) -> Halt {
        Halt::Terminal(format!("{}: {why}", self.here()))
    }

    /// The elements of a set as the packet sees them now (with `dynset`
    /// changes of this run).
    pub fn elements(&self, set: &str) -> Vec<SetElement> {
        let ev = self.run.ev;
        let mut els: Vec<SetElement> = ev
            .ruleset
            .elements_of(self.chain.family, self.chain.table, set)
            .to_vec();
        for c in &self.run.state.set_changes {
            if c.family == self.chain.family && c.table == self.chain.table && c.set == set {
                els.retain(|e| e.key.as_deref() != Some(c.key.as_slice()) || e.is_interval_end());
                if c.added {
                    els.push(SetElement::new(c.key.clone()));
                }
            }
        }
        els
    }

    /// Whether a `dynset` with an unknown key changed `set` in this run.
    pub fn set_tainted(&self, set: &str) -> bool {
        self.run
            .state
            .tainted_sets
            .iter()
            .any(|(f, t, s)| *f == self.chain.family && t == self.chain.table && s == set)
    }
}

/// Evaluates packets against one ruleset snapshot.
pub struct Evaluator<'a> {
    pub(crate) ruleset: &'a Ruleset,
    pub(crate) host: &'a HostFacts,
    rules: HashMap<(Family, &'a str, &'a str), Vec<&'a Rule>>,
    max_branches: usize,
}

/// One base chain in hook order.
struct HookEntry<'a> {
    chain: &'a Chain,
    priority: i32,
}

impl<'a> Evaluator<'a> {
    /// An evaluator for `ruleset` (a dump, sets and elements included)
    /// on a host described by `host`.
    pub fn new(ruleset: &'a Ruleset, host: &'a HostFacts) -> Self {
        let mut rules: HashMap<(Family, &str, &str), Vec<&Rule>> = HashMap::new();
        for r in &ruleset.rules {
            rules
                .entry((r.family, r.table.as_str(), r.chain.as_str()))
                .or_default()
                .push(r);
        }
        Evaluator {
            ruleset,
            host,
            rules,
            max_branches: MAX_BRANCHES,
        }
    }

    /// Limits the number of branches explored (default [`MAX_BRANCHES`]).
    pub fn with_max_branches(mut self, n: usize) -> Self {
        self.max_branches = n.max(1);
        self
    }

    /// Evaluates `packet` at `packet.hook` only.
    pub fn evaluate(&'a self, packet: &Packet) -> Result<Evaluation> {
        self.evaluate_path(packet, &Path::Hooks(vec![packet.hook]))
    }

    /// Evaluates `packet` along `path`.
    pub fn evaluate_path(&'a self, packet: &Packet, path: &Path) -> Result<Evaluation> {
        packet.validate().map_err(|detail| Error::Invalid {
            what: "packet",
            detail,
        })?;
        let mut todo: Vec<Vec<usize>> = vec![Vec::new()];
        let mut branches = Vec::new();
        let mut runs = 0usize;
        let mut gave_up = false;
        while let Some(decisions) = todo.pop() {
            runs += 1;
            if runs > self.max_branches {
                gave_up = true;
                break;
            }
            let mut run = Run {
                ev: self,
                decisions: &decisions,
                used: 0,
                assumptions: Vec::new(),
                trace: Vec::new(),
                notes: Vec::new(),
                state: initial_state(packet),
            };
            let verdict = match self.walk_path(&mut run, packet, path) {
                Ok(v) => v,
                Err(Halt::Terminal(reason)) => BranchVerdict::Unknown { reason },
                Err(Halt::Fork(n)) => {
                    for i in (0..n).rev() {
                        let mut d = decisions.clone();
                        d.push(i);
                        todo.push(d);
                    }
                    continue;
                }
            };
            branches.push((
                Branch {
                    assumptions: run.assumptions,
                    verdict,
                    trace: run.trace,
                },
                run.notes,
            ));
        }
        let mut notes: Vec<String> = Vec::new();
        let mut out = Vec::new();
        for (b, n) in branches {
            for x in n {
                if !notes.contains(&x) {
                    notes.push(x);
                }
            }
            out.push(b);
        }
        let mut reasons: Vec<String> = Vec::new();
        let mut push_reason = |r: String| {
            if !reasons.contains(&r) {
                reasons.push(r);
            }
        };
        if gave_up {
            push_reason(format!(
                "more than {} branches: too many undecidable points",
                self.max_branches
            ));
        }
        let all = |v: &BranchVerdict| out.iter().all(|b| &b.verdict == v);
        let verdict = if !gave_up && !out.is_empty() && all(&BranchVerdict::Accept) {
            Decision::Accept
        } else if !gave_up && !out.is_empty() && all(&BranchVerdict::Drop) {
            Decision::Drop
        } else {
            for b in &out {
                match &b.verdict {
                    BranchVerdict::Unknown { reason } => push_reason(reason.clone()),
                    _ => {
                        for (what, _) in &b.assumptions {
                            push_reason(what.clone());
                        }
                    }
                }
            }
            Decision::Unknown
        };
        Ok(Evaluation {
            verdict,
            reasons,
            branches: out,
            notes,
        })
    }

    fn walk_path(
        &'a self,
        run: &mut Run<'a>,
        packet: &Packet,
        path: &Path,
    ) -> std::result::Result<BranchVerdict, Halt> {
        let hooks: Vec<Hook> = match path {
            Path::Hooks(h) => {
                for hook in h {
                    run.state.hook = *hook;
                    run.state.iif = device_for(packet.iif.as_ref(), *hook, true);
                    run.state.oif = device_for(packet.oif.as_ref(), *hook, false);
                    if self.walk_hook(run, *hook)? == HookOutcome::Drop {
                        return Ok(BranchVerdict::Drop);
                    }
                }
                return Ok(BranchVerdict::Accept);
            }
            Path::Send => vec![Hook::Output, Hook::Postrouting, Hook::Egress],
            Path::Receive => vec![Hook::Ingress, Hook::Prerouting],
        };
        for hook in &hooks {
            run.state.hook = *hook;
            run.state.iif = device_for(packet.iif.as_ref(), *hook, true);
            run.state.oif = device_for(packet.oif.as_ref(), *hook, false);
            if self.walk_hook(run, *hook)? == HookOutcome::Drop {
                return Ok(BranchVerdict::Drop);
            }
        }
        if *path != Path::Receive {
            return Ok(BranchVerdict::Accept);
        }
        // The routing decision, on the destination as prerouting left it.
        let daddr = current_daddr(&run.state).ok_or_else(|| {
            Halt::Terminal("the destination address after prerouting (NAT) is unknown: input or forward cannot be told".into())
        })?;
        let local = match self.host.is_local(&daddr) {
            Some(l) => l || daddr.is_multicast(),
            None => {
                return Err(Halt::Terminal(
                    "no host addresses given: cannot tell whether the packet is delivered locally or forwarded".into(),
                ))
            }
        };
        let rest: Vec<Hook> = if local {
            vec![Hook::Input]
        } else {
            let oif = packet.oif.clone().or_else(|| {
                self.host.route(&daddr).and_then(|i| {
                    self.host
                        .interface(i)
                        .map(|h| Interface::new(h.name.clone(), h.index))
                })
            });
            match oif {
                Some(o) => {
                    run.state.oif = Device::Known(o);
                }
                None => {
                    return Err(Halt::Terminal(format!(
                        "{daddr} is not local and no route for it is known: the forward path cannot be followed"
                    )))
                }
            }
            run.note(format!(
                "{daddr} is not a local address: the packet is forwarded (if forwarding is enabled on the host)"
            ));
            vec![Hook::Forward, Hook::Postrouting, Hook::Egress]
        };
        let oif = run.state.oif.clone();
        for hook in rest {
            run.state.hook = hook;
            run.state.iif = device_for(packet.iif.as_ref(), hook, true);
            run.state.oif = match hook {
                Hook::Input => Device::Absent,
                _ => oif.clone(),
            };
            if self.walk_hook(run, hook)? == HookOutcome::Drop {
                return Ok(BranchVerdict::Drop);
            }
        }
        Ok(BranchVerdict::Accept)
    }

    /// The base chains on `hook` that see this packet, in the kernel's
    /// order, with NAT chains placed at the NAT core's priority.
    fn entries(&'a self, run: &mut Run<'a>, hook: Hook) -> Vec<HookEntry<'a>> {
        let fam = run.state.family;
        let mut out = Vec::new();
        for c in &self.ruleset.chains {
            let Some(h) = &c.hook else { continue };
            let chain_hook = Hook::from_number(c.family, h.hooknum);
            let family_sees = match (c.family, hook) {
                (Family::Netdev, Hook::Ingress | Hook::Egress) => true,
                (Family::Inet, _) => true,
                (Family::Ipv4, _) => {
                    fam == IpFamily::V4 && hook != Hook::Ingress && hook != Hook::Egress
                }
                (Family::Ipv6, _) => {
                    fam == IpFamily::V6 && hook != Hook::Ingress && hook != Hook::Egress
                }
                // bridge and arp chains never see a routed IP packet;
                // netdev chains only on ingress/egress.
                _ => false,
            };
            if !family_sees || chain_hook != hook {
                continue;
            }
            if matches!(hook, Hook::Ingress | Hook::Egress) {
                let dev = match hook {
                    Hook::Ingress => &run.state.iif,
                    _ => &run.state.oif,
                };
                let bound: Vec<&String> =
                    h.device.iter().chain(h.devices.iter().flatten()).collect();
                match dev {
                    Device::Known(i) => {
                        if !bound.iter().any(|d| **d == i.name) {
                            continue;
                        }
                    }
                    _ => {
                        run.note(format!(
                            "{} {} {}: bound to {:?} on {}; the packet's interface is unknown, so it was not evaluated",
                            c.family, c.table, c.name, bound, hook.name()
                        ));
                        continue;
                    }
                }
            }
            if let Some(t) = self.ruleset.table(c.family, &c.table) {
                if t.flags.unwrap_or_default().contains(TableFlags::DORMANT) {
                    run.note(format!(
                        "table {} {} is dormant: its chains do not run",
                        c.family, c.table
                    ));
                    continue;
                }
            }
            out.push(HookEntry {
                chain: c,
                priority: h.priority,
            });
        }
        out.sort_by_key(|e| effective_priority(e.chain, hook, e.priority));
        out
    }

    fn walk_hook(
        &'a self,
        run: &mut Run<'a>,
        hook: Hook,
    ) -> std::result::Result<HookOutcome, Halt> {
        let entries = self.entries(run, hook);
        // Group by effective priority: the kernel's order within a group is
        // undefined, which matters only if a chain changes the packet.
        let mut i = 0;
        while i < entries.len() {
            let p = effective_priority(entries[i].chain, hook, entries[i].priority);
            let mut j = i + 1;
            while j < entries.len()
                && effective_priority(entries[j].chain, hook, entries[j].priority) == p
            {
                j += 1;
            }
            let mut group: Vec<&HookEntry<'a>> = entries[i..j].iter().collect();
            // NAT chains sit inside the NAT core hook, ordered by their own
            // priority; group those separately.
            let (nat, plain): (Vec<_>, Vec<_>) = group.drain(..).partition(|e| is_nat(e.chain));
            let plain = self.order_group(run, hook, plain)?;
            for e in plain {
                if self.run_base_chain(run, e.chain, hook, e.priority)? == HookOutcome::Drop {
                    return Ok(HookOutcome::Drop);
                }
            }
            if !nat.is_empty() && self.run_nat(run, hook, nat)? == HookOutcome::Drop {
                return Ok(HookOutcome::Drop);
            }
            i = j;
        }
        Ok(HookOutcome::Accept)
    }

    /// NAT chains run only for the first packet of a connection, in
    /// priority order, and stop once one of them set up the mapping
    /// (`nf_nat_inet_fn`).
    fn run_nat(
        &'a self,
        run: &mut Run<'a>,
        hook: Hook,
        mut chains: Vec<&HookEntry<'a>>,
    ) -> std::result::Result<HookOutcome, Halt> {
        chains.sort_by_key(|e| e.priority);
        let new = match run.state.ct_state {
            Some(CtState::New) | Some(CtState::Related) => true,
            Some(_) => false,
            None => {
                let i = run.decide(
                    format!("NAT chains on {}: run only for a new connection, and the conntrack state is unknown", hook.name()),
                    &["new connection".into(), "existing connection".into()],
                )?;
                i == 0
            }
        };
        if !new || run.state.untracked_template {
            run.note(format!(
                "NAT chains on {} are skipped: they see only the first packet of a connection",
                hook.name()
            ));
            return Ok(HookOutcome::Accept);
        }
        let manip = match hook {
            Hook::Prerouting | Hook::Output => 1,
            _ => 0,
        };
        let mut k = 0;
        while k < chains.len() {
            let mut m = k + 1;
            while m < chains.len() && chains[m].priority == chains[k].priority {
                m += 1;
            }
            let group = self.order_group(run, hook, chains[k..m].to_vec())?;
            for e in group {
                if self.run_base_chain(run, e.chain, hook, e.priority)? == HookOutcome::Drop {
                    return Ok(HookOutcome::Drop);
                }
                if run.state.nat_done[manip] {
                    return Ok(HookOutcome::Accept);
                }
            }
            k = m;
        }
        Ok(HookOutcome::Accept)
    }

    /// Orders chains of equal priority: as listed when none changes the
    /// packet (the order cannot matter), else every order is explored.
    fn order_group<'g>(
        &'a self,
        run: &mut Run<'a>,
        hook: Hook,
        group: Vec<&'g HookEntry<'a>>,
    ) -> std::result::Result<Vec<&'g HookEntry<'a>>, Halt> {
        if group.len() < 2 {
            return Ok(group);
        }
        let names: Vec<String> = group
            .iter()
            .map(|e| format!("{} {} {}", e.chain.family, e.chain.table, e.chain.name))
            .collect();
        let modifies = group.iter().any(|e| self.table_modifies_packet(e.chain));
        if !modifies {
            return Ok(group);
        }
        run.note(format!(
            "base chains {} share priority {} on {}: the kernel's order is undefined, and one of them changes the packet",
            names.join(", "),
            group[0].priority,
            hook.name()
        ));
        if group.len() > 4 {
            return Err(Halt::Terminal(format!(
                "{} base chains share priority {} on {} and change the packet: too many orders to explore",
                group.len(),
                group[0].priority,
                hook.name()
            )));
        }
        let perms = permutations(group.len());
        let labels: Vec<String> = perms
            .iter()
            .map(|p| {
                p.iter()
                    .map(|&i| names[i].clone())
                    .collect::<Vec<_>>()
                    .join(" then ")
            })
            .collect();
        let pick = run.decide(
            format!(
                "order of the base chains sharing priority {} on {}",
                group[0].priority,
                hook.name()
            ),
            &labels,
        )?;
        Ok(perms[pick].iter().map(|&i| group[i]).collect())
    }

    /// Whether a chain's table holds an expression that changes the
    /// packet or its metadata (so that chain order could matter).
    fn table_modifies_packet(&self, chain: &Chain) -> bool {
        self.ruleset
            .rules
            .iter()
            .filter(|r| r.family == chain.family && r.table == chain.table)
            .flat_map(|r| r.exprs.iter())
            .any(|e| match e {
                Expr::Meta(m) => m.sreg.is_some(),
                Expr::Ct(c) => c.sreg.is_some(),
                Expr::Payload(p) => p.sreg.is_some(),
                Expr::Exthdr(x) => x.sreg.is_some(),
                Expr::Nat(_)
                | Expr::Masq(_)
                | Expr::Redir(_)
                | Expr::Dynset(_)
                | Expr::Notrack(_) => true,
                Expr::Opaque(o) => o.name != "match" && o.name != "byteorder",
                _ => false,
            })
    }

    /// Runs one base chain (with the chains it jumps to).
    fn run_base_chain(
        &'a self,
        run: &mut Run<'a>,
        base: &'a Chain,
        hook: Hook,
        priority: i32,
    ) -> std::result::Result<HookOutcome, Halt> {
        run.trace.push(TraceEvent::Chain {
            hook,
            family: base.family,
            table: base.table.clone(),
            chain: base.name.clone(),
            priority,
        });
        let ctx = ChainCtx {
            family: base.family,
            table: base.table.as_str(),
            chain: base.name.as_str(),
            hook,
            priority,
            is_nat: is_nat(base),
        };
        let mut regs = Registers::default();
        let mut stack: Vec<(&'a str, usize)> = Vec::new();
        let mut current: &'a str = base.name.as_str();
        let mut idx = 0usize;
        let empty: Vec<&Rule> = Vec::new();
        loop {
            let rules = self
                .rules
                .get(&(base.family, base.table.as_str(), current))
                .unwrap_or(&empty);
            let Some(rule) = rules.get(idx).copied() else {
                // End of chain: back to the caller, or the base policy.
                if let Some((c, i)) = stack.pop() {
                    current = c;
                    idx = i;
                    continue;
                }
                return Ok(self.policy(run, base));
            };
            idx += 1;
            let mut cx = Cx {
                run,
                regs: &mut regs,
                chain: ChainCtx {
                    chain: current,
                    ..ctx.clone()
                },
                rule,
            };
            let verdict = match eval_rule(&mut cx)? {
                None => continue,
                Some(v) => v,
            };
            let outcome = match &verdict {
                Verdict::Drop if rule.exprs.iter().any(|e| matches!(e, Expr::Reject(_))) => {
                    "reject (drop)".to_string()
                }
                v => verdict_text(v),
            };
            run.trace.push(TraceEvent::Rule {
                family: rule.family,
                table: rule.table.clone(),
                chain: rule.chain.clone(),
                handle: rule.handle,
                rule: describe_rule_in(self.ruleset, rule),
                outcome,
            });
            match verdict {
                Verdict::Continue => {}
                Verdict::Break => {}
                Verdict::Accept => return Ok(HookOutcome::Accept),
                Verdict::Drop => return Ok(HookOutcome::Drop),
                Verdict::Return => {
                    if let Some((c, i)) = stack.pop() {
                        current = c;
                        idx = i;
                    } else {
                        return Ok(self.policy(run, base));
                    }
                }
                Verdict::Jump(target) | Verdict::Goto(target) if stack.len() >= JUMP_STACK => {
                    return Err(Halt::Terminal(format!(
                        "{} {}: jump to {:?} exceeds the kernel's jump stack of {JUMP_STACK}",
                        base.family, base.table, target
                    )));
                }
                Verdict::Jump(target) => {
                    let name = self.resolve(base, &target)?;
                    stack.push((current, idx));
                    current = name;
                    idx = 0;
                }
                Verdict::Goto(target) => {
                    current = self.resolve(base, &target)?;
                    idx = 0;
                }
                Verdict::Queue(n) => {
                    return Err(Halt::Terminal(format!(
                    "{} {} {}: the packet is queued to userspace (queue {n}); the listener decides",
                    base.family, base.table, current
                )))
                }
                Verdict::Other(code) => {
                    return Err(Halt::Terminal(format!(
                        "{} {} {}: verdict code {code} is not modelled",
                        base.family, base.table, current
                    )))
                }
            }
        }
    }

    fn resolve(&'a self, base: &'a Chain, target: &ChainRef) -> std::result::Result<&'a str, Halt> {
        match target {
            ChainRef::Name(n) => self
                .ruleset
                .chains_of(base.family, &base.table)
                .find(|c| &c.name == n)
                .map(|c| c.name.as_str())
                .ok_or_else(|| {
                    Halt::Terminal(format!(
                        "{} {}: jump to chain {n}, which the snapshot does not hold",
                        base.family, base.table
                    ))
                }),
            ChainRef::Id(id) => Err(Halt::Terminal(format!(
                "{} {}: jump to a chain by transaction id {id} (not a dump)",
                base.family, base.table
            ))),
        }
    }

    fn policy(&self, run: &mut Run<'_>, base: &Chain) -> HookOutcome {
        let policy = base.policy.unwrap_or(ChainPolicy::Accept);
        let (text, out) = match policy {
            ChainPolicy::Drop => ("drop", HookOutcome::Drop),
            _ => ("accept", HookOutcome::Accept),
        };
        run.trace.push(TraceEvent::Policy {
            family: base.family,
            table: base.table.clone(),
            chain: base.name.clone(),
            policy: text.into(),
        });
        out
    }
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum HookOutcome {
    Accept,
    Drop,
}

/// Evaluates one rule: `None` when a condition failed (or it has no
/// verdict), else the verdict its expressions set.
fn eval_rule(cx: &mut Cx<'_, '_>) -> std::result::Result<Option<Verdict>, Halt> {
    for e in &cx.rule.exprs {
        match matchers::eval_expr(cx, e)? {
            Step::Next => {}
            Step::Break => return Ok(None),
            Step::Verdict(v) => return Ok(Some(v)),
        }
    }
    // A rule that ran to its end without a verdict (counter, log, set
    // statements) lets the packet continue; it is still met.
    cx.run.trace.push(TraceEvent::Rule {
        family: cx.rule.family,
        table: cx.rule.table.clone(),
        chain: cx.rule.chain.clone(),
        handle: cx.rule.handle,
        rule: describe_rule_in(cx.run.ev.ruleset, cx.rule),
        outcome: "continue".into(),
    });
    Ok(None)
}

fn is_nat(c: &Chain) -> bool {
    c.chain_type.as_deref() == Some("nat")
}

/// The priority at which a chain really runs: NAT chains run inside the
/// NAT core's hook (`NF_IP_PRI_NAT_DST` -100 on prerouting/output,
/// `NF_IP_PRI_NAT_SRC` 100 on input/postrouting).
fn effective_priority(c: &Chain, hook: Hook, priority: i32) -> i32 {
    if is_nat(c) {
        match hook {
            Hook::Prerouting | Hook::Output => -100,
            Hook::Input | Hook::Postrouting => 100,
            _ => priority,
        }
    } else {
        priority
    }
}

/// Whether conntrack has seen the packet when a chain at `priority` on
/// `hook` runs.
pub(crate) fn ct_attached(hook: Hook, priority: i32, is_nat: bool) -> super::bits::Tri {
    use super::bits::Tri;
    match hook {
        Hook::Ingress => Tri::False,
        Hook::Prerouting | Hook::Output => {
            let p = if is_nat { -100 } else { priority };
            match p.cmp(&PRI_CONNTRACK) {
                std::cmp::Ordering::Less => Tri::False,
                std::cmp::Ordering::Equal => Tri::Unknown,
                std::cmp::Ordering::Greater => Tri::True,
            }
        }
        _ => Tri::True,
    }
}

fn device_for(i: Option<&Interface>, hook: Hook, input: bool) -> Device {
    let has = match hook {
        Hook::Prerouting | Hook::Input | Hook::Ingress => input,
        Hook::Forward => true,
        Hook::Output | Hook::Postrouting | Hook::Egress => !input,
        Hook::Other(_) => true,
    };
    match (has, i) {
        (false, _) => Device::Absent,
        (true, Some(i)) => Device::Known(i.clone()),
        (true, None) => Device::Unknown,
    }
}

fn initial_state(p: &Packet) -> PacketState {
    let headers = p.headers();
    let (sport, dport) = ports(&headers);
    let fam = p.family;
    let addr = |a: &IpAddr| Bits::known(&super::packet::ip_octets(a));
    let as_seen = Tuple {
        src: addr(&p.saddr),
        sport: sport.clone(),
        dst: addr(&p.daddr),
        dport: dport.clone(),
    };
    let swapped = Tuple {
        src: addr(&p.daddr),
        sport: dport,
        dst: addr(&p.saddr),
        dport: sport,
    };
    // The packet as described is taken as not yet translated: its tuple
    // is the connection's original tuple (direction original) or the
    // reverse of it (reply), and the reply tuple the reverse.
    let (orig, reply) = match p.ct.direction {
        Some(CtDirection::Original) => (Some(as_seen), Some(swapped)),
        Some(CtDirection::Reply) => (Some(swapped), Some(as_seen)),
        None => (None, None),
    };
    PacketState {
        family: fam,
        hook: p.hook,
        headers,
        iif: Device::Unknown,
        oif: Device::Unknown,
        mark: p.mark,
        priority: p.priority,
        pkttype: p.pkttype,
        length: p.length,
        socket: p.socket,
        ct_state: p.ct.state,
        ct_direction: p.ct.direction,
        ct_status: p.ct.status,
        ct_mark: p.ct.mark,
        ct_original: orig,
        ct_reply: reply,
        untracked_template: p.ct.state == Some(CtState::Untracked),
        nat_done: [false, false],
        set_changes: Vec::new(),
        tainted_sets: Vec::new(),
    }
}

/// Source and destination ports (the first four transport bytes; unknown
/// for protocols without ports).
fn ports(h: &Headers) -> (Bits, Bits) {
    (h.transport(0, 2), h.transport(2, 2))
}

/// The destination address as the headers hold it now.
pub(crate) fn current_daddr(s: &PacketState) -> Option<IpAddr> {
    let (at, len) = daddr_span(s.family);
    let b = s.headers.network(at, len);
    let v = b.value()?;
    Some(match s.family {
        IpFamily::V4 => IpAddr::from(<[u8; 4]>::try_from(v).ok()?),
        IpFamily::V6 => IpAddr::from(<[u8; 16]>::try_from(v).ok()?),
    })
}

/// Byte span of the source address in the network header.
pub(crate) fn saddr_span(f: IpFamily) -> (usize, usize) {
    match f {
        IpFamily::V4 => (12, 4),
        IpFamily::V6 => (8, 16),
    }
}

/// Byte span of the destination address in the network header.
pub(crate) fn daddr_span(f: IpFamily) -> (usize, usize) {
    match f {
        IpFamily::V4 => (16, 4),
        IpFamily::V6 => (24, 16),
    }
}

fn permutations(n: usize) -> Vec<Vec<usize>> {
    if n == 0 {
        return vec![Vec::new()];
    }
    let mut out = Vec::new();
    for p in permutations(n - 1) {
        for pos in 0..=p.len() {
            let mut q = p.clone();
            q.insert(pos, n - 1);
            out.push(q);
        }
    }
    out
}
