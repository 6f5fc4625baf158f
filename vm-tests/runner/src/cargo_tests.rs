//! Building test executables with `cargo test --release --no-run` and
//! finding them in cargo's JSON messages.

use std::path::{Path, PathBuf};
use std::process::{Command, Stdio};

/// Executables cargo built: `(kind, target name, path)` where kind is
/// `test` or `bin`.
#[derive(Debug, Clone)]
pub struct Artifact {
    pub kind: String,
    pub name: String,
    pub executable: PathBuf,
}

/// `cargo test --release --no-run --message-format=json --test T…` for the
/// package at `manifest`, with its build going to `target_dir`.
pub fn build_tests(
    manifest: &Path,
    tests: &[&str],
    target_dir: &Path,
) -> Result<Vec<Artifact>, String> {
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let mut cmd = Command::new(&cargo);
    cmd.args(["test", "--release", "--no-run", "--message-format=json"])
        .arg("--manifest-path")
        .arg(manifest)
        .arg("--target-dir")
        .arg(target_dir);
    for t in tests {
        cmd.args(["--test", t]);
    }
    cmd.stdout(Stdio::piped()).stderr(Stdio::inherit());
    let o = cmd.output().map_err(|e| {
        format!(
            "running {cargo} test --no-run for {}: {e}",
            manifest.display()
        )
    })?;
    if !o.status.success() {
        return Err(format!(
            "cargo test --no-run for {} failed ({})",
            manifest.display(),
            o.status
        ));
    }
    let artifacts = parse_messages(&String::from_utf8_lossy(&o.stdout));
    for t in tests {
        if !artifacts.iter().any(|a| a.kind == "test" && a.name == *t) {
            return Err(format!(
                "cargo built no test executable named {t} for {}",
                manifest.display()
            ));
        }
    }
    Ok(artifacts)
}

fn parse_messages(json_lines: &str) -> Vec<Artifact> {
    let mut out = Vec::new();
    for line in json_lines.lines() {
        let Ok(v) = serde_json::from_str::<serde_json::Value>(line) else {
            continue;
        };
        if v["reason"] != "compiler-artifact" {
            continue;
        }
        let Some(exe) = v["executable"].as_str() else {
            continue;
        };
        let kind = v["target"]["kind"][0]
            .as_str()
            .unwrap_or_default()
            .to_string();
        let name = v["target"]["name"].as_str().unwrap_or_default().to_string();
        out.push(Artifact {
            kind,
            name,
            executable: PathBuf::from(exe),
        });
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn executables_from_cargo_json() {
        let text = r#"{"reason":"compiler-artifact","target":{"kind":["lib"],"name":"nftguard"},"executable":null}
{"reason":"compiler-artifact","target":{"kind":["bin"],"name":"nftguard"},"executable":"/r/target/release/nftguard"}
{"reason":"compiler-artifact","target":{"kind":["test"],"name":"cli"},"executable":"/r/target/release/deps/cli-1"}
{"reason":"build-finished","success":true}"#;
        let a = parse_messages(text);
        assert_eq!(a.len(), 2);
        assert_eq!(a[0].kind, "bin");
        assert_eq!(a[1].name, "cli");
        assert_eq!(
            a[1].executable,
            PathBuf::from("/r/target/release/deps/cli-1")
        );
    }
}
