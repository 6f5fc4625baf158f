//! The kernel matrix: which Debian suite gives which kernel series, and a
//! kernel unpacked and made ready to boot (vmlinuz + the netfilter module
//! tree with its modules.dep).

use std::path::{Path, PathBuf};

use crate::apt::{self, Downloader};
use crate::modules;

/// A kernel series and the Debian suite that ships it.
#[derive(Debug)]
pub struct KernelSeries {
    /// `5.10`, `6.1`, `6.12`.
    pub series: &'static str,
    pub suite: &'static str,
}

pub const SERIES: [KernelSeries; 3] = [
    KernelSeries {
        series: "5.10",
        suite: "bullseye",
    },
    KernelSeries {
        series: "6.1",
        suite: "bookworm",
    },
    KernelSeries {
        series: "6.12",
        suite: "trixie",
    },
];

/// Bumped whenever [`modules::prepare`] changes what it writes, so cached
/// module trees of an older runner are rebuilt (no download needed).
const MODULES_FORMAT: &str = "3";

/// A kernel ready to boot.
#[derive(Debug, Clone)]
pub struct PreparedKernel {
    pub series: &'static str,
    /// The Debian package it came from.
    pub package: String,
    /// `uname -r`, e.g. `5.10.0-32-amd64`.
    pub release: String,
    pub vmlinuz: PathBuf,
    /// The unpacked kernel package (`boot/`, `lib/modules/RELEASE/`).
    pub package_root: PathBuf,
    /// A tree holding `lib/modules/RELEASE/…` (decompressed modules and
    /// depmod's files), copied as is into an initramfs.
    pub modules_root: PathBuf,
    /// Modules to `modprobe` at boot.
    pub load_list: Vec<String>,
}

/// Downloads (unless cached) and prepares the newest generic amd64 kernel
/// image of `series`.
pub fn prepare(
    series: &'static KernelSeries,
    apt: &Downloader,
    cache: &Path,
) -> Result<PreparedKernel, String> {
    let dir = cache.join("kernels").join(series.series);
    let root = dir.join("root");
    let package_file = dir.join("package");
    let ready = dir.join("modules/.complete");

    let package = match std::fs::read_to_string(&package_file) {
        Ok(p) if root.is_dir() => p.trim().to_string(),
        _ => {
            let package = download(series, apt, &root)?;
            let _ = std::fs::remove_file(&ready);
            apt::write(&package_file, package.as_bytes())?;
            package
        }
    };
    let (release, vmlinuz) = find_vmlinuz(&root)?;
    let modules_root = dir.join("modules");
    if std::fs::read_to_string(&ready).ok().as_deref() != Some(MODULES_FORMAT) {
        println!("vm-tests: preparing the netfilter modules of {release}");
        modules::prepare(&root, &release, &modules_root)?;
        apt::write(&ready, MODULES_FORMAT.as_bytes())?;
    }
    let load_list = modules::read_load_list(&modules_root)?;
    Ok(PreparedKernel {
        series: series.series,
        package,
        release,
        vmlinuz,
        package_root: root,
        modules_root,
        load_list,
    })
}

fn download(series: &KernelSeries, apt: &Downloader, root: &Path) -> Result<String, String> {
    // The generic flavour (the one most hosts run): not -cloud, -rt,
    // -unsigned or -dbg.
    let escaped = series.series.replace('.', "\\.");
    let regex = format!("^linux-image-{escaped}\\.[0-9]+(-[0-9]+)?(\\+deb[0-9]+)?-amd64$");
    let names = apt.search_names(&regex)?;
    if names.is_empty() {
        return Err(format!(
            "no package matching {regex} in Debian {} (vm-tests/cache/apt/lists)",
            series.suite
        ));
    }
    let mut last = String::new();
    for name in names.iter().take(3) {
        match apt.download(name) {
            Ok(deb) => {
                println!("vm-tests: unpacking {}", deb.display());
                apt::extract(&deb, root)?;
                return Ok(name.clone());
            }
            Err(e) => last = e,
        }
    }
    Err(format!(
        "could not download a {} kernel: {last}",
        series.series
    ))
}

/// `boot/vmlinuz-RELEASE` of an unpacked kernel package.
fn find_vmlinuz(root: &Path) -> Result<(String, PathBuf), String> {
    let boot = root.join("boot");
    let rd = std::fs::read_dir(&boot).map_err(|e| format!("reading {}: {e}", boot.display()))?;
    for e in rd.flatten() {
        let name = e.file_name().to_string_lossy().into_owned();
        if let Some(release) = name.strip_prefix("vmlinuz-") {
            return Ok((release.to_string(), e.path()));
        }
    }
    Err(format!("no vmlinuz-* in {}", boot.display()))
}
