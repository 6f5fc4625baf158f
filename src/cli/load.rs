//! `nftguard load FILE.json [--check]`: a libnftables-JSON ruleset applied
//! as one atomic, generation-checked transaction.

use std::path::PathBuf;

use clap::Args;

use nftguard::engine::{get_generation, load::load_json, GenCheck};
use nftguard::netlink::Socket;

use super::output::Output;
use super::{exit, CliError};

/// Largest JSON file `load` reads (a million-rule listing is ~300 MB; refuse
/// anything that could not be a ruleset before reading it into memory).
const MAX_BYTES: u64 = 1 << 30;

#[derive(Debug, Args)]
pub struct LoadArgs {
    /// The ruleset, as `nft -j` writes it (a listing or a list of commands).
    file: PathBuf,
    /// Validate in the kernel without committing (nothing changes).
    #[arg(long)]
    check: bool,
}

pub fn run(args: &LoadArgs, out: &Output) -> Result<i32, CliError> {
    let name = args.file.display();
    let meta = std::fs::metadata(&args.file)
        .map_err(|e| CliError::new(exit::OTHER, format!("reading {name}: {e}")))?;
    if meta.len() > MAX_BYTES {
        return Err(CliError::new(
            exit::OTHER,
            format!(
                "{name}: {} bytes, over the {MAX_BYTES}-byte limit",
                meta.len()
            ),
        ));
    }
    let text = std::fs::read_to_string(&args.file)
        .map_err(|e| CliError::new(exit::OTHER, format!("reading {name}: {e}")))?;
    let tx = load_json(&text).map_err(|e| CliError::new(exit::OTHER, format!("{name}: {e}")))?;
    let mut sock = Socket::new()?;
    let genid = get_generation(&mut sock)?.id;
    let gen = if genid == 0 {
        GenCheck::Unconditional
    } else {
        GenCheck::Expect(genid)
    };
    if tx.is_empty() {
        // Committing an empty batch would still bump the generation.
        if out.is_json() {
            out.json(&serde_json::json!({
                "checked": false, "committed": false, "operations": 0, "genid": genid
            }));
        } else {
            out.say(format!(
                "{name}: no operations to load; nothing sent, generation stays {genid}"
            ));
        }
        return Ok(exit::OK);
    }
    if args.check {
        tx.check(&mut sock, gen)?;
        if out.is_json() {
            out.json(
                &serde_json::json!({ "checked": true, "operations": tx.len(), "genid": genid }),
            );
        } else {
            out.say(format!(
                "{name}: {} operations accepted by the kernel; nothing changed",
                tx.len()
            ));
        }
    } else {
        let done = tx.commit(&mut sock, gen)?;
        if out.is_json() {
            out.json(&serde_json::json!({ "committed": true, "operations": tx.len(), "genid": done.genid }));
        } else {
            out.say(format!(
                "{name}: {} operations committed atomically, generation {genid} -> {}",
                tx.len(),
                done.genid
            ));
        }
    }
    Ok(exit::OK)
}
