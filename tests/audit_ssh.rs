//! A real sshd on a non-standard port in the test's network namespace: the
//! port comes from its listening socket (sock_diag), not from sshd_config.

mod audit_common;

use serde_json::json;

const STOP: &str =
    r#"if [ -f /run/test-sshd.pid ]; then kill $(cat /run/test-sshd.pid) 2>/dev/null; fi"#;

#[test]
fn ssh_port_comes_from_the_listening_sshd() {
    require!("sshd" => "openssh-server");
    nftguard::netlink::enter_new_netns().unwrap();
    // /etc/ssh/sshd_config says 2200, but the running sshd was started
    // with another file and listens on 2222 only: the socket wins.
    let setup = r#"
mkdir -p /run/sshd
cp /etc/ssh/sshd_config /etc/ssh/sshd_test_config
echo "Port 2222" >> /etc/ssh/sshd_test_config
echo "Port 2200" >> /etc/ssh/sshd_config
/usr/sbin/sshd -f /etc/ssh/sshd_test_config -o PidFile=/run/test-sshd.pid
i=0; until [ -s /run/test-sshd.pid ]; do i=$((i+1)); [ $i -lt 100 ] || exit 1; sleep 0.05; done
"#;
    let (v, code) = audit_common::audit_in_sandbox(setup, STOP);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["ssh_port"], 2222, "{v:#}");
    assert_eq!(v["ssh_source"], "socket");
    assert_eq!(v["ssh_listening_ports"], json!([2222]));
    assert_eq!(v["warnings"], json!([]));
}

#[test]
fn ssh_port_falls_back_to_sshd_config_then_22() {
    require!("sshd" => "openssh-server");
    nftguard::netlink::enter_new_netns().unwrap();
    let setup = r#"
mkdir -p /etc/ssh/sshd_config.d
grep -q '^Include /etc/ssh/sshd_config.d/\*.conf' /etc/ssh/sshd_config || echo 'Include /etc/ssh/sshd_config.d/*.conf' >> /etc/ssh/sshd_config
echo "Port 2345" > /etc/ssh/sshd_config.d/50-port.conf
"#;
    let (v, code) = audit_common::audit_in_sandbox(setup, "");
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["ssh_port"], 2345);
    assert_eq!(v["ssh_source"], "sshd_config");
    assert_eq!(v["ssh_listening_ports"], json!([]));
}

#[test]
fn ssh_port_defaults_to_22() {
    nftguard::netlink::enter_new_netns().unwrap();
    let root = audit_common::PlantedRoot::new("ssh-default");
    root.plant("etc/ssh/sshd_config", "#Port 22\nPermitRootLogin no\n");
    let (v, _) = root.audit();
    assert_eq!(v["ssh_port"], 22);
    assert_eq!(v["ssh_source"], "default");
}
