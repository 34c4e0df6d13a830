// How a lab guest (a VM, or a container) becomes one particular lab host: the host's settings
// travel as a directory of plain files (for a VM packed into a tar that qemu attaches as a small
// read-only disk; for a container copied in with `docker exec`), and GUEST_SETUP, run inside the
// guest, applies them: its name, addresses, the host files the lab core made (sshd settings, host
// keys, authorized keys, apt source), then starts sshd. No value ever passes through a shell
// command line.
import { mkdir, writeFile } from 'node:fs/promises';
import { isIP } from 'node:net';
import { dirname, join } from 'node:path';
import { UserError } from '../core/errors.ts';
import type { HostFile } from './host-files.ts';

/** A line the guest prints once sshd listens; the machine watches the console (or exec output) for it. */
export const READY_MARKER = 'provision-lab: ssh ready';

export interface GuestInterface {
  /** the name inside the guest: eth0, eth1, ... */
  name: string;
  /** CIDR addresses, e.g. "10.213.9.10/24"; may be empty (the interface is only brought up) */
  addresses: readonly string[];
}

export interface GuestConfig {
  hostname: string;
  interfaces: readonly GuestInterface[];
  /**
   * Files written over what the image has, in order: at least one ssh host key
   * (/etc/ssh/ssh_host_TYPE_key: the image's own are removed, as a rootfs shared by many hosts must
   * not share its keys), and whatever else the host needs (sshd settings, authorized keys, apt source).
   */
  files: readonly HostFile[];
  /** the port sshd listens on (the guest waits for it); default 22 */
  sshPort?: number;
}

const HOSTNAME = /^(?=.{1,253}$)[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?(?:\.[A-Za-z0-9](?:[A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*$/;
const INTERFACE = /^[A-Za-z][A-Za-z0-9_.-]{0,14}$/;
const HOST_KEY_FILE = /^\/etc\/ssh\/ssh_host_[a-z0-9]+_key$/;

/** Throws a UserError naming the first setting a guest could not apply. */
export function validateGuestConfig(config: GuestConfig): void {
  const problem = (what: string, hint: string): never => {
    throw new UserError(`lab host ${JSON.stringify(config.hostname)}: ${what}`, { host: config.hostname }, hint);
  };
  if (!HOSTNAME.test(config.hostname)) problem('is not a valid host name', 'use letters, digits and "-" (and "." between labels)');
  const names = new Set<string>();
  for (const nic of config.interfaces) {
    if (!INTERFACE.test(nic.name)) problem(`interface name ${JSON.stringify(nic.name)} is not valid`, 'use names like eth0');
    if (names.has(nic.name)) problem(`interface ${nic.name} is listed twice`, 'give each interface once, with all its addresses');
    names.add(nic.name);
    for (const address of nic.addresses) {
      if (!isCidr(address)) problem(`${nic.name} address ${JSON.stringify(address)} is not ADDRESS/PREFIX`, 'write addresses like 10.213.9.10/24');
    }
  }
  for (const file of config.files) {
    const parts = file.path.split('/');
    if (!file.path.startsWith('/') || file.path !== file.path.trim() || /[\n\0]/.test(file.path) || parts.includes('..') || parts.includes('.') || file.path === '/') {
      problem(`cannot write ${JSON.stringify(file.path)}`, 'give guest files as absolute paths without "." or ".." parts');
    }
    if (!Number.isInteger(file.mode) || file.mode < 0 || file.mode > 0o7777) problem(`${file.path} has an invalid mode ${file.mode}`, 'give a mode like 0o644');
  }
  if (!config.files.some((file) => HOST_KEY_FILE.test(file.path) && file.content !== undefined)) {
    problem('has no ssh host key', 'give it /etc/ssh/ssh_host_TYPE_key files (hostKeyFiles() makes them)');
  }
  const port = config.sshPort ?? 22;
  if (!Number.isInteger(port) || port < 1 || port > 65535) problem(`ssh port ${port} is not a TCP port`, 'use a port from 1 to 65535');
}

function isCidr(value: string): boolean {
  const [address, prefix, extra] = value.split('/');
  if (address === undefined || prefix === undefined || extra !== undefined || !/^\d{1,3}$/.test(prefix)) return false;
  const family = isIP(address);
  return family !== 0 && Number(prefix) <= (family === 4 ? 32 : 128);
}

/**
 * Writes the configuration as the files GUEST_SETUP reads: hostname, ssh_port, interfaces ("NAME"
 * or "NAME ADDRESS" lines), files.list ("d MODE PATH" or "f MODE PATH" lines, in order) with the
 * contents under files/PATH.
 */
export async function writeGuestConfig(dir: string, config: GuestConfig): Promise<void> {
  validateGuestConfig(config);
  await mkdir(dir, { recursive: true, mode: 0o700 });
  await writeFile(join(dir, 'hostname'), `${config.hostname}\n`);
  const interfaceLines = config.interfaces.flatMap((nic) => (nic.addresses.length === 0 ? [nic.name] : nic.addresses.map((address) => `${nic.name} ${address}`)));
  await writeFile(join(dir, 'interfaces'), interfaceLines.map((line) => `${line}\n`).join(''));
  await writeFile(join(dir, 'ssh_port'), `${config.sshPort ?? 22}\n`);
  const fileLines: string[] = [];
  for (const file of config.files) {
    const mode = file.mode.toString(8).padStart(4, '0');
    if (file.content === undefined) {
      fileLines.push(`d ${mode} ${file.path}`);
    } else {
      fileLines.push(`f ${mode} ${file.path}`);
      const copy = join(dir, 'files', file.path);
      await mkdir(dirname(copy), { recursive: true });
      await writeFile(copy, file.content, { mode: 0o600 });
    }
  }
  await writeFile(join(dir, 'files.list'), fileLines.map((line) => `${line}\n`).join(''));
}

/**
 * Applies a configuration directory written by writeGuestConfig and starts sshd, then waits (at
 * most 10 s) until its port listens. POSIX sh: it runs on the image's dash. Usage: setup CONFIG_DIR.
 * Re-running it is harmless (files rewritten, addresses replaced, sshd started once). Lab guests
 * have no systemd (like the namespace hosts), so this does what an init system would.
 */
export const GUEST_SETUP = `#!/bin/sh
set -eu
config=$1
PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin
export PATH

name=$(cat "$config/hostname")
hostname "$name"
# Written in place (cat or >, never mv): in a container /etc/hosts and /etc/hostname are bind mounts.
printf '%s\\n' "$name" > /etc/hostname
# Debian maps the host's own name to 127.0.1.1 (the files below may replace /etc/hosts).
others=$(grep -v '^127\\.0\\.1\\.1[[:space:]]' /etc/hosts 2>/dev/null || true)
{
  if [ -n "$others" ]; then printf '%s\\n' "$others"; fi
  printf '127.0.1.1\\t%s\\n' "$name"
} > /etc/hosts

# One rootfs serves every host: none keeps the image's host keys; each gets its own among the files.
rm -f /etc/ssh/ssh_host_*_key /etc/ssh/ssh_host_*_key.pub

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
