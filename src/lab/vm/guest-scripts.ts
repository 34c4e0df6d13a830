// The scripts that boot a lab VM. Lab hosts have no systemd (like the namespace hosts), so these
// replace what an init system would do: bring up the root disk, run GUEST_SETUP (shared with
// containers, ../guest-config.ts) to apply the host's settings and start sshd, then the runlevel's
// start scripts, as SysV init does.

/** Where the VM image keeps these scripts. */
export const GUEST_DIR = '/usr/lib/provision-lab';
/** A line the guest prints when it cannot come up; what follows on the console says why. */
export const FAILED_MARKER = 'provision-lab: boot failed';
/** What the host writes to a VM's control serial port to have it shut down cleanly. */
export const POWEROFF_COMMAND = 'poweroff';

/**
 * PID 1 of a lab VM (after the initramfs switched to the disk). bash, because bash reaps every child
 * it is sent SIGCHLD for, including orphans adopted by PID 1, which dash does not. It mounts what an
 * init system would, applies the configuration from the tar on the second disk, and serves the
 * control port (the second serial port): "poweroff" ends every process, syncs, remounts the root
 * read-only and powers off, so the disk image never needs a journal replay.
 */
/**
 * What an init system mounts before anything runs (the kernel mounts only the root and devtmpfs):
 * proc, sysfs, devpts, /dev/shm, the /dev/fd links, and /run on tmpfs. Shared by the lab VMs' init
 * and the Vagrant box's (src/vagrant/box-guest.ts), which boot the same root file system.
 */
export const GUEST_MOUNTS = `mount -t proc -o nosuid,nodev,noexec proc /proc
mount -t sysfs -o nosuid,nodev,noexec sysfs /sys
mkdir -p /dev/pts /dev/shm
mount -t devpts -o gid=5,mode=620,ptmxmode=666 devpts /dev/pts
mount -t tmpfs -o nosuid,nodev tmpfs /dev/shm
ln -sfn /proc/self/fd /dev/fd
ln -sfn /proc/self/fd/0 /dev/stdin
ln -sfn /proc/self/fd/1 /dev/stdout
ln -sfn /proc/self/fd/2 /dev/stderr
mount -t tmpfs -o nosuid,nodev,mode=755 tmpfs /run`;

export const VM_INIT = `#!/bin/bash
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
fail() {
  echo '${FAILED_MARKER}':" $*"
  sync
  echo o > /proc/sysrq-trigger
  sleep 10
}

${GUEST_MOUNTS}
mkdir -p /run/lock /run/provision-lab/config

tar -x -f /dev/vdb -C /run/provision-lab/config || fail "cannot read the configuration disk /dev/vdb"
sh ${GUEST_DIR}/setup /run/provision-lab/config || fail "the guest setup failed"

# What a SysV init does next: the start scripts of runlevel 2, so a service enabled at boot (its
# S link, as update-rc.d makes it) starts when the VM boots again (heartbeat after a director
# crashed, in provision drill). In the background, after sshd, which the setup started already.
(
  for script in /etc/rc2.d/S[0-9][0-9]*; do
    case \${script##*/S[0-9][0-9]} in (ssh) continue ;; esac
    [ -x "$script" ] && "$script" start
  done
) </dev/null >/dev/null 2>&1 &

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
