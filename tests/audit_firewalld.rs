//! Real firewalld with a private system bus, alone and together with ufw.

mod audit_common;

use serde_json::json;

/// Starts a private system bus and firewalld, waits until firewalld says
/// it runs (its table exists and `firewall-cmd --state` answers).
const START: &str = r#"
mkdir -p /run/dbus
dbus-daemon --system --fork --print-pid > /run/test-dbus.pid
firewalld --nofork --nopid >/dev/null 2>&1 &
echo $! > /run/test-firewalld.pid
i=0
until firewall-cmd --state >/dev/null 2>&1 && nft list table inet firewalld >/dev/null 2>&1; do
  i=$((i+1)); if [ $i -gt 600 ]; then echo "firewalld did not start" >&2; exit 1; fi; sleep 0.1
done
"#;

const STOP: &str = r#"
for f in /run/test-firewalld.pid /run/test-dbus.pid; do
  if [ -f $f ]; then p=$(cat $f); kill $p 2>/dev/null; sleep 0.3; kill -9 $p 2>/dev/null; fi
done
"#;

#[test]
fn firewalld_running_is_the_active_frontend() {
    require!("firewalld" => "firewalld", "dbus-daemon" => "dbus-daemon", "nft" => "nftables");
    nftguard::netlink::enter_new_netns().unwrap();
    let (v, code) = audit_common::audit_in_sandbox(START, STOP);
    assert_eq!(code, 0, "{v:#}");
    assert_eq!(v["firewalld"]["installed"], true);
    assert_eq!(v["firewalld"]["table"], true);
    assert_eq!(v["firewalld"]["run_dir"], true);
    assert_eq!(v["firewalld"]["pid_alive"], false); // --nopid
    assert_eq!(v["firewalld"]["dbus_state"], "RUNNING");
    assert_eq!(v["firewalld"]["backend"], "nftables");
    assert_eq!(v["firewalld"]["running"], true);
    assert_eq!(v["active_frontend"], "firewalld");
    assert_eq!(v["active_frontends"], json!(["firewalld"]));
    assert_eq!(v["recommended_backend"], "firewalld");
    assert_eq!(v["backend"], "nftables");
    assert_eq!(v["confidence"], 100);
    assert!(audit_common::table_owners(&v).contains(&(
        "inet".into(),
        "firewalld".into(),
        "firewalld".into()
    )));
}

#[test]
fn ufw_and_firewalld_together_exit_12() {
    require!("firewalld" => "firewalld", "dbus-daemon" => "dbus-daemon", "ufw" => "ufw", "nft" => "nftables");
    nftguard::netlink::enter_new_netns().unwrap();
    let setup = format!("{START}\nufw --force enable >/dev/null\n");
    let (v, code) = audit_common::audit_in_sandbox(&setup, STOP);
    assert_eq!(code, 12, "{v:#}");
    assert_eq!(v["active_frontends"], json!(["ufw", "firewalld"]));
    assert_eq!(v["active_frontend"], "multiple");
    assert_eq!(v["confidence"], 70);
    assert_eq!(v["risk_tier"], "confirmed");
    assert_eq!(v["verdict"], "halt");
    assert_eq!(v["recommended_backend"], "stop");
    assert_eq!(
        v["halt_reasons"],
        json!(["ufw and firewalld are both active: resolve the conflict first"])
    );
}
