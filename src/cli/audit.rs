//! `nftguard audit`: the read-only environment audit (DETECT).

use std::path::PathBuf;

use clap::Args;

use nftguard::detect::{audit, render_human, AuditOptions, Host};
use nftguard::netlink::Socket;

use super::output::Output;
use super::CliError;

#[derive(Debug, Args)]
pub struct AuditArgs {
    /// Allow probes that contact cloud metadata endpoints (off by default).
    #[arg(long)]
    cloud: bool,
    /// Read configuration and marker files under DIR instead of `/`.
    #[arg(long, value_name = "DIR")]
    root: Option<PathBuf>,
}

/// Runs the audit and returns its exit code (21, 22, 20, 12, 11, 31, 30 or 0).
/// With --netns the caller has already moved this thread into that
/// namespace (listening sockets and legacy tables are per namespace).
pub fn run(args: &AuditArgs, out: &Output) -> Result<i32, CliError> {
    let host = args.root.as_ref().map_or_else(Host::default, Host::under);
    let opts = AuditOptions {
        cloud: args.cloud,
        ..AuditOptions::default()
    };
    let mut sock = Socket::new()?;
    let report = audit(&mut sock, &host, &opts)?;
    if out.is_json() {
        outln!("{}", report.to_json());
    } else {
        out!("{}", render_human(&report));
    }
    Ok(i32::from(report.exit_code()))
}
