//! What the full-system scenarios share: a Debian bookworm VM booted from
//! a qcow2 overlay of the cached rootfs image (rootfs.rs), with systemd as
//! PID 1, qemu user networking (the guest's sshd forwarded to a port of
//! the host's 127.0.0.1) and two read-only disks:
//!
//! - `/dev/vdb`, the scenario disk (made per cell with `mkfs.ext4 -d`):
//!   this run's `nftguard` release binary, a static busybox, the guest
//!   scripts (`guest/boot.sh`, `guest/lib.sh`, the scenario's script) and
//!   the host's throwaway SSH public key. The image's `vmtest.service`
//!   mounts it and runs `boot.sh` once the system is up, on every boot.
//! - `/dev/vdc`, every module of the booted kernel (cached per kernel
//!   release), mounted on /usr/lib/modules by a small busybox initramfs
//!   that loads virtio and ext4, mounts `/dev/vda` and hands over to systemd.
//!
//! The guest reports on ttyS1 like the engine's initramfs (`@@VMTEST
//! BOOTED`, `DONE`) plus one `@@VMTEST CHECK ok|FAIL <what>` line per
//! assertion; a cell passes when the guest said DONE, made at least one
//! check and none failed (host-side checks of a host-driven scenario
//! count the same way).

use std::ffi::OsString;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::Duration;

use super::{HostContext, Scenario};
use crate::apt;
use crate::cpio::Image;
use crate::guest::{self, MARK};
use crate::kernels::PreparedKernel;
use crate::libtest::Failure;
use crate::qemu::{Boot, BootOutput, Ending, Next, Running};
use crate::report::{Cell, JobReport, Outcome};
use crate::rootfs;
use crate::timing::{self, human, Timings};

/// The kernel series the full-system scenarios run on by default: the
/// rootfs is Debian bookworm, whose kernel is 6.1.
pub const NATIVE_SERIES: &str = "6.1";

const BOOT_SH: &str = include_str!("../../guest/boot.sh");
const LIB_SH: &str = include_str!("../../guest/lib.sh");

/// Modules the initramfs loads to mount the root disk (those built into a
/// kernel are skipped). crc32c_generic first: ext4's metadata checksums
/// find it through the crypto API.
const BOOT_MODULES: [&str; 6] = [
    "crc32c_generic",
    "virtio_pci",
    "virtio_blk",
    "jbd2",
    "mbcache",
    "ext4",
];

/// A host-side driver for a scenario the host takes part in (SSH): runs
/// once the guest said READY; pushes its checks into `checks`.
pub type HostDriver = fn(&mut Running, &HostSide, &mut Vec<Check>);

/// What a full-system scenario is made of.
pub struct Spec {
    pub name: &'static str,
    /// Shell lines put before the script (parameters).
    pub prelude: &'static str,
    /// The scenario's guest script (guest/*.sh).
    pub script: &'static str,
    /// The guest reboots in place during the scenario.
    pub reboots: bool,
    pub host: Option<HostDriver>,
}

/// The host's side of a running VM.
pub struct HostSide {
    /// The host port forwarded to the guest's sshd (127.0.0.1).
    pub ssh_port: u16,
    /// The throwaway private key the guest's root accepts.
    pub ssh_key: PathBuf,
}

/// One assertion's result.
#[derive(Debug, Clone)]
pub struct Check {
    pub ok: bool,
    pub what: String,
}

/// Host-side material shared by every full-system cell.
struct Prepared {
    image: PathBuf,
    nftguard: PathBuf,
    busybox: PathBuf,
    ssh_key: PathBuf,
}

pub struct System {
    spec: &'static Spec,
    prepared: Option<Prepared>,
}

impl System {
    pub fn new(spec: &'static Spec) -> Self {
        System {
            spec,
            prepared: None,
        }
    }
}

impl Scenario for System {
    fn name(&self) -> &'static str {
        self.spec.name
    }

    fn prepare(&mut self, ctx: &HostContext, busybox: &Path) -> Result<(), String> {
        let system_dir = ctx.cache.join("system");
        let image = rootfs::ensure(&system_dir)?;
        let nftguard = build_nftguard(ctx)?;
        let ssh_key = ssh_key(&system_dir)?;
        self.prepared = Some(Prepared {
            image,
            nftguard,
            busybox: busybox.to_path_buf(),
            ssh_key,
        });
        Ok(())
    }

    fn run(&self, kernel: &PreparedKernel, ctx: &HostContext, timings: &mut Timings) -> Cell {
        let mut cell = Cell::new(kernel.series, self.name());
        if kernel.series != NATIVE_SERIES && !ctx.system_on_every_kernel {
            cell.outcome = Outcome::NotApplicable(format!(
                "full-system scenarios run on the rootfs's own kernel ({NATIVE_SERIES}, Debian bookworm) unless both --kernels and --scenarios name them"
            ));
            return cell;
        }
        let Some(p) = &self.prepared else {
            cell.outcome = Outcome::Error("scenario was not prepared".into());
            return cell;
        };
        let t = timing::start();
        let stem = format!("{}-{}", self.name(), kernel.series);
        let dir = ctx.cache.join("system/cells").join(&stem);
        let disks = match self.disks(p, kernel, ctx, &dir) {
            Ok(d) => d,
            Err(e) => {
                cell.outcome = Outcome::Error(e);
                return cell;
            }
        };
        timings.add(
            &format!("{}: disks and initramfs", self.name()),
            Some(kernel.series),
            t.elapsed(),
        );
        let ssh_port = match free_port() {
            Ok(p) => p,
            Err(e) => {
                cell.outcome = Outcome::Error(e);
                return cell;
            }
        };
        let console_log = ctx.logs.join(format!("{stem}.console.log"));
        let results_log = ctx.logs.join(format!("{stem}.results.log"));
        let mut extra: Vec<OsString> = Vec::new();
        let drive = |file: &Path, format: &str, ro: bool| -> OsString {
            let mut s = OsString::from("file=");
            s.push(file);
            s.push(format!(
                ",if=virtio,format={format},cache=unsafe{}",
                if ro { ",readonly=on" } else { "" }
            ));
            s
        };
        for (file, format, ro) in [
            (&disks.root, "qcow2", false),
            (&disks.data, "raw", true),
            (&disks.modules, "raw", true),
        ] {
            extra.push("-drive".into());
            extra.push(drive(file, format, ro));
        }
        extra.extend(
            [
                "-netdev".to_string(),
                format!("user,id=net0,hostfwd=tcp:127.0.0.1:{ssh_port}-:22"),
                "-device".into(),
                "virtio-net-pci,netdev=net0".into(),
            ]
            .map(OsString::from),
        );
        let boot = Boot {
            kernel,
            initrd: &disks.initrd,
            // apparmor=0: Debian's kernel enables AppArmor, and dockerd then
            // refuses to start containers without apparmor_parser.
            append: "console=ttyS0 panic=-1 loglevel=4 rdinit=/init net.ifnames=0 \
                     systemd.show_status=false apparmor=0"
                .into(),
            extra,
            reboot: self.spec.reboots,
            settings: ctx.vm,
            timeout: ctx.timeout,
            console_log: console_log.clone(),
            results_log: results_log.clone(),
        };
        let host = HostSide {
            ssh_port,
            ssh_key: p.ssh_key.clone(),
        };
        let mut checks: Vec<Check> = Vec::new();
        let out = match boot.start() {
            Ok(mut vm) => {
                loop {
                    match vm.next(None) {
                        Next::Line(at, line) => {
                            if line.starts_with(MARK) {
                                println!("  [{:7.1} s] {line}", at.as_secs_f64());
                            }
                            if line == format!("{MARK}READY") {
                                if let Some(drive) = self.spec.host {
                                    drive(&mut vm, &host, &mut checks);
                                    // The driver powers the guest off; if it
                                    // gave up early, do not wait for the
                                    // VM's whole timeout.
                                    if !wait_closed(&mut vm, Duration::from_secs(120)) {
                                        vm.note("the guest did not power off: killed");
                                        vm.kill();
                                    }
                                }
                            }
                        }
                        Next::Waited => {}
                        Next::Closed | Next::TimedOut => break,
                    }
                }
                vm.finish()
            }
            Err(e) => {
                cell.outcome = Outcome::Error(e);
                return cell;
            }
        };
        judge(&out, kernel, &checks, &mut cell, timings);
        cell.notes.push(format!(
            "logs: {} and {}",
            console_log.display(),
            results_log.display()
        ));
        cell
    }
}

/// The files a cell boots from.
struct Disks {
    initrd: PathBuf,
    root: PathBuf,
    data: PathBuf,
    modules: PathBuf,
}

impl System {
    fn disks(
        &self,
        p: &Prepared,
        kernel: &PreparedKernel,
        ctx: &HostContext,
        dir: &Path,
    ) -> Result<Disks, String> {
        rootfs::remove(dir)?;
        apt::mkdir(dir)?;
        let system_dir = ctx.cache.join("system");
        let modules = rootfs::modules_disk(&system_dir, &kernel.package_root, &kernel.release)?;
        let initrd = dir.join("initrd.cpio");
        boot_initramfs(kernel, &p.busybox, &dir.join("boot-modules"), &initrd)?;
        let root = dir.join("root.qcow2");
        rootfs::overlay(&p.image, &root)?;

        let data_dir = dir.join("data");
        apt::mkdir(&data_dir)?;
        copy(&p.nftguard, &data_dir.join("nftguard"))?;
        copy(&p.busybox, &data_dir.join("busybox"))?;
        let pubkey = std::fs::read_to_string(p.ssh_key.with_extension("pub"))
            .map_err(|e| format!("reading the SSH public key: {e}"))?;
        apt::write(&data_dir.join("authorized_keys"), pubkey.as_bytes())?;
        apt::write(&data_dir.join("boot.sh"), BOOT_SH.as_bytes())?;
        apt::write(&data_dir.join("lib.sh"), LIB_SH.as_bytes())?;
        apt::write(
            &data_dir.join("scenario.sh"),
            format!("{}\n{}", self.spec.prelude, self.spec.script).as_bytes(),
        )?;
        let data = dir.join("data.ext4");
        let size = rootfs::dir_size_mb(&data_dir)? + 16;
        rootfs::mkfs(&data_dir, &data, "vmtest", size)?;
        Ok(Disks {
            initrd,
            root,
            data,
            modules,
        })
    }
}

/// The busybox initramfs that mounts the rootfs and starts systemd.
fn boot_initramfs(
    kernel: &PreparedKernel,
    busybox: &Path,
    modules_out: &Path,
    out: &Path,
) -> Result<(), String> {
    let load = crate::modules::prepare_for_boot(
        &kernel.package_root,
        &kernel.release,
        &BOOT_MODULES,
        modules_out,
    )?;
    let mut img = Image::new();
    img.add_host_file(busybox, &format!("{}/busybox", guest::BUSYBOX_DIR))?;
    for d in ["/proc", "/sys", "/dev", "/newroot", "/etc"] {
        img.add_dir(d);
    }
    img.add_char_device("/dev/console", 5, 1);
    img.add_host_tree(&modules_out.join("lib/modules"), "/lib/modules")?;
    img.add_bytes("/etc/boot-modules", format!("{}\n", load.join("\n")), 0o644);
    img.add_bytes("/init", SWITCH_ROOT_INIT, 0o755);
    img.write(out)?;
    Ok(())
}

const SWITCH_ROOT_INIT: &str = r#"#!/busybox/busybox sh
# nftguard vm-tests: load virtio + ext4, mount the rootfs overlay (vda)
# and the kernel's modules (vdc), start systemd.
/busybox/busybox --install -s /busybox
export PATH=/busybox
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
for m in $(cat /etc/boot-modules); do modprobe "$m" || echo "vmtest-initramfs: modprobe $m failed"; done
i=0
while [ ! -b /dev/vdc ] && [ $i -lt 300 ]; do sleep 0.1; i=$((i + 1)); done
if ! mount -t ext4 -o rw /dev/vda /newroot; then
    echo "vmtest-initramfs: cannot mount /dev/vda"
    poweroff -f
fi
mkdir -p /newroot/usr/lib/modules
mount -t ext4 -o ro /dev/vdc /newroot/usr/lib/modules || echo "vmtest-initramfs: cannot mount the modules disk /dev/vdc"
umount /proc /sys /dev
exec switch_root /newroot /sbin/init
"#;

/// Turns the guest's lines and the host's checks into the cell.
fn judge(
    out: &BootOutput,
    kernel: &PreparedKernel,
    host_checks: &[Check],
    cell: &mut Cell,
    timings: &mut Timings,
) {
    let k = Some(kernel.series);
    let mut boots: Vec<(Duration, String)> = Vec::new();
    let mut done = false;
    let mut checks: Vec<Check> = Vec::new();
    let mut script_end: Option<String> = None;
    for (at, line) in &out.lines {
        let Some(rest) = line.strip_prefix(MARK) else {
            continue;
        };
        if let Some(c) = rest.strip_prefix("CHECK ") {
            let (status, what) = c.split_once(' ').unwrap_or((c, ""));
            checks.push(Check {
                ok: status == "ok",
                what: what.to_string(),
            });
        } else if let Some(b) = rest.strip_prefix("BOOTED ") {
            boots.push((*at, b.to_string()));
        } else if rest == "DONE" {
            done = true;
        } else if let Some(rc) = rest.strip_prefix("SCRIPT-END ") {
            script_end = Some(rc.to_string());
        }
    }
    checks.extend(host_checks.iter().cloned());
    if let Some((at, b)) = boots.first() {
        timings.add("boot to the scenario (systemd up)", k, *at);
        if !b.starts_with(&kernel.release) {
            cell.notes
                .push(format!("guest reports {b}, expected {}", kernel.release));
        }
    }
    timings.add("VM total", k, out.took);
    let failures: Vec<Failure> = checks
        .iter()
        .filter(|c| !c.ok)
        .map(|c| Failure {
            test: c.what.clone(),
            message: String::new(),
        })
        .collect();
    let passed = checks.iter().filter(|c| c.ok).count();
    cell.jobs.push(JobReport {
        job: "checks".into(),
        rc: Some(i32::from(!failures.is_empty())),
        passed,
        failures: failures.clone(),
        ignored: 0,
        took: Some(out.took),
        skipped: Vec::new(),
    });
    cell.outcome = if out.ending == Ending::TimedOut {
        Outcome::TimedOut { after: out.took }
    } else if boots.is_empty() {
        Outcome::Error("the guest never reported BOOTED (see the console log)".into())
    } else if !failures.is_empty() {
        Outcome::Failed {
            failed: failures.len(),
            tests: checks.len(),
            why: String::new(),
        }
    } else if !done {
        Outcome::Error(format!(
            "the VM stopped before DONE after {}{} (see the logs)",
            human(out.took),
            script_end
                .map(|rc| format!(", the scenario script ended with {rc}"))
                .unwrap_or_default()
        ))
    } else if checks.is_empty() {
        Outcome::Error("the scenario made no check".into())
    } else {
        Outcome::Passed {
            tests: checks.len(),
        }
    };
}

/// Reads lines until qemu exits; `false` when it still runs after `limit`.
fn wait_closed(vm: &mut Running, limit: Duration) -> bool {
    let end = std::time::Instant::now() + limit;
    loop {
        let left = end.saturating_duration_since(std::time::Instant::now());
        if left.is_zero() {
            return false;
        }
        match vm.next(Some(left)) {
            Next::Line(..) => {}
            Next::Closed | Next::TimedOut => return true,
            Next::Waited => return false,
        }
    }
}

/// `cargo build --release --bin nftguard`, stripped; the binary copied
/// into every VM.
fn build_nftguard(ctx: &HostContext) -> Result<PathBuf, String> {
    let target = ctx.repo.join("target");
    apt::run(
        Command::new("cargo")
            .args([
                "build",
                "--release",
                "--quiet",
                "--bin",
                "nftguard",
                "--manifest-path",
            ])
            .arg(ctx.repo.join("Cargo.toml"))
            .arg("--target-dir")
            .arg(&target),
    )?;
    super::engine::stripped(ctx, &target.join("release/nftguard"))
}

/// A throwaway ed25519 key pair (no passphrase) in the cache.
fn ssh_key(system_dir: &Path) -> Result<PathBuf, String> {
    let key = system_dir.join("ssh/id_ed25519");
    if key.is_file() && key.with_extension("pub").is_file() {
        return Ok(key);
    }
    if !crate::qemu::on_path("ssh-keygen") {
        return Err("ssh-keygen is missing: install openssh-client".into());
    }
    if let Some(d) = key.parent() {
        apt::mkdir(d)?;
    }
    let _ = std::fs::remove_file(&key);
    apt::output(
        Command::new("ssh-keygen")
            .args([
                "-q",
                "-t",
                "ed25519",
                "-N",
                "",
                "-C",
                "nftguard-vm-tests",
                "-f",
            ])
            .arg(&key),
    )?;
    Ok(key)
}

/// A port of 127.0.0.1 nobody listens on now.
fn free_port() -> Result<u16, String> {
    std::net::TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .map(|a| a.port())
        .map_err(|e| format!("finding a free port: {e}"))
}

fn copy(from: &Path, to: &Path) -> Result<(), String> {
    std::fs::copy(from, to)
        .map(|_| ())
        .map_err(|e| format!("copying {} to {}: {e}", from.display(), to.display()))
}
