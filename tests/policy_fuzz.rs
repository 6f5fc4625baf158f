//! The loader never panics: 26,000 deterministic cases of mutated valid
//! policies (YAML and JSON, byte- and token-level edits) and random bytes.
//! Every error must be well-formed (named file, position unless it concerns
//! the whole file, no raw control characters); every accepted policy must be
//! normalised and serialisable.

#![allow(clippy::unwrap_used, clippy::expect_used)]

use std::collections::HashMap;
use std::path::Path;

use nftguard::policy::{Addresses, Policy, PolicyErrorKind, Ports};

/// xorshift64*: deterministic and dependency-free.
struct Rng(u64);

impl Rng {
    fn next(&mut self) -> u64 {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        self.0.wrapping_mul(0x2545_f491_4f6c_dd1d)
    }
    fn below(&mut self, n: usize) -> usize {
        (self.next() % n.max(1) as u64) as usize
    }
}

/// Tokens that steer mutations toward the interesting paths of both parsers
/// and of the schema.
const TOKENS: &[&str] = &[
    "*a",
    "&a ",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "'",
    ":",
    ": ",
    "- ",
    "\n",
    "\n  ",
    "\t",
    "---\n",
    "!!binary ",
    "!x ",
    "<<: ",
    "~",
    "null",
    "yes",
    "true",
    "0x1F",
    "-1",
    "0",
    "65536",
    "99999999999999999999999",
    "1e999",
    ".nan",
    "\\u",
    "\\ud800",
    "\u{0}",
    "\u{feff}",
    "é",
    "port",
    "proto",
    "source",
    "destination",
    "interface",
    "rate_limit",
    "comment",
    "action",
    "schema_version",
    "\"2.1\"",
    "\"3.0\"",
    "any",
    "icmp",
    "10.0.0.0/8",
    "10.0.0.300/8",
    "::/0",
    "2001:db8::1/64",
    "8000-8100",
    "[22, \"80-90\"]",
    "10/min",
    "5/hour",
    "#",
    ",",
];

fn mutate(rng: &mut Rng, input: &[u8]) -> Vec<u8> {
    let mut bytes = input.to_vec();
    for _ in 0..=rng.below(4) {
        let at = rng.below(bytes.len() + 1);
        match rng.below(7) {
            0 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                // Mostly stay ASCII so most cases get past the UTF-8 check.
                let bits = if rng.below(10) == 0 { 8 } else { 7 };
                bytes[i] ^= 1 << rng.below(bits);
            }
            1 if !bytes.is_empty() => {
                let i = rng.below(bytes.len());
                bytes[i] = if rng.below(10) == 0 {
                    rng.next() as u8
                } else {
                    b' ' + rng.below(95) as u8
                };
            }
            2 => {
                let end = (at + rng.below(16)).min(bytes.len());
                bytes.drain(at..end);
            }
            3 => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                bytes.splice(at..at, token.iter().copied());
            }
            4 => {
                // Duplicate a stretch (repeats keys, rules, brackets).
                let end = (at + rng.below(64)).min(bytes.len());
                let piece = bytes[at..end].to_vec();
                bytes.splice(end..end, piece);
            }
            5 => {
                // Replace one line by another line of the file.
                let text = String::from_utf8_lossy(&bytes).into_owned();
                let mut lines: Vec<&str> = text.split('\n').collect();
                if lines.len() > 1 {
                    let from = rng.below(lines.len());
                    let to = rng.below(lines.len());
                    lines[to] = lines[from];
                    bytes = lines.join("\n").into_bytes();
                }
            }
            _ => {
                let token = TOKENS[rng.below(TOKENS.len())].as_bytes();
                let end = (at + token.len()).min(bytes.len());
                bytes.splice(at..end, token.iter().copied());
            }
        }
    }
    bytes
}

/// Runs one case, checks the invariants, and names the outcome.
fn check(bytes: &[u8], name: &str) -> String {
    match Policy::from_bytes(bytes, name) {
        Ok(policy) => {
            serde_json::to_string(&policy).unwrap();
            for rule in policy.inbound.rules.iter().chain(&policy.outbound.rules) {
                if let Ports::Ranges(ranges) = &rule.ports {
                    assert!(!ranges.is_empty());
                    assert!(ranges.iter().all(|r| 1 <= r.first && r.first <= r.last));
                    assert!(ranges
                        .windows(2)
                        .all(|w| u32::from(w[0].last) + 1 < u32::from(w[1].first)));
                }
                for addresses in [&rule.source, &rule.destination] {
                    if let Addresses::Nets(nets) = addresses {
                        assert!(!nets.is_empty());
                        assert!(nets.windows(2).all(|w| w[0] < w[1]));
                    }
                }
                assert!(rule.location.line >= 1 && rule.location.column >= 1);
            }
            "accepted".to_string()
        }
        Err(err) => {
            let shown = err.to_string();
            assert!(shown.starts_with(&format!("{name}:")), "{shown}");
            assert!(!err.message.is_empty());
            assert!(
                !shown.chars().any(|c| c.is_control()),
                "raw control character in {shown:?}"
            );
            match err.kind {
                PolicyErrorKind::TooLarge | PolicyErrorKind::Io => assert_eq!(err.line, 0),
                _ => assert!(err.line >= 1 && err.column >= 1, "{shown}"),
            }
            format!("{:?}", err.kind)
        }
    }
}

/// A compact 2.1 policy: YAML parsing is the slow part of an unoptimised
/// test build, so the YAML seeds are kept short.
const COMPACT_2_1: &str = "schema_version: \"2.1\"
inbound:
  default: deny
  rules:
    - {proto: tcp, port: [22, \"8000-8100\"], source: [10.0.0.0/8, \"::1\"], action: accept, rate_limit: 5/min}
    - {proto: icmp, port: any, action: accept, interface: \"eth*\"}
outbound:
  default: deny
  rules:
    - {proto: udp, port: 53, destination: &dns 10.0.0.53, action: accept}
    - {proto: tcp, port: 53, destination: *dns, action: reject, comment: dns}
forward: {default: deny}
icmp: {ipv4: accept, ipv6: deny}
logging: {dropped: true, rate_limit: 1/sec, prefix: drop}
";

#[test]
fn mutated_policies_and_random_bytes_never_panic() {
    let dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/policy");
    let fixture = |file: &str| std::fs::read(dir.join(file)).unwrap();
    let seeds: Vec<(Vec<u8>, &str)> = vec![
        (fixture("minimal-2.0.yaml"), "p.yaml"),
        (COMPACT_2_1.as_bytes().to_vec(), "p.yml"),
        (fixture("seed-example-2.0.json"), "p.json"),
        (fixture("zero-trust-2.1.json"), "policy"),
    ];
    for (seed, name) in &seeds {
        assert!(
            Policy::from_bytes(seed, name).is_ok(),
            "seed {name} must be valid"
        );
    }
    let mut rng = Rng(0x6e66_7467_7561_7264); // "nftguard"
    let mut outcomes: HashMap<String, usize> = HashMap::new();
    let mut cases = 0;
    for round in 0..22_000 {
        let (seed, name) = &seeds[round % seeds.len()];
        // Mutations compound now and then, to get further from valid input.
        let mut bytes = mutate(&mut rng, seed);
        if rng.below(4) == 0 {
            bytes = mutate(&mut rng, &bytes);
        }
        *outcomes.entry(check(&bytes, name)).or_default() += 1;
        cases += 1;
    }
    for _ in 0..4_000 {
        let len = rng.below(256);
        let bytes: Vec<u8> = (0..len).map(|_| rng.next() as u8).collect();
        let name = ["r.yaml", "r.json", "r"][rng.below(3)];
        *outcomes.entry(check(&bytes, name)).or_default() += 1;
        cases += 1;
    }
    assert_eq!(cases, 26_000);
    eprintln!("outcomes: {outcomes:?}");
    // The mutations must reach past the parsers into the schema checks and
    // leave some policies valid, or those paths would go unexercised.
    for outcome in [
        "accepted",
        "Syntax",
        "UnknownKey",
        "WrongType",
        "InvalidValue",
        "Duplicate",
        "NotUtf8",
    ] {
        assert!(
            outcomes.get(outcome).copied().unwrap_or(0) >= 20,
            "{outcome}: {outcomes:?}"
        );
    }
}
