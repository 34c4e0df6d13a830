// Every package list of the lab, in one place. Changing a list rebuilds what depends on it (the
// rootfs or the mirror) on the next `lab up`: their manifests record a hash of these lists.

/** The Debian release of every lab host. */
export const DEBIAN_SUITE = 'bookworm';

/**
 * What debootstrap installs into the shared root filesystem (variant minbase): only what a host needs
 * to be reached and inspected (sshd, python3 and python3-apt for peers such as Ansible, whose apt
 * module needs python3-apt on the target, ip, ps, ping, arping).
 * Everything a role installs comes from the offline mirror instead, so roles are tested installing it.
 */
export const ROOTFS_PACKAGES = ['openssh-server', 'python3', 'python3-apt', 'iproute2', 'procps', 'iputils-ping', 'iputils-arping', 'ca-certificates'] as const;

/**
 * What the offline mirror serves (with every dependency): the packages the cluster roles install,
 * and the tools the lab's checks and tests use on hosts.
 */
export const MIRROR_PACKAGES = [
  // directors: heartbeat + ldirectord (the tutorials' setup), keepalived (the VRRP setup), ipvsadm
  'heartbeat',
  'ldirectord',
  'keepalived',
  'ipvsadm',
  // real servers: hide the VIP from ARP (arptables is arptables-legacy on Debian), announce a moved VIP
  'arptables',
  'iputils-arping',
  // real servers serve the load-balanced site; clients and health checks fetch it
  'nginx',
  'curl',
  // VM directors load ip_vs with modprobe
  'kmod',
  // the firewall role on Debian: iptables, and netfilter-persistent to restore its rules at boot
  'iptables',
  'iptables-persistent',
  // the source-builds role on Debian: its build tools (roles/source-builds/recipes.ts BUILD_TOOLS)
  // and ipvsadm's libraries, for building ipvsadm from its source tarball on a lab director
  'gcc',
  'make',
  'autoconf',
  'automake',
  'libtool',
  'pkg-config',
  'bzip2',
  'xz-utils',
  'libpopt-dev',
  'libnl-3-dev',
  'libnl-genl-3-dev',
  // cluster-glue's build dependencies (RECIPES.cluster_glue.buildDepends), for building it from
  // Debian's source tarball on a lab host with the source-builds role
  'libglib2.0-dev',
  'libxml2-dev',
  'libbz2-dev',
  'uuid-dev',
  'libltdl-dev',
  'flex',
  'bison',
  'xsltproc',
  'docbook-xsl',
  'docbook-xml',
  'libtool-bin',
  'asciidoc-base',
] as const;

/**
 * Tools the lab runs on this machine, and the Debian package that provides each. `lab up` installs
 * the missing ones of the hosts it starts in one apt-get before it builds anything (src/lab/apt.ts).
 */
export const MACHINE_TOOLS = {
  debootstrap: 'debootstrap',
  'dpkg-scanpackages': 'dpkg-dev',
  'ssh-keygen': 'openssh-client',
  unshare: 'util-linux',
  ip: 'iproute2',
  tar: 'tar',
  // building the VM image
  'apt-get': 'apt',
  'apt-cache': 'apt',
  'dpkg-deb': 'dpkg',
  chroot: 'coreutils',
  mke2fs: 'e2fsprogs',
  depmod: 'kmod',
  busybox: 'busybox-static',
  // running VMs
  'qemu-system-x86_64': 'qemu-system-x86',
  'qemu-img': 'qemu-utils',
  // running containers
  dockerd: 'docker.io',
  docker: 'docker.io',
  // running Vagrant machines with the libvirt provider (src/vagrant): the daemon and its qemu
  // driver, virsh, dnsmasq for the management network's DHCP, the plugin. Not
  // libvirt-daemon-system: it pulls in systemd and libvirt-daemon-config-network, whose "default"
  // network NATs to the outside; the project starts libvirtd itself and defines only isolated networks.
  libvirtd: 'libvirt-daemon',
  virsh: 'libvirt-clients',
  dnsmasq: 'dnsmasq-base',
  vagrant: 'vagrant',
  // removing the empty iptables tables that libvirt's chains made exist (iptables-nft cannot)
  nft: 'nftables',
} as const;
export type MachineTool = keyof typeof MACHINE_TOOLS;

/** What `lab up` runs on this machine whatever its hosts' kinds (each kind's driver names its own). */
export const LAB_TOOLS: readonly MachineTool[] = ['ip', 'unshare', 'ssh-keygen', 'tar', 'debootstrap', 'dpkg-scanpackages', 'apt-get', 'apt-cache'];

/**
 * What the tests need from Debian besides every lab tool: sshd for the connector and runner tests;
 * dash and busybox to run every generated script under both; sudo for the become tests; curl, make,
 * gcc and the archivers for the source-build test; keepalived, the judge of the keepalived role's
 * files (keepalived --config-test); tmux to watch the live view as a terminal shows it; chromium
 * (headless) to render the drill's HTML report as a browser shows it; vagrant for
 * the Vagrantfile's validation; ansible-core, which runs the bench's Ansible twin (its test checks
 * that the twin and our playbook agree). Installed by `npm test` (scripts/install-machine-packages.ts).
 */
export const TEST_PACKAGES = [
  'openssh-server',
  'openssh-client',
  'busybox-static',
  'dash',
  'sudo',
  'curl',
  'ca-certificates',
  'make',
  'gcc',
  'tar',
  'bzip2',
  'xz-utils',
  'iproute2',
  'procps',
  'iptables',
  'keepalived',
  'tmux',
  'chromium',
  'vagrant',
  // the Vagrant lab's real bring-up (test/integration/vagrant/libvirt-cluster.test.ts)
  'vagrant-libvirt',
  'libvirt-daemon-driver-qemu',
  'ansible-core',
] as const;

/** Every package the tests need: theirs and every lab tool's (the lab tests bring up every kind). */
export function testMachinePackages(): string[] {
  return [...new Set<string>([...TEST_PACKAGES, ...Object.values(MACHINE_TOOLS)])].sort();
}
