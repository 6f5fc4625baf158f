//! `nftguard verify`: every check of WORKFLOW.md §verify, each mapped to
//! compliance controls ([`super::controls`]).
//!
//! The checks *evaluate* the live ruleset (all tables, every base chain
//! in priority order, [`super::Evaluator`]) with probe packets, and
//! cross-check with what actually listens (sock_diag), the audit (who
//! else manages the firewall, fail2ban, Docker) and the transaction state
//! (persisted policy, rollback timer). How each one decides is documented
//! on its function below.
//!
//! `run_checks` reads sock_diag, `/proc/thread-self/net` and the local
//! connect from the calling thread's network namespace, and nf_tables
//! through `sock`: call it from a thread inside the namespace verified.

use std::net::{IpAddr, SocketAddr, TcpStream};
use std::path::PathBuf;
use std::time::Duration;

use serde::{Deserialize, Serialize};

use super::controls::controls;
use super::eval::{Evaluation, Evaluator, Path};
use super::host::HostFacts;
use super::listeners::{listeners, Listener, Proto};
use super::packet::{Interface, IpFamily, Packet};
use super::probe::{
    self, established_reply, external_interface, inbound, loopback_interface, mentioned_ports,
    new_connection, outside, source_candidates, tables_where, Answer, PortRange,
    PLACEHOLDER_LOCAL_V4, PLACEHOLDER_LOCAL_V6,
};
use super::trace::TraceEvent;
use crate::compat::xt::{XtExpr, XtInfo};
use crate::detect::{self, Audit, AuditOptions, Host, Manager};
use crate::engine::{DumpFilter, Ruleset};
use crate::error::Result;
use crate::netlink::Socket;
use crate::nft::expr::NatType;
use crate::nft::{Data, Expr, Family, Hook, Rule};
use crate::txn::backup::{same_table_content, table_content, OWNED_TABLE_NAME};
use crate::txn::journal::Phase;
use crate::txn::persist::{Policy, DEFAULT_UNIT_DIR, RESTORE_UNIT};
use crate::txn::StateDir;

/// The outcome of one check.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Status {
    /// Proven to hold.
    Pass,
    /// Proven not to hold, or could not be proven where proof is required.
    Fail,
    /// Holds with a caveat, or could not be decided.
    Warn,
    /// Does not apply here (no Docker, no fail2ban, nothing applied yet).
    Skip,
}

impl Status {
    /// `pass`, `fail`, `warn` or `skip`.
    pub fn word(self) -> &'static str {
        match self {
            Status::Pass => "pass",
            Status::Fail => "fail",
            Status::Warn => "warn",
            Status::Skip => "skip",
        }
    }
}

/// One check's result.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Check {
    /// The check's id (`ssh-reachable`, …).
    pub id: String,
    /// Its outcome.
    pub status: Status,
    /// What was found, for people.
    pub detail: String,
    /// The compliance controls it gives evidence for.
    pub controls: Vec<String>,
    /// A failure makes `verify` exit 60.
    pub critical: bool,
    /// The facts behind the outcome (probe verdicts, files, states).
    pub evidence: Vec<String>,
}

impl Check {
    fn new(id: &str, status: Status, detail: impl Into<String>, evidence: Vec<String>) -> Check {
        Check {
            id: id.into(),
            status,
            detail: detail.into(),
            controls: controls(id),
            critical: id == "ssh-reachable",
            evidence,
        }
    }
}

/// A port the live ruleset lets a new connection reach a listening
/// socket on.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Exposure {
    /// Port.
    pub port: u16,
    /// `tcp` or `udp`.
    pub proto: String,
    /// `ipv4` or `ipv6`.
    pub family: String,
    /// The processes holding the socket (`sshd[812]`), comma-separated;
    /// empty when unknown.
    pub process: String,
    /// The sources accepted: `any`, a network a rule names, or
    /// `operator ADDR`; a ` (rate-limited)` suffix when only within a
    /// rate limit.
    pub allowed_from: Vec<String>,
    /// The address the socket is bound to.
    pub address: String,
    /// Whether the policy intends this port (None: no policy known).
    pub intended: Option<bool>,
    /// Sources for which the evaluator could not decide, with why.
    pub undecided: Vec<String>,
}

/// Everything `verify` reports. `passed`, `checks` and `exposure` are the
/// JSON contract of WORKFLOW.md; the rest is context for reviewers.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct VerifyReport {
    /// No check failed.
    pub passed: bool,
    /// Every check, in [`super::controls::CHECK_IDS`] order.
    pub checks: Vec<Check>,
    /// What the network can reach.
    pub exposure: Vec<Exposure>,
    /// The ruleset generation verified.
    pub genid: u32,
    /// The SSH port checked.
    pub ssh_port: u16,
    /// The operator's source address, when known.
    pub operator_source: Option<String>,
    /// The interface probes arrived on.
    pub probe_interface: String,
    /// The ports the policy intends (as `22/tcp`), and where that list
    /// came from.
    pub intended_ports: Vec<String>,
    /// `option`, `persisted policy`, `live nftguard table` or `none`.
    pub intended_source: String,
    /// When the report was made (Unix seconds).
    pub generated_at: u64,
    /// Whether any failure counts as critical (`--strict`).
    pub strict: bool,
}

impl VerifyReport {
    /// 60 when a critical check failed (or, with `strict`, any check),
    /// else 0.
    pub fn exit_code(&self) -> i32 {
        let failed = |c: &&Check| c.status == Status::Fail && (c.critical || self.strict);
        if self.checks.iter().any(|c| failed(&c)) {
            60
        } else {
            0
        }
    }

    /// The check with this id.
    pub fn check(&self, id: &str) -> Option<&Check> {
        self.checks.iter().find(|c| c.id == id)
    }

    /// The failed critical checks, as `id: detail` lines (what `apply`'s
    /// verify hook reports).
    pub fn critical_failures(&self) -> Vec<String> {
        self.checks
            .iter()
            .filter(|c| c.status == Status::Fail && (c.critical || self.strict))
            .map(|c| format!("{}: {}", c.id, c.detail))
            .collect()
    }
}

/// How to verify.
#[derive(Debug, Clone)]
pub struct VerifyOptions {
    /// The operator's source address (`SSH_CONNECTION`/`SSH_CLIENT`, or
    /// `--source`). None: probes come from an arbitrary Internet address.
    pub operator_source: Option<IpAddr>,
    /// The local address the operator's session reached (from
    /// `SSH_CONNECTION`), used as the probes' destination.
    pub server_address: Option<IpAddr>,
    /// The SSH port (None: the audit's).
    pub ssh_port: Option<u16>,
    /// The intended ports (None: derived from the persisted policy, else
    /// from the live `inet nftguard` table).
    pub intended: Option<Vec<PortRange>>,
    /// Try a TCP connect to the SSH port (the second half of
    /// ssh-reachable). Off only where no sshd can run.
    pub local_connect: bool,
    /// How long the local connect may take.
    pub connect_timeout: Duration,
    /// The interface probes arrive on (None: [`external_interface`]).
    pub interface: Option<Interface>,
    /// Host facts for `fib` and routing (None known: those rules are
    /// undecidable and show as such).
    pub host_facts: HostFacts,
    /// The audit, when the caller has one (None: run it).
    pub audit: Option<Audit>,
    /// Root for the audit's files.
    pub host: Host,
    /// Where the boot unit is installed.
    pub unit_dir: PathBuf,
    /// Every failed check makes the exit code 60, not only critical ones.
    pub strict: bool,
}

impl Default for VerifyOptions {
    fn default() -> Self {
        VerifyOptions {
            operator_source: None,
            server_address: None,
            ssh_port: None,
            intended: None,
            local_connect: true,
            connect_timeout: Duration::from_secs(3),
            interface: None,
            host_facts: HostFacts::none(),
            audit: None,
            host: Host::default(),
            unit_dir: PathBuf::from(DEFAULT_UNIT_DIR),
            strict: false,
        }
    }
}

impl VerifyOptions {
    /// Defaults with the operator's session from `SSH_CONNECTION` /
    /// `SSH_CLIENT`.
    pub fn from_env() -> Self {
        let mut o = VerifyOptions::default();
        if let Some(s) = crate::plan::OperatorSession::from_env() {
            o.operator_source = Some(s.source);
            if let Some(server) = std::env::var("SSH_CONNECTION").ok().and_then(|c| {
                c.split_whitespace()
                    .nth(2)
                    .and_then(|a| a.parse::<IpAddr>().ok())
            }) {
                o.server_address = Some(match server {
                    IpAddr::V6(v6) => v6.to_ipv4_mapped().map_or(server, IpAddr::V4),
                    v4 => v4,
                });
            }
            if o.ssh_port.is_none() {
                o.ssh_port = s.server_port;
            }
        }
        o
    }
}

/// Everything the checks share.
struct Ctx<'a> {
    live: &'a Ruleset,
    ev: Evaluator<'a>,
    audit: &'a Audit,
    opts: &'a VerifyOptions,
    ext: Interface,
    ssh_port: u16,
    intended: Option<Vec<PortRange>>,
    /// Tables of the policy (for candidates).
    listeners: std::result::Result<Vec<Listener>, String>,
    state: &'a StateDir,
}

impl Ctx<'_> {
    /// The probes' destination in `family`.
    fn local(&self, family: IpFamily) -> IpAddr {
        match (family, self.opts.server_address) {
            (f, Some(a)) if IpFamily::of(&a) == f => a,
            (IpFamily::V4, _) => IpAddr::V4(PLACEHOLDER_LOCAL_V4),
            (IpFamily::V6, _) => IpAddr::V6(PLACEHOLDER_LOCAL_V6),
        }
    }

    fn is_intended(&self, proto: Proto, port: u16) -> Option<bool> {
        self.intended
            .as_ref()
            .map(|v| v.iter().any(|r| r.contains(proto, port)))
    }

    /// A port nobody should reach: not intended, not mentioned by any
    /// rule, not listened on.
    fn unused_port(&self) -> u16 {
        let mentioned = mentioned_ports(self.live);
        let listening: Vec<u16> = self
            .listeners
            .as_ref()
            .map(|l| l.iter().map(|l| l.port).collect())
            .unwrap_or_default();
        [47u16, 1, 9, 19, 4, 6, 8, 65001, 65432]
            .into_iter()
            .find(|p| {
                !listening.contains(p)
                    && !mentioned.iter().any(|r| r.first <= *p && *p <= r.last)
                    && self.is_intended(Proto::Tcp, *p) != Some(true)
                    && self.is_intended(Proto::Udp, *p) != Some(true)
                    && *p != self.ssh_port
            })
            .unwrap_or(47)
    }
}

/// Runs every check against the live ruleset of `sock`'s namespace.
/// `Err` only when the ruleset cannot be dumped; every other problem is a
/// failed or warned check.
pub fn run_checks(
    sock: &mut Socket,
    state: &StateDir,
    opts: &VerifyOptions,
) -> Result<VerifyReport> {
    let live = Ruleset::dump(sock, &DumpFilter::all())?;
    let audit = match &opts.audit {
        Some(a) => a.clone(),
        None => detect::audit(sock, &opts.host, &AuditOptions::default())?,
    };
    let listeners = listeners().map_err(|e| e.to_string());
    let policy = Policy::load(state);
    let (intended, intended_source) =
        intended_ports(&live, opts, policy.as_ref().ok().and_then(|p| p.as_ref()));
    let ctx = Ctx {
        live: &live,
        ev: Evaluator::new(&live, &opts.host_facts),
        audit: &audit,
        opts,
        ext: opts.interface.clone().unwrap_or_else(external_interface),
        ssh_port: opts.ssh_port.unwrap_or(audit.ssh_port),
        intended,
        listeners,
        state,
    };
    let (exposure, intended_check) = intended_ports_only(&ctx);
    let checks = vec![
        ssh_reachable(&ctx),
        intended_check,
        ipv6_parity(&ctx, &exposure),
        default_deny(&ctx),
        loopback(&ctx),
        established(&ctx),
        persistence(&ctx, &policy),
        docker_published_ports(&ctx),
        fail2ban(&ctx),
        single_manager(&ctx),
        rollback_state(&ctx),
        drop_logging(&ctx),
    ];
    Ok(VerifyReport {
        passed: checks.iter().all(|c| c.status != Status::Fail),
        checks,
        exposure,
        genid: live.genid,
        ssh_port: ctx.ssh_port,
        operator_source: opts.operator_source.map(|a| a.to_string()),
        probe_interface: format!("{} (index {})", ctx.ext.name, ctx.ext.index),
        intended_ports: ctx
            .intended
            .as_ref()
            .map(|v| v.iter().map(ToString::to_string).collect())
            .unwrap_or_default(),
        intended_source,
        generated_at: crate::txn::state::now_unix(),
        strict: opts.strict,
    })
}

/// The intended ports: the option, else every port the persisted policy
/// (else the live `inet nftguard` table) mentions *and* accepts, alone,
/// a new connection to from some source.
fn intended_ports(
    live: &Ruleset,
    opts: &VerifyOptions,
    policy: Option<&Policy>,
) -> (Option<Vec<PortRange>>, String) {
    if let Some(v) = &opts.intended {
        return (Some(v.clone()), "option".into());
    }
    let (rs, source) = match policy {
        Some(p) => (p.content.clone(), "persisted policy"),
        None if live.table(Family::Inet, OWNED_TABLE_NAME).is_some() => (
            tables_where(live, |f, n| f == Family::Inet && n == OWNED_TABLE_NAME),
            "live nftguard table",
        ),
        None => return (None, "none".into()),
    };
    let ev = Evaluator::new(&rs, &opts.host_facts);
    let ext = opts.interface.clone().unwrap_or_else(external_interface);
    let mut out = Vec::new();
    for range in mentioned_ports(&rs) {
        let accepted = [IpFamily::V4, IpFamily::V6].into_iter().any(|fam| {
            let dst = match (fam, opts.server_address) {
                (f, Some(a)) if IpFamily::of(&a) == f => a,
                (IpFamily::V4, _) => IpAddr::V4(PLACEHOLDER_LOCAL_V4),
                (IpFamily::V6, _) => IpAddr::V6(PLACEHOLDER_LOCAL_V6),
            };
            source_candidates(&rs, fam, opts.operator_source)
                .iter()
                .any(|c| {
                    let p = new_connection(range.proto, c.addr, dst, range.first, &ext);
                    inbound(&ev, &p).0.is_accept()
                })
        });
        if accepted {
            out.push(range);
        }
    }
    (Some(out), source.into())
}

fn family_name(f: IpFamily) -> &'static str {
    match f {
        IpFamily::V4 => "ipv4",
        IpFamily::V6 => "ipv6",
    }
}

/// The base chains a branch met on `hook`, as `family table chain`.
fn chains_met(e: &Evaluation, hook: Hook) -> Vec<String> {
    let mut out = Vec::new();
    for ev in e.trace() {
        if let TraceEvent::Chain {
            hook: h,
            family,
            table,
            chain,
            priority,
        } = ev
        {
            if *h == hook {
                out.push(format!("{family} {table} {chain} (priority {priority})"));
            }
        }
    }
    out
}

/// What dropped the packet, from the first dropping branch's trace.
fn dropped_by(e: &Evaluation) -> String {
    let branch = e
        .branches
        .iter()
        .find(|b| b.verdict == super::eval::BranchVerdict::Drop)
        .or(e.branches.first());
    let Some(b) = branch else {
        return "no branch".into();
    };
    for ev in b.trace.iter().rev() {
        match ev {
            TraceEvent::Rule {
                family,
                table,
                chain,
                handle,
                rule,
                outcome,
            } if outcome.contains("drop") => {
                return format!(
                    "{family} {table} {chain} rule{} `{rule}`",
                    handle.map(|h| format!(" {h}")).unwrap_or_default()
                )
            }
            TraceEvent::Policy {
                family,
                table,
                chain,
                policy,
            } if policy == "drop" => return format!("{family} {table} {chain} policy drop"),
            _ => {}
        }
    }
    "unknown".into()
}

fn answer_text(a: &Answer, e: Option<&Evaluation>) -> String {
    match (a, e) {
        (Answer::Drop, Some(e)) => format!("drop by {}", dropped_by(e)),
        (Answer::Unknown(r), _) => format!("unknown ({r})"),
        (a, _) => a.word().to_string(),
    }
}

/// **ssh-reachable** (critical): the evaluator proves that a new TCP
/// connection from the operator's source (or, without one, from an
/// arbitrary Internet address) to the SSH port passes every base chain on
/// prerouting and input, across all tables; and a TCP connect to the SSH
/// port from this host succeeds (the server address of the operator's
/// session, else 127.0.0.1, else ::1).
fn ssh_reachable(ctx: &Ctx<'_>) -> Check {
    let id = "ssh-reachable";
    let port = ctx.ssh_port;
    let src = ctx.opts.operator_source.unwrap_or(outside(IpFamily::V4));
    let fam = IpFamily::of(&src);
    let dst = ctx.local(fam);
    let p = new_connection(Proto::Tcp, src, dst, port, &ctx.ext);
    let (ans, e) = inbound(&ctx.ev, &p);
    let who = match ctx.opts.operator_source {
        Some(a) => format!("the operator's source {a}"),
        None => format!("{src} (no SSH_CONNECTION: an arbitrary Internet address)"),
    };
    let mut evidence = vec![format!(
        "probe: tcp {src}:{} -> {dst}:{port} ct state new on {}: {}",
        probe::EPHEMERAL_PORT,
        ctx.ext.name,
        answer_text(&ans, e.as_ref())
    )];
    if let Some(e) = &e {
        let met = chains_met(e, Hook::Input);
        evidence.push(format!(
            "input base chains met: {}",
            if met.is_empty() {
                "none".into()
            } else {
                met.join(", ")
            }
        ));
    }
    let connect = if ctx.opts.local_connect {
        Some(local_connect(ctx, port))
    } else {
        None
    };
    if let Some(c) = &connect {
        evidence.push(match c {
            Ok(a) => format!("local connect to {a}: succeeded"),
            Err(e) => format!("local connect: {e}"),
        });
    } else {
        evidence.push("local connect: not attempted (disabled)".into());
    }
    let connect_ok = connect.as_ref().is_none_or(|c| c.is_ok());
    match (&ans, connect_ok) {
        (a, true) if a.is_accept() => Check::new(
            id,
            Status::Pass,
            format!(
                "a new SSH connection from {who} to port {port} is accepted by every base chain on the input hook{}{}",
                if *a == Answer::AcceptWithinLimits { " while within its rate limit" } else { "" },
                if connect.is_some() { ", and a local connect succeeds" } else { "" }
            ),
            evidence,
        ),
        (a, false) if a.is_accept() => Check::new(
            id,
            Status::Fail,
            format!("the ruleset accepts SSH on port {port} from {who}, but nothing answers a local connect to it"),
            evidence,
        ),
        (Answer::Unknown(r), _) => Check::new(
            id,
            Status::Fail,
            format!("SSH on port {port} from {who} cannot be proven reachable: {r}"),
            evidence,
        ),
        _ => Check::new(
            id,
            Status::Fail,
            format!(
                "a new SSH connection from {who} to port {port} is dropped by {}",
                e.as_ref().map_or_else(|| "the ruleset".into(), dropped_by)
            ),
            evidence,
        ),
    }
}

fn local_connect(ctx: &Ctx<'_>, port: u16) -> std::result::Result<SocketAddr, String> {
    let mut targets: Vec<IpAddr> = Vec::new();
    if let Some(a) = ctx.opts.server_address {
        targets.push(a);
    }
    targets.push(IpAddr::V4(std::net::Ipv4Addr::LOCALHOST));
    targets.push(IpAddr::V6(std::net::Ipv6Addr::LOCALHOST));
    let mut errors = Vec::new();
    for t in targets {
        let addr = SocketAddr::new(t, port);
        match TcpStream::connect_timeout(&addr, ctx.opts.connect_timeout) {
            Ok(_) => return Ok(addr),
            Err(e) => errors.push(format!("{addr}: {e}")),
        }
    }
    Err(errors.join("; "))
}

/// **intended-ports-only**: every socket listening on a non-loopback
/// address (sock_diag, TCP listeners and unconnected UDP sockets) is
/// probed with a new connection from anyone, the operator and every
/// source network the rules name; a port accepted from any of them is
/// *exposed*. Every exposed port must be intended by the policy.
fn intended_ports_only(ctx: &Ctx<'_>) -> (Vec<Exposure>, Check) {
    let id = "intended-ports-only";
    let listeners = match &ctx.listeners {
        Ok(l) => l,
        Err(e) => {
            return (
                Vec::new(),
                Check::new(
                    id,
                    Status::Fail,
                    format!("listening sockets could not be read (sock_diag): {e}"),
                    vec![],
                ),
            )
        }
    };
    let mut exposure = Vec::new();
    let mut evidence = Vec::new();
    for l in listeners.iter().filter(|l| l.reachable_from_network()) {
        let mut families = vec![IpFamily::of(&l.address)];
        if l.dual_stack {
            families.push(IpFamily::V4);
        }
        for fam in families {
            let dst = if l.address.is_unspecified() || IpFamily::of(&l.address) != fam {
                ctx.local(fam)
            } else {
                l.address
            };
            let mut allowed = Vec::new();
            let mut undecided = Vec::new();
            for c in source_candidates(ctx.live, fam, ctx.opts.operator_source) {
                let p = new_connection(l.proto, c.addr, dst, l.port, &ctx.ext);
                match inbound(&ctx.ev, &p).0 {
                    Answer::Accept => allowed.push(c.label),
                    Answer::AcceptWithinLimits => {
                        allowed.push(format!("{} (rate-limited)", c.label))
                    }
                    Answer::Drop => {}
                    Answer::Unknown(r) => undecided.push(format!("{}: {r}", c.label)),
                }
            }
            if allowed.iter().any(|a| a.starts_with("any")) {
                allowed.retain(|a| a.starts_with("any"));
            }
            evidence.push(format!(
                "{}/{} {} on {} ({}): {}",
                l.port,
                l.proto.name(),
                family_name(fam),
                l.address,
                if l.processes.is_empty() {
                    "process unknown".into()
                } else {
                    l.processes.join(",")
                },
                if allowed.is_empty() && undecided.is_empty() {
                    "not reachable".to_string()
                } else if allowed.is_empty() {
                    "undecided".to_string()
                } else {
                    format!("reachable from {}", allowed.join(", "))
                }
            ));
            if allowed.is_empty() && undecided.is_empty() {
                continue;
            }
            let e = Exposure {
                port: l.port,
                proto: l.proto.name().into(),
                family: family_name(fam).into(),
                process: l.processes.join(","),
                allowed_from: allowed,
                address: l.address.to_string(),
                intended: ctx.is_intended(l.proto, l.port),
                undecided,
            };
            if !exposure.contains(&e) {
                exposure.push(e);
            }
        }
    }
    let unintended: Vec<String> = exposure
        .iter()
        .filter(|e| e.intended == Some(false) && !e.allowed_from.is_empty())
        .map(|e| {
            format!(
                "{}/{} {} ({}) from {}",
                e.port,
                e.proto,
                e.family,
                if e.process.is_empty() {
                    "process unknown"
                } else {
                    &e.process
                },
                e.allowed_from.join(", ")
            )
        })
        .collect();
    let undecided: Vec<String> = exposure
        .iter()
        .filter(|e| !e.undecided.is_empty() && e.intended != Some(true))
        .map(|e| format!("{}/{} {}", e.port, e.proto, e.family))
        .collect();
    let check = if ctx.intended.is_none() {
        Check::new(
            id,
            Status::Warn,
            format!(
                "no persisted policy and no nftguard table to compare with; {} exposed port(s)",
                exposure.len()
            ),
            evidence,
        )
    } else if !unintended.is_empty() {
        Check::new(
            id,
            Status::Fail,
            format!("reachable but not in the policy: {}", unintended.join("; ")),
            evidence,
        )
    } else if !undecided.is_empty() {
        Check::new(
            id,
            Status::Warn,
            format!(
                "could not decide whether these are reachable: {}",
                undecided.join(", ")
            ),
            evidence,
        )
    } else {
        Check::new(
            id,
            Status::Pass,
            format!(
                "{} listening socket(s) checked; every reachable port is in the policy",
                listeners
                    .iter()
                    .filter(|l| l.reachable_from_network())
                    .count()
            ),
            evidence,
        )
    };
    (exposure, check)
}

/// **ipv6-parity**: for every intended port, every exposed port and the
/// SSH port, a new connection from an Internet address gets the same
/// answer over IPv4 and IPv6 (NIST SP 800-41: the same policy for IPv6).
fn ipv6_parity(ctx: &Ctx<'_>, exposure: &[Exposure]) -> Check {
    let id = "ipv6-parity";
    let mut ports: Vec<(Proto, u16)> = vec![(Proto::Tcp, ctx.ssh_port)];
    for r in ctx.intended.iter().flatten() {
        ports.push((r.proto, r.first));
    }
    for e in exposure {
        let proto = if e.proto == "udp" {
            Proto::Udp
        } else {
            Proto::Tcp
        };
        ports.push((proto, e.port));
    }
    ports.sort();
    ports.dedup();
    let mut evidence = Vec::new();
    let mut differ = Vec::new();
    let mut unknown = Vec::new();
    for (proto, port) in ports {
        let a = |fam| {
            let p = new_connection(proto, outside(fam), ctx.local(fam), port, &ctx.ext);
            inbound(&ctx.ev, &p).0
        };
        let (v4, v6) = (a(IpFamily::V4), a(IpFamily::V6));
        evidence.push(format!(
            "{port}/{}: ipv4 {}, ipv6 {}",
            proto.name(),
            v4.word(),
            v6.word()
        ));
        if matches!(v4, Answer::Unknown(_)) || matches!(v6, Answer::Unknown(_)) {
            unknown.push(format!("{port}/{}", proto.name()));
        } else if v4.is_accept() != v6.is_accept() {
            differ.push(format!(
                "{port}/{} (ipv4 {}, ipv6 {})",
                proto.name(),
                v4.word(),
                v6.word()
            ));
        }
    }
    if !differ.is_empty() {
        Check::new(
            id,
            Status::Fail,
            format!("IPv4 and IPv6 differ: {}", differ.join("; ")),
            evidence,
        )
    } else if !unknown.is_empty() {
        Check::new(
            id,
            Status::Warn,
            format!("undecidable for {}", unknown.join(", ")),
            evidence,
        )
    } else {
        Check::new(
            id,
            Status::Pass,
            format!(
                "{} port(s) get the same answer over IPv4 and IPv6",
                evidence.len()
            ),
            evidence,
        )
    }
}

/// **default-deny**: a new TCP and UDP connection from the Internet to a
/// port nobody uses is dropped, over IPv4 and IPv6 (so some base chain on
/// input denies by default, CIS 4.3.5/4.3.8). When the host forwards
/// (`net.ipv4.ip_forward = 1`), a forwarded connection to an outside
/// address should be dropped too (warn otherwise). The output policy is
/// reported.
fn default_deny(ctx: &Ctx<'_>) -> Check {
    let id = "default-deny";
    let port = ctx.unused_port();
    let mut evidence = Vec::new();
    let mut open = Vec::new();
    for fam in [IpFamily::V4, IpFamily::V6] {
        for proto in [Proto::Tcp, Proto::Udp] {
            let p = new_connection(proto, outside(fam), ctx.local(fam), port, &ctx.ext);
            let (a, e) = inbound(&ctx.ev, &p);
            evidence.push(format!(
                "inbound {port}/{} {}: {}",
                proto.name(),
                family_name(fam),
                answer_text(&a, e.as_ref())
            ));
            if a != Answer::Drop {
                open.push(format!(
                    "{port}/{} {} ({})",
                    proto.name(),
                    family_name(fam),
                    a.word()
                ));
            }
        }
    }
    let input_policies = base_chain_policies(ctx.live, Hook::Input);
    evidence.push(format!(
        "input base chains: {}",
        list_or_none(&input_policies)
    ));
    evidence.push(format!(
        "output base chains: {}",
        list_or_none(&base_chain_policies(ctx.live, Hook::Output))
    ));
    let forwarding = std::fs::read_to_string("/proc/sys/net/ipv4/ip_forward")
        .map(|t| t.trim() == "1")
        .unwrap_or(false);
    let mut forward_open = false;
    if forwarding {
        let p = Packet::tcp_syn(
            Hook::Forward,
            IpAddr::V4(probe::OUTSIDE_V4),
            probe::EPHEMERAL_PORT,
            "198.51.100.20"
                .parse()
                .unwrap_or(IpAddr::V4(PLACEHOLDER_LOCAL_V4)),
            port,
        )
        .with_iif(ctx.ext.clone());
        let a = match ctx.ev.evaluate_path(&p, &Path::Hooks(vec![Hook::Forward])) {
            Ok(e) => probe::classify(&e),
            Err(e) => Answer::Unknown(e.to_string()),
        };
        evidence.push(format!(
            "forwarding is on; a forwarded new connection: {}",
            a.word()
        ));
        forward_open = a != Answer::Drop;
    }
    if !open.is_empty() {
        Check::new(
            id,
            Status::Fail,
            format!(
                "inbound traffic to an unused port is not denied by default: {}",
                open.join(", ")
            ),
            evidence,
        )
    } else if forward_open {
        Check::new(
            id,
            Status::Warn,
            "inbound is denied by default, but the host forwards packets and the forward hook accepts them"
                .to_string(),
            evidence,
        )
    } else {
        Check::new(
            id,
            Status::Pass,
            format!(
                "new connections to unused port {port} are dropped over IPv4 and IPv6, TCP and UDP"
            ),
            evidence,
        )
    }
}

fn list_or_none(v: &[String]) -> String {
    if v.is_empty() {
        "none".into()
    } else {
        v.join(", ")
    }
}

fn base_chain_policies(rs: &Ruleset, hook: Hook) -> Vec<String> {
    rs.chains
        .iter()
        .filter_map(|c| {
            let h = c.hook.as_ref()?;
            (Hook::from_number(c.family, h.hooknum) == hook).then(|| {
                format!(
                    "{} {} {} policy {}",
                    c.family,
                    c.table,
                    c.name,
                    match c.policy {
                        Some(crate::nft::ChainPolicy::Drop) => "drop",
                        _ => "accept",
                    }
                )
            })
        })
        .collect()
}

/// **loopback** (CIS 4.3.6): traffic on `lo` is accepted (to an unused
/// port, IPv4 and IPv6), and packets claiming a loopback source
/// (127.0.0.1, ::1) arriving on another interface are dropped even when
/// sent to the SSH port, which anyone else may reach.
fn loopback(ctx: &Ctx<'_>) -> Check {
    let id = "loopback";
    let lo = loopback_interface();
    let port = ctx.unused_port();
    let mut evidence = Vec::new();
    let mut bad = Vec::new();
    let v4lo: IpAddr = IpAddr::V4(std::net::Ipv4Addr::LOCALHOST);
    let v6lo: IpAddr = IpAddr::V6(std::net::Ipv6Addr::LOCALHOST);
    for a in [v4lo, v6lo] {
        let p = new_connection(Proto::Tcp, a, a, port, &lo);
        let (ans, e) = inbound(&ctx.ev, &p);
        evidence.push(format!(
            "{a} -> {a}:{port} on lo: {}",
            answer_text(&ans, e.as_ref())
        ));
        if !ans.is_accept() {
            bad.push(format!(
                "loopback traffic {a} is not accepted ({})",
                ans.word()
            ));
        }
    }
    for a in [v4lo, v6lo] {
        let dst = ctx.local(IpFamily::of(&a));
        let p = new_connection(Proto::Tcp, a, dst, ctx.ssh_port, &ctx.ext);
        let (ans, e) = inbound(&ctx.ev, &p);
        evidence.push(format!(
            "spoofed {a} -> {dst}:{} on {}: {}",
            ctx.ssh_port,
            ctx.ext.name,
            answer_text(&ans, e.as_ref())
        ));
        if ans != Answer::Drop {
            bad.push(format!(
                "{a} arriving on {} is not dropped ({})",
                ctx.ext.name,
                ans.word()
            ));
        }
    }
    if bad.is_empty() {
        Check::new(
            id,
            Status::Pass,
            "loopback traffic is accepted and loopback sources from other interfaces are dropped",
            evidence,
        )
    } else {
        Check::new(id, Status::Fail, bad.join("; "), evidence)
    }
}

/// **established** (CIS 4.3.7): replies of connections the host opened
/// (ct state established) are accepted over IPv4 and IPv6, TCP and UDP;
/// whether a new outbound connection is accepted is reported.
fn established(ctx: &Ctx<'_>) -> Check {
    let id = "established";
    let mut evidence = Vec::new();
    let mut bad = Vec::new();
    for fam in [IpFamily::V4, IpFamily::V6] {
        for proto in [Proto::Tcp, Proto::Udp] {
            let p = established_reply(proto, outside(fam), 443, ctx.local(fam), &ctx.ext);
            let (a, e) = inbound(&ctx.ev, &p);
            evidence.push(format!(
                "established {} reply from {}:443 ({}): {}",
                proto.name(),
                outside(fam),
                family_name(fam),
                answer_text(&a, e.as_ref())
            ));
            if !a.is_accept() {
                bad.push(format!(
                    "{} {} ({})",
                    proto.name(),
                    family_name(fam),
                    a.word()
                ));
            }
        }
    }
    let out = Packet::tcp_syn(
        Hook::Output,
        ctx.local(IpFamily::V4),
        probe::EPHEMERAL_PORT,
        IpAddr::V4(probe::OUTSIDE_V4),
        443,
    );
    let outbound = match ctx
        .ev
        .evaluate_path(&out, &Path::Hooks(vec![Hook::Output, Hook::Postrouting]))
    {
        Ok(e) => probe::classify(&e).word().to_string(),
        Err(e) => format!("unknown ({e})"),
    };
    evidence.push(format!(
        "new outbound tcp to {}:443: {outbound}",
        probe::OUTSIDE_V4
    ));
    if bad.is_empty() {
        Check::new(
            id,
            Status::Pass,
            format!("established traffic is accepted over IPv4 and IPv6; new outbound https: {outbound}"),
            evidence,
        )
    } else {
        Check::new(
            id,
            Status::Fail,
            format!(
                "replies of established connections are not accepted: {}",
                bad.join(", ")
            ),
            evidence,
        )
    }
}

/// **persistence** (CIS 4.3.9/4.3.10, PCI 1.2.8): the confirmed policy is
/// persisted, its tables are live exactly as persisted (compared by what
/// they do: handles and counters ignored), and the boot unit is installed
/// and enabled (`sysinit.target.wants`).
fn persistence(ctx: &Ctx<'_>, policy: &crate::txn::TxnResult<Option<Policy>>) -> Check {
    let id = "persistence";
    let unit = ctx.opts.unit_dir.join(RESTORE_UNIT);
    let wants = ctx
        .opts
        .unit_dir
        .join("sysinit.target.wants")
        .join(RESTORE_UNIT);
    let mut evidence = vec![
        format!(
            "boot unit {}: {}",
            unit.display(),
            if unit.exists() { "present" } else { "missing" }
        ),
        format!(
            "enabled ({}): {}",
            wants.display(),
            if wants.exists() { "yes" } else { "no" }
        ),
    ];
    let policy = match policy {
        Err(e) => {
            return Check::new(
                id,
                Status::Fail,
                format!("the persisted policy cannot be read: {e}"),
                evidence,
            )
        }
        Ok(p) => p,
    };
    let ours_live = ctx.live.table(Family::Inet, OWNED_TABLE_NAME).is_some();
    let Some(policy) = policy else {
        let pending = crate::txn::status(ctx.state)
            .map(|s| s.last_apply.is_some_and(|e| e.phase == Phase::Committed))
            .unwrap_or(false);
        return if pending {
            Check::new(
                id,
                Status::Warn,
                "the last apply awaits `nftguard confirm`: nothing is persisted yet",
                evidence,
            )
        } else if ours_live {
            Check::new(
                id,
                Status::Fail,
                "table inet nftguard is live but no confirmed policy is persisted: it would not survive a reboot",
                evidence,
            )
        } else {
            Check::new(
                id,
                Status::Skip,
                "no policy has been applied or persisted",
                evidence,
            )
        };
    };
    let mut problems = Vec::new();
    for (family, name) in &policy.tables {
        let now = table_content(ctx.live, *family, name);
        let saved = table_content(&policy.content, *family, name);
        let same = same_table_content(&now, &saved);
        evidence.push(format!(
            "table {family} {name}: live {} persisted (apply {})",
            if same { "==" } else { "!=" },
            policy.apply_id
        ));
        if !same {
            problems.push(format!(
                "table {family} {name} {}",
                if now.tables.is_empty() {
                    "is persisted but not live"
                } else {
                    "differs from the persisted policy"
                }
            ));
        }
    }
    if !unit.exists() {
        problems.push(format!("boot unit {} is missing", unit.display()));
    } else if !wants.exists() {
        problems.push(format!("boot unit {RESTORE_UNIT} is not enabled"));
    }
    if problems.is_empty() {
        Check::new(
            id,
            Status::Pass,
            format!(
                "the live tables equal the policy confirmed by apply {}, restored at boot by {RESTORE_UNIT}",
                policy.apply_id
            ),
            evidence,
        )
    } else {
        Check::new(id, Status::Fail, problems.join("; "), evidence)
    }
}

/// A port Docker publishes: a DNAT rule in `ip nat DOCKER`.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Published {
    proto: Proto,
    port: u16,
    to: Option<IpAddr>,
    to_port: Option<u16>,
}

fn docker_published(live: &Ruleset) -> Vec<Published> {
    let mut out = Vec::new();
    for r in live
        .rules
        .iter()
        .filter(|r| r.family == Family::Ipv4 && r.table == "nat" && r.chain == "DOCKER")
    {
        let one = Ruleset {
            rules: vec![r.clone()],
            ..Default::default()
        };
        let imm = |reg: Option<u32>| -> Option<Vec<u8>> {
            let reg = reg?;
            r.exprs.iter().rev().find_map(|e| match e {
                Expr::Immediate(i) if i.dreg == reg => match &i.data {
                    Data::Value(v) => Some(v.clone()),
                    _ => None,
                },
                _ => None,
            })
        };
        // Native `dnat to` (nft, Docker's nftables-era rules) or the xt
        // DNAT target iptables-nft writes for Docker.
        let target = r.exprs.iter().find_map(|e| match e {
            Expr::Nat(n) if n.kind == NatType::Dnat => {
                let to = imm(n.reg_addr_min)
                    .and_then(|v| <[u8; 4]>::try_from(v.as_slice()).ok().map(IpAddr::from));
                let to_port = imm(n.reg_proto_min).and_then(|v| {
                    <[u8; 2]>::try_from(v.as_slice())
                        .ok()
                        .map(u16::from_be_bytes)
                });
                Some((to, to_port))
            }
            other => match XtExpr::from_expr(other, Family::Ipv4) {
                Some(Ok(XtExpr {
                    info: XtInfo::Dnat(range),
                    ..
                })) => {
                    let a = [
                        range.min_addr[0],
                        range.min_addr[1],
                        range.min_addr[2],
                        range.min_addr[3],
                    ];
                    Some((
                        Some(IpAddr::from(a)).filter(|a| !a.is_unspecified()),
                        Some(range.min_proto).filter(|p| *p != 0),
                    ))
                }
                _ => None,
            },
        });
        let Some((to, to_port)) = target else {
            continue;
        };
        for p in mentioned_ports(&one) {
            out.push(Published {
                proto: p.proto,
                port: p.first,
                to,
                to_port,
            });
        }
    }
    out
}

/// **docker-published-ports**: on a Docker host, every port Docker
/// publishes (DNAT in `ip nat DOCKER`) is either intended by the policy
/// or filtered: a new connection from the Internet to the container,
/// evaluated on the forward hook (where `DOCKER-USER` runs), is dropped.
fn docker_published_ports(ctx: &Ctx<'_>) -> Check {
    let id = "docker-published-ports";
    let docker_chains = ctx
        .live
        .chains
        .iter()
        .any(|c| c.name == "DOCKER" || c.name == "DOCKER-USER");
    let nft_backend = ctx.live.tables.iter().any(|t| t.name == "docker-bridges");
    if !ctx.audit.docker_host && !docker_chains && !nft_backend {
        return Check::new(id, Status::Skip, "not a Docker host", vec![]);
    }
    let published = docker_published(ctx.live);
    let mut evidence = vec![format!(
        "DOCKER-USER chain: {}",
        if ctx.live.chains.iter().any(|c| c.name == "DOCKER-USER") {
            "present"
        } else {
            "absent"
        }
    )];
    if published.is_empty() {
        if nft_backend {
            return Check::new(
                id,
                Status::Warn,
                "Docker uses its nftables backend (docker-bridges tables): published ports there are not analysed",
                evidence,
            );
        }
        return Check::new(id, Status::Pass, "Docker publishes no port", evidence);
    }
    let docker0 = {
        let index = crate::netlink::interface_index("docker0")
            .ok()
            .flatten()
            .unwrap_or(0);
        Interface::new("docker0", index)
    };
    let mut bad = Vec::new();
    let mut unknown = Vec::new();
    for p in &published {
        let intended = ctx.is_intended(p.proto, p.port) == Some(true);
        let dst = p.to.unwrap_or(IpAddr::V4(PLACEHOLDER_LOCAL_V4));
        let dport = p.to_port.unwrap_or(p.port);
        let pkt = new_connection(p.proto, IpAddr::V4(probe::OUTSIDE_V4), dst, dport, &ctx.ext)
            .with_oif(docker0.clone());
        let mut pkt = pkt;
        pkt.hook = Hook::Forward;
        let a = match ctx
            .ev
            .evaluate_path(&pkt, &Path::Hooks(vec![Hook::Forward]))
        {
            Ok(e) => probe::classify(&e),
            Err(e) => Answer::Unknown(e.to_string()),
        };
        evidence.push(format!(
            "published {}/{} -> {dst}:{dport}: intended {}, forwarded from the Internet: {}",
            p.port,
            p.proto.name(),
            if intended { "yes" } else { "no" },
            a.word()
        ));
        match (&a, intended) {
            (_, true) | (Answer::Drop, _) => {}
            (Answer::Unknown(_), false) => unknown.push(format!("{}/{}", p.port, p.proto.name())),
            (_, false) => bad.push(format!("{}/{}", p.port, p.proto.name())),
        }
    }
    if !bad.is_empty() {
        Check::new(
            id,
            Status::Fail,
            format!(
                "published to everyone but not in the policy (filter them in DOCKER-USER): {}",
                bad.join(", ")
            ),
            evidence,
        )
    } else if !unknown.is_empty() {
        Check::new(
            id,
            Status::Warn,
            format!("undecidable: {}", unknown.join(", ")),
            evidence,
        )
    } else {
        Check::new(
            id,
            Status::Pass,
            format!(
                "{} published port(s): each intended or filtered",
                published.len()
            ),
            evidence,
        )
    }
}

/// **fail2ban**: when installed, its server runs (its socket or pid file;
/// the jails themselves are behind fail2ban's own socket protocol and are
/// not listed), and the ban action of `[DEFAULT]` matches the firewall
/// backend (an iptables action on an nftables host, or an nftables action
/// with only legacy iptables, bans into tables nobody evaluates).
fn fail2ban(ctx: &Ctx<'_>) -> Check {
    let id = "fail2ban";
    let f = &ctx.audit.fail2ban;
    let evidence = vec![
        format!("installed: {}, running: {}", f.installed, f.running),
        format!(
            "banaction: {}",
            f.banaction.as_deref().unwrap_or("(not set)")
        ),
        format!("backend: {}", ctx.audit.backend),
    ];
    if !f.installed {
        return Check::new(id, Status::Skip, "fail2ban is not installed", evidence);
    }
    if !f.running {
        return Check::new(
            id,
            Status::Warn,
            "fail2ban is installed but its server is not running",
            evidence,
        );
    }
    let Some(action) = &f.banaction else {
        return Check::new(
            id,
            Status::Warn,
            "fail2ban runs but no banaction is set in [DEFAULT]: its packaged default applies",
            evidence,
        );
    };
    let backend = ctx.audit.backend.as_str();
    let nft_action = action.starts_with("nftables");
    let ipt_action = action.starts_with("iptables");
    if (backend == "nftables" && ipt_action) || (backend == "iptables-legacy" && nft_action) {
        Check::new(
            id,
            Status::Fail,
            format!("fail2ban bans with {action}, which does not match the {backend} backend"),
            evidence,
        )
    } else {
        Check::new(
            id,
            Status::Pass,
            format!("fail2ban runs and bans with {action}"),
            evidence,
        )
    }
}

/// **single-manager** (CIS 4.1.1): one firewall utility owns the filter
/// policy. Counted: nftguard's table, ufw, firewalld, iptables-nft tables
/// with rules of their own, iptables-legacy, and nft tables of an unknown
/// manager. Docker, Kubernetes, Calico, Cilium and Tailscale program their
/// own forwarding alongside a firewall and are not counted.
fn single_manager(ctx: &Ctx<'_>) -> Check {
    let id = "single-manager";
    let a = ctx.audit;
    let mut managers: Vec<String> = Vec::new();
    let mut evidence = Vec::new();
    for t in &a.tables {
        evidence.push(format!(
            "table {} {}: {} ({} rules)",
            t.family,
            t.name,
            t.managed_by.name(),
            t.rules
        ));
        let name = match t.managed_by {
            Manager::Nftguard => Some("nftguard".to_string()),
            Manager::Ufw => Some("ufw".into()),
            Manager::Firewalld => Some("firewalld".into()),
            Manager::IptablesNft if t.rules > 0 => Some("iptables".into()),
            Manager::Unknown => Some(format!("nft (table {} {})", t.family, t.name)),
            _ => None,
        };
        if let Some(n) = name {
            if !managers.contains(&n) {
                managers.push(n);
            }
        }
    }
    if a.iptables_legacy {
        managers.push(format!(
            "iptables-legacy ({})",
            a.iptables_legacy_tables.join(", ")
        ));
    }
    for f in &a.active_frontends {
        if !managers.contains(f) {
            managers.push(f.clone());
        }
    }
    match managers.len() {
        0 => Check::new(
            id,
            Status::Warn,
            "no firewall utility manages a filter policy",
            evidence,
        ),
        1 => Check::new(
            id,
            Status::Pass,
            format!("one firewall utility in use: {}", managers[0]),
            evidence,
        ),
        _ => Check::new(
            id,
            Status::Fail,
            format!("several firewall utilities in use: {}", managers.join(", ")),
            evidence,
        ),
    }
}

/// **rollback-state**: an apply awaiting confirmation has its rollback
/// armed (systemd timer, at job or live watchdog, not yet fired); after
/// confirm, a rollback or a failed apply, nothing is armed.
fn rollback_state(ctx: &Ctx<'_>) -> Check {
    let id = "rollback-state";
    let st = match crate::txn::status(ctx.state) {
        Ok(s) => s,
        Err(e) => {
            return Check::new(
                id,
                Status::Fail,
                format!("the transaction state cannot be read: {e}"),
                vec![],
            )
        }
    };
    let Some(last) = &st.last_apply else {
        return Check::new(id, Status::Skip, "no apply recorded", vec![]);
    };
    let r = &st.rollback;
    let evidence = vec![
        format!("last apply {}: phase {:?}", last.apply_id, last.phase),
        format!(
            "rollback: pending {}, mechanism {}, fires at {}",
            r.pending,
            r.mechanism.as_deref().unwrap_or("-"),
            r.fires_at.map_or_else(|| "-".into(), |t| t.to_string())
        ),
    ];
    match (last.phase, r.pending) {
        (Phase::Committed, true) => Check::new(
            id,
            Status::Pass,
            format!(
                "apply {} awaits confirmation; its rollback is armed ({}) and fires at {}",
                last.apply_id,
                r.mechanism.as_deref().unwrap_or("?"),
                r.fires_at.map_or_else(|| "?".into(), |t| t.to_string())
            ),
            evidence,
        ),
        (Phase::Committed, false) => Check::new(
            id,
            Status::Fail,
            format!(
                "apply {} awaits confirmation but no rollback is armed (it fired or was lost)",
                last.apply_id
            ),
            evidence,
        ),
        (Phase::RollingBack, _) => Check::new(
            id,
            Status::Fail,
            format!(
                "the rollback of apply {} was interrupted; `nftguard status` completes it",
                last.apply_id
            ),
            evidence,
        ),
        (Phase::Prepared, _) => Check::new(
            id,
            Status::Fail,
            format!(
                "apply {} was interrupted before its outcome was known; run `nftguard status`",
                last.apply_id
            ),
            evidence,
        ),
        (phase, true) => Check::new(
            id,
            Status::Fail,
            format!(
                "a rollback is still armed although apply {} is {phase:?}",
                last.apply_id
            ),
            evidence,
        ),
        (phase, false) => Check::new(
            id,
            Status::Pass,
            format!("apply {} is {phase:?}; no rollback is armed", last.apply_id),
            evidence,
        ),
    }
}

/// **drop-logging-rate-limited**: a new connection to an unused port from
/// the Internet is followed through the ruleset; the log rules it meets
/// (every branch) must carry a `limit` before the `log` statement, and at
/// least one must be met.
fn drop_logging(ctx: &Ctx<'_>) -> Check {
    let id = "drop-logging-rate-limited";
    let port = ctx.unused_port();
    let p = new_connection(
        Proto::Tcp,
        outside(IpFamily::V4),
        ctx.local(IpFamily::V4),
        port,
        &ctx.ext,
    );
    let e = match ctx.ev.evaluate_path(&p, &probe::inbound_path()) {
        Ok(e) => e,
        Err(err) => {
            return Check::new(
                id,
                Status::Fail,
                format!("evaluation failed: {err}"),
                vec![],
            )
        }
    };
    let mut met: Vec<(&Rule, bool)> = Vec::new();
    for b in &e.branches {
        for ev in &b.trace {
            let TraceEvent::Rule {
                family,
                table,
                chain,
                handle: Some(h),
                ..
            } = ev
            else {
                continue;
            };
            let Some(rule) = ctx.live.rules.iter().find(|r| {
                r.family == *family
                    && &r.table == table
                    && &r.chain == chain
                    && r.handle == Some(*h)
            }) else {
                continue;
            };
            let Some(log_at) = rule.exprs.iter().position(|x| matches!(x, Expr::Log(_))) else {
                continue;
            };
            let limited = rule.exprs[..log_at]
                .iter()
                .any(|x| matches!(x, Expr::Limit(_)) || matches!(x, Expr::Dynset(d) if d.expr.is_some() || d.exprs.as_ref().is_some_and(|v| !v.is_empty())));
            if !met.iter().any(|(r, _)| std::ptr::eq(*r, rule)) {
                met.push((rule, limited));
            }
        }
    }
    let evidence: Vec<String> = met
        .iter()
        .map(|(r, limited)| {
            format!(
                "{} {} {} rule {}: `{}` ({})",
                r.family,
                r.table,
                r.chain,
                r.handle.unwrap_or(0),
                super::trace::describe_rule_in(ctx.live, r),
                if *limited {
                    "rate-limited"
                } else {
                    "NOT rate-limited"
                }
            )
        })
        .collect();
    let verdict = probe::classify(&e);
    if met.is_empty() {
        Check::new(
            id,
            Status::Fail,
            format!(
                "a dropped probe (tcp port {port}, {}) meets no log rule: drops are not logged",
                verdict.word()
            ),
            evidence,
        )
    } else if met.iter().any(|(_, l)| !l) {
        Check::new(
            id,
            Status::Fail,
            "dropped packets are logged without a rate limit (log flooding)",
            evidence,
        )
    } else {
        Check::new(
            id,
            Status::Pass,
            "dropped packets are logged with a rate limit",
            evidence,
        )
    }
}
