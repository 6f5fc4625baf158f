//! `nftguard verify`, `explain` and `metrics`: what the live ruleset does,
//! proven by evaluating it.

use std::net::IpAddr;
use std::path::PathBuf;

use clap::{Args, ValueEnum};

use nftguard::netlink::Socket;
use nftguard::txn::StateDir;
use nftguard::verify::{
    self, explain as why, metrics as counters, report, ExplainRequest, VerifyOptions,
};

use super::output::Output;
use super::{exit, CliError};

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum ReportFormat {
    /// A Markdown compliance report a reviewer can read.
    Md,
    /// The JSON report.
    Json,
}

#[derive(Debug, Args)]
pub struct VerifyArgs {
    /// Print a report instead of the summary.
    #[arg(long, value_enum, value_name = "md|json")]
    report: Option<ReportFormat>,
    /// The operator's source address (default: from SSH_CONNECTION/SSH_CLIENT).
    #[arg(long, value_name = "ADDR")]
    operator: Option<IpAddr>,
    /// The SSH port to prove reachable (default: the audit's).
    #[arg(long, value_name = "PORT")]
    ssh_port: Option<u16>,
    /// Any failed check exits 60, not only the critical ones.
    #[arg(long)]
    strict: bool,
}

/// `nftguard verify`: every check, each mapped to compliance controls;
/// exit 60 when a critical check fails.
pub fn verify(
    args: &VerifyArgs,
    state_dir: &std::path::Path,
    out: &Output,
) -> Result<i32, CliError> {
    let state =
        StateDir::open(state_dir).map_err(|e| CliError::new(e.exit_code(), e.to_string()))?;
    let mut opts = VerifyOptions::from_env();
    if args.operator.is_some() {
        opts.operator_source = args.operator;
    }
    if args.ssh_port.is_some() {
        opts.ssh_port = args.ssh_port;
    }
    opts.strict = args.strict;
    let mut sock = Socket::new()?;
    let r = verify::run_checks(&mut sock, &state, &opts)?;
    match (args.report, out.is_json()) {
        (Some(ReportFormat::Md), _) => out!("{}", report::render_markdown(&r)),
        (Some(ReportFormat::Json), _) | (None, true) => outln!("{}", report::render_json(&r)),
        (None, false) => out!("{}", report::render_human(&r)),
    }
    Ok(r.exit_code())
}

#[derive(Debug, Args)]
pub struct ExplainArgs {
    /// tcp, udp, icmp or icmpv6.
    #[arg(long, value_name = "P")]
    proto: String,
    /// Source address.
    #[arg(long, value_name = "ADDR")]
    src: IpAddr,
    /// Destination address.
    #[arg(long, value_name = "ADDR")]
    dst: IpAddr,
    /// Destination port (tcp, udp).
    #[arg(long, value_name = "N")]
    dport: Option<u16>,
    /// Source port.
    #[arg(long, value_name = "N")]
    sport: Option<u16>,
    /// Input interface.
    #[arg(long, value_name = "IF")]
    iif: Option<String>,
    /// Conntrack state: new, established, related, invalid, untracked.
    #[arg(long, value_name = "S")]
    ct_state: Option<String>,
    /// input, forward or output.
    #[arg(long, value_name = "HOOK", default_value = "input")]
    hook: String,
}

impl ExplainArgs {
    pub(crate) fn request(&self) -> Result<ExplainRequest, CliError> {
        packet_request(
            &self.proto,
            self.src,
            self.dst,
            self.dport,
            self.sport,
            self.iif.as_deref(),
            self.ct_state.as_deref(),
            &self.hook,
        )
    }
}

/// An explain request from command-line values (`explain` and `plan --explain`).
#[allow(clippy::too_many_arguments)]
pub(crate) fn packet_request(
    proto: &str,
    src: IpAddr,
    dst: IpAddr,
    dport: Option<u16>,
    sport: Option<u16>,
    iif: Option<&str>,
    ct_state: Option<&str>,
    hook: &str,
) -> Result<ExplainRequest, CliError> {
    let usage = |e: String| CliError::new(exit::USAGE, e);
    Ok(ExplainRequest {
        proto: proto.parse().map_err(|e| usage(format!("--proto: {e}")))?,
        src,
        dst,
        dport,
        sport,
        iif: iif.map(str::to_string),
        ct_state: ct_state
            .map(why::parse_ct_state)
            .transpose()
            .map_err(|e| usage(format!("--ct-state: {e}")))?,
        hook: hook.parse().map_err(|e| usage(format!("--hook: {e}")))?,
    })
}

/// `nftguard explain`: what the live ruleset does to one packet.
pub fn explain(args: &ExplainArgs, out: &Output) -> Result<i32, CliError> {
    let req = args.request()?;
    let mut sock = Socket::new()?;
    let e = why::explain(&mut sock, &req).map_err(|e| match e {
        nftguard::Error::Invalid { .. } => CliError::new(exit::USAGE, e.to_string()),
        e => e.into(),
    })?;
    print_explanation(&e, out);
    Ok(exit::OK)
}

/// Prints an explanation, human or JSON.
pub(crate) fn print_explanation(e: &why::Explanation, out: &Output) {
    if out.is_json() {
        outln!("{}", e.to_json());
    } else {
        out!("{}", why::render_human(e));
    }
}

#[derive(Debug, Args)]
pub struct MetricsArgs {
    /// Write the exposition atomically to PATH (node_exporter's textfile
    /// collector) instead of printing it.
    #[arg(long, value_name = "PATH")]
    output: Option<PathBuf>,
}

/// `nftguard metrics`: Prometheus text exposition.
pub fn metrics(
    args: &MetricsArgs,
    state_dir: &std::path::Path,
    _out: &Output,
) -> Result<i32, CliError> {
    // The state directory is read if it exists; metrics never create it.
    let state = state_dir
        .is_dir()
        .then(|| StateDir::open(state_dir))
        .transpose()
        .map_err(|e| CliError::new(e.exit_code(), e.to_string()))?;
    let mut sock = Socket::new()?;
    let m = counters::collect(&mut sock, state.as_ref())?;
    let text = counters::render_prometheus(&m);
    match &args.output {
        Some(path) => counters::write_textfile(path, &text)?,
        None => out!("{text}"),
    }
    Ok(exit::OK)
}
