//! Where the host runs: bare metal, a VM, a container (Docker/Podman/OCI),
//! LXC, systemd-nspawn or WSL2 — the signals systemd-detect-virt uses,
//! read from files only.

use serde::{Deserialize, Serialize};

use super::host::{read_text, Host};

/// The execution environment.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "kebab-case")]
pub enum Environment {
    /// No virtualisation found.
    BareMetal,
    /// A virtual machine (DMI vendor, `/sys/hypervisor`, CPU `hypervisor` flag).
    Vm,
    /// An application container (Docker, Podman, other OCI runtimes).
    Container,
    /// An LXC/LXD system container.
    Lxc,
    /// A systemd-nspawn container.
    Nspawn,
    /// Windows Subsystem for Linux 2: the network belongs to Windows.
    Wsl2,
}

impl Environment {
    /// The name used in JSON and human output.
    pub fn name(self) -> &'static str {
        match self {
            Environment::BareMetal => "bare-metal",
            Environment::Vm => "vm",
            Environment::Container => "container",
            Environment::Lxc => "lxc",
            Environment::Nspawn => "nspawn",
            Environment::Wsl2 => "wsl2",
        }
    }

    /// Whether nftguard must not manage this host's firewall from here:
    /// inside a container the netfilter state belongs to the host operator,
    /// and under WSL2 to Windows.
    pub fn containerized(self) -> bool {
        !matches!(self, Environment::BareMetal | Environment::Vm)
    }
}

/// The environment and the signal that decided it.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
pub struct Detected {
    /// The environment.
    pub environment: Environment,
    /// The evidence, e.g. `/.dockerenv`.
    pub evidence: Option<String>,
}

fn from_container_value(v: &str) -> Environment {
    match v {
        "lxc" | "lxc-libvirt" => Environment::Lxc,
        "systemd-nspawn" => Environment::Nspawn,
        _ => Environment::Container,
    }
}

/// DMI strings that name a hypervisor.
const VM_VENDORS: [&str; 14] = [
    "qemu",
    "kvm",
    "vmware",
    "virtualbox",
    "innotek",
    "xen",
    "bochs",
    "parallels",
    "amazon ec2",
    "google compute engine",
    "openstack",
    "virtual machine",
    "hvm domu",
    "firecracker",
];

/// Detects the environment.
pub fn detect(host: &Host) -> Detected {
    let found = |environment, evidence: &str| Detected {
        environment,
        evidence: Some(evidence.to_string()),
    };
    if read_text(&host.proc("sys/kernel/osrelease"))
        .is_some_and(|r| r.to_ascii_lowercase().contains("microsoft"))
    {
        return found(
            Environment::Wsl2,
            "/proc/sys/kernel/osrelease mentions microsoft",
        );
    }
    // systemd (in the container) and container managers set `container=`
    // in PID 1's environment; systemd copies it to /run/systemd/container.
    if let Ok(env) = std::fs::read(host.proc("1/environ")) {
        for var in env.split(|b| *b == 0) {
            if let Some(v) = var.strip_prefix(b"container=") {
                let v = String::from_utf8_lossy(v).into_owned();
                return found(
                    from_container_value(&v),
                    &format!("/proc/1/environ container={v}"),
                );
            }
        }
    }
    if let Some(v) = read_text(&host.run("systemd/container")) {
        let v = v.trim();
        if !v.is_empty() {
            return found(
                from_container_value(v),
                &format!("/run/systemd/container {v}"),
            );
        }
    }
    if host.root.join(".dockerenv").exists() {
        return found(Environment::Container, "/.dockerenv");
    }
    if host.run(".containerenv").exists() {
        return found(Environment::Container, "/run/.containerenv");
    }
    if let Some(cg) = read_text(&host.proc("1/cgroup")) {
        for line in cg.lines() {
            let path = line.splitn(3, ':').nth(2).unwrap_or("");
            let hint = if path.contains("/lxc/") || path.contains("/lxc.payload") {
                Some(Environment::Lxc)
            } else if path.contains("/machine.slice/machine-") {
                Some(Environment::Nspawn)
            } else if path.contains("/docker/")
                || path.contains("/docker-")
                || path.contains("/libpod-")
                || path.contains("/kubepods")
                || path.contains("/containerd/")
            {
                Some(Environment::Container)
            } else {
                None
            };
            if let Some(e) = hint {
                return found(e, &format!("/proc/1/cgroup {path}"));
            }
        }
    }
    for f in [
        "class/dmi/id/sys_vendor",
        "class/dmi/id/product_name",
        "class/dmi/id/bios_vendor",
    ] {
        if let Some(v) = read_text(&host.sys(f)) {
            let low = v.trim().to_ascii_lowercase();
            if VM_VENDORS.iter().any(|x| low.contains(x)) {
                return found(Environment::Vm, &format!("/sys/{f} {}", v.trim()));
            }
        }
    }
    if host.sys("hypervisor/type").is_file() {
        return found(Environment::Vm, "/sys/hypervisor/type");
    }
    if read_text(&host.proc("cpuinfo")).is_some_and(|c| {
        c.lines()
            .filter(|l| l.starts_with("flags"))
            .any(|l| l.split_whitespace().any(|f| f == "hypervisor"))
    }) {
        return found(Environment::Vm, "/proc/cpuinfo hypervisor flag");
    }
    Detected {
        environment: Environment::BareMetal,
        evidence: None,
    }
}
