#!/bin/sh
# Started by vmtest.service (in the rootfs image) on every boot, from the
# read-only scenario disk mounted on /run/vmtest: installs this run's
# nftguard and SSH key, then runs the scenario with its output on ttyS1.
exec 3>/dev/ttyS1
export PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export HOME=/root LC_ALL=C.UTF-8 NO_COLOR=1
mkdir -p /var/lib/vmtest
n=$(( $(cat /var/lib/vmtest/boots 2>/dev/null || echo 0) + 1 ))
echo "$n" > /var/lib/vmtest/boots
echo "@@VMTEST BOOTED $(uname -r) boot=$n" >&3
install -m 0755 /run/vmtest/nftguard /usr/local/sbin/nftguard
install -m 0755 /run/vmtest/busybox /usr/local/bin/busybox
install -d -m 0700 /root/.ssh
install -m 0600 /run/vmtest/authorized_keys /root/.ssh/authorized_keys
# Where the boot time went (TCG is slow: the report shows it).
systemd-analyze time >&3 2>&3
export VMTEST_BOOT="$n"
cd /run/vmtest || exit 1
/bin/sh /run/vmtest/scenario.sh >&3 2>&3 </dev/null
rc=$?
echo "@@VMTEST SCRIPT-END rc=$rc" >&3
# The scenario said it keeps the VM (a reboot, or the host drives it):
# otherwise the VM is done.
[ -e /run/vmtest-keep ] || systemctl --no-block poweroff
