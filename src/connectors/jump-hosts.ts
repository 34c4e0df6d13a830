// The jump hosts of a run (inventory `ssh: { jump: NAME }`, OpenSSH's ProxyJump): one ssh
// connection per jump host, shared by every host behind it, closed when the last of them closes.
// A jump host may itself be behind a jump host: its connector gets this same JumpHosts, so chains
// share connections too. The inventory loader refuses loops; so does lease(), for targets built in
// code. A jump host that is also a target of the run keeps a connection of its own for its commands.
import { ConnectionError, type ConnectionTarget, type ConnectorOptions, type JumpHostLease, type JumpHostProvider } from './connector.ts';
import type { HostToConnect } from './index.ts';
import { SshConnector } from './ssh.ts';

interface JumpConnection {
  connector: SshConnector;
  /** leases not yet released */
  users: number;
}

export class JumpHosts implements JumpHostProvider {
  private readonly connections = new Map<string, JumpConnection>();

  /**
   * @param lookup the host with this inventory name, as connectors get it (credentials included),
   *   or undefined when there is none
   * @param options for the connections to the jump hosts (environment, warnings)
   */
  constructor(
    private readonly lookup: (name: string) => HostToConnect | undefined,
    private readonly options: Omit<ConnectorOptions, 'jumpHosts'> = {},
  ) {}

  lease(name: string, forHost: string): JumpHostLease {
    const target = this.resolve(name, forHost);
    let connection = this.connections.get(name);
    if (!connection) {
      connection = { connector: new SshConnector(target, { ...this.options, jumpHosts: this }), users: 0 };
      this.connections.set(name, connection);
    }
    const claimed = connection;
    claimed.users += 1;
    let released = false;
    return {
      forward: (address, port, timeoutMs) => claimed.connector.forward(address, port, timeoutMs),
      release: async () => {
        if (released) return;
        released = true;
        claimed.users -= 1;
        if (claimed.users > 0) return;
        // A lease taken from now on opens a new connection.
        if (this.connections.get(name) === claimed) this.connections.delete(name);
        await claimed.connector.close();
      },
    };
  }

  /** The jump host's connection settings, once the whole chain behind it is known to end. */
  private resolve(name: string, forHost: string): ConnectionTarget {
    const chain = [forHost];
    let resolved: ConnectionTarget | undefined;
    for (let next: string | undefined = name; next !== undefined; ) {
      if (chain.includes(next)) {
        throw new ConnectionError('unreachable', forHost, `jump hosts form a loop: ${[...chain, next].join(' -> ')}`, 'one host of the chain must be reachable directly: remove its ssh.jump');
      }
      const host = this.lookup(next);
      const behind = chain[chain.length - 1];
      if (host === undefined) {
        throw new ConnectionError('unreachable', forHost, `the jump host ${next} of ${behind} is not in the inventory`, `add ${next} to the inventory, or correct ssh.jump of ${behind}`);
      }
      if (host.transport !== 'ssh') {
        throw new ConnectionError('unreachable', forHost, `the jump host ${next} of ${behind} has transport ${host.transport}`, 'a jump host must be reached over ssh (transport: ssh)');
      }
      resolved ??= { ...host, transport: 'ssh' };
      chain.push(next);
      next = host.ssh.jump;
    }
    return resolved!;
  }
}
