# ssh-lockout: the host drives this scenario over SSH (see ssh_lockout.rs);
# the guest only waits for sshd and says READY.
. ./lib.sh
wait_until 120 sh -c 'ss -Htln "sport = :22" | grep -q .'
show ss -tlnp
hold
