import { Command } from 'commander';
import { readFileSync } from 'node:fs';
import { readdir, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { lintBeforeRun, lintInventories, registerLintCommand } from '../../../src/cluster/cli.ts';
import { ruleCatalogue } from '../../../src/cluster/lint.ts';
import { UserError } from '../../../src/core/errors.ts';
import { loadInventory } from '../../../src/inventory/load.ts';
import { repoRoot } from '../inventory/files.ts';
import { heartbeatDoc, inventoryLoader, keepalivedDoc, type Doc } from './support.ts';

const { load, write } = inventoryLoader();
type Cluster = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- free-form edits of test data

let output: string[];
beforeEach(() => {
  output = [];
  vi.spyOn(process.stdout, 'write').mockImplementation((chunk) => {
    output.push(String(chunk));
    return true;
  });
  vi.stubEnv('HA_AUTH_KEY', 'hb-secret');
});
afterEach(() => {
  vi.restoreAllMocks();
  vi.unstubAllEnvs();
});

async function lint(...args: string[]): Promise<{ lines: string[]; error?: UserError }> {
  const program = new Command('provision').exitOverride();
  registerLintCommand(program);
  try {
    await program.parseAsync(['lint', ...args], { from: 'user' });
    return { lines: output.join('').split('\n').filter(Boolean) };
  } catch (error) {
    return { lines: output.join('').split('\n').filter(Boolean), error: error as UserError };
  }
}

function withCluster(edit: (cluster: Cluster) => void): Doc {
  const doc = heartbeatDoc();
  edit(doc.cluster);
  return doc;
}

describe('provision lint', () => {
  it('a clean cluster: a summary, no error', async () => {
    const file = await write(heartbeatDoc());
    expect(await lint('--inventory', file)).toEqual({ lines: ['lint: no findings (1 cluster)'] });
  });

  it('warnings are printed, one line each with the reason indented, and do not fail', async () => {
    const file = await write(withCluster((c) => (c.virtual_services[0].realservers[0].weight = 5)));
    const { lines, error } = await lint('-i', file);
    expect(error).toBeUndefined();
    expect(lines).toEqual([
      expect.stringMatching(new RegExp(`^${file}:\\d+:\\d+: warning \\[scheduler-weights\\] tcp 192\\.168\\.2\\.254:80: the real servers have different weights, but scheduler lc ignores weights$`)),
      expect.stringMatching(/^ {4}The rr, lc and dh schedulers ignore/),
      'lint: 1 warning, no errors',
    ]);
  });

  it('errors fail the command (exit 1 through the UserError), after every finding is printed', async () => {
    const file = await write(withCluster((c) => Object.assign(c.heartbeat, { deadtime: 3, authkeys: { method: 'crc' } })));
    const { lines, error } = await lint('-i', file);
    expect(lines.filter((line) => !line.startsWith(' '))).toEqual([
      expect.stringContaining('error [heartbeat-deadtime]'),
      expect.stringContaining('error [heartbeat-warntime]'),
      expect.stringContaining('error [authkeys-crc]'),
    ]);
    expect(error).toBeInstanceOf(UserError);
    expect(error?.message).toBe('the cluster lint found 3 errors');
  });

  it('an inventory without a cluster has nothing to lint', async () => {
    const { cluster: _cluster, ...rest } = heartbeatDoc();
    const file = await write(rest);
    expect(await lint('-i', file)).toEqual({ lines: [`${file}: no cluster: section, nothing to lint`] });
  });

  it('a missing inventory file', async () => {
    const { error } = await lint('-i', '/nonexistent/hosts.yaml');
    expect(error?.message).toBe('inventory file not found: /nonexistent/hosts.yaml');
  });

  it('--rules lists every rule, each with its reason indented below', async () => {
    const { lines } = await lint('--rules');
    const catalogue = ruleCatalogue();
    // and the warning for an unset !env variable, which the loader reports rather than a rule
    expect(lines).toHaveLength(2 * (catalogue.length + 1));
    expect(lines.at(-2)).toMatch(/^env-unset +warning +every variable read with !env is set/);
    expect(lines[0]).toMatch(/^dr-realserver-subnet +error +LVS-DR real servers/);
    expect(lines[1]).toMatch(/^ {4}LVS-DR forwards a request/);
    for (const id of ['heartbeat-node-name', 'piranha-backup-subnet', 'ipvs-single-owner']) {
      const at = lines.findIndex((line) => line.startsWith(`${id} `));
      expect(lines[at + 1]).toBe(`    ${catalogue.find((rule) => rule.id === id)?.reason}`);
    }
  });
});

describe('provision lint PLAYBOOK', () => {
  const site = path.join(repoRoot, 'playbooks', 'site.yml');
  const siteLine = (role: string) => readFileSync(site, 'utf8').split('\n').findIndex((text) => text.trim() === `- ${role}`) + 1;

  it("an inventory without a cluster, with site.yml: the run's error at the first cluster role's line, and what to do", async () => {
    const { cluster: _cluster, ...rest } = heartbeatDoc();
    const file = await write(rest);
    const { lines, error } = await lint('-i', file, site);
    expect(lines).toEqual([]);
    expect(error).toBeInstanceOf(UserError);
    expect(error?.format()).toBe(
      `${site}:${siteLine('source-builds')}:7: the source-builds role configures a cluster, but the inventory ${file} has no cluster: section\n` +
        '  describe the cluster under cluster: in the inventory (examples in inventory/*.yaml), or leave the cluster roles out of the playbook; no host was contacted',
    );
  });

  it('a playbook whose roles need no cluster: nothing to lint, as without a playbook', async () => {
    const { cluster: _cluster, ...rest } = heartbeatDoc();
    const file = await write(rest);
    const playbook = path.join(path.dirname(file), 'base.yml');
    await writeFile(playbook, '- hosts: all\n  roles: [base, client]\n');
    expect(await lint('-i', file, playbook)).toEqual({ lines: [`${file}: no cluster: section, nothing to lint`] });
  });

  it("the cluster's findings are printed before the playbook's error", async () => {
    const { cluster: _cluster, ...rest } = heartbeatDoc();
    const without = await write(rest);
    const warned = await write(withCluster((c) => (c.virtual_services[0].realservers[0].weight = 5)));
    const { lines, error } = await lint('-i', warned, '-i', without, site);
    expect(lines.filter((line) => !line.startsWith(' '))).toEqual([expect.stringContaining('warning [scheduler-weights]')]);
    expect(error?.message).toBe(`the source-builds role configures a cluster, but the inventory ${without} has no cluster: section`);
  });

  it('inventory/vagrant.yaml with site.yml (what `vagrant up` runs) passes', async () => {
    expect(await lint('-i', path.join(repoRoot, 'inventory', 'vagrant.yaml'), site)).toEqual({ lines: ['lint: no findings (1 cluster)'] });
  });

  it('a playbook that does not exist or names an unknown role: the error a run gives', async () => {
    expect((await lint('-i', await write(heartbeatDoc()), '/nonexistent/site.yml')).error?.message).toMatch(/^cannot read playbook \/nonexistent\/site\.yml/);
    const file = await write(heartbeatDoc());
    const playbook = path.join(path.dirname(file), 'typo.yml');
    await writeFile(playbook, '- hosts: all\n  roles: [heartbaet]\n');
    expect((await lint('-i', file, playbook)).error?.message).toBe("unknown role 'heartbaet'");
  });
});

describe('provision lint without the secrets', () => {
  it('an unset !env is a warning naming file:line:column and the variable; the command succeeds', async () => {
    vi.stubEnv('HA_AUTH_KEY', undefined);
    const file = await write(heartbeatDoc());
    const line = readFileSync(file, 'utf8').split('\n').findIndex((text) => text.includes('!env HA_AUTH_KEY')) + 1;
    const { lines, error } = await lint('-i', file);
    expect(error).toBeUndefined();
    const [warning] = lines;
    expect(warning).toMatch(new RegExp(`^${file}:${line}:\\d+: `));
    expect(warning?.replace(/^.*?: /, '')).toBe('warning [env-unset] HA_AUTH_KEY is not set (cluster.heartbeat.authkeys.key): a run will need it (export HA_AUTH_KEY=...)');
    expect(lines.slice(1)).toEqual([
      expect.stringMatching(/^ {4}Lint runs without the secrets/),
      'lint: 1 warning, no errors',
    ]);
  });

  it("the findings are those with the secrets: an unknown VRRP password has no length to judge", async () => {
    vi.stubEnv('VRRP_PASS', undefined);
    const { lines, error } = await lint('-i', await write(keepalivedDoc()));
    expect(error).toBeUndefined();
    expect(lines.filter((text) => !text.startsWith(' '))).toEqual([expect.stringContaining('warning [env-unset] VRRP_PASS is not set'), 'lint: 1 warning, no errors']);
  });

  it('every example inventory: lint without the secrets finds what lint with them finds', async () => {
    const examples = (await readdir(path.join(repoRoot, 'inventory'))).filter((name) => name.endsWith('.yaml'));
    let clusters = 0;
    for (const name of examples) {
      const file = path.join(repoRoot, 'inventory', name);
      const unset: string[] = [];
      const without = await loadInventory(file, { env: {}, onUnsetEnv: (u) => unset.push(u.variable) });
      const withSecrets = await loadInventory(file, { env: { HA_AUTH_KEY: 'hb-secret', VRRP_PASS: 'vrrp-pw1' } });
      expect(lintInventories([without]), name).toEqual(lintInventories([withSecrets]));
      if (without.cluster !== undefined) clusters += 1;
      if (unset.length > 0) expect(unset.every((variable) => ['HA_AUTH_KEY', 'VRRP_PASS'].includes(variable)), name).toBe(true);
    }
    expect(clusters).toBeGreaterThanOrEqual(6);
  });
});

describe('lintBeforeRun', () => {
  it('prints warnings and lets the run go on; stops it on errors', async () => {
    const written: string[] = [];
    lintBeforeRun(await load(withCluster((c) => (c.virtual_services[0].realservers[0].weight = 5))), (line) => written.push(line));
    expect(written).toHaveLength(1);
    expect(() => lintBeforeRun({ cluster: undefined, hosts: new Map() }, () => undefined)).not.toThrow();
    const broken = await load(withCluster((c) => (c.heartbeat.initdead = 10)));
    expect(() => lintBeforeRun(broken, () => undefined)).toThrow('the cluster lint found 1 error');
  });
});
