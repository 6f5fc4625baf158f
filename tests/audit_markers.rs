//! Container and IaC markers planted in a host root, and an empty host.

mod audit_common;

use serde_json::json;

#[test]
fn empty_host_proceeds_with_full_confidence() {
    nftguard::netlink::enter_new_netns().unwrap();
    let root = audit_common::PlantedRoot::new("empty");
    let (mut v, code) = root.audit();
    assert_eq!(code, 0);
    assert!(v["genid"].is_u64(), "{v:#}");
    v.as_object_mut().unwrap().remove("genid");
    assert_eq!(
        v,
        json!({
            "confidence": 100,
            "risk_tier": "auto",
            "recommended_backend": "nftguard",
            "active_frontend": "none",
            "active_frontends": [],
            "backend": "none",
            "nftables_available": true,
            "ssh_port": 22,
            "ssh_source": "default",
            "ssh_listening_ports": [],
            "containerized": false,
            "environment": "bare-metal",
            "environment_evidence": null,
            "docker_host": false,
            "k8s_node": false,
            "cni_plugin": null,
            "iac_owner": null,
            "iac_evidence": null,
            "fail2ban_active": false,
            "at_available": false,
            "systemd_run_available": false,
            "rollback_mechanism": "watchdog",
            "tables": [],
            "iptables_legacy": false,
            "iptables_legacy_tables": [],
            "kernel": "",
            "ufw": {"installed": false, "enabled": false, "running": false},
            "firewalld": {"installed": false, "table": false, "run_dir": false, "pid_alive": false,
                          "dbus_state": null, "backend": null, "running": false},
            "docker": {"socket": false, "daemon_running": false, "rules_loaded": false,
                       "docker_user_chain": false, "firewall_backend": null},
            "kubernetes": {"kubelet_config": null, "kubelet_running": false, "k8s_tables": false,
                           "cni_plugin": null, "node": false},
            "fail2ban": {"installed": false, "running": false, "banaction": null},
            "iac_agents": [],
            "halt_reasons": [],
            "warnings": ["no sshd socket or sshd_config Port found: assuming SSH on port 22"],
            "verdict": "proceed",
            "exit_code": 0
        })
    );
}

#[test]
fn no_rollback_mechanism_exits_31() {
    nftguard::netlink::enter_new_netns().unwrap();
    let root = audit_common::PlantedRoot::new("no-rollback");
    let mut sock = nftguard::netlink::Socket::new().unwrap();
    let opts = nftguard::detect::AuditOptions {
        watchdog_allowed: false,
        ..Default::default()
    };
    let a =
        nftguard::detect::audit(&mut sock, &nftguard::detect::Host::under(&root.0), &opts).unwrap();
    assert_eq!(
        (a.exit_code(), a.confidence, a.rollback_mechanism.as_str()),
        (31, 75, "none")
    );
    assert_eq!(a.verdict, nftguard::detect::Verdict::Halt);
}

#[test]
fn container_markers_exit_21() {
    nftguard::netlink::enter_new_netns().unwrap();
    let cases: [(&str, &str, &str, &str); 6] = [
        (".dockerenv", "", "container", "/.dockerenv"),
        (
            "run/.containerenv",
            "engine=\"podman\"\n",
            "container",
            "/run/.containerenv",
        ),
        (
            "proc/1/environ",
            "PATH=/bin\0container=lxc\0",
            "lxc",
            "/proc/1/environ container=lxc",
        ),
        (
            "run/systemd/container",
            "systemd-nspawn\n",
            "nspawn",
            "/run/systemd/container systemd-nspawn",
        ),
        (
            "proc/1/cgroup",
            "0::/docker/0123abcd\n",
            "container",
            "/proc/1/cgroup /docker/0123abcd",
        ),
        (
            "proc/sys/kernel/osrelease",
            "5.15.153.1-microsoft-standard-WSL2\n",
            "wsl2",
            "/proc/sys/kernel/osrelease mentions microsoft",
        ),
    ];
    for (file, content, env, evidence) in cases {
        let root =
            audit_common::PlantedRoot::new(&format!("container-{env}-{}", file.replace('/', "_")));
        root.plant(file, content);
        let (v, code) = root.audit();
        assert_eq!(code, 21, "{file}: {v:#}");
        assert_eq!(v["environment"], env, "{file}");
        assert_eq!(v["environment_evidence"], evidence, "{file}");
        assert_eq!(v["containerized"], true);
        assert_eq!(v["risk_tier"], "halt");
        assert_eq!(v["confidence"], 100);
        assert_eq!(v["recommended_backend"], "stop");
    }
}

#[test]
fn vm_is_not_containerized() {
    nftguard::netlink::enter_new_netns().unwrap();
    let root = audit_common::PlantedRoot::new("vm");
    root.plant("sys/class/dmi/id/sys_vendor", "QEMU\n");
    let (v, code) = root.audit();
    assert_eq!(code, 0);
    assert_eq!(v["environment"], "vm");
    assert_eq!(
        v["environment_evidence"],
        "/sys/class/dmi/id/sys_vendor QEMU"
    );
    assert_eq!(v["containerized"], false);
}

#[test]
fn iac_markers_exit_20() {
    nftguard::netlink::enter_new_netns().unwrap();
    let cases: [(&str, &str, &str, &str); 6] = [
        (
            "etc/nftables.conf",
            "# Ansible managed\nflush ruleset\n",
            "ansible",
            "/etc/nftables.conf carries the banner of ansible",
        ),
        (
            "etc/ufw/user.rules",
            "# This file is managed by Puppet. DO NOT EDIT.\n",
            "puppet",
            "/etc/ufw/user.rules carries the banner of puppet",
        ),
        (
            "etc/cron.d/ansible",
            "*/30 * * * * root ansible-pull -U https://git.example/site.git\n",
            "ansible",
            "/etc/cron.d/ansible schedules ansible-pull",
        ),
        (
            "var/lib/terraform/terraform.tfstate",
            r#"{"resources": [{"type": "aws_security_group"}]}"#,
            "terraform",
            "/var/lib/terraform/terraform.tfstate holds firewall resources",
        ),
        (
            "opt/puppetlabs/puppet/cache/state/resources.txt",
            "file[/etc/motd]\nfirewall[100 allow ssh]\n",
            "puppet",
            "/opt/puppetlabs/puppet/cache/state/resources.txt lists firewall resources",
        ),
        (
            "var/lib/cloud/instance/cloud-config.txt",
            "#cloud-config\nruncmd:\n  - ufw allow 22/tcp\n",
            "cloud-init",
            "/var/lib/cloud/instance/cloud-config.txt runs firewall commands",
        ),
    ];
    for (file, content, owner, evidence) in cases {
        let root = audit_common::PlantedRoot::new(&format!("iac-{}", file.replace('/', "_")));
        root.plant(file, content);
        let (v, code) = root.audit();
        assert_eq!(code, 20, "{file}: {v:#}");
        assert_eq!(v["iac_owner"], owner, "{file}");
        assert_eq!(v["iac_evidence"], evidence, "{file}");
        assert_eq!(v["confidence"], 85);
        assert_eq!(v["risk_tier"], "halt");
    }
}

#[test]
fn agents_and_unrelated_files_are_not_owners() {
    nftguard::netlink::enter_new_netns().unwrap();
    let root = audit_common::PlantedRoot::new("iac-agents");
    root.plant("etc/puppetlabs/puppet/puppet.conf", "[main]\n")
        .plant(
            "etc/nftables.conf",
            "#!/usr/sbin/nft -f\n# written by hand\n",
        )
        .plant(
            "var/lib/cloud/instance/cloud-config.txt",
            "#cloud-config\npackages: [nginx]\n",
        )
        .plant(
            "var/lib/terraform/terraform.tfstate",
            r#"{"resources": [{"type": "aws_s3_bucket"}]}"#,
        );
    let (v, code) = root.audit();
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["iac_owner"], json!(null));
    assert_eq!(v["iac_agents"], json!(["puppet"]));
}

#[test]
fn markers_on_the_real_paths() {
    nftguard::netlink::enter_new_netns().unwrap();
    let (v, code) =
        audit_common::audit_in_sandbox("echo '# Managed by Salt' > /etc/nftables.conf", "");
    assert_eq!(code, 20, "{v:#}");
    assert_eq!(v["iac_owner"], "salt");
    let (v, code) = audit_common::audit_in_sandbox("touch /run/.containerenv", "");
    assert_eq!(code, 21, "{v:#}");
    assert_eq!(v["environment_evidence"], "/run/.containerenv");
}

#[test]
fn docker_chains_and_socket_make_a_docker_host() {
    require!("iptables" => "iptables");
    nftguard::netlink::enter_new_netns().unwrap();
    audit_common::sh("iptables -N DOCKER && iptables -N DOCKER-USER && iptables -A FORWARD -j DOCKER-USER && iptables -t nat -N DOCKER");
    let root = audit_common::PlantedRoot::new("docker");
    root.plant("run/docker.sock", "").plant(
        "etc/docker/daemon.json",
        r#"{"firewall-backend": "iptables"}"#,
    );
    let (v, code) = root.audit();
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["docker_host"], true);
    assert_eq!(
        v["docker"],
        json!({"socket": true, "daemon_running": false, "rules_loaded": true, "docker_user_chain": true, "firewall_backend": "iptables"})
    );
    let owners = audit_common::table_owners(&v);
    assert_eq!(
        owners,
        vec![
            ("ip".into(), "filter".into(), "docker".into()),
            ("ip".into(), "nat".into(), "docker".into())
        ]
    );
    assert!(v["warnings"].as_array().unwrap().contains(&json!(
        "Docker host: forwarding is left to Docker; filter container traffic in DOCKER-USER"
    )));
}
