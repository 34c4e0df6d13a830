// How many directors a manager needs: a failover manager a second one, manager none exactly one.
import type { LintRule } from './rule.ts';

export const DIRECTOR_RULES: readonly LintRule[] = [
  {
    id: 'single-director',
    severity: 'warning',
    summary: 'a failover manager has a second director to fail over to',
    reason: 'heartbeat, keepalived and pulse move the VIP to a backup director; with one director there is no failover, only health checks (manager none with one director says so).',
    check: ({ cluster }) =>
      cluster.manager !== 'none' && cluster.directors.length < 2 ? [{ message: `manager ${cluster.manager} with a single director: nothing to fail over to`, at: ['directors'] }] : [],
  },
  {
    id: 'none-one-director',
    severity: 'error',
    summary: 'manager none has exactly one director',
    reason: 'Without a failover manager nothing moves the VIP: two directors would both hold it at boot and answer ARP for it in turn. Use heartbeat or keepalived for two directors.',
    check: ({ cluster }) =>
      cluster.manager === 'none' && cluster.directors.length > 1 ? [{ message: 'manager none with two directors: both would hold the VIP; choose heartbeat or keepalived, or keep one director', at: ['manager'] }] : [],
  },
];
