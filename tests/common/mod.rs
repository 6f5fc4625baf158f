//! Helpers shared by the integration tests: a private network namespace per
//! test thread, the `nft` oracle, raw and typed dumps, and the expression
//! corpus.
//!
//! Every test that talks to the kernel calls [`netns`] first, so that it
//! works on an empty nf_tables world of its own and never sees (or touches)
//! the host's ruleset. Processes spawned afterwards (`nft`) inherit the
//! thread's namespace.
#![allow(dead_code)] // each test crate uses a different subset
#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::io::Write;
use std::process::{Command, Stdio};

use nftguard::engine::{dump_raw, get_generation, DumpFilter, RawObject, Ruleset};
use nftguard::netlink::{AttrWriter, Socket};
use nftguard::nft::consts::msg;
use nftguard::nft::{Chain, Family, Rule, Table};

/// An nft script using every expression kind nftguard types, across the
/// inet, ip, ip6, bridge and netdev families.
pub const CORPUS: &str = include_str!("corpus.nft");

/// `(major, minor)` of the running kernel: the release `uname -r` prints
/// (`/proc/sys/kernel/osrelease`), e.g. `(6, 1)` for `6.1.0-50-amd64`.
/// For assertions on behaviour that differs between kernel versions.
pub fn kernel_version() -> (u32, u32) {
    let release = std::fs::read_to_string("/proc/sys/kernel/osrelease")
        .expect("reading /proc/sys/kernel/osrelease");
    let mut parts = release.trim().split(|c: char| !c.is_ascii_digit());
    let mut number = || -> u32 {
        parts
            .next()
            .and_then(|p| p.parse().ok())
            .unwrap_or_else(|| panic!("unexpected kernel release {release:?}"))
    };
    (number(), number())
}

/// Moves the calling test thread into a fresh, empty network namespace.
pub fn netns() {
    nftguard::netlink::enter_new_netns()
        .expect("creating a network namespace (the tests must run as root)");
}

/// A netfilter socket in the calling thread's namespace.
pub fn sock() -> Socket {
    Socket::new().expect("opening the netfilter netlink socket")
}

/// Runs `nft ARGS`, feeding `stdin` when given; panics with nft's stderr on
/// failure. Returns stdout.
pub fn nft(args: &[&str], stdin: Option<&str>) -> String {
    let mut child = Command::new("nft")
        .args(args)
        .stdin(if stdin.is_some() {
            Stdio::piped()
        } else {
            Stdio::null()
        })
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .expect("running nft (install the nftables package)");
    if let Some(input) = stdin {
        child
            .stdin
            .take()
            .expect("nft stdin")
            .write_all(input.as_bytes())
            .expect("writing to nft");
    }
    let out = child.wait_with_output().expect("waiting for nft");
    assert!(
        out.status.success(),
        "nft {args:?} failed: {}\ninput:\n{}",
        String::from_utf8_lossy(&out.stderr),
        stdin.unwrap_or("")
    );
    String::from_utf8(out.stdout).expect("nft output is UTF-8")
}

/// `nft -f -` with `script` on stdin.
pub fn nft_apply(script: &str) {
    nft(&["-f", "-"], Some(script));
}

/// `nft list ruleset`.
pub fn nft_list_ruleset() -> String {
    nft(&["list", "ruleset"], None)
}

/// The current generation id.
pub fn genid(sock: &mut Socket) -> u32 {
    get_generation(sock).expect("reading the generation").id
}

/// A typed dump of everything.
pub fn dump(sock: &mut Socket) -> Ruleset {
    Ruleset::dump(sock, &DumpFilter::all()).expect("dumping the ruleset")
}

/// Raw dumps of tables, chains and rules of every family.
pub struct RawDump {
    /// Table messages.
    pub tables: Vec<RawObject>,
    /// Chain messages.
    pub chains: Vec<RawObject>,
    /// Rule messages.
    pub rules: Vec<RawObject>,
}

/// Dumps tables, chains and rules without decoding them.
pub fn dump_raw_all(sock: &mut Socket) -> RawDump {
    let get = |sock: &mut Socket, kind| dump_raw(sock, kind, Family::Unspec).expect("raw dump");
    RawDump {
        tables: get(sock, msg::GETTABLE),
        chains: get(sock, msg::GETCHAIN),
        rules: get(sock, msg::GETRULE),
    }
}

/// Re-encodes a table's attributes.
pub fn emit_table(t: &Table) -> Vec<u8> {
    let mut buf = Vec::new();
    t.emit(&mut AttrWriter::new(&mut buf))
        .expect("emitting a table");
    buf
}

/// Re-encodes a chain's attributes.
pub fn emit_chain(c: &Chain) -> Vec<u8> {
    let mut buf = Vec::new();
    c.emit(&mut AttrWriter::new(&mut buf))
        .expect("emitting a chain");
    buf
}

/// Re-encodes a rule's attributes.
pub fn emit_rule(r: &Rule) -> Vec<u8> {
    let mut buf = Vec::new();
    r.emit(&mut AttrWriter::new(&mut buf))
        .expect("emitting a rule");
    buf
}

/// The corpus loaded into the calling thread's namespace, dumped raw.
pub fn corpus_raw_dump() -> RawDump {
    nft_apply(CORPUS);
    let mut s = sock();
    dump_raw_all(&mut s)
}

/// `nft list ruleset` text with each element expiry (`expires 9s996ms`,
/// which counts down between two dumps) replaced by `expires T`: expiries
/// are compared as present/absent only.
pub fn without_expiry(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let mut rest = text;
    while let Some(i) = rest.find(" expires ") {
        out.push_str(&rest[..i]);
        out.push_str(" expires T");
        let tail = &rest[i + " expires ".len()..];
        let end = tail.find([' ', ',', '\n']).unwrap_or(tail.len());
        rest = &tail[end..];
    }
    out.push_str(rest);
    out
}

/// Runs `sh -c COMMAND` in the calling thread's namespace; panics with
/// its stderr on failure.
pub fn sh(command: &str) {
    let out = Command::new("sh")
        .args(["-c", command])
        .output()
        .expect("running sh");
    assert!(
        out.status.success(),
        "{command}: {}",
        String::from_utf8_lossy(&out.stderr)
    );
}
