//! `nftguard explain`: what a ruleset does to one packet described on the
//! command line — the verdict (accept/drop/unknown) and the trace of the
//! base chains and rules it meets, across all tables — on the live
//! ruleset, or on the ruleset a plan would produce
//! ([`super::planned::planned_ruleset`]).

use std::fmt::Write as _;
use std::net::IpAddr;
use std::str::FromStr;

use serde::{Deserialize, Serialize};

use super::eval::{Branch, BranchVerdict, Decision, Evaluator, Path};
use super::host::HostFacts;
use super::packet::{tcp_flags, CtDirection, CtInfo, CtState, Interface, Packet, L4};
use super::trace::TraceEvent;
use crate::engine::{DumpFilter, Ruleset, Transaction};
use crate::error::{Error, Result};
use crate::netlink::Socket;
use crate::nft::Hook;

/// The protocol of an explained packet.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExplainProto {
    /// TCP.
    Tcp,
    /// UDP.
    Udp,
    /// ICMP (IPv4) or ICMPv6 (IPv6): an echo request.
    Icmp,
    /// Another IP protocol by number (its header is unknown).
    Number(u8),
}

impl FromStr for ExplainProto {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "tcp" => Ok(ExplainProto::Tcp),
            "udp" => Ok(ExplainProto::Udp),
            "icmp" | "icmpv6" | "ipv6-icmp" => Ok(ExplainProto::Icmp),
            other => other
                .parse::<u8>()
                .map(|n| match n {
                    6 => ExplainProto::Tcp,
                    17 => ExplainProto::Udp,
                    1 | 58 => ExplainProto::Icmp,
                    n => ExplainProto::Number(n),
                })
                .map_err(|_| format!("unknown protocol {s:?}: expected tcp, udp, icmp, icmpv6 or a protocol number")),
        }
    }
}

/// The hook (and so the path) an explained packet takes.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum ExplainHook {
    /// To a local socket: prerouting, then input.
    Input,
    /// Routed through the host: prerouting, forward, postrouting.
    Forward,
    /// Sent by a local process: output, then postrouting.
    Output,
}

impl FromStr for ExplainHook {
    type Err = String;

    fn from_str(s: &str) -> std::result::Result<Self, String> {
        match s.to_ascii_lowercase().as_str() {
            "input" => Ok(ExplainHook::Input),
            "forward" => Ok(ExplainHook::Forward),
            "output" => Ok(ExplainHook::Output),
            _ => Err(format!(
                "unknown hook {s:?}: expected input, forward or output"
            )),
        }
    }
}

impl ExplainHook {
    /// The hooks walked, in order.
    pub fn hooks(self) -> Vec<Hook> {
        match self {
            ExplainHook::Input => vec![Hook::Prerouting, Hook::Input],
            ExplainHook::Forward => vec![Hook::Prerouting, Hook::Forward, Hook::Postrouting],
            ExplainHook::Output => vec![Hook::Output, Hook::Postrouting],
        }
    }
}

/// Parses a `--ct-state` word (`new`, `established`, `related`,
/// `invalid`, `untracked`).
pub fn parse_ct_state(s: &str) -> std::result::Result<CtState, String> {
    match s.to_ascii_lowercase().as_str() {
        "new" => Ok(CtState::New),
        "established" => Ok(CtState::Established),
        "related" => Ok(CtState::Related),
        "invalid" => Ok(CtState::Invalid),
        "untracked" => Ok(CtState::Untracked),
        _ => Err(format!(
            "unknown conntrack state {s:?}: expected new, established, related, invalid or untracked"
        )),
    }
}

/// The packet to explain (the command line in typed form).
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct ExplainRequest {
    /// `--proto`.
    pub proto: ExplainProto,
    /// `--src`.
    pub src: IpAddr,
    /// `--dst`.
    pub dst: IpAddr,
    /// `--dport` (TCP/UDP; required for them).
    pub dport: Option<u16>,
    /// `--sport` (default 54321).
    pub sport: Option<u16>,
    /// `--iif` (input and forward): the interface name in the verified
    /// namespace.
    pub iif: Option<String>,
    /// `--ct-state` (default `new`).
    pub ct_state: Option<CtState>,
    /// `--hook` (default input).
    pub hook: ExplainHook,
}

/// What a ruleset does to the packet.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Explanation {
    /// `accept`, `drop` or `unknown`.
    pub verdict: Decision,
    /// The trace of the first branch (the only one when nothing was
    /// undecidable).
    pub trace: Vec<TraceEvent>,
    /// Why the verdict is `unknown`.
    pub reasons: Vec<String>,
    /// Every branch explored, with its assumptions and trace.
    pub branches: Vec<Branch>,
    /// Facts that do not change the verdict (NAT, skipped chains).
    pub notes: Vec<String>,
    /// The packet, in words.
    pub packet: String,
    /// `live` or `planned`.
    pub ruleset: String,
    /// The generation of the live ruleset it was made from.
    pub genid: u32,
}

impl Explanation {
    /// Pretty-printed JSON.
    pub fn to_json(&self) -> String {
        serde_json::to_string_pretty(self).unwrap_or_else(|e| format!("{{\"error\": \"{e}\"}}"))
    }
}

impl ExplainRequest {
    /// The packet the request describes; `Err` names what is inconsistent.
    pub fn packet(&self) -> Result<Packet> {
        let invalid = |detail: String| Error::Invalid {
            what: "explain request",
            detail,
        };
        if self.src.is_ipv4() != self.dst.is_ipv4() {
            return Err(invalid(format!(
                "--src {} and --dst {} are not of the same family",
                self.src, self.dst
            )));
        }
        let state = self.ct_state.unwrap_or(CtState::New);
        let sport = self.sport.unwrap_or(super::probe::EPHEMERAL_PORT);
        let needs_port = |what: &str| {
            self.dport
                .ok_or_else(|| invalid(format!("--dport is required for {what}")))
        };
        let l4 = match self.proto {
            ExplainProto::Tcp => L4::Tcp {
                sport,
                dport: needs_port("tcp")?,
                flags: Some(if state == CtState::New {
                    tcp_flags::SYN
                } else {
                    tcp_flags::ACK
                }),
            },
            ExplainProto::Udp => L4::Udp {
                sport,
                dport: needs_port("udp")?,
            },
            ExplainProto::Icmp => L4::Icmp {
                icmp_type: if self.src.is_ipv4() { 8 } else { 128 },
                code: 0,
                id: Some(1),
                seq: Some(1),
            },
            ExplainProto::Number(n) => L4::Other { proto: n },
        };
        let hook = self.hook.hooks().last().copied().unwrap_or(Hook::Input);
        let mut p = Packet::new(hook, self.src, self.dst, l4);
        if state != CtState::New {
            p = p.with_ct(CtInfo {
                state: Some(state),
                direction: Some(CtDirection::Original),
                status: None,
                mark: Some(0),
            });
        }
        if let Some(name) = &self.iif {
            if self.hook == ExplainHook::Output {
                return Err(invalid("--iif does not apply to --hook output".into()));
            }
            let index = crate::netlink::interface_index(name)?.unwrap_or(0);
            let mut i = Interface::new(name.clone(), index);
            if name == "lo" {
                i.arphrd = Some(772);
            }
            p = p.with_iif(i);
        }
        if self.hook == ExplainHook::Output {
            p.socket = super::packet::SocketInfo::Unknown;
        }
        Ok(p)
    }

    /// The packet in words (`tcp 198.51.100.7:54321 -> 192.0.2.1:22 ct
    /// state new, hook input, iif eth0`).
    pub fn describe(&self) -> String {
        let proto = match self.proto {
            ExplainProto::Tcp => "tcp".to_string(),
            ExplainProto::Udp => "udp".to_string(),
            ExplainProto::Icmp if self.src.is_ipv4() => "icmp echo-request".to_string(),
            ExplainProto::Icmp => "icmpv6 echo-request".to_string(),
            ExplainProto::Number(n) => format!("protocol {n}"),
        };
        let ports = matches!(self.proto, ExplainProto::Tcp | ExplainProto::Udp);
        let ep = |a: &IpAddr, p: Option<u16>| match (a, p, ports) {
            (IpAddr::V6(_), Some(p), true) => format!("[{a}]:{p}"),
            (_, Some(p), true) => format!("{a}:{p}"),
            _ => a.to_string(),
        };
        let state = match self.ct_state.unwrap_or(CtState::New) {
            CtState::New => "new",
            CtState::Established => "established",
            CtState::Related => "related",
            CtState::Invalid => "invalid",
            CtState::Untracked => "untracked",
        };
        let mut s = format!(
            "{proto} {} -> {} ct state {state}, hook {}",
            ep(
                &self.src,
                Some(self.sport.unwrap_or(super::probe::EPHEMERAL_PORT))
            ),
            ep(&self.dst, self.dport),
            match self.hook {
                ExplainHook::Input => "input",
                ExplainHook::Forward => "forward",
                ExplainHook::Output => "output",
            }
        );
        if let Some(i) = &self.iif {
            let _ = write!(s, ", iif {i}");
        }
        s
    }
}

/// Explains `req` on an already-dumped ruleset (`label`: `live`,
/// `planned`, …).
pub fn explain_ruleset(
    rs: &Ruleset,
    host: &HostFacts,
    req: &ExplainRequest,
    label: &str,
) -> Result<Explanation> {
    let packet = req.packet()?;
    let ev = Evaluator::new(rs, host);
    let e = ev.evaluate_path(&packet, &Path::Hooks(req.hook.hooks()))?;
    Ok(Explanation {
        verdict: e.verdict,
        trace: e.trace().to_vec(),
        reasons: e.reasons,
        branches: e.branches,
        notes: e.notes,
        packet: req.describe(),
        ruleset: label.into(),
        genid: rs.genid,
    })
}

/// `nftguard explain`: dumps the live ruleset of `sock`'s namespace and
/// explains `req` on it. Interface names are resolved in the calling
/// thread's namespace.
pub fn explain(sock: &mut Socket, req: &ExplainRequest) -> Result<Explanation> {
    let live = Ruleset::dump(sock, &DumpFilter::all())?;
    explain_ruleset(&live, &HostFacts::none(), req, "live")
}

/// `nftguard plan --explain`: explains `req` on the ruleset `tx` would
/// produce from the live one (built without touching the live ruleset,
/// see [`super::planned::planned_ruleset`]).
pub fn explain_planned(
    sock: &mut Socket,
    tx: &Transaction,
    req: &ExplainRequest,
) -> Result<Explanation> {
    let live = Ruleset::dump(sock, &DumpFilter::all())?;
    let planned = super::planned::planned_ruleset(&live, tx)?;
    explain_ruleset(&planned, &HostFacts::none(), req, "planned")
}

fn event_line(out: &mut String, ev: &TraceEvent) {
    let _ = match ev {
        TraceEvent::Chain {
            hook,
            family,
            table,
            chain,
            priority,
        } => writeln!(
            out,
            "  {}: {family} {table} {chain} (priority {priority})",
            hook.name()
        ),
        TraceEvent::Rule {
            handle,
            rule,
            outcome,
            chain,
            ..
        } => writeln!(
            out,
            "    {chain}{}: {rule}  => {outcome}",
            handle.map(|h| format!(" #{h}")).unwrap_or_default()
        ),
        TraceEvent::Policy { chain, policy, .. } => writeln!(out, "    {chain}: policy {policy}"),
        TraceEvent::Assumed { reason, choice } => writeln!(out, "    ? {reason}: assumed {choice}"),
        TraceEvent::Note { text } => writeln!(out, "    note: {text}"),
    };
}

/// The explanation for people: verdict, trace, and for `unknown` every
/// branch with its assumptions.
pub fn render_human(e: &Explanation) -> String {
    let mut out = String::new();
    let verdict = match e.verdict {
        Decision::Accept => "ACCEPT",
        Decision::Drop => "DROP",
        Decision::Unknown => "UNKNOWN",
    };
    let _ = writeln!(
        out,
        "{verdict}  {} ({} ruleset, generation {})",
        e.packet, e.ruleset, e.genid
    );
    if e.branches.len() <= 1 {
        for ev in &e.trace {
            event_line(&mut out, ev);
        }
    } else {
        for (i, b) in e.branches.iter().enumerate() {
            let v = match &b.verdict {
                BranchVerdict::Accept => "accept".to_string(),
                BranchVerdict::Drop => "drop".to_string(),
                BranchVerdict::Unknown { reason } => format!("unknown: {reason}"),
            };
            let _ = writeln!(out, "branch {} => {v}", i + 1);
            for ev in &b.trace {
                event_line(&mut out, ev);
            }
        }
    }
    if !e.reasons.is_empty() {
        let _ = writeln!(out, "undecided because:");
        for r in &e.reasons {
            let _ = writeln!(out, "  - {r}");
        }
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn parses_words_and_refuses_nonsense() {
        assert_eq!("TCP".parse::<ExplainProto>(), Ok(ExplainProto::Tcp));
        assert_eq!("47".parse::<ExplainProto>(), Ok(ExplainProto::Number(47)));
        assert!("tpc".parse::<ExplainProto>().is_err());
        assert_eq!("forward".parse::<ExplainHook>(), Ok(ExplainHook::Forward));
        assert!("prerouting".parse::<ExplainHook>().is_err());
        assert_eq!(parse_ct_state("Established"), Ok(CtState::Established));
        assert!(parse_ct_state("open").is_err());
        let req = ExplainRequest {
            proto: ExplainProto::Tcp,
            src: "192.0.2.1".parse().unwrap(),
            dst: "2001:db8::1".parse().unwrap(),
            dport: Some(22),
            sport: None,
            iif: None,
            ct_state: None,
            hook: ExplainHook::Input,
        };
        assert!(req.packet().is_err());
        let req = ExplainRequest {
            dst: "192.0.2.2".parse().unwrap(),
            dport: None,
            ..req
        };
        assert!(req.packet().is_err());
    }
}
