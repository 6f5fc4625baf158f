# reboot-persistence: apply + confirm, reboot; after the reboot the boot
# unit has restored the table before the network came up and
# `nftguard verify` passes.
. ./lib.sh
if [ "$VMTEST_BOOT" = 1 ]; then
    T=$(plan /tmp/plan.json --profile bastion-host)
    expect_exit 0 "apply (bastion-host)" nftguard apply --approved-plan "$T" --confirm-timeout 300
    expect_exit 0 "confirm" nftguard confirm
    check "nftguard-restore.service enabled" systemctl is-enabled nftguard-restore.service
    nft -s list table inet nftguard >/var/lib/vmtest/applied.nft
    show systemctl cat nftguard-restore.service
    reboot_vm
fi

show uptime
check "the table is back after the reboot" nft -s list table inet nftguard
nft -s list table inet nftguard >/tmp/now.nft
same_file "the table is the confirmed one" /var/lib/vmtest/applied.nft /tmp/now.nft
expect_exit 0 "nftguard verify" nftguard verify
nftguard --json verify | jq -c '.checks[] | {id, status, detail}'

# Ordering: the restore unit finished before network-pre.target, which
# comes before systemd-networkd; the first DHCP lease after both.
mono() { systemctl show -P "$2" "$1"; }
r_done=$(mono nftguard-restore.service ExecMainExitTimestampMonotonic)
r_res=$(mono nftguard-restore.service Result)
pre=$(mono network-pre.target ActiveEnterTimestampMonotonic)
nd=$(mono systemd-networkd.service ExecMainStartTimestampMonotonic)
online=$(mono network-online.target ActiveEnterTimestampMonotonic)
echo "monotonic µs: restore exited $r_done, network-pre.target $pre, networkd started $nd, network-online.target $online"
check "nftguard-restore.service succeeded (Result=$r_res)" test "$r_res" = success
check "restore finished before network-pre.target" test "$r_done" -gt 0 -a "$r_done" -le "$pre"
check "restore finished before systemd-networkd started" test "$r_done" -le "$nd"
check "network-online.target reached after the restore" test "$online" -gt "$r_done"
show journalctl -b --no-pager -o short-monotonic -u nftguard-restore.service -u systemd-networkd.service
lease=$(journalctl -b --no-pager -o short-monotonic -u systemd-networkd.service | grep -m1 'DHCPv4 address' | sed 's/^\[ *\([0-9.]*\)\].*/\1/')
r_s=$(awk "BEGIN { printf \"%.6f\", $r_done / 1000000 }")
echo "first DHCPv4 lease at $lease s, restore done at $r_s s"
check "first DHCPv4 address after the restore ($lease s > $r_s s)" \
    awk "BEGIN { exit !($lease > $r_s) }"
finish
