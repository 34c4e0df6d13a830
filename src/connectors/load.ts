// Which connector a host gets, and loading only the transports a run uses: ssh2, dockerode and
// execa take a while to import, and a run over ssh needs neither docker's nor vagrant's code.
import { UserError } from '../core/errors.ts';
import type { ConnectionTarget, Connector, ConnectorOptions } from './connector.ts';

/** A host as the inventory describes it; its transport may be one this build cannot use yet. */
export type HostToConnect = Omit<ConnectionTarget, 'transport'> & { transport: string };

export type Transport = ConnectionTarget['transport'];
export type ConnectorClass = new (target: ConnectionTarget, options?: ConnectorOptions) => Connector;
export type ConnectorClasses = Partial<Record<Transport, ConnectorClass>>;
export type ConnectorFactory = (host: HostToConnect, options?: ConnectorOptions) => Connector;

const TRANSPORTS: Record<Transport, () => Promise<ConnectorClass>> = {
  local: async () => (await import('./local.ts')).LocalConnector,
  ssh: async () => (await import('./ssh.ts')).SshConnector,
  docker: async () => (await import('./docker.ts')).DockerConnector,
  vagrant: async () => (await import('./vagrant.ts')).VagrantConnector,
};

function isTransport(name: string): name is Transport {
  return Object.hasOwn(TRANSPORTS, name);
}

/** The connector of `host`'s transport, made from `classes` (an unknown transport is the user's error). */
export function makeConnector(host: HostToConnect, options: ConnectorOptions, classes: ConnectorClasses): Connector {
  const { transport } = host;
  if (!isTransport(transport)) {
    throw new UserError(`transport ${transport} of ${host.name} is not supported`, { host: host.name }, 'use transport: ssh, local, docker or vagrant');
  }
  const Class = classes[transport];
  if (Class === undefined) throw new Error(`the ${transport} connector was not loaded (host ${host.name})`);
  return new Class({ ...host, transport }, options);
}

/** A createConnector for hosts of these transports, having imported only their modules. */
export async function loadConnectors(transports: Iterable<string>): Promise<ConnectorFactory> {
  const classes: ConnectorClasses = {};
  for (const transport of new Set(transports)) if (isTransport(transport)) classes[transport] = await TRANSPORTS[transport]();
  return (host, options = {}) => makeConnector(host, options, classes);
}
