// The firewall role: opens what the cluster needs on each of its hosts (rules.ts), with the tool
// cluster.firewall.kind names. iptables: the rules inserted now (checked with -C, so a second run
// adds nothing) and kept for boot in a marked block of the saved rules file, which the family's
// service restores (EL: the iptables service and /etc/sysconfig/iptables; Debian and Ubuntu:
// netfilter-persistent and /etc/iptables/rules.v4); the nat rules of NAT directors have their own
// block in the file's nat table. firewalld: permanent rules, then a reload.
//
// kind auto is decided on the facts: firewalld on EL7 and later (it runs by default there),
// iptables elsewhere. Whether firewalld really runs is state, not a fact, so an EL7+ host where it
// does not stops with a message saying to start it or to choose iptables.
import { defineRole, ops, sh, type Facts, type Task } from '../../src/index.ts';
import type { Cluster, FirewallKind } from '../../src/cluster/model.ts';
import { clusterOf } from '../../src/cluster/role.ts';
import { emptyFilterTable, firewalldApplyScript, firewalldCheck, iptablesApplyScript, iptablesCheck, natTableSection, rulesOfTable, savedBlock } from './render.ts';
import { firewallRules, type FirewallRule } from './rules.ts';

/** The tool a host uses for kind `kind`. */
export function firewallTool(kind: FirewallKind, facts: Facts): 'iptables' | 'firewalld' {
  if (kind !== 'auto') return kind;
  return facts.os.family === 'el' && facts.os.major >= 7 ? 'firewalld' : 'iptables';
}

const el = (facts: Facts) => facts.os.family === 'el';

/** The saved rules file each family's iptables service restores at boot. */
const savedFiles: Array<{ path: string; when: (facts: Facts) => boolean }> = [
  { path: '/etc/sysconfig/iptables', when: el },
  { path: '/etc/iptables/rules.v4', when: (facts) => !el(facts) },
];

function iptablesTasks(cluster: Cluster, rules: FirewallRule[], uses: (facts: Facts) => boolean): Task[] {
  const tasks: Task[] = [
    {
      name: 'iptables and its boot-time service installed',
      op: ops.packages({
        names: { el5: ['iptables'], el6: ['iptables'], el7: ['iptables-services'], el8: ['iptables-services'], el9: ['iptables-nft-services'], debian: ['iptables', 'iptables-persistent'] },
      }),
      when: uses,
    },
    { name: 'cluster ports open now (iptables)', op: ops.command({ run: iptablesApplyScript(rules), unless: iptablesCheck(rules) }), when: uses },
  ];
  const natRules = rulesOfTable(rules, 'nat');
  for (const file of savedFiles) {
    const when = (facts: Facts) => uses(facts) && file.when(facts);
    tasks.push(
      {
        name: `${file.path} has a filter table`,
        // The file holds secrets of no one, but EL creates it 0600: keep new ones private too.
        op: ops.command({ run: `umask 077\n${sh`printf '%s' ${emptyFilterTable} >>${file.path}`}`, unless: sh`grep -q '^[*]filter' ${file.path}` }),
        when,
      },
      {
        name: `cluster ports open at boot (${file.path})`,
        op: ops.block({ path: file.path, block: savedBlock(rulesOfTable(rules, 'filter')), marker: `# {mark} provision: cluster ${cluster.name}`, insertAfter: /^\*filter\s*$/, create: true }),
        when,
      },
    );
    if (natRules.length === 0) continue;
    // A second *nat table in the file would flush the first one's rules on restore: the block goes
    // into the nat table the file has (docker's, libvirt's), or into a new one at the end.
    tasks.push({
      name: `NAT real servers masqueraded at boot (${file.path})`,
      op: ops.block({ path: file.path, block: savedBlock(natRules), marker: `# {mark} provision: cluster ${cluster.name} nat`, insertAfter: /^\*nat\s*$/, section: natTableSection, create: true }),
      when,
    });
  }
  tasks.push({ name: 'iptables rules restored at boot', op: ops.service({ name: { el: 'iptables', debian: 'netfilter-persistent' }, enabled: true }), when: uses });
  return tasks;
}

function firewalldTasks(kind: FirewallKind, rules: FirewallRule[], uses: (facts: Facts) => boolean): Task[] {
  return [
    // Chosen explicitly, firewalld is installed and started; chosen by auto, it must already run.
    ...(kind === 'firewalld'
      ? [
          { name: 'firewalld installed', op: ops.packages({ names: ['firewalld'] }), when: uses },
          { name: 'firewalld running and started at boot', op: ops.service({ name: 'firewalld', enabled: true, state: 'started' }), when: uses },
        ]
      : []),
    { name: 'cluster ports open (firewalld)', op: ops.command({ run: firewalldApplyScript(rules), unless: firewalldCheck(rules) }), when: uses },
  ];
}

export function firewallTasks(cluster: Cluster, host: string): Task[] {
  if (!cluster.firewall.manage) return [];
  const rules = firewallRules(cluster, host);
  if (rules.length === 0) return [];
  const { kind } = cluster.firewall;
  return [
    ...iptablesTasks(cluster, rules, (facts) => firewallTool(kind, facts) === 'iptables'),
    ...firewalldTasks(kind, rules, (facts) => firewallTool(kind, facts) === 'firewalld'),
  ];
}

export default defineRole({
  name: 'firewall',
  needsCluster: true,
  defaults: {},
  tasks: (ctx) => firewallTasks(clusterOf(ctx, 'firewall'), ctx.host.name),
});
