// The facts script for real, on this machine, under dash and busybox sh: what it gathers must equal
// what the machine says through other means (uname, id, sourcing os-release, `ip -j addr`).
import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, realpathSync, rmSync } from 'node:fs';
import { basename } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import type { Facts, InterfaceFact } from '../../../src/core/facts.ts';
import { parseFacts } from '../../../src/facts/parse.ts';
import { factMarker, factsScript } from '../../../src/facts/script.ts';
import { busyboxAppletDir, posixShells, which, type PosixShell } from '../../support/posix-shells.ts';
import { sectionOrders } from './section-order.ts';

const [dash, busybox] = posixShells() as [PosixShell, PosixShell];
const systemPath = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin';

// A host where busybox is the only thing on PATH (its ip and ifconfig applets included).
const appletDir = busyboxAppletDir();
afterAll(() => rmSync(appletDir, { recursive: true, force: true }));

// An `ip` that fails, as on a host where it exists but cannot talk to the kernel: the script must
// fall back to ifconfig. A function, because a busybox built to prefer its applets ignores PATH.
const failingIp = 'ip() { return 1; }\n';

interface Run {
  stdout: string;
  stderr: string;
  status: number | null;
}

function runScript(shell: PosixShell, script: string, path: string): Run {
  const [program, ...args] = shell.command;
  // The environment the runner gives scripts: a PATH, LC_ALL=C, cwd /, the script on stdin.
  const result = spawnSync(program, args, { input: script, env: { PATH: path, LC_ALL: 'C' }, cwd: '/', encoding: 'utf8' });
  if (result.error) throw result.error;
  return { stdout: result.stdout, stderr: result.stderr, status: result.status };
}

const text = (program: string, ...args: string[]): string => execFileSync(program, args, { encoding: 'utf8' }).trim();

/** The interfaces as iproute2's JSON output describes them: an oracle independent of the parsers. */
function interfacesFromIpJson(): InterfaceFact[] {
  interface IpJsonLink {
    ifname: string;
    link_type: string;
    address?: string;
    addr_info: Array<{ family: string; local: string; prefixlen: number }>;
  }
  const links = JSON.parse(text('ip', '-j', 'addr', 'show')) as IpJsonLink[];
  return links.map((link) => {
    const cidrs = (family: string): string[] => link.addr_info.filter((a) => a.family === family).map((a) => `${a.local}/${a.prefixlen}`);
    const base = { name: link.ifname, ipv4: cidrs('inet'), ipv6: cidrs('inet6') };
    return link.link_type === 'ether' && link.address !== undefined ? { name: base.name, mac: link.address, ipv4: base.ipv4, ipv6: base.ipv6 } : base;
  });
}

/** ifconfig lists interfaces and IPv6 addresses in an order of its own: compare those sorted. */
const sorted = (interfaces: InterfaceFact[]): InterfaceFact[] =>
  interfaces.map((i) => ({ ...i, ipv6: [...i.ipv6].sort() })).sort((a, b) => a.name.localeCompare(b.name));

/**
 * Runs the script and reads the oracle before and after; if the machine's interfaces changed
 * meanwhile (another test creating a link), it tries again, at most three times.
 */
function gatherWithStableInterfaces(shell: PosixShell, path: string, prelude: string): { run: Run; facts: Facts; interfaces: InterfaceFact[] } {
  for (let attempt = 1; ; attempt++) {
    const before = interfacesFromIpJson();
    const run = runScript(shell, prelude + factsScript(), path);
    const after = interfacesFromIpJson();
    if (JSON.stringify(before) === JSON.stringify(after) || attempt === 3) return { run, facts: parseFacts(run.stdout), interfaces: after };
  }
}

const osRelease = text('/bin/sh', '-c', '. /etc/os-release && printf "%s\\n%s\\n%s\\n" "$ID" "$VERSION_ID" "$PRETTY_NAME"').split('\n');
const [osId = '', osVersionId = '', osPretty = ''] = osRelease;

const ifconfigPath = which('ifconfig');
const netToolsIfconfig = ifconfigPath !== undefined && basename(realpathSync(ifconfigPath)) === 'ifconfig';

const bash = which('bash');

const variants = [
  { name: 'dash with the system tools', shell: dash, path: systemPath, prelude: '', listing: 'ip' as const },
  { name: 'busybox sh with the system tools', shell: busybox, path: systemPath, prelude: '', listing: 'ip' as const },
  { name: 'busybox sh with only busybox applets (busybox ip)', shell: busybox, path: appletDir, prelude: '', listing: 'ip' as const },
  { name: 'busybox sh with a failing ip (busybox ifconfig)', shell: busybox, path: appletDir, prelude: failingIp, listing: 'ifconfig' as const },
  // bash is /bin/sh on EL; bash 3 (EL5) has no feature this script would need from a newer one
  { name: 'bash', shell: { name: 'bash', command: [bash ?? 'bash', '-s'] } as PosixShell, path: systemPath, prelude: '', listing: 'ip' as const, needs: bash !== undefined },
  { name: 'dash with a failing ip (net-tools ifconfig)', shell: dash, path: systemPath, prelude: failingIp, listing: 'ifconfig' as const, needs: netToolsIfconfig },
];

describe.each(variants)('factsScript() under $name', ({ shell, path, prelude, listing, needs }) => {
  it.skipIf(needs === false)('gathers what this machine says about itself, quietly and with status 0', () => {
    const { run, facts, interfaces } = gatherWithStableInterfaces(shell, path, prelude);
    expect(run.stderr).toBe('');
    expect(run.status).toBe(0);

    const markers = run.stdout
      .split('\n')
      .filter((line) => line.startsWith(factMarker))
      .map((line) => line.slice(factMarker.length + 1));
    expect(markers).toEqual(sectionOrders[listing]);

    expect(facts.nodename).toBe(text('uname', '-n'));
    expect(facts.arch).toBe(text('uname', '-m'));
    expect(facts.kernel).toBe(text('uname', '-r'));
    expect(facts.user).toBe(text('id', '-un'));
    expect(facts.os).toMatchObject({ distro: osId, version: osVersionId, major: Number.parseInt(osVersionId, 10), pretty: osPretty });
    if (osId === 'debian') expect(facts.os.family).toBe('debian');
    if (existsSync('/run/systemd/system')) expect(facts.init).toBe('systemd');
    else expect(facts.init).toBe(existsSync('/etc/init.d') ? 'sysv' : 'unknown');
    if (which('apt-get') !== undefined) expect(facts.packageManager).toBe('apt');

    if (listing === 'ip') expect(facts.interfaces).toEqual(interfaces);
    else expect(sorted(facts.interfaces)).toEqual(sorted(interfaces));
  });
});

describe('factsScript() in the runner’s script', () => {
  it.each([dash, busybox])('leaves the caller’s shell as it was, even under set -eu ($name)', (shell) => {
    const script = `set -eu\n${factsScript()}\necho "after: $? [$PATH] \${provision_links-unset} $(command -v provision_fact || echo no-function)"\n`;
    const run = runScript(shell, script, systemPath);
    expect(run.status).toBe(0);
    expect(run.stdout.trimEnd().split('\n').at(-1)).toBe(`after: 0 [${systemPath}] unset no-function`);
  });

  it('works when PATH lacks the sbin directories, as under sudo on EL5', () => {
    const run = runScript(dash, factsScript(), '/usr/bin:/bin');
    expect(parseFacts(run.stdout).interfaces).toEqual(interfacesFromIpJson());
  });
});
