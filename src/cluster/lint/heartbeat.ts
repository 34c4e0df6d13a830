// heartbeat and the ldirectord it runs: ha.cf's timings and paths, node names (judged again once
// facts are in: heartbeat-node-name is also the rule of the run, see lintNodeNames in ../lint.ts),
// ipfail, authkeys, and ldirectord's quiescent with persistent services.
import type { InventoryHost } from '../../inventory/model.ts';
import type { PathSegment } from '../../inventory/yaml-file.ts';
import { heartbeatNodeName, serviceKey } from '../model.ts';
import { inventoryVar, serviceAt, type Issue, type LintRule, type LintSubject } from './rule.ts';

/**
 * Whether the base role sets `host`'s hostname to its inventory name: its variable
 * manage_hostname (the role's default is true) as the host's inventory variables set it. The role
 * tests the value for truth, so this does too.
 */
export function managesHostname(host: Partial<Pick<InventoryHost, 'vars' | 'varOrigin'>> | undefined): boolean {
  const value = inventoryVar(host, 'manage_hostname');
  return value === undefined ? true : Boolean(value);
}

/**
 * heartbeat-node-name, one decision for `provision lint` and for the run: a director's heartbeat
 * node name must be the name the host will have. Where the base role manages the hostname that is
 * the inventory name, known before the run; elsewhere it is `uname -n`, known once the host's
 * facts are in (subject.facts), and a director without facts is not judged.
 */
function nodeNameIssues(subject: LintSubject): Issue[] {
  const { cluster, hosts, facts } = subject;
  const hb = cluster.heartbeat;
  if (hb === undefined) return [];
  const issues: Issue[] = [];
  cluster.directors.forEach((director, index) => {
    const expected = heartbeatNodeName(cluster, director);
    const nodeNamePath: PathSegment[] = ['heartbeat', 'node_names', director];
    const at: PathSegment[] = subject.source?.written(nodeNamePath) === true || hb.node_names[director] !== director ? nodeNamePath : ['directors', index];
    if (managesHostname(hosts.get(director))) {
      if (expected === director) return;
      issues.push({
        message: `director ${director} is heartbeat node ${expected}, but the base role sets its hostname (\`uname -n\`) to ${director}: drop heartbeat.node_names.${director}, or name the inventory host ${expected} (or set manage_hostname: false for ${director} and give it the hostname ${expected} yourself)`,
        at,
      });
      return;
    }
    const nodename = facts?.get(director)?.nodename;
    if (nodename === undefined || nodename === expected) return;
    issues.push({
      message: `director ${director} is heartbeat node ${expected}, but its \`uname -n\` is ${nodename} (manage_hostname is false, so provision leaves the hostname alone): set heartbeat.node_names.${director}: ${nodename}, or rename the host`,
      at,
    });
  });
  return issues;
}

export const NODE_NAME_RULE: LintRule = {
  id: 'heartbeat-node-name',
  severity: 'error',
  summary: "each director's heartbeat node name is the name the host will have (its `uname -n`)",
  reason:
    'heartbeat finds its own node line by `uname -n`: a director whose name is not listed in ha.cf refuses to start ("node not in configuration"), and haresources names its owner the same way. The base role sets the hostname to the inventory name (unless manage_hostname is false), so that is the node name; a host whose hostname provision leaves alone is compared by its `uname -n` as soon as its facts are in, and fails before anything is changed on it.',
  check: nodeNameIssues,
};

export const HEARTBEAT_RULES: readonly LintRule[] = [
  {
    id: 'persistence-quiescent',
    severity: 'warning',
    summary: 'persistent services with ldirectord quiescent=yes',
    reason:
      'With quiescent=yes ldirectord keeps a failed real server in the table with weight 0; persistent clients are still sent to it until their persistence times out, so they see the failure. quiescent=no removes the server (as the Ultra Monkey tutorial explains).',
    check: ({ cluster }) => {
      const issues: Issue[] = [];
      if (cluster.manager !== 'heartbeat' || cluster.ldirectord?.enabled !== true) return issues;
      cluster.virtual_services.forEach((service, index) => {
        const quiescent = service.check.quiescent ?? cluster.ldirectord?.quiescent;
        if (service.persistence !== undefined && quiescent === true) {
          issues.push({
            message: `${serviceKey(service)} is persistent (${service.persistence.timeout} s) with quiescent=yes: clients stick to a failed real server`,
            at: service.check.quiescent === undefined ? ['ldirectord', 'quiescent'] : serviceAt(index, 'check', 'quiescent'),
          });
        }
      });
      return issues;
    },
  },
  {
    id: 'heartbeat-deadtime',
    severity: 'error',
    summary: 'heartbeat deadtime is at least twice keepalive',
    reason: 'A node is declared dead after deadtime seconds without a heartbeat; with less than two keepalive intervals, one lost or late packet triggers a failover (and both nodes may hold the VIP).',
    check: ({ cluster }) => {
      const hb = cluster.heartbeat;
      return hb !== undefined && hb.deadtime < 2 * hb.keepalive
        ? [{ message: `deadtime ${hb.deadtime} is less than twice keepalive ${hb.keepalive}: make it at least ${2 * hb.keepalive}`, at: ['heartbeat', 'deadtime'] }]
        : [];
    },
  },
  {
    id: 'heartbeat-warntime',
    severity: 'error',
    summary: 'heartbeat warntime is below deadtime',
    reason: 'warntime is when heartbeat warns about a late heartbeat; at or after deadtime the node is already declared dead, so the warning never comes.',
    check: ({ cluster }) => {
      const hb = cluster.heartbeat;
      return hb !== undefined && hb.warntime >= hb.deadtime
        ? [{ message: `warntime ${hb.warntime} is not below deadtime ${hb.deadtime}`, at: ['heartbeat', 'warntime'] }]
        : [];
    },
  },
  {
    id: 'heartbeat-initdead',
    severity: 'error',
    summary: 'heartbeat initdead is at least twice deadtime',
    reason: 'After a boot the network takes a while to come up; heartbeat\'s documentation asks for initdead of at least twice deadtime, or a node starting alone takes the resources while its peer is still alive.',
    check: ({ cluster }) => {
      const hb = cluster.heartbeat;
      return hb !== undefined && hb.initdead < 2 * hb.deadtime
        ? [{ message: `initdead ${hb.initdead} is less than twice deadtime ${hb.deadtime}: make it at least ${2 * hb.deadtime}`, at: ['heartbeat', 'initdead'] }]
        : [];
    },
  },
  {
    id: 'heartbeat-path',
    severity: 'error',
    summary: 'heartbeat has at least one communication path',
    reason: 'Without a ucast, bcast, mcast or serial path the nodes never hear each other: each one believes the other dead and takes the VIP.',
    check: ({ cluster }) => {
      const hb = cluster.heartbeat;
      return hb !== undefined && hb.ucast.length + hb.bcast.length + hb.mcast.length + hb.serial.length === 0
        ? [{ message: 'heartbeat has no path: add ucast, bcast, mcast or serial', at: ['heartbeat'] }]
        : [];
    },
  },
  {
    id: 'heartbeat-nodes',
    severity: 'error',
    summary: 'every director is its own heartbeat node, reachable on every unicast path',
    reason: 'ha.cf lists one node line per director and heartbeat tells them apart by name; two directors with one name, or one unicast address for two nodes, leave a node unlisted or unreachable, and it is taken for dead.',
    check: ({ cluster }) => {
      const issues: Issue[] = [];
      const hb = cluster.heartbeat;
      if (hb === undefined) return issues;
      const byName = new Map<string, string>();
      for (const director of cluster.directors) {
        const name = heartbeatNodeName(cluster, director);
        const other = byName.get(name);
        if (other !== undefined) issues.push({ message: `directors ${other} and ${director} have the same heartbeat node name ${name}`, at: ['heartbeat', 'node_names', director] });
        byName.set(name, director);
      }
      hb.ucast.forEach((path, index) => {
        const byAddress = new Map<string, string>();
        for (const director of cluster.directors) {
          const address = path.addresses[director] as string;
          const other = byAddress.get(address);
          if (other !== undefined) issues.push({ message: `ucast on ${path.interface}: directors ${other} and ${director} have the same address ${address}`, at: ['heartbeat', 'ucast', index, 'addresses', director] });
          byAddress.set(address, director);
        }
      });
      return issues;
    },
  },
  NODE_NAME_RULE,
  {
    id: 'heartbeat-ipfail',
    severity: 'error',
    summary: 'ipfail has ping nodes to watch',
    reason: 'ipfail moves the resources when this node loses its ping nodes (usually the router) and the peer still sees them; without ping or ping_group it has nothing to compare.',
    check: ({ cluster }) => {
      const hb = cluster.heartbeat;
      return hb?.ipfail === true && hb.ping.length === 0 && hb.ping_group === undefined
        ? [{ message: 'ipfail is on, but there is no ping or ping_group', at: ['heartbeat', 'ipfail'] }]
        : [];
    },
  },
  {
    id: 'authkeys-key',
    severity: 'error',
    summary: 'the authkeys method has a key',
    reason: 'sha1 and md5 sign every heartbeat packet with the shared key; without one, heartbeat refuses to start (or anyone on the link could forge heartbeats).',
    check: ({ cluster }) => {
      const auth = cluster.heartbeat?.authkeys;
      return auth !== undefined && auth.method !== 'crc' && auth.key === undefined
        ? [{ message: `authkeys method ${auth.method} needs a key: add key: !env HA_AUTH_KEY`, at: ['heartbeat', 'authkeys'] }]
        : [];
    },
  },
  {
    id: 'authkeys-crc',
    severity: 'error',
    summary: 'authkeys crc only when explicitly allowed',
    reason: 'crc only detects corrupted packets: anyone who can send to the heartbeat port can forge heartbeats and take the VIP. It is acceptable on a physically isolated link (a crossover cable) only.',
    check: ({ cluster }) => {
      const auth = cluster.heartbeat?.authkeys;
      if (auth?.method !== 'crc') return [];
      if (!auth.allow_crc) return [{ message: 'authkeys method crc authenticates nothing: use sha1 with a key, or set allow_crc: true for an isolated link', at: ['heartbeat', 'authkeys', 'method'] }];
      const ignored = auth.key === undefined ? '' : ' (and its key is not used)';
      return [{ message: `authkeys method crc is allowed: heartbeat packets are not authenticated${ignored}`, at: ['heartbeat', 'authkeys', 'method'], severity: 'warning' }];
    },
  },
];
