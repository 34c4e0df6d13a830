// The connectors' entry point: createConnector picks the transport the inventory asks for.
import { UserError } from '../core/errors.ts';
import type { ConnectionTarget, Connector, ConnectorOptions } from './connector.ts';
import { LocalConnector } from './local.ts';
import { SshConnector } from './ssh.ts';

export { ConnectionError, type ConnectionErrorKind, type ConnectionTarget, type Connector, type ConnectorOptions, type RunOptions, type RunResult } from './connector.ts';

/** A host as the inventory describes it; its transport may be one this build cannot use yet. */
export type HostToConnect = Omit<ConnectionTarget, 'transport'> & { transport: string };

export function createConnector(host: HostToConnect, options: ConnectorOptions = {}): Connector {
  const { transport } = host;
  switch (transport) {
    case 'local':
    case 'ssh': {
      const target: ConnectionTarget = { ...host, transport };
      return transport === 'local' ? new LocalConnector(target, options) : new SshConnector(target, options);
    }
    default:
      throw new UserError(`transport ${transport} of ${host.name} is not supported`, { host: host.name }, 'use transport: ssh or transport: local');
  }
}
