//! `nftguard plan --docker-user` against a Docker-like layout built with
//! real iptables-nft commands, in three namespaces joined by veth pairs:
//!
//! ```text
//! client 10.9.0.2 ──veth── ext0 10.9.0.1 [host: Docker's chains, DNAT]
//!                          docker0 172.17.0.1 ──veth── 172.17.0.2 [ctr]
//! ```
//! Published ports: 10.9.0.1:8080 → 172.17.0.2:80 (intended) and
//! 10.9.0.1:9090 → 172.17.0.2:90 (not intended).

#![allow(clippy::unwrap_used, clippy::expect_used)]

mod netns_common;

use std::time::{Duration, Instant};

use netns_common::*;

const PROBE: Duration = Duration::from_millis(700);

/// Docker 27's filter and nat rules for one container publishing two
/// ports, plus the old `-j RETURN` at the end of DOCKER-USER.
const DOCKER_LAYOUT: &[&str] = &[
    "iptables-nft -N DOCKER",
    "iptables-nft -N DOCKER-USER",
    "iptables-nft -N DOCKER-FORWARD",
    "iptables-nft -N DOCKER-CT",
    "iptables-nft -N DOCKER-BRIDGE",
    "iptables-nft -N DOCKER-ISOLATION-STAGE-1",
    "iptables-nft -N DOCKER-ISOLATION-STAGE-2",
    "iptables-nft -P FORWARD DROP",
    "iptables-nft -A FORWARD -j DOCKER-USER",
    "iptables-nft -A FORWARD -j DOCKER-FORWARD",
    "iptables-nft -A DOCKER-USER -j RETURN",
    "iptables-nft -A DOCKER-FORWARD -j DOCKER-CT",
    "iptables-nft -A DOCKER-FORWARD -j DOCKER-ISOLATION-STAGE-1",
    "iptables-nft -A DOCKER-FORWARD -j DOCKER-BRIDGE",
    "iptables-nft -A DOCKER-FORWARD -i docker0 -j ACCEPT",
    "iptables-nft -A DOCKER-BRIDGE -o docker0 -j DOCKER",
    "iptables-nft -A DOCKER-CT -o docker0 -m conntrack --ctstate RELATED,ESTABLISHED -j ACCEPT",
    "iptables-nft -A DOCKER-ISOLATION-STAGE-1 -i docker0 ! -o docker0 -j DOCKER-ISOLATION-STAGE-2",
    "iptables-nft -A DOCKER-ISOLATION-STAGE-2 -o docker0 -j DROP",
    "iptables-nft -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 80 -j ACCEPT",
    "iptables-nft -A DOCKER -d 172.17.0.2/32 ! -i docker0 -o docker0 -p tcp -m tcp --dport 90 -j ACCEPT",
    "iptables-nft -t nat -N DOCKER",
    "iptables-nft -t nat -A PREROUTING -m addrtype --dst-type LOCAL -j DOCKER",
    "iptables-nft -t nat -A OUTPUT ! -d 127.0.0.0/8 -m addrtype --dst-type LOCAL -j DOCKER",
    "iptables-nft -t nat -A POSTROUTING -s 172.17.0.0/16 ! -o docker0 -j MASQUERADE",
    "iptables-nft -t nat -A DOCKER -i docker0 -j RETURN",
    "iptables-nft -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 8080 -j DNAT --to-destination 172.17.0.2:80",
    "iptables-nft -t nat -A DOCKER ! -i docker0 -p tcp -m tcp --dport 9090 -j DNAT --to-destination 172.17.0.2:90",
];

fn docker_user_rules(host: &Netns) -> Vec<String> {
    host.exec(&["iptables-nft", "-S", "DOCKER-USER"])
        .lines()
        .map(str::to_string)
        .collect()
}

fn save_parses_every_table(host: &Netns) {
    let o = host.exec_output(&["iptables-nft-save"]);
    let text = String::from_utf8_lossy(&o.stdout);
    let err = String::from_utf8_lossy(&o.stderr);
    assert!(o.status.success(), "{err}");
    assert!(!text.contains("incompatible"), "{text}");
    assert!(text.contains("*filter") && text.contains("*nat"), "{text}");
}

#[test]
fn docker_user_filters_published_ports_and_rolls_back_exactly() {
    let host = Netns::new("dk-host");
    let client = Netns::new("dk-cli");
    let ctr = Netns::new("dk-ctr");
    veth(&host, "ext0", "10.9.0.1/24", &client, "eth0", "10.9.0.2/24");
    veth(
        &host,
        "docker0",
        "172.17.0.1/16",
        &ctr,
        "eth0",
        "172.17.0.2/16",
    );
    host.exec(&["sysctl", "-qw", "net.ipv4.ip_forward=1"]);
    ctr.exec(&["ip", "route", "add", "default", "via", "172.17.0.1"]);
    client.exec(&["ip", "route", "add", "172.17.0.0/16", "via", "10.9.0.1"]);
    for cmd in DOCKER_LAYOUT {
        let words: Vec<&str> = cmd.split_whitespace().collect();
        host.exec(&words);
    }
    listen(&ctr.name, "172.17.0.2:80");
    listen(&ctr.name, "172.17.0.2:90");
    listen(&client.name, "10.9.0.2:7000");

    // Before: both published ports answer from outside.
    assert!(connects(&client.name, "10.9.0.1:8080", PROBE));
    assert!(connects(&client.name, "10.9.0.1:9090", PROBE));
    let before = docker_user_rules(&host);
    assert_eq!(before, ["-N DOCKER-USER", "-A DOCKER-USER -j RETURN"]);

    let state = state_dir("docker-user");
    let plan = nftguard(
        &host,
        &state,
        &[
            "--json",
            "plan",
            "--ports",
            "8080/tcp",
            "--ssh-port",
            "22",
            "--docker-user",
            "--docker-ext-if",
            "ext0",
        ],
    );
    expect_code(&plan, 0);
    let p = json(&plan);
    let d = &p["docker_user"];
    assert_eq!(d["chains"], serde_json::json!(["ip filter DOCKER-USER"]));
    let expected_ours = [
        "-A DOCKER-USER -m conntrack --ctstate RELATED,ESTABLISHED -m comment --comment nftguard -j RETURN",
        "-A DOCKER-USER -p tcp -m conntrack --ctorigdstport 22 --ctdir ORIGINAL -m comment --comment nftguard -j RETURN",
        "-A DOCKER-USER -p tcp -m conntrack --ctorigdstport 8080 --ctdir ORIGINAL -m comment --comment nftguard -j RETURN",
        "-A DOCKER-USER -i ext0 -m comment --comment nftguard -j DROP",
    ];
    assert_eq!(d["rules"], serde_json::json!(expected_ours), "{p:#}");
    // Docker forwards here: our table leaves the forward hook alone.
    assert!(
        !p["nft"].as_str().unwrap().contains("hook forward"),
        "{p:#}"
    );
    let token = p["approval_token"].as_str().unwrap().to_string();

    let applied = nftguard(
        &host,
        &state,
        &[
            "--json",
            "apply",
            &format!("--approved-plan={token}"),
            "--confirm-timeout",
            "4",
            "--force",
            "test lab",
        ],
    );
    expect_code(&applied, 0);
    let fires_at_ms = json(&applied)["apply"]["rollback"]["fires_at_ms"]
        .as_u64()
        .unwrap();

    // iptables-nft itself reads our rules back, in order, before Docker's.
    let mut want: Vec<String> = vec!["-N DOCKER-USER".into()];
    want.extend(expected_ours.iter().map(|s| s.to_string()));
    want.push("-A DOCKER-USER -j RETURN".into());
    assert_eq!(docker_user_rules(&host), want);
    save_parses_every_table(&host);

    // Real traffic: the intended published port passes, the other one is
    // dropped from the external interface; a connection the container
    // opens gets its replies through the established rule.
    assert!(connects(&client.name, "10.9.0.1:8080", PROBE));
    assert!(!connects(&client.name, "10.9.0.1:9090", PROBE));
    assert!(connects(&ctr.name, "10.9.0.2:7000", PROBE));
    // From the host itself (not the external interface) both still work.
    assert!(connects(&host.name, "172.17.0.2:90", PROBE));

    // Planning again changes nothing in DOCKER-USER.
    let again = nftguard(
        &host,
        &state,
        &[
            "--json",
            "plan",
            "--ports",
            "8080/tcp",
            "--ssh-port",
            "22",
            "--docker-user",
            "--docker-ext-if",
            "ext0",
        ],
    );
    expect_code(&again, 0);
    assert_eq!(json(&again)["docker_user"]["unchanged"], true);

    // Meanwhile Docker (or the operator) adds rules of its own.
    host.exec(&[
        "iptables-nft",
        "-A",
        "DOCKER-USER",
        "-s",
        "192.0.2.0/24",
        "-j",
        "DROP",
    ]);
    host.exec(&[
        "iptables-nft",
        "-I",
        "DOCKER-USER",
        "-s",
        "198.51.100.7/32",
        "-j",
        "RETURN",
    ]);

    // Not confirmed: the rollback fires and removes exactly our rules.
    let deadline = Instant::now() + Duration::from_secs(20);
    let restored = loop {
        let now_rules = docker_user_rules(&host);
        if !now_rules.iter().any(|l| l.contains("nftguard")) {
            break now_rules;
        }
        assert!(Instant::now() < deadline, "rollback did not fire");
        std::thread::sleep(Duration::from_millis(100));
    };
    let now_ms = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_millis() as u64;
    assert!(now_ms >= fires_at_ms, "rolled back before the deadline");
    assert_eq!(
        restored,
        [
            "-N DOCKER-USER",
            "-A DOCKER-USER -s 198.51.100.7/32 -j RETURN",
            "-A DOCKER-USER -j RETURN",
            "-A DOCKER-USER -s 192.0.2.0/24 -j DROP",
        ]
    );
    save_parses_every_table(&host);
    let tables = host.exec(&["nft", "list", "tables"]);
    assert!(!tables.contains("inet nftguard"), "{tables}");
    assert!(connects(&client.name, "10.9.0.1:9090", PROBE));
    let _ = std::fs::remove_dir_all(&state);
}

#[test]
fn docker_user_without_the_chain_is_a_usage_error() {
    let host = Netns::new("dk-none");
    let state = state_dir("docker-none");
    let plan = nftguard(
        &host,
        &state,
        &[
            "plan",
            "--ports",
            "80",
            "--docker-user",
            "--docker-ext-if",
            "eth0",
        ],
    );
    expect_code(&plan, 2);
    assert!(String::from_utf8_lossy(&plan.stderr).contains("no chain DOCKER-USER"));
    let _ = std::fs::remove_dir_all(&state);
}
