//! The programs the runner times, each run as a child process of its own
//! (`side_by_side child MODE ARGS…`, the runner re-executing itself) so
//! that its wall time and peak RSS compare with `nft`'s and
//! `iptables-nft-restore`'s. Each inherits the fresh network namespace
//! the runner's thread created for the run.

use std::error::Error;
use std::net::Ipv4Addr;

use nftguard::engine::{
    dump_raw, get_generation, BatchBuilder, DumpFilter, GenCheck, Ruleset, Transaction,
};
use nftguard::netlink::message::NLMSG_ERROR;
use nftguard::netlink::{KernelError, MessageIter, Socket};
use nftguard::nft::consts::msg;
use nftguard::nft::{Family, Rule};

use crate::profiles::{self, Profile, CHAIN, TABLE};

type Res<T> = std::result::Result<T, Box<dyn Error + Send + Sync>>;

/// Sends a pre-encoded batch with one `sendmsg` and reads every reply
/// (the kernel has queued them all when `sendmsg` returns). Fails on any
/// kernel error. This is the kernel floor: no encoding, no bookkeeping.
pub fn replay(sock: &mut Socket, bytes: &[u8]) -> Res<()> {
    sock.reserve_recv(1 << 20)?;
    sock.send(bytes)?;
    let mut first_error = None;
    while let Some(buf) = sock.recv(false)? {
        for m in MessageIter::new(buf) {
            let m = m?;
            if m.header.kind == NLMSG_ERROR {
                let e = KernelError::parse(&m.header, m.payload)?;
                if e.errno != 0 && first_error.is_none() {
                    first_error = Some(e);
                }
            }
        }
    }
    match first_error {
        Some(e) => Err(format!(
            "kernel error {} ({:?}) on seq {}",
            e.errno, e.message, e.seq
        )
        .into()),
        None => Ok(()),
    }
}

/// The rule that replaces one rule in the incremental benchmark.
pub fn replacement_rule() -> Rule {
    Rule::new(Family::Ipv4, TABLE, CHAIN)
        .ip_saddr(Ipv4Addr::new(10, 255, 255, 254))
        .tcp()
        .dport(22)
        .counter()
        .accept()
}

/// The check against the current generation.
fn current(sock: &mut Socket) -> Res<GenCheck> {
    let genid = get_generation(sock)?.id;
    Ok(if genid == 0 {
        GenCheck::Unconditional
    } else {
        GenCheck::Expect(genid)
    })
}

/// Commits `tx` checked against the current generation.
fn commit_checked(sock: &mut Socket, tx: &Transaction) -> Res<()> {
    let check = current(sock)?;
    tx.commit(sock, check)?;
    Ok(())
}

/// Commits `b` checked against the current generation.
fn commit_batch(sock: &mut Socket, b: &mut BatchBuilder) -> Res<()> {
    let check = current(sock)?;
    b.commit(sock, check)?;
    Ok(())
}

/// Runs child mode `args[0]`.
pub fn run(args: &[String]) -> Res<()> {
    let arg = |i: usize| -> Res<&str> {
        args.get(i)
            .map(String::as_str)
            .ok_or_else(|| format!("child {}: missing argument {i}", args.join(" ")).into())
    };
    let num = |i: usize| -> Res<usize> { Ok(arg(i)?.parse::<usize>()?) };
    match arg(0)? {
        // nftguard as a library, bulk path: build the ruleset into a
        // `BatchBuilder` (each rule encoded as it is added), commit.
        "apply" => {
            let profile = Profile::parse(arg(1)?).ok_or("unknown profile")?;
            let mut b = profiles::batch(profile, num(2)?);
            let mut sock = Socket::new()?;
            commit_batch(&mut sock, &mut b)
        }
        // The typed path: every rule kept in a `Transaction`, encoded at
        // commit (what the workflow uses; for comparison).
        "apply-tx" => {
            let profile = Profile::parse(arg(1)?).ok_or("unknown profile")?;
            let tx = profiles::transaction(profile, num(2)?);
            let mut sock = Socket::new()?;
            commit_checked(&mut sock, &tx)
        }
        "set" => {
            let mut b = profiles::set_batch(num(1)?);
            let mut sock = Socket::new()?;
            commit_batch(&mut sock, &mut b)
        }
        "set-tx" => {
            let tx = profiles::set_transaction(num(1)?);
            let mut sock = Socket::new()?;
            commit_checked(&mut sock, &tx)
        }
        // Writes the batch the kernel floor replays (`encode PROFILE N FILE`),
        // for profiling the floor and nftguard outside the runner.
        "encode" => {
            let profile = Profile::parse(arg(1)?).ok_or("unknown profile")?;
            let tx = profiles::transaction(profile, num(2)?);
            std::fs::write(arg(3)?, tx.encode(1, 0, true, false)?)?;
            Ok(())
        }
        // Builds nftguard's batch without sending it (`build PROFILE N`):
        // the user-space part of "apply", for callgrind's instruction counts.
        "build" => {
            let profile = Profile::parse(arg(1)?).ok_or("unknown profile")?;
            let b = profiles::batch(profile, num(2)?);
            println!("{}", b.encoded_len());
            Ok(())
        }
        // The kernel floor: bytes from a file, one sendmsg, the replies.
        "floor" => {
            let bytes = std::fs::read(arg(1)?)?;
            let mut sock = Socket::new()?;
            replay(&mut sock, &bytes)
        }
        // libnftnl builds the batch, one sendmsg sends it.
        "nftnl" => {
            let profile = Profile::parse(arg(1)?).ok_or("unknown profile")?;
            let bytes = crate::nftnl::batch(profile, num(2)?);
            let mut sock = Socket::new()?;
            replay(&mut sock, &bytes)
        }
        // A typed, generation-consistent snapshot of everything.
        "dump" => {
            let mut sock = Socket::new()?;
            let rs = Ruleset::dump(&mut sock, &DumpFilter::all())?;
            println!("{}", rs.rules.len());
            Ok(())
        }
        // The raw rule dump, not decoded.
        "dump-raw" => {
            let mut sock = Socket::new()?;
            let raw = dump_raw(&mut sock, msg::GETRULE, Family::Unspec)?;
            println!("{}", raw.len());
            Ok(())
        }
        // Replace one rule by handle. The state file holds what an earlier
        // nftguard run knew: the generation it left and the rule's handle.
        // When the generation is still that one, nothing else changed and
        // no dump is needed; otherwise the table is dumped first.
        "replace" => {
            let state = std::fs::read_to_string(arg(1)?)?;
            let mut it = state.split_whitespace().map(str::parse::<u64>);
            let (Some(Ok(genid)), Some(Ok(handle))) = (it.next(), it.next()) else {
                return Err("state file: expected `GENID HANDLE`".into());
            };
            let genid = u32::try_from(genid)?;
            let mut sock = Socket::new()?;
            let now = get_generation(&mut sock)?.id;
            let expect = if now == genid {
                genid
            } else {
                let rs = Ruleset::dump(&mut sock, &DumpFilter::table(Family::Ipv4, TABLE))?;
                if !rs.rules.iter().any(|r| r.handle == Some(handle)) {
                    return Err(format!("no rule with handle {handle}").into());
                }
                rs.genid
            };
            let mut rule = replacement_rule();
            rule.handle = Some(handle);
            let mut tx = Transaction::new();
            tx.replace_rule(rule);
            tx.set_echo(false);
            tx.commit(&mut sock, GenCheck::Expect(expect))?;
            println!("{}", if now == genid { "no-dump" } else { "dumped" });
            Ok(())
        }
        other => Err(format!("unknown child mode {other}").into()),
    }
}
