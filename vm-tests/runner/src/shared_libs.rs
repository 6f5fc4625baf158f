//! Host executables copied into an initramfs with the shared libraries
//! `ldd` says they need, at the same paths.

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::cpio::Image;

/// Adds `host` at `guest` plus its shared libraries.
pub fn add_executable(img: &mut Image, host: &Path, guest: &str) -> Result<(), String> {
    img.add_host_file(host, guest)?;
    add_libraries_of(img, host)
}

/// Adds the shared libraries `host` needs (nothing for a static binary).
pub fn add_libraries_of(img: &mut Image, host: &Path) -> Result<(), String> {
    for lib in libraries(host)? {
        let guest = lib.to_string_lossy().into_owned();
        if !img.contains(&guest) {
            img.add_host_file(&lib, &guest)?;
        }
    }
    Ok(())
}

/// Adds a command found on the host (`nft`, `iptables-nft`) where it is on
/// the host. A symlink (`iptables-nft` → `xtables-nft-multi`) is kept as a
/// symlink next to its target.
pub fn add_command(img: &mut Image, name: &str) -> Result<PathBuf, String> {
    let found = ["/usr/sbin", "/usr/bin", "/sbin", "/bin"]
        .iter()
        .map(|d| Path::new(d).join(name))
        .find(|p| p.exists())
        .ok_or_else(|| format!("`{name}` is not installed on the host"))?;
    let real =
        std::fs::canonicalize(&found).map_err(|e| format!("resolving {}: {e}", found.display()))?;
    add_executable(img, &real, &real.to_string_lossy())?;
    if real != found {
        img.add_symlink(&found.to_string_lossy(), &real.to_string_lossy());
    }
    Ok(real)
}

/// Absolute library paths from `ldd`'s output.
fn libraries(host: &Path) -> Result<Vec<PathBuf>, String> {
    let o = Command::new("ldd")
        .arg(host)
        .output()
        .map_err(|e| format!("running ldd {}: {e}", host.display()))?;
    let text = String::from_utf8_lossy(&o.stdout);
    if !o.status.success() {
        // "not a dynamic executable": a static binary needs nothing.
        return Ok(Vec::new());
    }
    parse_ldd(&text).map_err(|e| format!("ldd {}: {e}", host.display()))
}

fn parse_ldd(text: &str) -> Result<Vec<PathBuf>, String> {
    let mut libs = Vec::new();
    for line in text.lines().map(str::trim) {
        if line.contains("not found") {
            return Err(format!("missing library: {line}"));
        }
        let path = match line.split_once("=>") {
            Some((_, right)) => right.split_whitespace().next(),
            None => line.split_whitespace().next(),
        };
        if let Some(p) = path.filter(|p| p.starts_with('/')) {
            libs.push(PathBuf::from(p));
        }
    }
    Ok(libs)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn ldd_output() {
        let text = "\tlinux-vdso.so.1 (0x00007ffd)\n\tlibnftables.so.1 => /lib/x86_64-linux-gnu/libnftables.so.1 (0x00007f)\n\tlibc.so.6 => /lib/x86_64-linux-gnu/libc.so.6 (0x00007f)\n\t/lib64/ld-linux-x86-64.so.2 (0x00007f)\n";
        let libs = parse_ldd(text).unwrap();
        assert_eq!(
            libs,
            [
                PathBuf::from("/lib/x86_64-linux-gnu/libnftables.so.1"),
                PathBuf::from("/lib/x86_64-linux-gnu/libc.so.6"),
                PathBuf::from("/lib64/ld-linux-x86-64.so.2")
            ]
        );
        assert!(parse_ldd("\tlibfoo.so => not found\n").is_err());
    }
}
