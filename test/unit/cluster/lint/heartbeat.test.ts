// The heartbeat and ldirectord rules (src/cluster/lint/heartbeat.ts): their cases, and the node
// name rule once the hosts' facts are in (the run's check, with lint's words).
import { describe, expect, it } from 'vitest';
import { factsProblem, formatFinding, lintCluster, lintNodeNames, lintSubject, type LintSubject } from '../../../../src/cluster/lint.ts';
import { HEARTBEAT_RULES, managesHostname } from '../../../../src/cluster/lint/heartbeat.ts';
import { docs, inventoryLoader, lineAt, type Doc } from '../support.ts';
import { cases } from './heartbeat.cases.ts';
import { describeRuleCases, type Cluster } from './rule-cases.ts';

const { load } = inventoryLoader();

describeRuleCases('heartbeat', HEARTBEAT_RULES, cases);

/** The heartbeat base with the directors' hostnames left alone (manage_hostname: false for the group). */
function unmanagedHostnames(): Doc {
  const doc = docs.heartbeat();
  (doc.all as Cluster).children.directors.vars = { manage_hostname: false };
  return doc;
}

describe('cluster lint: heartbeat node names once facts are in', () => {
  it('heartbeat-node-name: a director whose hostname is not managed and whose `uname -n` is not its node name', async () => {
    const inventory = await load(unmanagedHostnames());
    const subject = lintSubject(inventory) as LintSubject;
    expect(lintCluster(subject)).toEqual([]);
    const facts = new Map([['lvs-master', { nodename: 'lvs-master' }], ['lvs-backup', { nodename: 'lvs-backup.localdomain' }]]);
    const found = lintNodeNames(subject, facts);
    expect(found.map((finding) => [finding.rule, finding.severity, finding.message])).toEqual([
      [
        'heartbeat-node-name',
        'error',
        'director lvs-backup is heartbeat node lvs-backup, but its `uname -n` is lvs-backup.localdomain (manage_hostname is false, so provision leaves the hostname alone): set heartbeat.node_names.lvs-backup: lvs-backup.localdomain, or rename the host',
      ],
    ]);
    expect(lineAt(inventory.text, found[0]?.where.line).trim()).toBe('- lvs-backup');
    // The run stops the host with the same words as lint.
    expect(factsProblem(subject, 'lvs-backup', { nodename: 'lvs-backup.localdomain' })).toBe(formatFinding(found[0]!));
    expect(factsProblem(subject, 'lvs-master', { nodename: 'lvs-master' })).toBeUndefined();

    // The fix the message suggests passes; a director without facts is not judged.
    const doc = unmanagedHostnames();
    (doc.cluster.heartbeat as Cluster).node_names = { 'lvs-backup': 'lvs-backup.localdomain' };
    const fixed = lintSubject(await load(doc)) as LintSubject;
    expect(lintNodeNames(fixed, new Map([['lvs-backup', { nodename: 'lvs-backup.localdomain' }]]))).toEqual([]);
    expect(factsProblem(fixed, 'lvs-backup', { nodename: 'lvs-backup.localdomain' })).toBeUndefined();
    expect(lintNodeNames(fixed, new Map())).toEqual([]);
  });

  it('a managed hostname is judged before the run, by the inventory name, whatever `uname -n` says now', async () => {
    // The base role renames the host later in the run: its current name does not matter.
    const subject = lintSubject(await load(docs.heartbeat())) as LintSubject;
    expect(lintNodeNames(subject, new Map([['lvs-backup', { nodename: 'localhost' }]]))).toEqual([]);
    expect(factsProblem(subject, 'lvs-backup', { nodename: 'localhost' })).toBeUndefined();
  });

  it('manage_hostname as the base role reads it: a template of the host\'s variables, false, or unset (on)', () => {
    expect(managesHostname(undefined)).toBe(true);
    expect(managesHostname({ vars: {} })).toBe(true);
    expect(managesHostname({ vars: { manage_hostname: false } })).toBe(false);
    expect(managesHostname({ vars: { manage_hostname: '{{ keep_names }}', keep_names: false } })).toBe(false);
    expect(managesHostname({ vars: { manage_hostname: '{{ set_by_a_play }}' } })).toBe(true);
  });

  it('says nothing for clusters without heartbeat', async () => {
    const subject = lintSubject(await load(docs.keepalived())) as LintSubject;
    expect(lintNodeNames(subject, new Map([['server1', { nodename: 'other' }]]))).toEqual([]);
    expect(factsProblem(subject, 'server1', { nodename: 'other' })).toBeUndefined();
    expect(factsProblem(undefined, 'server1', { nodename: 'other' })).toBeUndefined();
  });
});
