// The connectors' entry point: createConnector picks the transport the inventory asks for.
import { UserError } from '../core/errors.ts';
import type { ConnectionTarget, Connector, ConnectorOptions } from './connector.ts';
import { DockerConnector } from './docker.ts';
import { LocalConnector } from './local.ts';
import { SshConnector } from './ssh.ts';
import { VagrantConnector } from './vagrant.ts';

export { ConnectionError, type ConnectionErrorKind, type ConnectionTarget, type Connector, type ConnectorOptions, type RunOptions, type RunResult } from './connector.ts';

/** A host as the inventory describes it; its transport may be one this build cannot use yet. */
export type HostToConnect = Omit<ConnectionTarget, 'transport'> & { transport: string };

export function createConnector(host: HostToConnect, options: ConnectorOptions = {}): Connector {
  const { transport } = host;
  switch (transport) {
    case 'local':
    case 'ssh':
    case 'docker':
    case 'vagrant': {
      const target: ConnectionTarget = { ...host, transport };
      if (transport === 'local') return new LocalConnector(target, options);
      if (transport === 'docker') return new DockerConnector(target, options);
      if (transport === 'vagrant') return new VagrantConnector(target, options);
      return new SshConnector(target, options);
    }
    default:
      throw new UserError(`transport ${transport} of ${host.name} is not supported`, { host: host.name }, 'use transport: ssh, local, docker or vagrant');
  }
}
