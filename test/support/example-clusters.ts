// The clusters the cluster roles' golden tests render: every example inventory of inventory/ that
// has a cluster: section, and the fixtures of test/fixtures/clusters/ (setups the examples do not
// cover: manager none, keepalived with NAT, ...). Secrets come from fixed test values.
import { readdirSync } from 'node:fs';
import path from 'node:path';
import type { Cluster } from '../../src/cluster/model.ts';
import { loadInventory } from '../../src/inventory/load.ts';
import type { InventoryHostInput } from './plan-role.ts';
import { repoRoot } from './project.ts';

/** The environment the examples read their secrets from (!env); fake values, for tests only. */
export const exampleSecrets: Readonly<Record<string, string>> = { HA_AUTH_KEY: 'example-heartbeat-key', VRRP_PASS: 'k33pAl1v' };

export interface ExampleCluster {
  /** the file's name without .yaml: unique over inventory/ and test/fixtures/clusters/ */
  name: string;
  /** relative to the repository */
  file: string;
  cluster: Cluster;
  /** every inventory host, as planRole takes them */
  hosts: InventoryHostInput[];
}

const sources = ['inventory', path.join('test', 'fixtures', 'clusters')];

export async function loadExampleClusters(): Promise<ExampleCluster[]> {
  const examples: ExampleCluster[] = [];
  for (const dir of sources) {
    for (const entry of readdirSync(path.join(repoRoot, dir)).filter((f) => f.endsWith('.yaml')).sort()) {
      const file = path.join(dir, entry);
      const inventory = await loadInventory(path.join(repoRoot, file), { env: exampleSecrets });
      if (inventory.cluster === undefined) continue;
      const name = entry.replace(/\.yaml$/, '');
      if (examples.some((e) => e.name === name)) throw new Error(`two example clusters are named ${name}; rename one of the files`);
      const hosts = [...inventory.hosts.values()].map((h) => ({ name: h.name, address: h.address, groups: h.groups, vars: h.vars }));
      examples.push({ name, file, cluster: inventory.cluster, hosts });
    }
  }
  return examples;
}
