// How the runner reaches a lab host: the lab's own key and known_hosts (written by `lab up`),
// checked strictly, unless the inventory gives the host a key of its own.
import type { InventoryHost } from '../inventory/model.ts';
import { labKeyPath, labKnownHostsPath } from './paths.ts';

export function withLabCredentials(host: InventoryHost, env: NodeJS.ProcessEnv = process.env): InventoryHost {
  if (!host.lab || host.key !== undefined) return host;
  return {
    ...host,
    key: labKeyPath(env),
    ssh: { ...host.ssh, knownHosts: labKnownHostsPath(env), hostKeyChecking: 'strict' },
  };
}
