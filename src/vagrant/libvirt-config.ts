// What the project's own libvirtd is given (pure: text in, text out), for the Vagrant lab with
// the libvirt provider. See libvirt-host.ts for how it runs and why it has its own configuration.
import { UserError } from '../core/errors.ts';
import { bridgeAddress, broadcastAddress, formatAddress, formatSubnet, parseCidr, subnetOf, type Subnet } from '../lab/ipv4.ts';

/** A libvirt network of the Vagrant lab, as the Vagrantfile names it. */
export interface VagrantNetwork {
  /** libvirt's name for it, the one the Vagrantfile gives vagrant-libvirt */
  name: string;
  subnet: Subnet;
  /** DHCP on it: the management network only (Vagrant finds its machines by their leases) */
  dhcp: boolean;
}

const NETWORK_NAME = /^[a-z][a-z0-9-]{0,31}$/;
/** libvirt's bridge names: short, and apart from the lab's (provision-lab*, pl*) and libvirt's own (virbr*). */
const BRIDGE_PREFIX = 'pvg';

/**
 * Parses the Vagrantfile's `--network NAME=CIDR[,dhcp]` arguments. The subnets must be private
 * (10/8, 172.16/12, 192.168/16) and apart from each other, as the guard routes cover them whole.
 */
export function parseNetworkArgument(text: string): VagrantNetwork {
  const match = /^([^=]+)=([^,]+)(,dhcp)?$/.exec(text);
  const cidr = match?.[2] === undefined ? undefined : parseCidr(match[2]);
  if (match === null || cidr === undefined) throw new UserError(`--network ${text}: expected NAME=ADDRESS/PREFIX or NAME=ADDRESS/PREFIX,dhcp`, {}, 'e.g. --network provision-mgmt=10.213.30.0/24,dhcp');
  const name = match[1] ?? '';
  if (!NETWORK_NAME.test(name)) throw new UserError(`--network ${text}: ${JSON.stringify(name)} cannot name a libvirt network here`, {}, 'use lower-case letters, digits and "-", at most 32');
  if (cidr.prefix < 16 || cidr.prefix > 29) throw new UserError(`--network ${text}: a /${cidr.prefix} is not a lab subnet`, {}, 'use a prefix from /16 to /29 (the lab uses /24)');
  const subnet = subnetOf(cidr.address, cidr.prefix);
  if (!isPrivate(subnet)) throw new UserError(`--network ${text}: ${formatSubnet(subnet)} is not a private subnet`, {}, 'use addresses of 10.0.0.0/8, 172.16.0.0/12 or 192.168.0.0/16 that this machine does not use');
  return { name, subnet, dhcp: match[3] !== undefined };
}

function isPrivate(subnet: Subnet): boolean {
  const first = formatAddress(subnet.network).split('.').map(Number);
  const [a = 0, b = 0] = first;
  return (a === 10 && subnet.prefix >= 8) || (a === 172 && b >= 16 && b <= 31 && subnet.prefix >= 12) || (a === 192 && b === 168 && subnet.prefix >= 16);
}

/** The Linux bridge of the network with this index in the Vagrantfile's list. */
export function bridgeName(index: number): string {
  return `${BRIDGE_PREFIX}${index}`;
}

/**
 * An isolated libvirt network: no <forward> element (libvirt then neither routes nor NATs: the
 * guests reach each other and this machine's bridge address only), DNS off (libvirt's dnsmasq
 * would otherwise answer names by asking this machine's resolvers, off the machine), and DHCP
 * only where asked (the management network, the upper half of the subnet).
 */
export function isolatedNetworkXml(network: VagrantNetwork, bridge: string): string {
  const host = bridgeAddress(network.subnet);
  const last = broadcastAddress(network.subnet) - 1;
  const netmask = formatAddress(Number((0xffffffffn << BigInt(32 - network.subnet.prefix)) & 0xffffffffn));
  const firstLease = Math.max(host + 1, network.subnet.network + Math.floor((last - network.subnet.network) / 2));
  const dhcp = network.dhcp ? `\n    <dhcp>\n      <range start='${formatAddress(firstLease)}' end='${formatAddress(last)}'/>\n    </dhcp>` : '';
  return `<network>
  <name>${network.name}</name>
  <bridge name='${bridge}' stp='off' delay='0'/>
  <dns enable='no'/>
  <ip address='${formatAddress(host)}' netmask='${netmask}'>${dhcp}
  </ip>
</network>
`;
}

/** True when a network's XML (as `virsh net-dumpxml` prints it) forwards or NATs anywhere. */
export function networkForwards(xml: string): boolean {
  return /<forward\b/.test(xml);
}

/**
 * libvirtd.conf: its sockets for root only, with no authentication (polkit is not there: no
 * systemd, no D-Bus), its log in the project's state directory.
 */
export function libvirtdConf(logFile: string): string {
  return `# Written by provision (src/vagrant/libvirt-config.ts) for the libvirtd it starts.
unix_sock_group = "root"
unix_sock_rw_perms = "0700"
unix_sock_ro_perms = "0700"
auth_unix_rw = "none"
auth_unix_ro = "none"
log_outputs = "3:file:${logFile}"
`;
}

/**
 * qemu.conf: qemu runs as root, as the lab's own VMs do, so it reads the box's kernel and initrd
 * where Vagrant unpacked them (under root's home, which no other user can enter), and libvirt
 * changes no file's owner; its output goes to files (no virtlogd to run); no per-VM mount
 * namespace (nothing here needs one, and it needs udev's /dev).
 */
export function qemuConf(): string {
  return `# Written by provision (src/vagrant/libvirt-config.ts) for the libvirtd it starts.
user = "root"
group = "root"
dynamic_ownership = 0
remember_owner = 0
security_driver = "none"
stdio_handler = "file"
namespaces = []
`;
}

/** The account libvirt's qemu driver resolves at start whatever qemu.conf says (Debian builds it in). */
export const LIBVIRT_QEMU_ACCOUNT = 'libvirt-qemu';

/**
 * /etc/passwd and /etc/group as the project's libvirtd sees them: the machine's, plus the
 * libvirt-qemu account when the machine has none (libvirt-daemon-system creates it; this project
 * installs libvirt without that package, which would bring systemd and a NAT network with it).
 * The account is never used (qemu.conf runs qemu as root); libvirtd only refuses to start without it.
 */
export function withLibvirtQemuAccount(passwd: string, group: string): { passwd: string; group: string } {
  const has = (text: string) => text.split('\n').some((line) => line.startsWith(`${LIBVIRT_QEMU_ACCOUNT}:`));
  const ids = (text: string) => new Set(text.split('\n').map((line) => line.split(':')[2]).filter((id) => id !== undefined && id !== ''));
  const taken = new Set([...ids(passwd), ...ids(group)]);
  let id = 64055; // Debian's usual id for it, when free
  while (taken.has(String(id))) id++;
  const ending = (text: string) => (text === '' || text.endsWith('\n') ? text : `${text}\n`);
  return {
    passwd: has(passwd) ? passwd : `${ending(passwd)}${LIBVIRT_QEMU_ACCOUNT}:x:${id}:${id}:libvirt qemu (seen by provision's libvirtd only):/nonexistent:/usr/sbin/nologin\n`,
    group: has(group) ? group : `${ending(group)}${LIBVIRT_QEMU_ACCOUNT}:x:${id}:\n`,
  };
}
