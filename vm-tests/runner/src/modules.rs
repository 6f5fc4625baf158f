//! The kernel modules a VM needs: every module of the netfilter directories
//! (nf_tables, its expressions, x_tables for iptables-nft, conntrack…), veth
//! and dummy for interface tests, and everything they depend on.
//!
//! Debian's kernel packages ship no modules.dep (the postinst runs depmod),
//! and trixie compresses modules with xz. So the dependency closure is read
//! from each module's `.modinfo` (`depends=`), the modules are decompressed
//! (busybox modprobe then needs no xz support), and the host's `depmod -b`
//! writes modules.dep for the reduced tree.

use std::collections::{BTreeMap, BTreeSet, VecDeque};
use std::path::{Path, PathBuf};
use std::process::Command;

use crate::apt;

/// Directories (under `kernel/`) whose every module is loaded at boot.
const LOADED_DIRS: [&str; 4] = [
    "net/netfilter",
    "net/ipv4/netfilter",
    "net/ipv6/netfilter",
    // The bridge family's nf_tables expressions (meta/reject for bridge).
    "net/bridge/netfilter",
];
/// Single modules loaded at boot before those directories. libcrc32c
/// (nf_tables, nf_conntrack, nf_nat depend on it) finds its crc32c
/// implementation through the crypto API, a soft dependency missing from
/// `depends=`: without crc32c_generic loaded first it fails with ENOENT and
/// so does all of nf_tables. crc32c_intel needs SSE4.2 (absent from TCG's
/// default CPU) and may fail harmlessly. The ts_* text-search modules are
/// requested by name (not `depends=`) by the amanda conntrack helper.
const LOADED_EXTRA: [&str; 7] = [
    "crc32c_generic",
    "crc32c_intel",
    "ts_kmp",
    "ts_bm",
    "ts_fsm",
    "veth",
    "dummy",
];
const LOAD_LIST: &str = "load-list";

/// Builds `out/lib/modules/RELEASE/` from the unpacked kernel package at
/// `package_root`, plus `out/load-list`.
pub fn prepare(package_root: &Path, release: &str, out: &Path) -> Result<(), String> {
    let src = package_modules(package_root, release)?;
    let index = index_modules(&src.join("kernel"))?;

    let mut wanted: Vec<String> = LOADED_EXTRA
        .iter()
        .filter(|m| index.contains_key(**m))
        .map(|m| m.to_string())
        .collect();
    for (name, rel) in &index {
        if LOADED_DIRS.iter().any(|d| rel.starts_with(d)) {
            wanted.push(name.clone());
        }
    }
    if !wanted.iter().any(|m| m == "nf_tables") {
        return Err(format!(
            "{release} has no nf_tables module under {}",
            src.display()
        ));
    }

    let seen = write_closure(&src, &index, &wanted, out, release)?;
    apt::write(
        &out.join(LOAD_LIST),
        format!("{}\n", wanted.join("\n")).as_bytes(),
    )?;
    println!(
        "vm-tests: {release}: {} modules to load, {} with dependencies",
        wanted.len(),
        seen.len()
    );
    Ok(())
}

/// `lib/modules/RELEASE` of an unpacked kernel package.
fn package_modules(package_root: &Path, release: &str) -> Result<PathBuf, String> {
    ["lib/modules", "usr/lib/modules"]
        .iter()
        .map(|d| package_root.join(d).join(release))
        .find(|p| p.is_dir())
        .ok_or_else(|| format!("no lib/modules/{release} in {}", package_root.display()))
}

/// Writes `out/lib/modules/RELEASE/` holding `wanted` and everything they
/// depend on (decompressed), with depmod's files; returns every module
/// written.
fn write_closure(
    src: &Path,
    index: &BTreeMap<String, PathBuf>,
    wanted: &[String],
    out: &Path,
    release: &str,
) -> Result<BTreeSet<String>, String> {
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| format!("removing {}: {e}", out.display()))?;
    }
    let dst = out.join("lib/modules").join(release);
    // Breadth-first over `depends=`, writing each module decompressed.
    let mut seen: BTreeSet<String> = BTreeSet::new();
    let mut queue: VecDeque<String> = wanted.iter().cloned().collect();
    while let Some(name) = queue.pop_front() {
        if !seen.insert(name.clone()) {
            continue;
        }
        let rel = index
            .get(&name)
            .ok_or_else(|| format!("module {name} is needed but not in {release}"))?;
        let bytes = read_module(&src.join("kernel").join(rel))?;
        for dep in depends(&bytes) {
            queue.push_back(dep);
        }
        let target = dst.join("kernel").join(strip_compression(rel));
        if let Some(parent) = target.parent() {
            apt::mkdir(parent)?;
        }
        apt::write(&target, &bytes)?;
    }
    for f in [
        "modules.builtin",
        "modules.builtin.modinfo",
        "modules.order",
    ] {
        let from = src.join(f);
        if from.is_file() {
            std::fs::copy(&from, dst.join(f))
                .map_err(|e| format!("copying {}: {e}", from.display()))?;
        }
    }
    depmod(out, release)?;
    Ok(seen)
}

fn depmod(root: &Path, release: &str) -> Result<(), String> {
    let depmod = ["/usr/sbin/depmod", "/sbin/depmod"]
        .into_iter()
        .find(|p| Path::new(p).is_file())
        .ok_or("depmod is missing: install the kmod package")?;
    apt::run(Command::new(depmod).arg("-b").arg(root).arg(release))?;
    let dep = root.join("lib/modules").join(release).join("modules.dep");
    if !dep.is_file() {
        return Err(format!("depmod wrote no {}", dep.display()));
    }
    Ok(())
}

/// The modules an initramfs needs to mount a virtio disk holding ext4:
/// `out/lib/modules/RELEASE/` with `names` (those that are modules in this
/// kernel; the others are built in) and their dependencies. Returns the
/// names to `modprobe`, in order.
pub fn prepare_for_boot(
    package_root: &Path,
    release: &str,
    names: &[&str],
    out: &Path,
) -> Result<Vec<String>, String> {
    let src = package_modules(package_root, release)?;
    let index = index_modules(&src.join("kernel"))?;
    let wanted: Vec<String> = names
        .iter()
        .filter(|m| index.contains_key(**m))
        .map(|m| m.to_string())
        .collect();
    write_closure(&src, &index, &wanted, out, release)?;
    Ok(wanted)
}

/// Every module of the kernel, as the package ships them (compressed or
/// not: a full system's kmod reads both), under `out/lib/modules/RELEASE/`
/// with depmod's files.
pub fn prepare_full(package_root: &Path, release: &str, out: &Path) -> Result<(), String> {
    let src = package_modules(package_root, release)?;
    if out.exists() {
        std::fs::remove_dir_all(out).map_err(|e| format!("removing {}: {e}", out.display()))?;
    }
    let parent = out.join("lib/modules");
    apt::mkdir(&parent)?;
    apt::run(Command::new("cp").arg("-a").arg(&src).arg(&parent))?;
    depmod(out, release)
}

/// The modules to load at boot, as written by [`prepare`].
pub fn read_load_list(out: &Path) -> Result<Vec<String>, String> {
    let p = out.join(LOAD_LIST);
    let text = std::fs::read_to_string(&p).map_err(|e| format!("reading {}: {e}", p.display()))?;
    Ok(text
        .lines()
        .filter(|l| !l.is_empty())
        .map(String::from)
        .collect())
}

/// Module name (`nf_conntrack`) → path relative to `kernel/`.
fn index_modules(kernel_dir: &Path) -> Result<BTreeMap<String, PathBuf>, String> {
    let mut index = BTreeMap::new();
    let mut dirs = vec![kernel_dir.to_path_buf()];
    while let Some(dir) = dirs.pop() {
        let rd = std::fs::read_dir(&dir).map_err(|e| format!("reading {}: {e}", dir.display()))?;
        for e in rd.flatten() {
            let path = e.path();
            if path.is_dir() {
                dirs.push(path);
                continue;
            }
            let file = e.file_name().to_string_lossy().into_owned();
            let Some(stem) = module_stem(&file) else {
                continue;
            };
            // Module names use `_` where file names may use `-`.
            let name = stem.replace('-', "_");
            let rel = path
                .strip_prefix(kernel_dir)
                .map_err(|e| e.to_string())?
                .to_path_buf();
            index.insert(name, rel);
        }
    }
    Ok(index)
}

fn module_stem(file: &str) -> Option<&str> {
    [".ko", ".ko.xz", ".ko.zst", ".ko.gz"]
        .iter()
        .find_map(|ext| file.strip_suffix(ext))
}

fn strip_compression(rel: &Path) -> PathBuf {
    let s = rel.to_string_lossy();
    let base = [".ko.xz", ".ko.zst", ".ko.gz"]
        .iter()
        .find_map(|ext| s.strip_suffix(ext))
        .map(|b| format!("{b}.ko"))
        .unwrap_or_else(|| s.into_owned());
    PathBuf::from(base)
}

fn read_module(path: &Path) -> Result<Vec<u8>, String> {
    let s = path.to_string_lossy();
    let tool = if s.ends_with(".xz") {
        "xz"
    } else if s.ends_with(".zst") {
        "zstd"
    } else if s.ends_with(".gz") {
        "gzip"
    } else {
        return std::fs::read(path).map_err(|e| format!("reading {}: {e}", path.display()));
    };
    let o = Command::new(tool)
        .arg("-dc")
        .arg(path)
        .output()
        .map_err(|e| format!("running {tool} -dc {}: {e}", path.display()))?;
    if !o.status.success() {
        return Err(format!(
            "{tool} -dc {} failed: {}",
            path.display(),
            String::from_utf8_lossy(&o.stderr)
        ));
    }
    Ok(o.stdout)
}

/// The `depends=` list of a module's `.modinfo` section (NUL-separated
/// `key=value` strings).
fn depends(module: &[u8]) -> Vec<String> {
    const KEY: &[u8] = b"\0depends=";
    let Some(at) = module.windows(KEY.len()).position(|w| w == KEY) else {
        return Vec::new();
    };
    let rest = &module[at + KEY.len()..];
    let end = rest.iter().position(|&b| b == 0).unwrap_or(rest.len());
    String::from_utf8_lossy(&rest[..end])
        .split(',')
        .filter(|s| !s.is_empty())
        .map(|s| s.replace('-', "_"))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn depends_are_read_from_modinfo() {
        let m = b"\x7fELF...\0license=GPL\0depends=nf_tables,nfnetlink\0retpoline=Y\0";
        assert_eq!(depends(m), ["nf_tables", "nfnetlink"]);
        assert!(depends(b"\0depends=\0name=x\0").is_empty());
        assert!(depends(b"no modinfo").is_empty());
    }

    #[test]
    fn compressed_names() {
        assert_eq!(module_stem("nf_tables.ko.xz"), Some("nf_tables"));
        assert_eq!(module_stem("modules.dep"), None);
        assert_eq!(
            strip_compression(Path::new("net/netfilter/nft_ct.ko.xz")),
            PathBuf::from("net/netfilter/nft_ct.ko")
        );
    }
}
