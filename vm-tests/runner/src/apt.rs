//! Downloads Debian packages with `apt-get download` through a private apt
//! configuration under vm-tests/cache/apt/, so the host's own apt sources,
//! lists and preferences are neither used nor changed.
//!
//! The host is bookworm; its sources do not carry bullseye (5.10) or trixie
//! (6.12), so the private sources list names all three suites of
//! deb.debian.org (override with `NFTGUARD_VM_MIRROR`). Downloads are kept in
//! vm-tests/cache/debs/ and reused: nothing is fetched when the `.deb` is
//! already there, and `apt-get update` runs only when a package is missing.

use std::cell::Cell;
use std::path::{Path, PathBuf};
use std::process::Command;

/// The suites the private sources list names.
const SUITES: [&str; 3] = ["bullseye", "bookworm", "trixie"];
const KEYRING: &str = "/usr/share/keyrings/debian-archive-keyring.gpg";

pub struct Downloader {
    apt_dir: PathBuf,
    debs: PathBuf,
    updated: Cell<bool>,
}

impl Downloader {
    pub fn new(cache: &Path) -> Self {
        Downloader {
            apt_dir: cache.join("apt"),
            debs: cache.join("debs"),
            updated: Cell::new(false),
        }
    }

    /// `-o` options pointing apt at the private configuration. The host's
    /// apt.conf.d snippets (proxies, mirrors) still apply.
    fn options(&self) -> Vec<String> {
        let d = &self.apt_dir;
        [
            format!("Dir::Etc::sourcelist={}", d.join("sources.list").display()),
            format!(
                "Dir::Etc::sourceparts={}",
                d.join("sources.list.d").display()
            ),
            format!("Dir::Etc::preferences={}", d.join("preferences").display()),
            format!(
                "Dir::Etc::preferencesparts={}",
                d.join("preferences.d").display()
            ),
            format!("Dir::State::Lists={}", d.join("lists").display()),
            format!("Dir::Cache={}", d.join("cache").display()),
            "Acquire::Languages=none".into(),
            "Acquire::IndexTargets::deb::DEP-11::DefaultEnabled=false".into(),
            "Acquire::IndexTargets::deb::DEP-11-icons::DefaultEnabled=false".into(),
            "Acquire::IndexTargets::deb::DEP-11-icons-small::DefaultEnabled=false".into(),
            // Downloads land in our own folder, which `_apt` may not write.
            "APT::Sandbox::User=root".into(),
        ]
        .into_iter()
        .flat_map(|o| ["-o".to_string(), o])
        .collect()
    }

    fn lists_present(&self) -> bool {
        std::fs::read_dir(self.apt_dir.join("lists"))
            .map(|rd| {
                rd.flatten()
                    .any(|e| e.file_name().to_string_lossy().contains("_Packages"))
            })
            .unwrap_or(false)
    }

    /// Writes the private sources list and runs `apt-get update` (once per
    /// run; not at all when lists exist, unless `force`).
    fn update(&self, force: bool) -> Result<(), String> {
        if self.updated.get() || (!force && self.lists_present()) {
            return Ok(());
        }
        let d = &self.apt_dir;
        for sub in [
            "sources.list.d",
            "preferences.d",
            "lists/partial",
            "cache/archives/partial",
        ] {
            mkdir(&d.join(sub))?;
        }
        let mirror = std::env::var("NFTGUARD_VM_MIRROR")
            .unwrap_or_else(|_| "http://deb.debian.org/debian".into());
        let sources: String = SUITES
            .iter()
            .map(|s| format!("deb [signed-by={KEYRING}] {mirror} {s} main\n"))
            .collect();
        write(&d.join("sources.list"), sources.as_bytes())?;
        println!(
            "vm-tests: apt-get update (private lists in {})",
            d.display()
        );
        run(Command::new("apt-get")
            .args(self.options())
            .args(["-q", "update"]))?;
        self.updated.set(true);
        Ok(())
    }

    /// Kernel image packages whose name matches `regex`, newest first.
    pub fn search_names(&self, regex: &str) -> Result<Vec<String>, String> {
        self.update(false)?;
        let out = output(Command::new("apt-cache").args(self.options()).args([
            "search",
            "--names-only",
            regex,
        ]))?;
        let mut names: Vec<String> = out
            .lines()
            .filter_map(|l| l.split(" - ").next())
            .map(|s| s.trim().to_string())
            .filter(|s| !s.is_empty())
            .collect();
        names.sort_by_key(|n| std::cmp::Reverse(version_key(n)));
        names.dedup();
        Ok(names)
    }

    /// The cached `.deb` of `package`, downloading it first when missing.
    /// `package` may carry a suite (`busybox-static/bookworm`).
    pub fn download(&self, package: &str) -> Result<PathBuf, String> {
        let bare = package.split('/').next().unwrap_or(package);
        if let Some(p) = self.cached(bare)? {
            return Ok(p);
        }
        mkdir(&self.debs)?;
        self.update(false)?;
        let attempt = || {
            run(Command::new("apt-get")
                .args(self.options())
                .args(["-q", "download", package])
                .current_dir(&self.debs))
        };
        if let Err(first) = attempt() {
            // Stale lists name versions the mirror no longer has: refresh once.
            if self.updated.get() {
                return Err(first);
            }
            self.update(true)?;
            attempt()?;
        }
        self.cached(bare)?.ok_or_else(|| {
            format!(
                "apt-get download {package} left no .deb in {}",
                self.debs.display()
            )
        })
    }

    fn cached(&self, bare: &str) -> Result<Option<PathBuf>, String> {
        let Ok(rd) = std::fs::read_dir(&self.debs) else {
            return Ok(None);
        };
        let prefix = format!("{bare}_");
        Ok(rd.flatten().map(|e| e.path()).find(|p| {
            p.file_name()
                .map(|n| n.to_string_lossy())
                .is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".deb"))
        }))
    }

    /// busybox-static from bookworm, unpacked; returns the busybox binary.
    pub fn busybox(&self) -> Result<PathBuf, String> {
        let dir = self.debs.parent().unwrap_or(Path::new(".")).join("busybox");
        // bookworm ships it in bin/, trixie in usr/bin/.
        let found = || {
            ["bin/busybox", "usr/bin/busybox"]
                .iter()
                .map(|p| dir.join(p))
                .find(|p| p.is_file())
        };
        if let Some(bin) = found() {
            return Ok(bin);
        }
        let deb = self.download("busybox-static/bookworm")?;
        extract(&deb, &dir)?;
        found().ok_or_else(|| format!("{} has no busybox binary", deb.display()))
    }
}

/// Unpacks a `.deb` into `dir` (replacing what was there).
pub fn extract(deb: &Path, dir: &Path) -> Result<(), String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("removing {}: {e}", dir.display()))?;
    }
    mkdir(dir)?;
    run(Command::new("dpkg-deb").arg("-x").arg(deb).arg(dir))
}

/// Numbers in a package name, for "newest first" ordering:
/// `linux-image-6.1.0-50-amd64` → [6, 1, 0, 50].
fn version_key(name: &str) -> Vec<u64> {
    name.split(|c: char| !c.is_ascii_digit())
        .filter(|s| !s.is_empty())
        .filter_map(|s| s.parse().ok())
        .collect()
}

pub fn mkdir(p: &Path) -> Result<(), String> {
    std::fs::create_dir_all(p).map_err(|e| format!("creating {}: {e}", p.display()))
}

pub fn write(p: &Path, bytes: &[u8]) -> Result<(), String> {
    std::fs::write(p, bytes).map_err(|e| format!("writing {}: {e}", p.display()))
}

fn describe(cmd: &Command) -> String {
    let mut s = cmd.get_program().to_string_lossy().into_owned();
    for a in cmd.get_args() {
        s.push(' ');
        s.push_str(&a.to_string_lossy());
    }
    s
}

/// Runs a command, its output going to ours; an error names the command.
pub fn run(cmd: &mut Command) -> Result<(), String> {
    let st = cmd
        .status()
        .map_err(|e| format!("running {}: {e}", describe(cmd)))?;
    if st.success() {
        Ok(())
    } else {
        Err(format!("{} failed ({st})", describe(cmd)))
    }
}

/// Runs a command and returns its stdout; an error carries its stderr.
pub fn output(cmd: &mut Command) -> Result<String, String> {
    let o = cmd
        .output()
        .map_err(|e| format!("running {}: {e}", describe(cmd)))?;
    if o.status.success() {
        Ok(String::from_utf8_lossy(&o.stdout).into_owned())
    } else {
        Err(format!(
            "{} failed ({}): {}",
            describe(cmd),
            o.status,
            String::from_utf8_lossy(&o.stderr).trim()
        ))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn newest_kernel_first() {
        let mut v = [
            "linux-image-6.1.0-47-amd64",
            "linux-image-6.1.0-50-amd64",
            "linux-image-6.1.0-9-amd64",
        ];
        v.sort_by_key(|n| std::cmp::Reverse(version_key(n)));
        assert_eq!(v[0], "linux-image-6.1.0-50-amd64");
        assert_eq!(v[2], "linux-image-6.1.0-9-amd64");
        assert_eq!(
            version_key("linux-image-6.12.117+deb13-amd64"),
            [6, 12, 117, 13, 64]
        );
    }
}
