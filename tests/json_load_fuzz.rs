//! Mutation test of the loader: 24,000 deterministic mutations of valid
//! listings (values swapped for other JSON types, huge numbers, deleted
//! and renamed keys, truncated text, byte flips); the loader must return
//! Ok or an error, never panic.
#![allow(clippy::unwrap_used, clippy::expect_used)]

use nftguard::engine::load::load_json;
use serde_json::{json, Value};

const SEEDS: &[&str] = &[
    include_str!("data/json/seed_inet.json"),
    include_str!("data/json/seed_ip.json"),
];

/// xorshift64*: deterministic, no dependency.
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

fn count(v: &Value) -> usize {
    1 + match v {
        Value::Array(a) => a.iter().map(count).sum(),
        Value::Object(o) => o.values().map(count).sum(),
        _ => 0,
    }
}

/// Replaces the `n`-th node (pre-order) with `f(node)`.
fn mutate_at(v: &mut Value, n: &mut usize, f: &mut dyn FnMut(&mut Value)) -> bool {
    if *n == 0 {
        f(v);
        return true;
    }
    *n -= 1;
    match v {
        Value::Array(a) => a.iter_mut().any(|x| mutate_at(x, n, f)),
        Value::Object(o) => o.values_mut().any(|x| mutate_at(x, n, f)),
        _ => false,
    }
}

const REPLACEMENTS: &[&str] = &[
    "null",
    "true",
    "-1",
    "0",
    "4294967296",
    "18446744073709551615",
    "1e300",
    "\"\"",
    "\"@\"",
    "\"x\"",
    "[]",
    "{}",
    "[[[[]]]]",
    "{\"set\": []}",
    "{\"prefix\": {\"addr\": \"1.1.1.1\", \"len\": 99}}",
    "{\"range\": [1]}",
    "{\"concat\": [1]}",
    "\"ip\"",
    "\"tcp\"",
    "\"saddr\"",
    "{\"accept\": null}",
    "{\"payload\": {\"protocol\": \"tcp\", \"field\": \"dport\"}}",
    "\"::\"",
    "\"256.0.0.1\"",
];

#[test]
fn loader_never_panics_on_mutations() {
    for s in SEEDS {
        load_json(s).expect("seeds load");
    }
    // Small documents (one object of a listing each) keep every case
    // cheap: the table, then that object.
    let mut seeds: Vec<Value> = Vec::new();
    for s in SEEDS {
        let v: Value = serde_json::from_str(s).unwrap();
        let items = v["nftables"].as_array().unwrap();
        for it in &items[2..] {
            seeds.push(json!({ "nftables": [items[1].clone(), it.clone()] }));
        }
    }
    let mut rng = Rng(0x9e37_79b9_7f4a_7c15);
    let mut rejected = 0;
    let cases = 24_000;
    for case in 0..cases {
        let seed = &seeds[case % seeds.len()];
        let text = match rng.below(4) {
            0 | 1 => {
                let mut v = seed.clone();
                for _ in 0..1 + rng.below(3) {
                    let mut n = rng.below(count(&v));
                    let r = REPLACEMENTS[rng.below(REPLACEMENTS.len())];
                    let kind = rng.below(3);
                    let pick = rng.next();
                    mutate_at(&mut v, &mut n, &mut |node| match (kind, &mut *node) {
                        (0, Value::Object(o)) if !o.is_empty() => {
                            let k = o.keys().nth(pick as usize % o.len()).cloned().unwrap();
                            o.remove(&k);
                        }
                        (1, Value::Object(o)) if !o.is_empty() => {
                            let k = o.keys().nth(pick as usize % o.len()).cloned().unwrap();
                            let x = o.remove(&k).unwrap();
                            o.insert(format!("{k}x"), x);
                        }
                        (_, Value::Array(a)) if pick.is_multiple_of(2) && !a.is_empty() => {
                            let i = pick as usize % a.len();
                            let x = a[i].clone();
                            a.push(x);
                        }
                        _ => *node = serde_json::from_str(r).unwrap_or(json!(null)),
                    });
                }
                v.to_string()
            }
            2 => {
                let t = seed.to_string();
                let cut = rng.below(t.len());
                t[..t.floor_char_boundary_compat(cut)].to_string()
            }
            _ => {
                let mut b = seed.to_string().into_bytes();
                for _ in 0..1 + rng.below(4) {
                    let i = rng.below(b.len());
                    const BYTES: &[u8] = b"{}[]\",:0123456789-e.ax@ \\";
                    b[i] = BYTES[rng.below(BYTES.len())];
                }
                String::from_utf8_lossy(&b).into_owned()
            }
        };
        if load_json(&text).is_err() {
            rejected += 1;
        }
    }
    // Most mutations are invalid; the loader must say so, not accept them.
    assert!(rejected > cases / 2, "only {rejected} of {cases} rejected");
}

trait FloorCharBoundary {
    fn floor_char_boundary_compat(&self, i: usize) -> usize;
}
impl FloorCharBoundary for String {
    fn floor_char_boundary_compat(&self, mut i: usize) -> usize {
        while !self.is_char_boundary(i) {
            i -= 1;
        }
        i
    }
}
