// The connectors' entry point: createConnector picks the transport the inventory asks for. It loads
// every transport's module; the CLI uses loadConnectors (load.ts), which loads only those it needs.
import type { Connector, ConnectorOptions } from './connector.ts';
import { DockerConnector } from './docker.ts';
import { makeConnector, type HostToConnect } from './load.ts';
import { LocalConnector } from './local.ts';
import { SshConnector } from './ssh.ts';
import { VagrantConnector } from './vagrant.ts';

export { ConnectionError, type ConnectionErrorKind, type ConnectionTarget, type Connector, type ConnectorOptions, type RunOptions, type RunResult } from './connector.ts';
export type { HostToConnect } from './load.ts';

export function createConnector(host: HostToConnect, options: ConnectorOptions = {}): Connector {
  return makeConnector(host, options, { local: LocalConnector, ssh: SshConnector, docker: DockerConnector, vagrant: VagrantConnector });
}
