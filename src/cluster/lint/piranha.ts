// Red Hat piranha (pulse, lvs.cf): one forwarding method for every service, a backup director on
// the primary's network that is an active backup.
import { networkOf, sameNetwork, serviceKey } from '../model.ts';
import { isIpv4, serviceAt, type Issue, type LintRule } from './rule.ts';

export const PIRANHA_RULES: readonly LintRule[] = [
  {
    id: 'piranha-forwarding',
    severity: 'error',
    summary: 'with piranha, every service uses the same forwarding method',
    reason: 'lvs.cf sets the forwarding method once for all virtual servers (network = nat, direct or tunnel).',
    check: ({ cluster }) => {
      if (cluster.manager !== 'piranha') return [];
      const first = cluster.virtual_services[0]?.forwarding;
      const issues: Issue[] = [];
      cluster.virtual_services.forEach((service, index) => {
        if (service.forwarding !== first) issues.push({ message: `${serviceKey(service)} uses forwarding ${service.forwarding}, the first service ${first ?? ''}: piranha takes one method for all`, at: serviceAt(index, 'forwarding') });
      });
      return issues;
    },
  },
  {
    id: 'piranha-backup-subnet',
    severity: 'error',
    summary: "piranha's backup director is on the primary's network",
    reason:
      "lvs.cf names the two LVS routers by their addresses (primary = and backup =): pulse heartbeats between them there, and the backup takes over the VIP on the same device as the primary (eth0:0), so it must be on the primary's network (network.prefix). A backup elsewhere (a typo such as 202.30.x for 202.39.x) never hears the primary, takes the VIP too, and holds it where no traffic for it arrives.",
    check: (subject) => {
      const { cluster } = subject;
      const [primary, backup] = cluster.directors;
      if (cluster.manager !== 'piranha' || primary === undefined || backup === undefined) return [];
      const primaryAddress = cluster.addresses[primary] ?? '';
      const backupAddress = cluster.addresses[backup] ?? '';
      const prefix = cluster.network.prefix;
      if (!isIpv4(primaryAddress) || !isIpv4(backupAddress) || sameNetwork(primaryAddress, backupAddress, prefix)) return [];
      return [
        {
          message: `the backup director ${backup} (${backupAddress}) is not on the network ${networkOf(primaryAddress, prefix) ?? '?'}/${prefix} of the primary ${primary} (${primaryAddress}): correct its address, or network.prefix`,
          at: subject.source?.written(['addresses', backup]) === true ? ['addresses', backup] : { host: backup },
        },
      ];
    },
  },
  {
    id: 'piranha-backup-active',
    severity: 'warning',
    summary: "piranha's second director is an active backup",
    reason:
      "pulse on the backup director takes over only when lvs.cf says backup_active = 1; without it the second director receives lvs.cf but never takes the VIP when the primary fails (the piranha tutorial had to add the line by hand).",
    check: ({ cluster }) =>
      cluster.manager === 'piranha' && cluster.directors.length > 1 && cluster.piranha?.backup_active === false
        ? [{ message: `piranha.backup_active is false: the backup director ${cluster.directors[1] ?? ''} never takes over; set it true, or list one director`, at: ['piranha', 'backup_active'] }]
        : [],
  },
];
