import { Command } from 'commander';
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest';
import { lintBeforeRun, registerLintCommand } from '../../../src/cluster/cli.ts';
import { ruleCatalogue } from '../../../src/cluster/lint.ts';
import { UserError } from '../../../src/core/errors.ts';
import { heartbeatDoc, inventoryLoader, type Doc } from './support.ts';

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
    expect(lines).toHaveLength(2 * catalogue.length);
    expect(lines[0]).toMatch(/^dr-realserver-subnet +error +LVS-DR real servers/);
    expect(lines[1]).toMatch(/^ {4}LVS-DR forwards a request/);
    for (const id of ['heartbeat-node-name', 'piranha-backup-subnet', 'ipvs-single-owner']) {
      const at = lines.findIndex((line) => line.startsWith(`${id} `));
      expect(lines[at + 1]).toBe(`    ${catalogue.find((rule) => rule.id === id)?.reason}`);
    }
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
