import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { parseExtraVars } from '../../../src/inventory/extra-vars.ts';
import { loadInventory } from '../../../src/inventory/load.ts';
import { mergeVars, runVarLayers } from '../../../src/inventory/precedence.ts';
import { fixture } from './files.ts';

// The fixture sets variable `xy` in layers x and y only (see its header); the later layer must win.
const inventoryFile = fixture('inventory/precedence/hosts.yaml');

async function mergedForMaster() {
  const inventory = await loadInventory(inventoryFile);
  const host = inventory.hosts.get('lvs-master');
  if (host === undefined) throw new Error('fixture has no lvs-master');
  const extraVars = await parseExtraVars(['qx=X']);
  return mergeVars(
    runVarLayers({
      role: { name: 'director', defaults: { ra: 'R', only_r: 'R' } },
      host,
      play: { name: 'Directors', vars: { hp: 'P', pq: 'P' } },
      roleParams: { vars: { pq: 'Q', qx: 'Q' } },
      extraVars,
    }),
  );
}

describe('variable precedence, every adjacent pair of the chain', () => {
  it.each([
    ['ra', 'role defaults < all group vars (inventory)', 'A'],
    ['ab', 'all (inventory) < group_vars/all.yml', 'B'],
    ['bc', 'group_vars/all.yml < parent group (inventory)', 'C'],
    ['cd', 'parent group (inventory) < group_vars/<parent>.yml', 'D'],
    ['de', 'group_vars/<parent>.yml < child group (inventory)', 'E'],
    ['ef', 'child group (inventory) < group_vars/<child>.yml', 'F'],
    ['fg', 'group_vars/<child>.yml < host vars (inventory)', 'G'],
    ['gh', 'host vars (inventory) < host_vars/<host>.yml', 'H'],
    ['hp', 'host_vars/<host>.yml < play vars', 'P'],
    ['pq', 'play vars < role parameters', 'Q'],
    ['qx', 'role parameters < extra vars', 'X'],
  ])('%s: %s', async (variable, _pair, winner) => {
    const { vars } = await mergedForMaster();
    expect(vars[variable]).toBe(winner);
  });

  it('keeps variables that only a low layer sets', async () => {
    const { vars } = await mergedForMaster();
    expect(vars.only_r).toBe('R');
    expect(vars.only_a).toBe('A');
  });

  it('replaces a mapping whole instead of merging it (hash_behaviour=replace)', async () => {
    const { vars } = await mergedForMaster();
    expect(vars.whole).toEqual({ x: 3 });
  });

  it('groups at the same depth apply in name order; a deeper group beats any name', async () => {
    const { vars } = await mergedForMaster();
    expect(vars.sibling).toBe('beta');
    expect(vars.depth_vs_name).toBe('directors');
    const inventory = await loadInventory(inventoryFile);
    expect(inventory.hosts.get('lvs-master')?.groups).toEqual(['all', 'alpha', 'beta', 'lvs', 'zz', 'directors']);
  });

  it('records which layer each winning value came from', async () => {
    const { origin } = await mergedForMaster();
    const dir = path.dirname(inventoryFile);
    expect(origin.ra).toEqual({ layer: 'group all (inventory)', file: inventoryFile, line: 7, column: 11 });
    expect(origin.ab).toEqual({ layer: 'group_vars/all.yml', file: path.join(dir, 'group_vars/all.yml'), line: 1, column: 3 });
    expect(origin.gh).toEqual({ layer: 'host_vars/lvs-master.yml', file: path.join(dir, 'host_vars/lvs-master.yml'), line: 1, column: 3 });
    expect(origin.only_r).toEqual({ layer: 'role director defaults' });
    expect(origin.hp).toEqual({ layer: 'play "Directors" vars' });
    expect(origin.pq).toEqual({ layer: 'role parameters' });
    expect(origin.qx).toEqual({ layer: 'extra vars (-e)' });
  });
});

describe('mergeVars', () => {
  it('later layers win variable by variable; origins come from the layer when it has none per variable', () => {
    const merged = mergeVars([
      { name: 'low', vars: { a: 1, b: { deep: true } }, file: 'low.yml' },
      { name: 'high', vars: { b: { other: 1 }, c: 3 }, origin: { b: { layer: 'high', file: 'high.yml', line: 4 } } },
    ]);
    expect(merged.vars).toEqual({ a: 1, b: { other: 1 }, c: 3 });
    expect(merged.origin).toEqual({ a: { layer: 'low', file: 'low.yml' }, b: { layer: 'high', file: 'high.yml', line: 4 }, c: { layer: 'high' } });
  });

  it('runVarLayers leaves out the layers it is not given', () => {
    const layers = runVarLayers({ host: { name: 'web1', vars: { a: 1 }, varOrigin: {} } });
    expect(layers.map((layer) => layer.name)).toEqual(['inventory (host web1)']);
  });
});
