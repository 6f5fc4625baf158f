//! `nftguard list`: the live ruleset, decoded by the engine.

use clap::{Args, ValueEnum};

use nftguard::compat::save::iptables_save;
use nftguard::engine::{DumpFilter, Ruleset};
use nftguard::netlink::Socket;
use nftguard::nft::{render, Family};

use super::output::Output;
use super::{exit, CliError};

#[derive(Debug, Args)]
pub struct ListArgs {
    /// Only this table (by name, in every family unless --family is given).
    #[arg(long, value_name = "NAME")]
    table: Option<String>,
    /// Only this family (ip, ip6, inet, arp, bridge, netdev).
    #[arg(long, value_name = "FAMILY", value_parser = parse_family)]
    family: Option<Family>,
    /// Output format.
    #[arg(long, value_enum, default_value_t = Format::Nft)]
    format: Format,
    /// With --format iptables-save: include packet and byte counters (`-c`).
    #[arg(long)]
    counters: bool,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq, ValueEnum)]
enum Format {
    /// Text exactly as `nft list ruleset` prints it.
    Nft,
    /// The libnftables JSON schema, as `nft -j list ruleset` prints it.
    Json,
    /// The iptables-nft tables exactly as `iptables-nft-save` prints them
    /// (`ip6tables-nft-save` with --family ip6).
    IptablesSave,
}

fn parse_family(s: &str) -> Result<Family, String> {
    Family::parse(s).ok_or_else(|| {
        format!("unknown family `{s}` (expected ip, ip6, inet, arp, bridge or netdev)")
    })
}

pub fn run(sock: &mut Socket, args: &ListArgs, out: &Output) -> Result<(), CliError> {
    let filter = DumpFilter {
        family: args.family,
        table: args.table.clone(),
        chain: None,
    };
    let rs = Ruleset::dump(sock, &filter)?;
    if let Some(t) = &args.table {
        if rs.tables.is_empty() {
            return Err(CliError::new(exit::OTHER, format!("no table named `{t}`")));
        }
    }
    let (format, text) = match args.format {
        Format::Nft => ("nft", render::nft_text(&rs)),
        Format::Json => {
            // The document is itself JSON: print it as it is, with or
            // without --json.
            outln!("{}", render::json::to_string(&rs));
            return Ok(());
        }
        Format::IptablesSave => {
            let family = match args.family {
                None | Some(Family::Ipv4) => Family::Ipv4,
                Some(Family::Ipv6) => Family::Ipv6,
                Some(f) => {
                    return Err(CliError::new(
                        exit::USAGE,
                        format!("--format iptables-save lists family ip or ip6, not {f}"),
                    ))
                }
            };
            ("iptables-save", iptables_save(&rs, family, args.counters)?)
        }
    };
    if out.is_json() {
        out.json(&serde_json::json!({
            "genid": rs.genid,
            "format": format,
            "text": text,
            "ruleset": rs,
        }));
    } else {
        out!("{text}");
    }
    Ok(())
}
