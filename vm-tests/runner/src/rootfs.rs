//! The full-system guest: a Debian bookworm root filesystem made with
//! `debootstrap` (systemd, sshd, nftables, iptables, ufw, firewalld,
//! docker.io …), configured for the scenarios and turned into an ext4 disk
//! image with `mkfs.ext4 -d` (no loop mount, no root-only mount needed).
//!
//! The image is cached as `vm-tests/cache/system/rootfs-<key>.ext4`, where
//! the key hashes the whole recipe below (suite, packages, files, setup
//! commands): it is rebuilt only when the recipe changes, and a second run
//! downloads nothing. The `.deb`s debootstrap fetched are kept in
//! `system/debs/` so that a recipe change downloads only what is new.
//!
//! The image carries no kernel: each VM gets its kernel's modules on a
//! read-only disk of their own ([`modules_disk`]), so one image serves
//! every kernel of the matrix. VMs never write to it: each boots a qcow2
//! overlay backed by it ([`overlay`]).

use std::path::{Path, PathBuf};
use std::process::Command;

use crate::apt;

/// The Debian suite of the rootfs.
const SUITE: &str = "bookworm";

/// Packages installed on top of debootstrap's `minbase`.
const PACKAGES: [&str; 19] = [
    "systemd",
    "systemd-sysv",
    // Provides default-logind, which polkitd (for firewalld) depends on:
    // debootstrap does not resolve virtual packages by itself.
    "libpam-systemd",
    "dbus",
    "udev",
    "openssh-server",
    "nftables",
    "iptables",
    "ufw",
    "firewalld",
    "docker.io",
    "iproute2",
    "kmod",
    "procps",
    "jq",
    "netcat-openbsd",
    "iputils-ping",
    "ca-certificates",
    "less",
];

/// Files written into the rootfs before the setup commands run:
/// `(path, mode, contents)`.
const FILES: [(&str, u32, &str); 8] = [
    ("/etc/hostname", 0o644, "vmtest\n"),
    (
        "/etc/hosts",
        0o644,
        "127.0.0.1 localhost\n127.0.1.1 vmtest\n::1 localhost ip6-localhost ip6-loopback\n",
    ),
    // The initramfs mounts the root read-write; no fsck at boot.
    ("/etc/fstab", 0o644, "/dev/vda / ext4 rw,errors=remount-ro 0 0\n"),
    // qemu's user network has a DHCP server; no IPv6 (no router there),
    // so network-online.target is reached as soon as DHCPv4 answers.
    (
        "/etc/systemd/network/10-vmtest.network",
        0o644,
        "[Match]\nName=eth0\n\n[Network]\nDHCP=ipv4\nLinkLocalAddressing=no\nIPv6AcceptRA=no\n",
    ),
    (
        "/etc/ssh/sshd_config.d/vmtest.conf",
        0o644,
        "PermitRootLogin prohibit-password\nPasswordAuthentication no\nUseDNS no\n",
    ),
    // Runs the scenario carried by the second disk (see system.rs).
    (
        "/etc/systemd/system/vmtest.service",
        0o644,
        "[Unit]\n\
         Description=nftguard vm-tests scenario (from the disk /dev/vdb)\n\
         Wants=network-online.target\n\
         After=multi-user.target network-online.target\n\
         \n\
         [Service]\n\
         Type=simple\n\
         ExecStart=/bin/sh -c 'mkdir -p /run/vmtest && mount -o ro /dev/vdb /run/vmtest && exec /bin/sh /run/vmtest/boot.sh'\n\
         \n\
         [Install]\n\
         WantedBy=multi-user.target\n",
    ),
    // A small, quiet journal; kept across the reboot scenario's reboot.
    (
        "/etc/systemd/journald.conf.d/vmtest.conf",
        0o644,
        "[Journal]\nStorage=persistent\nSystemMaxUse=64M\nForwardToConsole=no\n",
    ),
    // Docker's iptables-nft rules, no userland proxy (DNAT only, as on
    // most hosts), no network at boot.
    (
        "/etc/docker/daemon.json",
        0o644,
        "{ \"userland-proxy\": false, \"iptables\": true }\n",
    ),
];

/// Commands run in the rootfs (chroot) after the files are written.
const SETUP: &str = "set -e
export DEBIAN_FRONTEND=noninteractive LC_ALL=C
systemctl enable systemd-networkd.service vmtest.service
systemctl set-default multi-user.target
# Each scenario starts the firewall manager it is about.
systemctl disable firewalld.service docker.service docker.socket containerd.service nftables.service 2>/dev/null || true
# Timers that would only add noise to a short-lived VM.
# Timers and services that would only slow a short-lived VM under TCG.
systemctl mask apt-daily.timer apt-daily-upgrade.timer e2scrub_all.timer fstrim.timer \\
    systemd-tmpfiles-clean.timer dpkg-db-backup.timer e2scrub_reap.service \\
    systemd-binfmt.service proc-sys-fs-binfmt_misc.automount 2>/dev/null || true
# Console login for debugging a VM by hand; SSH takes keys only.
passwd -d root
install -d -m 0700 /root/.ssh
mkdir -p /var/log/journal /var/lib/vmtest
apt-get clean
rm -rf /var/lib/apt/lists/* /var/cache/apt/*.bin
";

/// Bumped when how the image is assembled changes (not its recipe).
const FORMAT: &str = "1";

/// FNV-1a, 64 bits: a stable cache key (std's hasher may change between
/// Rust releases, which would rebuild the image for nothing).
fn fnv1a(data: &[u8], mut h: u64) -> u64 {
    for b in data {
        h ^= u64::from(*b);
        h = h.wrapping_mul(0x0100_0000_01b3);
    }
    h
}

/// The cache key of the recipe.
pub fn recipe_key() -> String {
    let mut h = 0xcbf2_9ce4_8422_2325;
    let mut feed = |s: &str| {
        h = fnv1a(s.as_bytes(), h);
        h = fnv1a(&[0], h);
    };
    feed(FORMAT);
    feed(SUITE);
    for p in PACKAGES {
        feed(p);
    }
    for (path, mode, text) in FILES {
        feed(path);
        feed(&mode.to_string());
        feed(text);
    }
    feed(SETUP);
    format!("{h:016x}")
}

fn mirror() -> String {
    std::env::var("NFTGUARD_VM_MIRROR").unwrap_or_else(|_| "http://deb.debian.org/debian".into())
}

/// The base image, built when its recipe changed; returns its path.
pub fn ensure(system_dir: &Path) -> Result<PathBuf, String> {
    let image = system_dir.join(format!("rootfs-{}.ext4", recipe_key()));
    if image.is_file() {
        return Ok(image);
    }
    apt::mkdir(system_dir)?;
    let build = system_dir.join("build");
    remove(&build)?;
    let root = build.join("root");
    let debs = system_dir.join("debs");
    apt::mkdir(&debs)?;
    println!(
        "vm-tests: debootstrap {SUITE} into {} ({} extra packages, mirror {})",
        root.display(),
        PACKAGES.len(),
        mirror()
    );
    apt::run(
        Command::new("debootstrap")
            .arg("--variant=minbase")
            .arg(format!("--cache-dir={}", debs.display()))
            .arg(format!("--include={}", PACKAGES.join(",")))
            .arg(SUITE)
            .arg(&root)
            .arg(mirror()),
    )?;
    for (path, mode, text) in FILES {
        let p = root.join(path.trim_start_matches('/'));
        if let Some(parent) = p.parent() {
            apt::mkdir(parent)?;
        }
        apt::write(&p, text.as_bytes())?;
        set_mode(&p, mode)?;
    }
    apt::run(
        Command::new("chroot")
            .arg(&root)
            .args(["/bin/sh", "-c", SETUP]),
    )?;

    let size_mb = dir_size_mb(&root)? * 5 / 4 + 1536;
    let tmp = system_dir.join("rootfs.ext4.partial");
    let _ = std::fs::remove_file(&tmp);
    mkfs(&root, &tmp, "vmroot", size_mb)?;
    // Older images (other recipes) are not needed any more.
    if let Ok(rd) = std::fs::read_dir(system_dir) {
        for e in rd.flatten() {
            let n = e.file_name().to_string_lossy().into_owned();
            if n.starts_with("rootfs-") && n.ends_with(".ext4") {
                let _ = std::fs::remove_file(e.path());
            }
        }
    }
    std::fs::rename(&tmp, &image)
        .map_err(|e| format!("renaming {} to {}: {e}", tmp.display(), image.display()))?;
    remove(&build)?;
    println!(
        "vm-tests: rootfs image {} ({size_mb} MiB, sparse)",
        image.display()
    );
    Ok(image)
}

/// `mkfs.ext4 -d DIR`: an ext4 image of `size_mb` holding `dir`'s tree
/// (owners, modes, links and device nodes as they are in `dir`).
pub fn mkfs(dir: &Path, image: &Path, label: &str, size_mb: u64) -> Result<(), String> {
    let _ = std::fs::remove_file(image);
    apt::output(
        Command::new("mkfs.ext4")
            .args(["-q", "-F", "-L", label, "-E", "root_owner=0:0", "-d"])
            .arg(dir)
            .arg(image)
            .arg(format!("{size_mb}M")),
    )
    .map(|_| ())
}

/// A qcow2 overlay of `base` at `out` (replacing an older one): the VM
/// writes there, the base image stays as built.
pub fn overlay(base: &Path, out: &Path) -> Result<(), String> {
    let _ = std::fs::remove_file(out);
    let base = base
        .canonicalize()
        .map_err(|e| format!("resolving {}: {e}", base.display()))?;
    apt::output(
        Command::new("qemu-img")
            .args(["create", "-q", "-f", "qcow2", "-F", "raw", "-b"])
            .arg(&base)
            .arg(out),
    )
    .map(|_| ())
}

/// A read-only ext4 disk holding every module of a kernel
/// (`<release>/kernel/…` at its root, mounted on /usr/lib/modules by the
/// initramfs), cached per kernel release.
pub fn modules_disk(
    system_dir: &Path,
    package_root: &Path,
    release: &str,
) -> Result<PathBuf, String> {
    let image = system_dir.join(format!("modules-{release}.ext4"));
    if image.is_file() {
        return Ok(image);
    }
    let tree = system_dir.join(format!("modules-{release}"));
    crate::modules::prepare_full(package_root, release, &tree)?;
    let dir = tree.join("lib/modules");
    let size = dir_size_mb(&dir)? * 5 / 4 + 32;
    let tmp = system_dir.join(format!("modules-{release}.ext4.partial"));
    mkfs(&dir, &tmp, "vmmodules", size)?;
    std::fs::rename(&tmp, &image).map_err(|e| format!("renaming {}: {e}", tmp.display()))?;
    remove(&tree)?;
    Ok(image)
}

/// Apparent size of a tree in MiB (`du -sm --apparent-size`).
pub fn dir_size_mb(dir: &Path) -> Result<u64, String> {
    let out = apt::output(Command::new("du").args(["-sm", "--apparent-size"]).arg(dir))?;
    out.split_whitespace()
        .next()
        .and_then(|n| n.parse().ok())
        .ok_or_else(|| format!("du printed `{}` for {}", out.trim(), dir.display()))
}

fn set_mode(p: &Path, mode: u32) -> Result<(), String> {
    use std::os::unix::fs::PermissionsExt;
    std::fs::set_permissions(p, std::fs::Permissions::from_mode(mode))
        .map_err(|e| format!("chmod {}: {e}", p.display()))
}

pub fn remove(dir: &Path) -> Result<(), String> {
    if dir.exists() {
        std::fs::remove_dir_all(dir).map_err(|e| format!("removing {}: {e}", dir.display()))?;
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn key_is_stable_and_follows_the_recipe() {
        // FNV-1a test vector.
        assert_eq!(fnv1a(b"a", 0xcbf2_9ce4_8422_2325), 0xaf63_dc4c_8601_ec8c);
        assert_eq!(recipe_key(), recipe_key());
        assert_eq!(recipe_key().len(), 16);
    }
}
