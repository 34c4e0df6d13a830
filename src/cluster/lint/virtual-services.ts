// The virtual services as IPVS holds them: each service once, each real server once per service,
// weights only with a scheduler that reads them.
import { serviceKey, WEIGHTED_SCHEDULERS } from '../model.ts';
import { serviceAt, type Issue, type LintRule } from './rule.ts';

export const VIRTUAL_SERVICE_RULES: readonly LintRule[] = [
  {
    id: 'service-unique',
    severity: 'error',
    summary: 'each virtual service (protocol, VIP, port or firewall mark) is described once',
    reason:
      'IPVS holds one entry per virtual service, with one scheduler and one set of real servers: two descriptions of the same service would overwrite each other, and which scheduler wins would depend on the order things start.',
    check: ({ cluster }) => {
      const issues: Issue[] = [];
      const seen = new Map<string, number>();
      cluster.virtual_services.forEach((service, index) => {
        const key = serviceKey(service);
        const first = seen.get(key);
        if (first === undefined) seen.set(key, index);
        else issues.push({ message: `${key} is described twice (virtual_services[${first}] and [${index}]): merge them into one`, at: serviceAt(index) });
      });
      return issues;
    },
  },
  {
    id: 'realserver-unique',
    severity: 'error',
    summary: 'a real server appears once per virtual service',
    reason: 'ipvsadm refuses a destination that a service already has ("Destination already exists"), so the second entry breaks the whole rule set.',
    check: ({ cluster }) => {
      const issues: Issue[] = [];
      cluster.virtual_services.forEach((service, index) => {
        const seen = new Set<string>();
        service.realservers.forEach((server, serverIndex) => {
          const key = `${server.address}:${server.port ?? ''}`;
          if (seen.has(key)) issues.push({ message: `${serviceKey(service)}: real server ${key} is listed twice`, at: serviceAt(index, 'realservers', serverIndex) });
          seen.add(key);
        });
      });
      return issues;
    },
  },
  {
    id: 'scheduler-weights',
    severity: 'warning',
    summary: 'weights are set only with a scheduler that uses them',
    reason: 'The rr, lc and dh schedulers ignore real server weights (except 0): unequal weights with them do not balance the load the way they suggest. Use wrr, wlc, sed or nq.',
    check: ({ cluster }) => {
      const issues: Issue[] = [];
      cluster.virtual_services.forEach((service, index) => {
        const weights = new Set(service.realservers.map((server) => server.weight).filter((weight) => weight > 0));
        if (weights.size > 1 && !WEIGHTED_SCHEDULERS.has(service.scheduler)) {
          issues.push({ message: `${serviceKey(service)}: the real servers have different weights, but scheduler ${service.scheduler} ignores weights`, at: serviceAt(index, 'scheduler') });
        }
      });
      return issues;
    },
  },
];
