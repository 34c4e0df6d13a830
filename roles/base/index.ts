// Host basics every cluster node needs before the cluster roles: the cluster's nodes in /etc/hosts
// (heartbeat and ldirectord resolve node names), the hostname, set the way each family keeps it,
// and the default gateway of a director (or of any host, from default_gateway).
import { defineRole, OperationError, ops, sh, type Facts, type RoleContext, type Task } from '../../src/index.ts';
import { defaultGatewayConflict, directorGateway, realServerGateway, type DefaultGateway } from '../../src/cluster/gateway.ts';
import { defaultGatewayTasks } from './gateway.ts';
import { baseVariables } from './variables.ts';

/** EL5/EL6 keep the hostname in /etc/sysconfig/network. */
const usesSysconfigNetwork = (facts: Facts) => facts.os.family === 'el' && facts.os.major <= 6;

export function hostsBlock(hosts: ReadonlyArray<{ name: string; address: string }>): string {
  const width = Math.max(...hosts.map((h) => h.address.length));
  return hosts.map((h) => `${h.address.padEnd(width)} ${h.name}\n`).join('');
}

export default defineRole({
  name: 'base',
  ...baseVariables,
  tasks: (ctx) => {
    const { vars, host, inventory } = ctx;
    const nodes = inventory.hosts.filter((h) => /^\d+\.\d+\.\d+\.\d+$/.test(h.address));
    return [
      ...(vars.manage_etc_hosts && nodes.length > 0
        ? [{ name: 'cluster nodes in /etc/hosts', op: ops.block({ path: '/etc/hosts', block: hostsBlock(nodes), marker: '# {mark} provision: cluster nodes' }) }]
        : []),
      ...(vars.manage_hostname
        ? [
            {
              name: 'hostname in /etc/sysconfig/network',
              op: ops.shellVar({ path: '/etc/sysconfig/network', name: 'HOSTNAME', value: host.name, create: true }),
              when: usesSysconfigNetwork,
            },
            {
              name: 'hostname in /etc/hostname',
              op: ops.file({ path: '/etc/hostname', content: `${host.name}\n` }),
              when: (facts: Facts) => !usesSysconfigNetwork(facts),
            },
            {
              name: 'running hostname',
              op: ops.command({ run: sh`hostname ${host.name}`, unless: sh`test "$(uname -n)" = ${host.name}` }),
              when: (facts: Facts) => facts.init !== 'systemd',
            },
            {
              name: 'running hostname (systemd)',
              op: ops.command({ run: sh`hostnamectl set-hostname ${host.name}`, unless: sh`test "$(uname -n)" = ${host.name}` }),
              when: (facts: Facts) => facts.init === 'systemd',
            },
          ]
        : []),
      ...gatewayTasks(ctx),
    ];
  },
});

/**
 * One source for each host's default gateway. The description's: a director's is
 * cluster.network.gateway (the base role sets it, default_gateway overriding it); a real server's is
 * the realserver role's, which default_gateway must not contradict (both would rewrite GATEWAY on
 * every run; lint's realserver-default-gateway says so before the run). Any other host, or a
 * cluster that names no gateway for it: default_gateway, if set.
 */
function gatewayTasks(ctx: RoleContext<{ default_gateway: string }>): Task[] {
  const { cluster, host, vars } = ctx;
  if (cluster !== undefined) {
    const conflict = defaultGatewayConflict(cluster, host.name, vars.default_gateway);
    if (conflict !== undefined) throw new OperationError(`base: ${conflict}`);
    if (realServerGateway(cluster, host.name) !== undefined) return [];
  }
  const gateway: DefaultGateway | undefined =
    vars.default_gateway === '' ? (cluster === undefined ? undefined : directorGateway(cluster, host.name)) : { address: vars.default_gateway, reason: 'configured' };
  return gateway === undefined ? [] : defaultGatewayTasks(host.name, gateway);
}
