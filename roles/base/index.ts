// Host basics every cluster node needs before the cluster roles: the cluster's nodes in /etc/hosts
// (heartbeat and ldirectord resolve node names) and the hostname, set the way each family keeps it.
import { defineRole, ops, sh, type Facts } from '../../src/index.ts';
import { baseVariables } from './variables.ts';

/** EL5/EL6 keep the hostname (and the default gateway) in /etc/sysconfig/network. */
const usesSysconfigNetwork = (facts: Facts) => facts.os.family === 'el' && facts.os.major <= 6;

export function hostsBlock(hosts: ReadonlyArray<{ name: string; address: string }>): string {
  const width = Math.max(...hosts.map((h) => h.address.length));
  return hosts.map((h) => `${h.address.padEnd(width)} ${h.name}\n`).join('');
}

export default defineRole({
  name: 'base',
  ...baseVariables,
  tasks: ({ vars, host, inventory }) => {
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
      ...(vars.default_gateway
        ? [
            {
              name: 'default gateway in /etc/sysconfig/network',
              op: ops.shellVar({ path: '/etc/sysconfig/network', name: 'GATEWAY', value: vars.default_gateway, create: true }),
              when: usesSysconfigNetwork,
            },
          ]
        : []),
    ];
  },
});
