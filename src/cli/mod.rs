//! Argument parsing and dispatch.

mod audit;
mod demo;
mod exit;
mod list;
mod output;

use std::path::PathBuf;

use clap::{Parser, Subcommand};

use nftguard::netlink::Socket;
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
    /// Act on another network namespace (e.g. /run/netns/NAME).
    #[arg(long, global = true, value_name = "PATH")]
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
    /// Print the live ruleset, decoded by nftguard's own engine.
    List(list::ListArgs),
    /// Run the engine end to end in a throwaway network namespace
    /// (with --netns: in that namespace, left in place for inspection).
    Demo,
}

/// Parses the command line, runs the command and returns the exit code.
pub fn run() -> i32 {
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
    let _ = &cli.state_dir; // used by the workflow commands
    let result = match &cli.command {
        Command::Audit(args) => match audit::run(args, cli.netns.as_deref(), &out) {
            Ok(code) => return code,
            Err(e) => Err(e),
        },
        Command::List(args) => open_socket(&cli).and_then(|mut s| list::run(&mut s, args, &out)),
        Command::Demo => demo::run(&out, cli.netns.as_deref()),
    };
    match result {
        Ok(()) => exit::OK,
        Err(e) => out.error(&e),
    }
}

fn open_socket(cli: &Cli) -> Result<Socket, CliError> {
    let sock = match &cli.netns {
        Some(p) => Socket::in_netns(p).map_err(|e| {
            CliError::new(
                exit::OTHER,
                format!("network namespace {}: {e}", p.display()),
            )
        })?,
        None => Socket::new().map_err(CliError::from)?,
    };
    Ok(sock)
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
