// What makes the lab's VM image a Vagrant box (pure: scripts and files as text). A Vagrant guest
// differs from a lab VM in how it learns who it is: a lab VM reads its name, addresses and keys from
// a configuration disk; a Vagrant machine gets an address by DHCP on the management network, and
// Vagrant then logs in as `vagrant` with its well-known key and sets the name, the private
// networks (Debian's ifupdown) and a key of its own over ssh. So the box's PID 1 brings up eth0 by
// DHCP and starts sshd, and the image carries the vagrant user, sudo, ifupdown and a DHCP client.
//
// Packages come from the lab's offline mirror, which `provision vagrant libvirt-up` serves on the
// management network's host address (the DHCP server): a dhclient hook points apt there, so the box
// itself holds no address and works on whatever management subnet the Vagrantfile picks.
import { MIRROR_PORT } from '../lab/mirror.ts';
import { GUEST_MOUNTS } from '../lab/vm/guest-scripts.ts';

/** What the box adds to the lab VM image's packages: Vagrant's sudo, its network setup on Debian (ifup/ifdown), DHCP. */
export const BOX_PACKAGES: readonly string[] = ['sudo', 'ifupdown', 'isc-dhcp-client'];

/**
 * The public half of Vagrant's insecure key pair, which every box authorizes for its first login
 * (Vagrant then puts a key of the machine's own in its place). Public by design: it ships with
 * Vagrant (keys/vagrant.pub).
 */
export const VAGRANT_INSECURE_PUBLIC_KEY =
  'ssh-rsa AAAAB3NzaC1yc2EAAAABIwAAAQEA6NF8iallvQVp22WDkTkyrtvp9eWW6A8YVr+kz4TjGYe7gHzIw+niNltGEFHzD8+v1I2YJ6oXevct1YeS0o9HZyN1Q9qgCgzUFtdOKLv6IedplqoPkcmF0aYet2PkEDo3MlTBckFXPITAMzF8dJSIFo9D8HfdOV0IAdx4O7PtixWKn5y2hMNG0zQPyUecp4pzC6kivAIhyfHilFR61RGL+GPXQ2MWZWFYbAGjyiYJnAmCP3NOTd0jMZEnDkbUvxhMmBYSdETk1rRgm+R4LOzFUGaHqHDLKLX+FIPKcF96hrucXzcWyLbIbEgE98OHlnVYCzRdK8jlqm8tehUc9c9WhQ== vagrant insecure public key';

/** The kernel command line the box boots with (no boot loader: libvirt boots the kernel directly). */
export const BOX_KERNEL_COMMAND_LINE = 'console=ttyS0 panic=-1';

/**
 * Run once in the image's root when the box image is built (sh -eu): the vagrant user as every
 * box has it (password-less sudo, the insecure key), eth0 by DHCP, no host keys (each machine
 * makes its own at first boot), and apt pointed at nothing until DHCP says where the mirror is.
 */
export const BOX_SETUP = `useradd --create-home --shell /bin/bash --user-group vagrant
install -d -m 700 -o vagrant -g vagrant /home/vagrant/.ssh
printf '%s\\n' '${VAGRANT_INSECURE_PUBLIC_KEY}' > /home/vagrant/.ssh/authorized_keys
chown vagrant:vagrant /home/vagrant/.ssh/authorized_keys
chmod 600 /home/vagrant/.ssh/authorized_keys
printf 'vagrant ALL=(ALL) NOPASSWD: ALL\\nDefaults:vagrant !requiretty\\n' > /etc/sudoers.d/vagrant
chmod 440 /etc/sudoers.d/vagrant

# Vagrant appends its private networks (eth1, ...) between #VAGRANT-BEGIN and #VAGRANT-END lines.
cat > /etc/network/interfaces <<'EOF'
auto lo
iface lo inet loopback

auto eth0
iface eth0 inet dhcp

# Known to ifupdown before Vagrant configures them: when it sets the hostname, Vagrant restarts
# every interface with "ifdown IF; ifup IF", which fails for an interface ifupdown does not know.
# Vagrant's own stanzas (static addresses) then add to these.
iface eth1 inet manual
iface eth2 inet manual
iface eth3 inet manual
EOF

# No name lookups: the networks are isolated (their DNS is off), and sshd would wait for them.
mkdir -p /etc/ssh/sshd_config.d
printf 'UseDNS no\\n' > /etc/ssh/sshd_config.d/provision-box.conf
rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub

: > /etc/apt/sources.list
rm -f /etc/apt/sources.list.d/*
mkdir -p /etc/dhcp/dhclient-exit-hooks.d
cat > /etc/dhcp/dhclient-exit-hooks.d/provision-mirror <<'EOF'
# Sourced by dhclient-script: apt's only source is the package mirror on the DHCP server's
# address (the machine that runs the VMs), on eth0 (the management network) only.
case $reason in
  BOUND|RENEW|REBIND|REBOOT)
    if [ "$interface" = eth0 ] && [ -n "\${new_dhcp_server_identifier:-}" ]; then
      printf 'deb [trusted=yes] http://%s:${MIRROR_PORT}/ ./\\n' "$new_dhcp_server_identifier" > /etc/apt/sources.list.d/provision-mirror.list
    fi
    ;;
esac
EOF
`;

/**
 * PID 1 of a box machine (after the lab initramfs switched to the disk). Like the lab VM's init
 * (../lab/vm/guest-scripts.ts, which it does not share so that the lab image keeps its cache key):
 * bash, because it reaps orphans; what an init system would mount; then eth0 by DHCP (ifup, as
 * Vagrant's Debian support expects), host keys, sshd, and the runlevel-2 start scripts, as SysV
 * init does, so a service enabled at boot (heartbeat) starts when the machine boots again.
 */
export const BOX_INIT = `#!/bin/bash
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH
${GUEST_MOUNTS}
mkdir -p /run/lock /run/network /run/sshd
[ -s /etc/hostname ] && hostname -F /etc/hostname

ip link set dev lo up
ifup -a
ssh-keygen -A
/usr/sbin/sshd
echo 'provision-box: ssh started'

(
  for script in /etc/rc2.d/S[0-9][0-9]*; do
    case \${script##*/S[0-9][0-9]} in (ssh) continue ;; esac
    [ -x "$script" ] && "$script" start
  done
) </dev/null >/dev/null 2>&1 &

while :; do
  sleep 3600 &
  wait $!
done
`;

/** The box's metadata.json (vagrant-libvirt's format); `key` identifies the build it came from. */
export function boxMetadata(virtualSizeGb: number, key: string): string {
  return `${JSON.stringify({ provider: 'libvirt', format: 'qcow2', virtual_size: virtualSizeGb, provision_box_key: key }, null, 2)}\n`;
}

/**
 * The box's own Vagrantfile: the kernel and initrd it boots (files of the box, next to this
 * Vagrantfile once Vagrant unpacked it), and what the lab's TCG guests need from libvirt: the
 * plain qemu domain type (no KVM) and every CPU feature the emulator has (libvirt's "maximum",
 * qemu's -cpu max, as the lab's VMs run; host-model needs KVM).
 */
export function boxVagrantfile(): string {
  return `# Made by provision (src/vagrant/box.ts): a Debian 12 box built from the provision lab's VM image.
Vagrant.configure('2') do |config|
  config.vm.provider :libvirt do |libvirt|
    libvirt.driver = 'qemu'
    libvirt.cpu_mode = 'maximum'
    libvirt.kernel = File.join(__dir__, 'vmlinuz')
    libvirt.initrd = File.join(__dir__, 'initrd.img')
    libvirt.cmd_line = '${BOX_KERNEL_COMMAND_LINE}'
  end
end
`;
}
