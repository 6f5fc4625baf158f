//! `nftguard audit`: the read-only environment audit (DETECT).

use std::path::PathBuf;

use clap::Args;

use nftguard::detect::{audit, render_human, AuditOptions, Host};
use nftguard::netlink::{enter_netns, Socket};

use super::output::Output;
use super::{exit, CliError};

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
pub fn run(
    args: &AuditArgs,
    netns: Option<&std::path::Path>,
    out: &Output,
) -> Result<i32, CliError> {
    // Listening sockets and legacy iptables tables are per namespace of the
    // calling thread, so the whole audit moves into the target namespace.
    if let Some(p) = netns {
        enter_netns(p).map_err(|e| CliError::new(exit::OTHER, format!("{}: {e}", p.display())))?;
    }
    let host = args.root.as_ref().map_or_else(Host::default, Host::under);
    let opts = AuditOptions {
        cloud: args.cloud,
        ..AuditOptions::default()
    };
    let mut sock = Socket::new()?;
    let report = audit(&mut sock, &host, &opts)?;
    if out.is_json() {
        println!("{}", report.to_json());
    } else {
        print!("{}", render_human(&report));
    }
    Ok(i32::from(report.exit_code()))
}
