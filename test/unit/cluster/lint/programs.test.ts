// The rules about the programs on the directors (src/cluster/lint/programs.ts): their cases, and
// how a resource or service is recognised however it is written.
import { describe, expect, it } from 'vitest';
import { lintCluster, lintSubject, type LintSubject } from '../../../../src/cluster/lint.ts';
import { PROGRAM_RULES, programOf } from '../../../../src/cluster/lint/programs.ts';
import { docs, inventoryLoader } from '../support.ts';
import { cases } from './programs.cases.ts';
import { describeRuleCases } from './rule-cases.ts';

const { load } = inventoryLoader();

describeRuleCases('programs', PROGRAM_RULES, cases);

describe('cluster lint: what a resource or service does, whatever it is called', () => {
  it('programOf: paths, rc links, resource classes, arguments, units and case name one program', () => {
    const names: [string, string][] = [
      ['lvs', 'lvs'],
      ['/etc/init.d/lvs', 'lvs'],
      ['/etc/rc.d/init.d/lvs', 'lvs'],
      ['/etc/rc3.d/S20lvs', 'lvs'],
      ['lvs.service', 'lvs'],
      ['lsb:lvs', 'lvs'],
      ['LVS', 'lvs'],
      ['ldirectord::ldirectord.cf', 'ldirectord'],
      ['ocf:heartbeat:ldirectord', 'ldirectord'],
      ['/usr/lib/ocf/resource.d/heartbeat/ldirectord', 'ldirectord'],
      ['ipvsadm.service', 'ipvsadm'],
      ['IPaddr2::192.168.2.254/24/eth0', 'ipaddr2'],
    ];
    expect(names.map(([entry]) => [entry, programOf(entry)])).toEqual(names);
  });

  it('ipvs-single-owner: the lvs script as the path of its init script (whether or not the schema lets it through)', async () => {
    for (const resource of ['/etc/init.d/lvs', '/etc/rc.d/init.d/lvs', '/etc/init.d/ipvsadm']) {
      const subject = lintSubject(await load(docs.heartbeat())) as LintSubject;
      subject.cluster.heartbeat!.resources = [resource];
      const hits = lintCluster(subject).filter((finding) => finding.rule === 'ipvs-single-owner');
      expect(hits.map((finding) => finding.message)).toEqual([expect.stringMatching(new RegExp(`^the IPVS table would be written by ldirectord \\(the manager\\), ${resource.replace(/\//g, '\\/')} \\(heartbeat resource: .*\\): keep only ldirectord$`))]);
      subject.cluster.heartbeat!.resources = ['/etc/init.d/httpd'];
      expect(lintCluster(subject).filter((finding) => finding.rule === 'ipvs-single-owner')).toEqual([]);
    }
  });
});
