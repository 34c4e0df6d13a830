import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../../src/inventory/load.ts';
import { describeAction, hostAction, whyRebuildLab } from '../../../src/lab/host-actions.ts';
import { planLab, type LabPlan } from '../../../src/lab/settings.ts';
import type { LabState } from '../../../src/lab/state.ts';

let dir: string;
beforeAll(async () => {
  dir = await mkdtemp(path.join(tmpdir(), 'provision-host-actions-'));
});
afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

/** The lab plan of an inventory of `hosts` lines ("name: { address: ..., lab: ... }"). */
async function plan(...hosts: string[]): Promise<LabPlan> {
  const file = path.join(dir, `inventory-${Math.random().toString(36).slice(2)}.yaml`);
  await writeFile(file, `all:\n  hosts:\n${hosts.map((host) => `    ${host}\n`).join('')}`);
  return planLab(await loadInventory(file));
}

const WEB1 = 'web1: { address: 10.213.2.252, lab: { kind: namespace } }';
const WEB2 = 'web2: { address: 10.213.2.253, lab: { kind: namespace } }';
const BASE = 'the rootfs built 2026-12-03T14:00:00Z';

function labState(lab: LabPlan, phase: LabState['phase'] = 'up'): LabState {
  return { version: 1, phase, inventory: 'lab.yaml', createdAt: '', bridges: lab.bridges, resources: [], hosts: {} };
}

describe('what lab up does to each host of a lab that is up', () => {
  it('keeps a healthy host with the same settings and base running', async () => {
    const [web1] = (await plan(WEB1)).hosts;
    expect(hostAction({ spec: web1!, base: BASE }, web1!, BASE, 'answers')).toEqual({ action: 'keep' });
  });

  it('starts a host that is down again on its disk, saying why', async () => {
    const [web1] = (await plan(WEB1)).hosts;
    expect(hostAction({ spec: web1!, base: BASE }, web1!, BASE, 'ended')).toEqual({ action: 'restart', why: 'its processes had ended' });
    expect(hostAction({ spec: web1!, base: BASE }, web1!, BASE, 'silent')).toEqual({ action: 'restart', why: 'its ssh did not answer' });
  });

  it('restarts a healthy host whose position (which names its links) changed, keeping its disk', async () => {
    const before = (await plan(WEB2)).hosts[0]!;
    const after = (await plan(WEB1, WEB2)).hosts[1]!;
    expect([before.index, after.index]).toEqual([0, 1]);
    expect(hostAction({ spec: before, base: BASE }, after, BASE, 'answers')).toMatchObject({ action: 'restart' });
  });

  it('rebuilds a host whose kind, addresses or base changed, running or not, and says what changed', async () => {
    const web1 = (await plan(WEB1)).hosts[0]!;
    const asVm = (await plan('web1: { address: 10.213.2.252, lab: { kind: vm } }')).hosts[0]!;
    const moved = (await plan('web1: { address: 10.213.2.99, lab: { kind: namespace } }')).hosts[0]!;
    expect(hostAction({ spec: web1, base: BASE }, asVm, BASE, 'answers')).toEqual({ action: 'rebuild', why: 'its kind changed (namespace -> vm)' });
    expect(hostAction({ spec: web1, base: BASE }, moved, BASE, 'ended')).toEqual({ action: 'rebuild', why: 'its addresses changed (eth0 10.213.2.252/24 -> eth0 10.213.2.99/24)' });
    expect(hostAction({ spec: web1, base: 'VM image aaaa' }, web1, 'VM image bbbb', 'answers')).toEqual({ action: 'rebuild', why: 'its base changed (was VM image aaaa, now VM image bbbb)' });
    // A record without a base (an older lab) cannot be trusted to fit.
    expect(hostAction({ spec: web1 }, web1, BASE, 'answers')).toMatchObject({ action: 'rebuild' });
  });

  it('creates a host the lab does not have', async () => {
    const web1 = (await plan(WEB1)).hosts[0]!;
    expect(hostAction(undefined, web1, BASE, 'ended')).toEqual({ action: 'create' });
  });

  it('describes each action as lab up prints it', () => {
    expect(describeAction({ action: 'keep' })).toBe('kept running');
    expect(describeAction({ action: 'restart', why: 'its processes had ended' })).toBe('restarted on its disk (its processes had ended)');
    expect(describeAction({ action: 'rebuild', why: 'its kind changed (namespace -> vm)' })).toBe('rebuilt on a new disk (its kind changed (namespace -> vm))');
    expect(describeAction({ action: 'create' })).toBe('created');
  });
});

describe('when lab up makes the whole lab anew', () => {
  it('keeps a finished lab with the same networks and rootfs', async () => {
    const lab = await plan(WEB1, WEB2);
    expect(whyRebuildLab(labState(lab), lab.bridges, true)).toBeUndefined();
  });

  it('remakes a lab whose lab up did not finish, whose networks changed, or whose rootfs is rebuilt', async () => {
    const lab = await plan(WEB1, WEB2);
    expect(whyRebuildLab(labState(lab, 'starting'), lab.bridges, true)).toBe('the lab up that made it did not finish');
    const otherSubnet = await plan('web1: { address: 10.214.2.252, lab: { kind: namespace } }');
    expect(whyRebuildLab(labState(lab), otherSubnet.bridges, true)).toBe('its networks changed (were 10.213.2.0/24; now 10.214.2.0/24)');
    expect(whyRebuildLab(labState(lab), lab.bridges, false)).toMatch(/^the lab's root filesystem is rebuilt/);
  });
});
