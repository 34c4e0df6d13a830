// What the lab cluster tests share: the recap of a run, bounded waits, and what a director holds.
import { get } from 'node:http';
import path from 'node:path';
import { expect } from 'vitest';
import { labDown, labUp } from '../../../src/lab/lab.ts';
import { makeProject, repoRoot, runCli, type CliResult, type Project } from '../../support/project.ts';
import { assertNoLabRunning, sshOk } from '../lab/support.ts';

/** The addresses of inventory/lab.yaml, which every lab cluster test's hosts take; bridge is this machine's. */
export const LAB_ADDRESSES = {
  master: '10.213.2.250',
  backup: '10.213.2.251',
  web1: '10.213.2.252',
  web2: '10.213.2.253',
  client: '10.213.2.10',
  vip: '10.213.2.254',
  bridge: '10.213.2.1',
} as const;

/** The repository's own playbook, which the tests run as users do. */
export const sitePlaybook = path.join(repoRoot, 'playbooks', 'site.yml');

export function recapRows(result: CliResult): Array<Record<string, unknown>> {
  const recap = result.events.find((e) => e.type === 'recap') as { hosts?: Array<Record<string, unknown>> } | undefined;
  if (!recap?.hosts) throw new Error(`no recap (exit ${result.exitCode}):\n${result.stderr}\n${result.stdout.slice(-3000)}`);
  return recap.hosts;
}

/** Every host of the run's recap matches `expected` (the tail of the run's output says why not). */
export function expectEveryHost(result: CliResult, expected: Record<string, number>): void {
  for (const row of recapRows(result)) expect(row, result.stdout.slice(-3000)).toMatchObject(expected);
}

/** `secret` is nowhere in what the run printed or recorded (output and --json events). */
export function expectNotPrinted(result: CliResult, secret: string): void {
  expect(`${result.stdout}${result.stderr}${JSON.stringify(result.events)}`).not.toContain(secret);
}

/** A twin's project and the user's commands on it, with the twin's secrets in the environment. */
export interface Twin {
  project: Project;
  /** the project's inventory.yaml */
  file: string;
  /** provision playbooks/site.yml --inventory inventory.yaml */
  provision(): Promise<CliResult>;
  /** provision ARGS --inventory inventory.yaml (verify, drill ...) */
  command(args: string[]): Promise<CliResult>;
}

/** Makes the twin's project from `inventory` and brings the lab up from it (no lab may be up). */
export async function twinLab(inventory: string, env: Record<string, string>): Promise<Twin> {
  assertNoLabRunning();
  const project = await makeProject({ 'inventory.yaml': inventory });
  const file = path.join(project.dir, 'inventory.yaml');
  try {
    await labUp({ inventoryFile: file, env: { ...process.env, ...env } });
  } catch (error) {
    await project.remove();
    throw error;
  }
  return {
    project,
    file,
    provision: () => runCli(project, ['--inventory', 'inventory.yaml', sitePlaybook], { env }),
    command: (args) => runCli(project, [...args, '--inventory', 'inventory.yaml'], { env }),
  };
}

/**
 * Commands that close a director's firewall before the first run: everything but ssh and replies
 * (apt's downloads from the mirror). What the cluster needs gets through only if the firewall role
 * opens it.
 */
export const CLOSE_FIREWALL = [
  '{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q iptables; } >/dev/null 2>&1',
  'iptables -A INPUT -i lo -j ACCEPT',
  'iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
  'iptables -A INPUT -p tcp --dport 22 -j ACCEPT',
  'iptables -P INPUT DROP',
];

/**
 * The first line of each of `count` answers `from` got through `vip` (each a new connection, so
 * that the director schedules every request): the index page's line, the real server's name.
 */
export async function answersThrough(from: string, vip: string, count: number): Promise<string[]> {
  const out = await sshOk(from, `for i in $(seq ${count}); do curl -s -m 3 http://${vip}/ | head -n 1; echo; done`, 60_000);
  return out.split('\n').map((line) => line.trim()).filter(Boolean);
}

/** What every lab cluster test does last: the lab down, its project removed. */
export async function tearDownLab(project: Project | undefined): Promise<void> {
  await labDown();
  await project?.remove();
}

/** Polls `check` every second until it returns a value, for at most `seconds`. */
export async function waitFor<T>(what: string, seconds: number, check: () => Promise<T | undefined>): Promise<T> {
  let last: unknown;
  for (let i = 0; i < seconds; i++) {
    try {
      const value = await check();
      if (value !== undefined) return value;
    } catch (error) {
      last = error;
    }
    await new Promise((resolve) => setTimeout(resolve, 1000));
  }
  throw new Error(`gave up after ${seconds} s waiting for ${what}${last ? `: ${String(last)}` : ''}`);
}

/** Whether the director at `address` has `vip` on its eth0. */
export async function holdsVip(address: string, vip: string = LAB_ADDRESSES.vip): Promise<boolean> {
  return (await sshOk(address, 'ip -o -4 addr show dev eth0')).includes(` ${vip}/`);
}

/** `ipvsadm -Sn` on a director: its IPVS table in the form the director role renders rules in. */
export async function ipvsTable(address: string): Promise<string[]> {
  return (await sshOk(address, 'ipvsadm -Sn')).split('\n').filter(Boolean);
}

/**
 * The body of GET `url` from this machine (on the lab bridge), trimmed, or '' when no reply came
 * within 3 s. A new TCP connection each time, so that the director schedules every request.
 */
export function fetchFromHere(url: string): Promise<string> {
  return new Promise((resolve) => {
    const request = get(url, { agent: false, timeout: 3000 }, (response) => {
      let body = '';
      response.setEncoding('utf8').on('data', (chunk: string) => (body += chunk));
      response.on('end', () => resolve(body.trim()));
      response.on('error', () => resolve(''));
    });
    request.on('timeout', () => request.destroy());
    request.on('error', () => resolve(''));
  });
}

export interface CheckEvent {
  check: string;
  subject: string;
  status: 'pass' | 'fail';
  detail: string;
}

/** The check events of a verify/drain run (its --json), as "check subject" -> the event. */
export function checksOf(result: CliResult): Map<string, CheckEvent> {
  const checks = result.events.filter((e) => e.type === 'check') as unknown as CheckEvent[];
  return new Map(checks.map((c) => [`${c.check} ${c.subject}`, c]));
}

/** The checks that failed, as "check subject: detail" lines (for assertion messages too). */
export function failedChecks(result: CliResult): string[] {
  return [...checksOf(result).values()].filter((c) => c.status === 'fail').map((c) => `${c.check} ${c.subject}: ${c.detail}`);
}
