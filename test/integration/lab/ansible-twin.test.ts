// The bench's Ansible twin (scripts/bench/ansible-twin.ts) does what our playbook does: on lab
// namespace hosts (a real server with nginx, and the client with curl), after our first run
// ansible-playbook changes nothing, and after its first run on fresh hosts ours changes nothing.
// The inventory is inventory/lab.yaml with every host a namespace host (the directors are up but
// not provisioned: --limit), so it runs in about a minute without the emulated VMs.
import { readFile, rm, writeFile, mkdir } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../../src/inventory/load.ts';
import { machineApt } from '../../../src/lab/apt.ts';
import { labDown, labReset, labUp } from '../../../src/lab/lab.ts';
import { exportLabSecrets } from '../../../src/lab/secrets.ts';
import { loadPlaybook } from '../../../src/playbook/load.ts';
import { runAnsible, runProvision, type RunOutcome } from '../../../scripts/bench/tools.ts';
import { gatherFacts, writeTwin, type WrittenTwin } from '../../../scripts/bench/twin-files.ts';
import { repoRoot } from '../../support/project.ts';
import { assertNoLabRunning, FIRST_BUILD_TIMEOUT_MS, skipReason } from './support.ts';

const HOSTS = ['web1', 'client'];
const LIMIT = HOSTS.join(':');

describe.skipIf(skipReason)('the Ansible twin of playbooks/site.yml', () => {
  const dir = path.join(tmpdir(), 'provision-lab-test', 'twin');
  const env: NodeJS.ProcessEnv = { ...process.env };
  let inventoryFile: string;
  let twin: WrittenTwin;
  let addresses: Map<string, string>;
  const playbookFile = path.join(repoRoot, 'playbooks/site.yml');
  const request = { check: false, limit: LIMIT, forks: 20 };

  beforeAll(async () => {
    assertNoLabRunning();
    exportLabSecrets(env);
    const missing = await machineApt.missing(['ansible-core']);
    if (missing.length > 0) await machineApt.install(missing, 'the Ansible twin test');
    await mkdir(dir, { recursive: true });
    inventoryFile = path.join(dir, '..', 'lab-namespace-only.yaml');
    const shipped = await readFile(path.join(repoRoot, 'inventory/lab.yaml'), 'utf8');
    await writeFile(inventoryFile, shipped.replaceAll('kind: vm', 'kind: namespace'));
    await labUp({ inventoryFile, env });
    const inventory = await loadInventory(inventoryFile, { env });
    const hosts = HOSTS.map((name) => inventory.hosts.get(name)!);
    addresses = new Map(hosts.map((host) => [host.name, host.address] as const));
    twin = await writeTwin(path.join(dir, 'ansible'), { inventory, playbook: await loadPlaybook(playbookFile), hosts, facts: await gatherFacts(hosts), forks: 20, strategy: 'linear' });
  }, FIRST_BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await labDown().catch((error: unknown) => console.error(error));
    await rm(dir, { recursive: true, force: true });
  });

  const describeRun = (outcome: RunOutcome) => `${outcome.tool} exit ${outcome.measured.exitCode}:\n${outcome.measured.stdout.slice(-4000)}\n${outcome.measured.stderr.slice(-2000)}`;

  it('changes nothing after our first run', async () => {
    const ours = await runProvision(inventoryFile, playbookFile, request, env);
    expect(ours.failed, describeRun(ours)).toBe(false);
    expect(ours.changed.web1, describeRun(ours)).toBeGreaterThan(5);
    const theirs = await runAnsible(twin, addresses, request, env, { warm: false });
    expect(theirs.failed, describeRun(theirs)).toBe(false);
    expect(theirs.changed, describeRun(theirs)).toEqual({ web1: 0, client: 0 });
    // It did run the tasks: one ssh execution at least per task on the real server.
    expect(theirs.executions.web1).toBeGreaterThan(10);
  }, 300_000);

  it('makes a state on fresh hosts in which ours changes nothing', async () => {
    await labReset({ host: HOSTS, env });
    const theirs = await runAnsible(twin, addresses, request, env, { warm: false });
    expect(theirs.failed, describeRun(theirs)).toBe(false);
    expect(theirs.changed.web1, describeRun(theirs)).toBeGreaterThan(5);
    const ours = await runProvision(inventoryFile, playbookFile, request, env);
    expect(ours.failed, describeRun(ours)).toBe(false);
    expect(ours.changed, describeRun(ours)).toEqual({ web1: 0, client: 0 });
  }, 300_000);
});
