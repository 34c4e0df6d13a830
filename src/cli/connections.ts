// How a command reaches the inventory's hosts: the transports it uses (loaded only when used), the
// lab's credentials for lab hosts, and one shared connection per jump host. Used by every command
// that talks to hosts (a run, verify), so they reach them the same way.
import type { Connector, JumpHostProvider } from '../connectors/connector.ts';
import { loadConnectors } from '../connectors/load.ts';
import type { Inventory, InventoryHost } from '../inventory/model.ts';
import { withLabCredentials } from '../lab/connection.ts';

export interface ConnectOptions {
  /** where passwords and passphrases are read (default process.env) */
  env?: NodeJS.ProcessEnv;
  /** a host's settings as this command uses them (e.g. the asked sudo password) */
  adjust?(host: InventoryHost): InventoryHost;
  onWarning(message: string, host?: string): void;
}

/** A function that makes the connector of an inventory host. */
export async function hostConnectors(inventory: Inventory, options: ConnectOptions): Promise<(host: InventoryHost) => Connector> {
  const transports = new Set([...inventory.hosts.values()].map((host) => host.transport));
  const createConnector = await loadConnectors(transports);
  // Hosts behind a jump host (ssh.jump) share one connection to it; only ssh (and vagrant, through
  // ssh) hosts can have one.
  let jumpHosts: JumpHostProvider | undefined;
  if (transports.has('ssh') || transports.has('vagrant')) {
    const { JumpHosts } = await import('../connectors/jump-hosts.ts');
    jumpHosts = new JumpHosts(
      (name) => {
        const host = inventory.hosts.get(name);
        return host && withLabCredentials(host);
      },
      { onWarning: (message) => options.onWarning(message) },
    );
  }
  const adjust = options.adjust ?? ((host: InventoryHost) => host);
  return (host) =>
    createConnector(adjust(withLabCredentials(host)), {
      ...(options.env ? { env: options.env } : {}),
      ...(jumpHosts ? { jumpHosts } : {}),
      onWarning: (message) => options.onWarning(message, host.name),
    });
}
