//! Runs the read-only audit on this host and prints it: human text, or the
//! JSON report with `--json`. Exits with the audit's exit code. Optional
//! `--root DIR` reads marker files under DIR instead of `/`.
//!
//! `cargo run --example audit -- --json`

use nftguard::detect::{audit, render_human, AuditOptions, Host};
use nftguard::netlink::Socket;

fn main() {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let json = args.iter().any(|a| a == "--json");
    let host = match args.iter().position(|a| a == "--root") {
        Some(i) => match args.get(i + 1) {
            Some(dir) => Host::under(dir),
            None => {
                eprintln!("--root needs a directory");
                std::process::exit(2);
            }
        },
        None => Host::default(),
    };
    let result =
        Socket::new().and_then(|mut sock| audit(&mut sock, &host, &AuditOptions::default()));
    match result {
        Ok(a) => {
            if json {
                println!("{}", a.to_json());
            } else {
                print!("{}", render_human(&a));
            }
            std::process::exit(i32::from(a.exit_code()));
        }
        Err(e) => {
            eprintln!("audit failed: {e}");
            std::process::exit(1);
        }
    }
}
