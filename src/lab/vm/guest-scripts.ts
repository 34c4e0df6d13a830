// The scripts that run inside lab guests. Lab hosts have no systemd (like the namespace hosts), so
// these replace what an init system would do: bring up the root disk, apply the host's settings
// (guest-config.ts) and start sshd. GUEST_SETUP is shared by VMs and containers.

/** Where the VM image keeps these scripts. */
export const GUEST_DIR = '/usr/lib/provision-lab';
/** A line the guest prints once sshd listens; the host watches the console (or exec output) for it. */
export const READY_MARKER = 'provision-lab: ssh ready';
/** A line the guest prints when it cannot come up; what follows on the console says why. */
export const FAILED_MARKER = 'provision-lab: boot failed';
/** What the host writes to a VM's control serial port to have it shut down cleanly. */
export const POWEROFF_COMMAND = 'poweroff';

/**
 * Applies a configuration directory written by writeGuestConfig and starts sshd, then waits (at
 * most 10 s) until its port listens. POSIX sh: it runs on the image's dash. Usage: setup CONFIG_DIR.
 * Re-running it is harmless (files rewritten, addresses replaced, keys appended once, sshd started once).
 */
export const GUEST_SETUP = `#!/bin/sh
set -eu
config=$1
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

name=$(cat "$config/hostname")
hostname "$name"
printf '%s\\n' "$name" > /etc/hostname
# Debian maps the host's own name to 127.0.1.1. Rewrite the file in place, as a container's
# /etc/hosts is a bind mount that cannot be replaced by a rename.
others=$(grep -v '^127\\.0\\.1\\.1[[:space:]]' /etc/hosts 2>/dev/null || true)
{
  if [ -n "$others" ]; then printf '%s\\n' "$others"; fi
  printf '127.0.1.1\\t%s\\n' "$name"
} > /etc/hosts

# One rootfs serves every host: none keeps the image's host keys; each gets its own, here or
# among the files below.
rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub
if [ -n "$(ls "$config/ssh")" ]; then
  cp "$config"/ssh/ssh_host_* /etc/ssh/
  chmod 600 /etc/ssh/ssh_host_*_key
  chmod 644 /etc/ssh/ssh_host_*_key.pub
fi

umask 077
mkdir -p /root/.ssh
touch /root/.ssh/authorized_keys
while IFS= read -r key; do
  grep -qxF "$key" /root/.ssh/authorized_keys || printf '%s\\n' "$key" >> /root/.ssh/authorized_keys
done < "$config/authorized_keys"
umask 022

# Written in place (cat, not mv): in a container /etc/hosts and /etc/hostname are bind mounts.
while read -r kind mode path; do
  case $kind in
    d) mkdir -p "$path" ;;
    f) mkdir -p "$(dirname "$path")"; cat "$config/files$path" > "$path" ;;
    *) echo "files.list: bad line: $kind $mode $path" >&2; exit 1 ;;
  esac
  chmod "$mode" "$path"
done < "$config/files.list"

ip link set dev lo up
while read -r nic address; do
  waited=0
  while [ ! -e "/sys/class/net/$nic" ]; do
    waited=$((waited + 1))
    if [ "$waited" -gt 50 ]; then echo "network interface $nic did not appear within 5 s" >&2; exit 1; fi
    sleep 0.1
  done
  ip link set dev "$nic" up
  if [ -n "$address" ]; then ip address replace "$address" dev "$nic"; fi
done < "$config/interfaces"

# sshd itself rather than /etc/init.d/ssh, whose configuration check costs a second under TCG; the
# pid file is the init script's, so "service ssh restart" works later.
mkdir -p /run/sshd
chmod 755 /run/sshd
if ! { [ -f /run/sshd.pid ] && kill -0 "$(cat /run/sshd.pid)" 2>/dev/null; }; then /usr/sbin/sshd; fi
port=$(cat "$config/ssh_port")
port_hex=$(printf '%04X' "$port")
waited=0
until grep -Eqs "^ *[0-9]+: [0-9A-F]+:$port_hex [0-9A-F]+:0000 0A " /proc/net/tcp /proc/net/tcp6; do
  waited=$((waited + 1))
  if [ "$waited" -gt 100 ]; then echo "sshd does not listen on port $port after 10 s" >&2; exit 1; fi
  sleep 0.1
done
echo '${READY_MARKER}'
`;

/**
 * PID 1 of a lab VM (after the initramfs switched to the disk). bash, because bash reaps every child
 * it is sent SIGCHLD for, including orphans adopted by PID 1, which dash does not. It mounts what an
 * init system would, applies the configuration from the tar on the second disk, and serves the
 * control port (the second serial port): "poweroff" ends every process, syncs, remounts the root
 * read-only and powers off, so the disk image never needs a journal replay.
 */
export const VM_INIT = `#!/bin/bash
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
fail() {
  echo '${FAILED_MARKER}':" $*"
  sync
  echo o > /proc/sysrq-trigger
  sleep 10
}

mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev tmpfs /dev/shm
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
mount -t tmpfs -o nosuid,nodev,mode=755 tmpfs /run
mkdir -p /run/lock /run/provision-lab/config

tar -x -f /dev/vdb -C /run/provision-lab/config || fail "cannot read the configuration disk /dev/vdb"
sh ${GUEST_DIR}/setup /run/provision-lab/config || fail "the guest setup failed"

power_off() {
  echo 'provision-lab: powering off'
  kill -TERM -1
  sleep 1
  kill -KILL -1
  sync
  mount -o remount,ro /
  echo o > /proc/sysrq-trigger
}

(
  stty -F /dev/ttyS1 raw -echo
  while IFS= read -r command; do
    case $command in
      ${POWEROFF_COMMAND}) power_off ;;
    esac
  done < /dev/ttyS1
) &

while :; do
  sleep 3600 &
  wait $!
done
`;

/**
 * /init of the initramfs (busybox sh): loads the modules listed in /lib/modules/load-order (virtio
 * and ext4 are modules in Debian's kernel), mounts the first virtio disk and switches to it. On any
 * failure it says why on the console and powers off, so the host sees qemu exit instead of a hang.
 */
export const INITRAMFS_INIT = `#!/bin/busybox sh
fail() {
  echo '${FAILED_MARKER}':" $*"
  /bin/busybox poweroff -f
}
/bin/busybox mount -t devtmpfs devtmpfs /dev
/bin/busybox mount -t proc proc /proc
for module in $(/bin/busybox cat /lib/modules/load-order); do
  /bin/busybox insmod "/lib/modules/$module" || fail "cannot load $module"
done
waited=0
while [ ! -b /dev/vda ]; do
  waited=$((waited + 1))
  [ "$waited" -le 100 ] || fail "no root disk /dev/vda after 5 s"
  /bin/busybox sleep 0.05
done
/bin/busybox mount -t ext4 -o rw /dev/vda /newroot || fail "cannot mount /dev/vda"
[ -x /newroot${GUEST_DIR}/init ] || fail "/dev/vda has no ${GUEST_DIR}/init"
/bin/busybox mount --move /dev /newroot/dev
/bin/busybox umount /proc
exec /bin/busybox switch_root /newroot ${GUEST_DIR}/init
`;
