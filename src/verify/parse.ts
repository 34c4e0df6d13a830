// Parsers of what the observations print (observe.ts). Pure, and lenient about what they skip: a
// line they do not understand is not theirs to judge.

export interface HeldAddress {
  device: string;
  /** the alias label (eth0:0, lo:0) or the device when it has none */
  label: string;
  address: string;
  prefix: number;
}

/** `ip -o -4 addr show`: one address per line. */
export function parseAddresses(stdout: string): HeldAddress[] {
  const out: HeldAddress[] = [];
  for (const line of stdout.split('\n')) {
    const m = /^\d+:\s+(\S+)\s+inet\s+(\d{1,3}(?:\.\d{1,3}){3})\/(\d{1,2})\b(.*)$/.exec(line);
    if (!m) continue;
    const device = m[1]!.replace(/@.*$/, '');
    // The label is the last word before the "\" that ends ip's one-line form (when it has one).
    const rest = m[4]!.split('\\')[0]!.trim().split(/\s+/);
    const last = rest.at(-1) ?? '';
    const label = last.startsWith(`${device}:`) || last === device ? last : device;
    out.push({ device, label, address: m[2]!, prefix: Number(m[3]) });
  }
  return out;
}

/**
 * `ipvsadm -Sn`: the rule lines, blanks normalized, in the words the rules are described in.
 * ipvsadm 1.30 and later print the tunnel type of every tunnelled real server, `--tun-type ipip`
 * included, which is the only type older kernels and ipvsadm know and the default: dropped, so
 * that a table is compared alike whichever ipvsadm printed it (another type, gue or gre, stays).
 */
export function parseIpvsRules(stdout: string): string[] {
  return stdout
    .split('\n')
    .map((line) => line.trim().split(/\s+/).join(' '))
    .filter((line) => line.startsWith('-A ') || line.startsWith('-a '))
    .map((line) => line.replace(/ --tun-type ipip(?= |$)/, ''));
}

/** `ps -e -o args=`: every process's command line. */
export function parseProcesses(stdout: string): string[] {
  return stdout.split('\n').map((line) => line.trim()).filter(Boolean);
}

/** The boot observation: service -> enabled? (systemd's "static"/"indirect" are not enabled). */
export function parseBoot(stdout: string): Map<string, string> {
  const out = new Map<string, string>();
  for (const line of stdout.split('\n')) {
    const [service, state] = line.trim().split(/\s+/);
    if (service) out.set(service, state ?? '');
  }
  return out;
}

/** The arp observation: interface -> arp_ignore, arp_announce ('-' when unreadable). */
export function parseArp(stdout: string): Map<string, { ignore: string; announce: string }> {
  const out = new Map<string, { ignore: string; announce: string }>();
  for (const line of stdout.split('\n')) {
    const [name, ignore, announce] = line.trim().split(/\s+/);
    if (name && ignore !== undefined && announce !== undefined) out.set(name.replaceAll('/', '.'), { ignore, announce });
  }
  return out;
}

/** `ip -4 route show default`: the gateway addresses of default routes. */
export function parseDefaultGateways(stdout: string): string[] {
  return [...stdout.matchAll(/^default\s+via\s+(\S+)/gm)].map((m) => m[1]!);
}
