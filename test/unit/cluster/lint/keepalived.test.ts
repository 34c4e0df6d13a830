// The keepalived rules (src/cluster/lint/keepalived.ts): their cases, and what the rule across
// clusters says.
import { describe, expect, it } from 'vitest';
import { lintClusters, lintSubject, type LintSubject } from '../../../../src/cluster/lint.ts';
import { KEEPALIVED_RULES, VRRP_ROUTER_ID_UNIQUE } from '../../../../src/cluster/lint/keepalived.ts';
import { docs, inventoryLoader } from '../support.ts';
import { cases } from './keepalived.cases.ts';
import { describeRuleCases, type Cluster } from './rule-cases.ts';

const { load } = inventoryLoader();

describeRuleCases('keepalived', [...KEEPALIVED_RULES, VRRP_ROUTER_ID_UNIQUE], cases);

describe('cluster lint: across clusters', () => {
  it('vrrp-router-id-unique: two keepalived clusters on one network with the same router id', async () => {
    const first = lintSubject(await load(docs.keepalived())) as LintSubject;
    const other = docs.keepalived();
    other.cluster.name = 'mail';
    other.cluster.directors = ['server3', 'server4'];
    other.cluster.virtual_services = [{ vip: '172.25.33.101', port: 25, realservers: [{ address: '172.25.33.50' }] }];
    other.cluster.keepalived = { virtual_router_id: 51, priority: { server3: 100, server4: 50 } };
    const second = lintSubject(await load(other)) as LintSubject;

    const found = lintClusters([first, second]).filter((finding) => finding.rule === 'vrrp-router-id-unique');
    expect(found).toHaveLength(1);
    expect(found[0]?.message).toMatch(/^clusters lvs and mail both use virtual_router_id 51 on 172\.25\.33\.0\/24 \(also at .*hosts\.yaml:\d+:\d+\)$/);

    (other.cluster.keepalived as Cluster).virtual_router_id = 52;
    const distinct = lintSubject(await load(other)) as LintSubject;
    expect(lintClusters([first, distinct]).filter((finding) => finding.rule === 'vrrp-router-id-unique')).toEqual([]);
  });
});
