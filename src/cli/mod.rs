//! Argument parsing and dispatch.

/// `print!` on stdout that never panics (see [`output::stdout`]).
macro_rules! out {
    ($($t:tt)*) => { $crate::cli::output::stdout(format_args!($($t)*), false) };
}

/// `println!` on stdout that never panics (see [`output::stdout`]).
macro_rules! outln {
    ($($t:tt)*) => { $crate::cli::output::stdout(format_args!($($t)*), true) };
}

mod audit;
mod demo;
mod exit;
mod list;
mod load;
mod output;
mod verify;
mod workflow;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use nftguard::netlink::{enter_netns, Socket};
use output::Output;

/// nftguard: manage the Linux firewall through nf_tables netlink, safely.
#[derive(Debug, Parser)]
#[command(name = "nftguard", version, about, after_help = exit::TABLE)]
struct Cli {
    /// Machine-readable JSON on stdout instead of human text.
    #[arg(long, global = true)]
    json: bool,
    /// State directory (plans, backups, journal).
    #[arg(
        long,
        global = true,
        value_name = "DIR",
        default_value = "/var/lib/nftguard"
    )]
    state_dir: PathBuf,
    /// Act on another network namespace: a name as `ip netns` gives it
    /// (/run/netns/NAME) or a path to a namespace file.
    #[arg(long, global = true, value_name = "NAME|PATH")]
    netns: Option<PathBuf>,
    /// Print less.
    #[arg(long, short, global = true)]
    quiet: bool,
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Read-only environment audit (DETECT): who manages the firewall here,
    /// confidence, risk tier and halt reasons. Exits with the audit's code.
    Audit(audit::AuditArgs),
    /// SELECT + PLAN: build the desired `table inet nftguard`, diff it
    /// against the live ruleset, print the diff and the approval token.
    Plan(workflow::PlanArgs),
    /// VALIDATE + APPLY the stored plan: token check, backup, rollback
    /// timer, one atomic generation-checked commit.
    Apply(workflow::ApplyArgs),
    /// Keep the last apply: disarm its rollback and persist the policy for boot.
    Confirm,
    /// Atomically restore what the last apply changed (only that).
    Rollback(workflow::RollbackArgs),
    /// Journal state, pending rollback, persisted policy.
    Status,
    /// VERIFY: every check (SSH reachable, intended ports only, IPv6
    /// parity, default deny, …) mapped to compliance controls; exit 60 when
    /// a critical check fails.
    Verify(verify::VerifyArgs),
    /// What the live ruleset does to one packet, across all tables.
    Explain(verify::ExplainArgs),
    /// Prometheus text exposition (node_exporter textfile collector).
    Metrics(verify::MetricsArgs),
    /// Re-apply the persisted confirmed policy (`--boot`, for the boot unit).
    Restore(workflow::RestoreArgs),
    /// Print the live ruleset, decoded by nftguard's own engine.
    List(list::ListArgs),
    /// Apply a libnftables-JSON ruleset atomically (--check: validate only).
    Load(load::LoadArgs),
    /// The whole cycle (DETECT … APPLY, VERIFY, rollback, confirm) in a
    /// throwaway pair of network namespaces joined by a veth pair; its
    /// files go to a private directory under --state-dir, removed at the end.
    Demo,
}

/// Parses the command line, runs the command and returns the exit code.
pub fn run() -> i32 {
    // The rollback watchdog is started by `apply` with a fixed argument
    // list; it is not a command for people.
    let args: Vec<std::ffi::OsString> = std::env::args_os().collect();
    if args.get(1).is_some_and(|a| a == "__rollback-watchdog") {
        return workflow::rollback_watchdog(&args[1..]);
    }
    let cli = match Cli::try_parse() {
        Ok(c) => c,
        Err(e) => {
            let code = if e.use_stderr() {
                exit::USAGE
            } else {
                exit::OK
            };
            let _ = e.print();
            return code;
        }
    };
    let out = Output::new(cli.json, cli.quiet);
    let netns = cli.netns.as_deref().map(netns_path);
    let netns = netns.as_deref();
    let state = cli.state_dir.as_path();
    let result = match &cli.command {
        // The demo makes (or enters) its namespace itself.
        Command::Demo => demo::run(&out, netns, state).map(|()| exit::OK),
        command => enter(netns).and_then(|()| match command {
            Command::Audit(args) => audit::run(args, &out),
            Command::Plan(args) => workflow::plan(args, state, netns, &out),
            Command::Apply(args) => workflow::apply(args, state, netns, &out),
            Command::Confirm => workflow::confirm(state, &out),
            Command::Rollback(args) => workflow::rollback(args, state, &out),
            Command::Status => workflow::status(state, &out),
            Command::Restore(_) => workflow::restore(state, &out),
            Command::List(args) => Socket::new()
                .map_err(CliError::from)
                .and_then(|mut s| list::run(&mut s, args, &out))
                .map(|()| exit::OK),
            Command::Load(args) => load::run(args, &out),
            Command::Verify(args) => verify::verify(args, state, &out),
            Command::Explain(args) => verify::explain(args, &out),
            Command::Metrics(args) => verify::metrics(args, state, &out),
            Command::Demo => Ok(exit::OK),
        }),
    };
    match result {
        Ok(code) => code,
        Err(e) => out.error(&e),
    }
}

/// The namespace file `--netns` names: a bare name is `ip netns`'s
/// (/run/netns/NAME); any other relative path is made absolute, because
/// the rollback timer runs nftguard again from another directory.
fn netns_path(arg: &std::path::Path) -> PathBuf {
    use std::path::Component;
    let mut parts = arg.components();
    match (parts.next(), parts.next()) {
        (Some(Component::Normal(name)), None) => std::path::Path::new("/run/netns").join(name),
        _ if arg.is_relative() => std::env::current_dir()
            .map(|d| d.join(arg))
            .unwrap_or_else(|_| arg.to_path_buf()),
        _ => arg.to_path_buf(),
    }
}

/// Moves this (single) thread into the namespace given with --netns, so
/// that the engine and every read-only probe (listening sockets, legacy
/// iptables tables) see that namespace.
fn enter(netns: Option<&std::path::Path>) -> Result<(), CliError> {
    if let Some(p) = netns {
        enter_netns(p).map_err(|e| {
            CliError::new(
                exit::OTHER,
                format!("network namespace {}: {e}", p.display()),
            )
        })?;
    }
    Ok(())
}

/// An error with the exit code it maps to.
#[derive(Debug)]
pub struct CliError {
    /// Exit code.
    pub code: i32,
    /// Message for people.
    pub message: String,
}

impl CliError {
    /// An error with an explicit exit code.
    pub fn new(code: i32, message: impl Into<String>) -> Self {
        CliError {
            code,
            message: message.into(),
        }
    }
}

impl From<nftguard::Error> for CliError {
    fn from(e: nftguard::Error) -> Self {
        let mut message = e.to_string();
        let eperm = match &e {
            nftguard::Error::Kernel { errno, .. } | nftguard::Error::Rejected { errno, .. } => {
                *errno == libc::EPERM
            }
            nftguard::Error::Io { source, .. } => source.raw_os_error() == Some(libc::EPERM),
            _ => false,
        };
        if eperm {
            message.push_str(" (nf_tables needs CAP_NET_ADMIN: run as root)");
        }
        CliError {
            code: exit::OTHER,
            message,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::netns_path;
    use std::path::Path;

    #[test]
    fn netns_names_and_paths() {
        assert_eq!(netns_path(Path::new("blue")), Path::new("/run/netns/blue"));
        assert_eq!(
            netns_path(Path::new("/proc/1/ns/net")),
            Path::new("/proc/1/ns/net")
        );
        let cwd = std::env::current_dir().unwrap();
        assert_eq!(netns_path(Path::new("./ns/x")), cwd.join("./ns/x"));
        assert!(netns_path(Path::new("ns/x")).is_absolute());
    }
}
