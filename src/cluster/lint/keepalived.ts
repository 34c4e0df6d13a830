// keepalived (VRRP and its virtual_server): router ids, priorities and states, the PASS password,
// nopreempt, the major version of a keepalived built from source; and, across the clusters linted
// together, one router id per network segment.
import { unsetEnvVariable } from '../../core/secret.ts';
import { networkOf } from '../model.ts';
import { formatWhere, locate, type CrossClusterRule, type Issue, type LintRule, type LintSubject } from './rule.ts';

export const KEEPALIVED_RULES: readonly LintRule[] = [
  {
    id: 'vrrp-router-id',
    severity: 'error',
    summary: 'keepalived virtual_router_id is 1-255',
    reason: 'VRRP carries the router id in one byte, and 0 is invalid: keepalived refuses the instance.',
    check: ({ cluster }) => {
      const id = cluster.keepalived?.virtual_router_id;
      return id !== undefined && (id < 1 || id > 255) ? [{ message: `virtual_router_id ${id} is not in 1-255`, at: ['keepalived', 'virtual_router_id'] }] : [];
    },
  },
  {
    id: 'vrrp-priority',
    severity: 'error',
    summary: 'keepalived priorities are 1-254 and differ between directors',
    reason: 'VRRP elects the director with the highest priority (255 is reserved for the address owner); with equal priorities the election falls to the higher IP address, which is not what the description says.',
    check: ({ cluster }) => {
      const issues: Issue[] = [];
      const ka = cluster.keepalived;
      if (ka === undefined) return issues;
      const byPriority = new Map<number, string>();
      for (const director of cluster.directors) {
        const priority = ka.priority[director] as number;
        if (priority < 1 || priority > 254) issues.push({ message: `priority ${priority} of ${director} is not in 1-254`, at: ['keepalived', 'priority', director] });
        const other = byPriority.get(priority);
        if (other !== undefined) issues.push({ message: `directors ${other} and ${director} have the same priority ${priority}`, at: ['keepalived', 'priority', director] });
        byPriority.set(priority, director);
      }
      return issues;
    },
  },
  {
    id: 'vrrp-master-priority',
    severity: 'warning',
    summary: 'the MASTER director has the highest priority',
    reason: 'The state is only where a director starts: a BACKUP with a higher priority takes the VIP from the MASTER as soon as it hears it, so the VIP does not stay where the description puts it.',
    check: ({ cluster }) => {
      const ka = cluster.keepalived;
      if (ka === undefined) return [];
      const highest = Math.max(...cluster.directors.map((director) => ka.priority[director] as number));
      return cluster.directors
        .filter((director) => ka.state[director] === 'MASTER' && (ka.priority[director] as number) < highest)
        .map((director) => ({ message: `${director} starts as MASTER with priority ${ka.priority[director]}, but another director has ${highest}`, at: ['keepalived', 'priority', director] }));
    },
  },
  {
    id: 'vrrp-auth-pass',
    severity: 'error',
    summary: 'the VRRP password has at most 8 characters',
    reason: 'VRRP PASS authentication carries 8 bytes: keepalived silently uses the first 8 characters, so the rest adds nothing and a shorter key is what protects the cluster.',
    check: ({ cluster }) => {
      const pass = cluster.keepalived?.auth?.pass;
      // An unset !env at lint has no length to judge: the run that reads it checks it.
      return pass !== undefined && unsetEnvVariable(pass) === undefined && pass.length > 8
        ? [{ message: `the VRRP password has ${pass.length} characters; keepalived uses only the first 8: use at most 8`, at: ['keepalived', 'auth', 'pass'] }]
        : [];
    },
  },
  {
    id: 'keepalived-source-version',
    severity: 'error',
    summary: 'a keepalived built from source says which major version it is (1.x or 2.x)',
    reason: 'keepalived 1.x and 2.x spell some settings differently (nb_get_retry and retry), so the keepalived role writes keepalived.conf for the version that will run; it reads the version from install.keepalived.version or the archive name (keepalived-2.2.8.tar.gz).',
    check: ({ cluster }) => {
      const install = cluster.install.keepalived;
      if (cluster.manager !== 'keepalived' || install.from !== 'source' || install.url === undefined) return [];
      const version = install.version ?? /keepalived-(\d+(?:\.\d+)*)\.tar/.exec(install.url)?.[1];
      const major = version === undefined ? undefined : Number.parseInt(version, 10);
      if (major === 1 || major === 2) return [];
      return [
        {
          message:
            version === undefined
              ? `cannot tell which keepalived ${install.url} builds: give install.keepalived.version, e.g. 2.2.8`
              : `keepalived ${version} is neither 1.x nor 2.x, the versions whose keepalived.conf provision writes`,
          at: ['install', 'keepalived', install.version === undefined ? 'url' : 'version'],
        },
      ];
    },
  },
  {
    id: 'vrrp-nopreempt',
    severity: 'error',
    summary: 'nopreempt only with state BACKUP on every director',
    reason: 'keepalived ignores nopreempt on an instance whose state is MASTER: that director still takes the VIP back when it returns.',
    check: ({ cluster }) => {
      const ka = cluster.keepalived;
      if (ka?.nopreempt !== true) return [];
      return cluster.directors
        .filter((director) => ka.state[director] === 'MASTER')
        .map((director) => ({ message: `nopreempt is set, but ${director} starts as MASTER: set state BACKUP for every director (the priority still elects the first MASTER)`, at: ['keepalived', 'state', director] }));
    },
  },
];

/** VRRP router ids across the clusters linted together: one id per network segment. */
export const VRRP_ROUTER_ID_UNIQUE: CrossClusterRule = {
  id: 'vrrp-router-id-unique',
  severity: 'error',
  summary: 'keepalived clusters on one network use different virtual_router_ids',
  reason: 'VRRP routers with the same id on one segment take each other\'s advertisements for their own instance: they elect one master between them and the VIPs of both clusters flap (keepalived logs "bogus VRRP packet").',
  check: (subjects) => {
    const issues: { subject: LintSubject; issue: Issue }[] = [];
    const seen = new Map<string, { subject: LintSubject; segment: string }>();
    for (const subject of subjects) {
      const ka = subject.cluster.keepalived;
      const primary = subject.cluster.addresses[subject.cluster.directors[0] ?? ''];
      if (ka === undefined || primary === undefined) continue;
      const network = networkOf(primary, subject.cluster.network.prefix);
      if (network === undefined) continue;
      const key = `${network}/${subject.cluster.network.prefix} ${ka.virtual_router_id}`;
      const other = seen.get(key);
      if (other === undefined) {
        seen.set(key, { subject, segment: `${network}/${subject.cluster.network.prefix}` });
        continue;
      }
      const otherWhere = locate(other.subject, ['keepalived', 'virtual_router_id']);
      issues.push({
        subject,
        issue: {
          message: `clusters ${other.subject.cluster.name} and ${subject.cluster.name} both use virtual_router_id ${ka.virtual_router_id} on ${other.segment}${otherWhere.file === undefined ? '' : ` (also at ${formatWhere(otherWhere)})`}`,
          at: ['keepalived', 'virtual_router_id'],
        },
      });
    }
    return issues;
  },
};
