// keepalived --config-test on this machine, for the keepalived role's tests: the real parser is the
// judge of what the role writes. keepalived refuses interfaces that do not exist, so each check
// runs in a network namespace of its own (unshare -n) with a veth pair for every interface the
// file names; that needs root, unshare and ip. KEEPALIVED_BIN names a keepalived that is not on
// PATH (e.g. one extracted with dpkg-deb -x; give LD_LIBRARY_PATH for its libraries too).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { which } from './posix-shells.ts';

export interface KeepalivedBinary {
  path: string;
  /** e.g. "2.2.7" */
  version: string;
  major: number;
}

export type KeepalivedAvailability = { binary: KeepalivedBinary } | { skip: string };

/** The keepalived to test with, or why the config tests cannot run here. */
export function findKeepalived(): KeepalivedAvailability {
  const candidate = process.env.KEEPALIVED_BIN || which('keepalived') || ['/usr/sbin/keepalived', '/sbin/keepalived'].find((p) => existsSync(p));
  if (candidate === undefined) return { skip: 'keepalived is not installed (apt-get install keepalived, or set KEEPALIVED_BIN)' };
  if (process.getuid?.() !== 0) return { skip: 'keepalived --config-test runs in a network namespace of its own, which needs root' };
  for (const tool of ['unshare', 'ip']) if (which(tool) === undefined) return { skip: `${tool} is not installed (util-linux, iproute2)` };
  const run = spawnSync(candidate, ['--version'], { encoding: 'utf8' });
  const version = /Keepalived v(\d+(?:\.\d+)*)/.exec(`${run.stdout}${run.stderr}`)?.[1];
  if (version === undefined) return { skip: `${candidate} --version does not print a keepalived version: ${(run.stderr || run.stdout || String(run.error)).trim()}` };
  const probe = spawnSync('unshare', ['-n', 'ip', 'link', 'add', 'kaProbe', 'type', 'veth', 'peer', 'name', 'kaProbePeer']);
  if (probe.status !== 0) {
    return { skip: `cannot make the interfaces keepalived checks for (unshare -n ip link add ... type veth: ${probe.stderr.toString().trim() || `exit ${probe.status}`})` };
  }
  return { binary: { path: candidate, version, major: Number.parseInt(version, 10) } };
}

/** The interfaces a keepalived.conf names (vrrp_instance interface, virtual_ipaddress dev). */
export function interfacesOf(conf: string): string[] {
  const names = [...conf.matchAll(/^\s*interface\s+(\S+)/gm), ...conf.matchAll(/\sdev\s+(\S+)/g)].map((m) => m[1] as string);
  return [...new Set(names)];
}

/** keepalived --config-test of `conf`: exit status 0, or its complaints. */
export function configTest(binary: KeepalivedBinary, conf: string): { ok: boolean; output: string } {
  const dir = mkdtempSync(path.join(tmpdir(), 'provision-keepalived-'));
  try {
    const file = path.join(dir, 'keepalived.conf');
    writeFileSync(file, conf);
    const links = interfacesOf(conf).map((name, i) => `ip link add ${name} type veth peer name kaPeer${i}`);
    const script = [...links, `exec "$0" --config-test -f "$1"`].join(' && ');
    const run = spawnSync('unshare', ['-n', 'sh', '-c', script, binary.path, file], { encoding: 'utf8', timeout: 30_000 });
    return { ok: run.status === 0, output: `${run.stdout}${run.stderr}`.trim() || `exit ${run.status ?? run.signal}` };
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
}
