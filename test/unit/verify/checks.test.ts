// provision verify's checks on made-up observations of the lab cluster (inventory/lab.yaml: heartbeat
// + ldirectord, LVS-DR, rr over web1 and web2, a client): a healthy cluster passes every check, and
// each fault the checks exist for fails the check that names it, with its evidence.
import path from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../../src/cluster/model.ts';
import { loadInventory } from '../../../src/inventory/load.ts';
import { evaluate, type CheckResult, type Observed, type Output } from '../../../src/verify/checks.ts';
import { planVerify, type VerifyPlan } from '../../../src/verify/plan.ts';
import { exampleSecrets } from '../../support/example-clusters.ts';
import { repoRoot } from '../../support/project.ts';

const VIP = '10.213.2.254';
const addressLine = (index: number, device: string, cidr: string, label = device) =>
  `${index}: ${device}    inet ${cidr} brd 10.213.2.255 scope global ${label}\\       valid_lft forever preferred_lft forever\n`;
const RULES = ['-A -t 10.213.2.254:80 -s rr', '-a -t 10.213.2.254:80 -r 10.213.2.252:80 -g -w 1', '-a -t 10.213.2.254:80 -r 10.213.2.253:80 -g -w 1'];
const page = (body: string, status = 200): Output => ({ stdout: `${body}\n@@status ${status}\n`, exitCode: 0 });

interface Lab {
  holders: string[];
  tables: Record<string, string[]>;
  processes: Record<string, string[]>;
  pages: Record<string, { index?: Output; check?: Output }>;
  viaVip: (n: number) => Output;
  arp: Record<string, string>;
  configTest?: string;
}

function healthyLab(): Lab {
  return {
    holders: ['lvs-master'],
    tables: { 'lvs-master': RULES, 'lvs-backup': [] },
    processes: {
      'lvs-master': ['/usr/lib/heartbeat/heartbeat: master control process', '/usr/bin/perl -w /etc/ha.d/resource.d/ldirectord ldirectord.cf start'],
      // A status run of ldirectord's script is not the daemon.
      'lvs-backup': ['/usr/lib/heartbeat/heartbeat: master control process', '/usr/bin/perl -w /usr/sbin/ldirectord ldirectord.cf status'],
    },
    pages: { web1: { index: page('web1'), check: page('Test Page') }, web2: { index: page('web2'), check: page('Test Page') } },
    viaVip: (n) => page(n % 2 === 0 ? 'web1' : 'web2'),
    arp: { web1: 'all 1 2\neth0 1 2\n', web2: 'all 1 2\neth0 1 2\n' },
  };
}

describe('provision verify: the checks', () => {
  let cluster: Cluster;
  let plan: VerifyPlan;

  beforeAll(async () => {
    const inventory = await loadInventory(path.join(repoRoot, 'inventory', 'lab.yaml'), { env: exampleSecrets });
    cluster = inventory.cluster!;
    plan = planVerify(cluster, ['lvs-master', 'lvs-backup', 'web1', 'web2', 'client'], 'client');
  });

  /** What each host would print, for a lab in the state `lab` describes. */
  function observe(lab: Lab, unreachable: Record<string, string> = {}): Observed {
    const outputs = new Map<string, Map<string, Output>>();
    const own: Record<string, string> = { 'lvs-master': '10.213.2.250/24', 'lvs-backup': '10.213.2.251/24', web1: '10.213.2.252/24', web2: '10.213.2.253/24' };
    for (const [host, observations] of plan.observations) {
      if (host in unreachable) continue;
      const out = new Map<string, Output>();
      for (const { key } of observations) {
        let stdout = '';
        if (key === 'addresses') {
          stdout = addressLine(2, 'eth0', own[host]!);
          if (lab.holders.includes(host)) stdout += addressLine(2, 'eth0', `${VIP}/24`, 'eth0:0');
          if (host.startsWith('web')) stdout += addressLine(1, 'lo', `${VIP}/32`, 'lo:0');
        } else if (key === 'ipvs') stdout = (lab.tables[host] ?? []).join('\n') + '\n';
        else if (key === 'processes') stdout = ['/sbin/init', ...(lab.processes[host] ?? [])].join('\n') + '\n';
        else if (key === 'boot') stdout = 'heartbeat enabled\nldirectord disabled\n';
        else if (key === 'config-test') stdout = lab.configTest ?? (lab.holders.includes(host) ? 'ldirectord for /etc/ha.d/ldirectord.cf is running with pid: 1234\n' : 'ldirectord is stopped for /etc/ha.d/ldirectord.cf\n');
        else if (key === 'arp') stdout = lab.arp[host]!;
        else if (key.startsWith('get ')) {
          const server = key.includes('10.213.2.252') ? 'web1' : 'web2';
          const fetched = key.endsWith('/.testpage') ? lab.pages[server]!.check : lab.pages[server]!.index;
          out.set(key, fetched ?? { stdout: '\n@@status 000\n', exitCode: 0 });
          continue;
        } else if (key.startsWith('vip ')) {
          out.set(key, lab.viaVip(Number(key.split(' ')[2])));
          continue;
        }
        out.set(key, { stdout, exitCode: 0 });
      }
      outputs.set(host, out);
    }
    return { outputs, unreachable: new Map(Object.entries(unreachable)) };
  }

  const failures = (results: CheckResult[]) => results.filter((r) => r.status === 'fail').map((r) => `${r.check} ${r.subject}: ${r.detail}`);
  const find = (results: CheckResult[], check: string, subject: string) => results.find((r) => r.check === check && r.subject === subject)!;

  it('passes every check of a healthy cluster, each with its evidence', () => {
    const results = evaluate(cluster, plan, observe(healthyLab()));
    expect(failures(results)).toEqual([]);
    expect(results.map((r) => `${r.check} ${r.subject}`)).toEqual([
      `VIP holder ${VIP}`,
      'health page web1 (tcp_10.213.2.254_80)',
      'health page web2 (tcp_10.213.2.254_80)',
      'IPVS table lvs-master',
      'IPVS table lvs-backup',
      'failover manager lvs-master',
      'failover manager lvs-backup',
      'config test lvs-master',
      'config test lvs-backup',
      'real server VIP web1',
      'real server ARP web1',
      'real server VIP web2',
      'real server ARP web2',
      'through the VIP tcp_10.213.2.254_80',
    ]);
    expect(find(results, 'VIP holder', VIP)).toMatchObject({ detail: 'held by lvs-master only', evidence: [{ host: 'lvs-master', command: 'ip -o -4 addr show' }, { host: 'lvs-backup', output: '(the VIP is not among its addresses)' }] });
    expect(find(results, 'IPVS table', 'lvs-master').evidence[0]!.output).toBe(RULES.join('\n'));
    expect(find(results, 'through the VIP', 'tcp_10.213.2.254_80').detail).toBe('4 requests from client: web1 2, web2 2 (round robin: equal shares)');
  });

  it('reports a split brain: both directors hold the VIP', () => {
    const lab = healthyLab();
    lab.holders = ['lvs-master', 'lvs-backup'];
    lab.tables['lvs-backup'] = RULES;
    lab.processes['lvs-backup']!.push('/usr/bin/perl -w /usr/sbin/ldirectord /etc/ha.d/ldirectord.cf start');
    const results = evaluate(cluster, plan, observe(lab));
    expect(find(results, 'VIP holder', VIP)).toMatchObject({ status: 'fail', detail: 'split brain: held by lvs-master and lvs-backup at once' });
  });

  it('reports a VIP that no director holds, and a standby director that programs IPVS', () => {
    const lab = healthyLab();
    lab.holders = [];
    lab.viaVip = () => ({ stdout: '\n@@status 000\n', exitCode: 0 });
    const results = evaluate(cluster, plan, observe(lab));
    expect(find(results, 'VIP holder', VIP)).toMatchObject({ status: 'fail', detail: 'no director holds it: clients get no answer' });
    expect(find(results, 'IPVS table', 'lvs-master')).toMatchObject({ status: 'fail' });
    expect(find(results, 'failover manager', 'lvs-master')).toMatchObject({ status: 'fail', detail: 'ldirectord runs on a standby director' });
    expect(find(results, 'through the VIP', 'tcp_10.213.2.254_80')).toMatchObject({ status: 'fail', detail: '4 of 4 requests from client got no answer' });
  });

  it('tells a drained real server from a failed one', () => {
    const drained = healthyLab();
    drained.tables['lvs-master'] = [RULES[0]!, RULES[1]!, RULES[2]!.replace('-w 1', '-w 0')];
    drained.viaVip = () => page('web1');
    let results = evaluate(cluster, plan, observe(drained));
    expect(failures(results)).toEqual([]);
    expect(find(results, 'IPVS table', 'lvs-master').detail).toBe('as described (3 rules); 10.213.2.253:80 drained (weight 0), its health page answers');
    expect(find(results, 'through the VIP', 'tcp_10.213.2.254_80').detail).toBe('4 requests from client: web1 4, web2 0 (round robin: equal shares)');

    const failed = healthyLab();
    failed.tables['lvs-master'] = [RULES[0]!, RULES[1]!];
    failed.pages.web2 = { index: { stdout: '\n@@status 000\n', exitCode: 0 }, check: { stdout: '\n@@status 000\n', exitCode: 0 } };
    failed.viaVip = () => page('web1');
    results = evaluate(cluster, plan, observe(failed));
    expect(failures(results)).toEqual([
      'health page web2 (tcp_10.213.2.254_80): http://10.213.2.253:80/.testpage: no answer',
      'IPVS table lvs-master: 10.213.2.253:80 is out of the table: its health check fails',
    ]);
  });

  it("blames ldirectord's own check when a real server is out of the table while its page answers", () => {
    // What the lab's emulated directors showed once: every page answers, yet ldirectord never adds
    // a real server (its HTTP checks all fail after a first one timed out loading LWP's modules).
    const stuck = healthyLab();
    stuck.tables['lvs-master'] = [RULES[0]!];
    stuck.viaVip = () => ({ stdout: '\n@@status 000\n', exitCode: 0 });
    const results = evaluate(cluster, plan, observe(stuck));
    const detail = find(results, 'IPVS table', 'lvs-master').detail;
    expect(detail).toMatch(/^10\.213\.2\.252:80 is out of the table, yet its health page answers: ldirectord's own check of it fails; 10\.213\.2\.253:80 is out of the table, yet its health page answers: ldirectord's own check of it fails; /);
    expect(detail).toContain('restart it (ldirectord /etc/ha.d/ldirectord.cf restart) and give the check a longer negotiatetimeout');
    expect(find(results, 'health page', 'web1 (tcp_10.213.2.254_80)').status).toBe('pass');
  });

  it('fails a health page without the receive string, and a table that differs from the description', () => {
    const lab = healthyLab();
    lab.pages.web1!.check = page('It works!');
    lab.tables['lvs-master'] = ['-A -t 10.213.2.254:80 -s wlc', RULES[1]!, RULES[2]!];
    const results = evaluate(cluster, plan, observe(lab));
    expect(find(results, 'health page', 'web1 (tcp_10.213.2.254_80)')).toMatchObject({ status: 'fail', detail: 'http://10.213.2.252:80/.testpage: the page does not contain "Test Page"' });
    expect(find(results, 'IPVS table', 'lvs-master')).toMatchObject({ status: 'fail', detail: 'missing: -A -t 10.213.2.254:80 -s rr; not described: -A -t 10.213.2.254:80 -s wlc' });
  });

  it('fails real servers that would answer ARP for the VIP, and a spread the scheduler cannot make', () => {
    const lab = healthyLab();
    lab.arp.web2 = 'all 0 0\neth0 1 0\n';
    lab.viaVip = (n) => page(n === 0 ? 'web2' : 'web1');
    const results = evaluate(cluster, plan, observe(lab));
    expect(find(results, 'real server ARP', 'web2')).toMatchObject({ status: 'fail', detail: 'eth0: arp_announce is 0 (2 keeps the VIP out of its ARP requests)' });
    expect(find(results, 'through the VIP', 'tcp_10.213.2.254_80')).toMatchObject({ status: 'fail' });
    expect(find(results, 'through the VIP', 'tcp_10.213.2.254_80').detail).toContain('web1 answered 3 times, expected about 2.0');
  });

  it("fails a director whose manager cannot read its own file", () => {
    const lab = healthyLab();
    lab.configTest = 'Error [1234] reading file /etc/ha.d/ldirectord.cf at line 12: Unknown scheduler: rrr\n';
    const results = evaluate(cluster, plan, observe(lab));
    expect(find(results, 'config test', 'lvs-backup')).toMatchObject({ status: 'fail', detail: 'ldirectord cannot read ldirectord.cf' });
    expect(find(results, 'config test', 'lvs-backup').evidence[0]).toMatchObject({ command: 'ldirectord /etc/ha.d/ldirectord.cf status', output: lab.configTest.trimEnd() });
  });

  it('names a host it cannot reach, and judges the others on what they showed', () => {
    const results = evaluate(cluster, plan, observe(healthyLab(), { 'lvs-backup': 'connection refused' }));
    expect(failures(results)).toEqual(['reachable lvs-backup: cannot be reached: connection refused']);
    expect(find(results, 'VIP holder', VIP).detail).toBe('held by lvs-master only (lvs-backup not observed)');
  });
});

describe('provision verify: keepalived with arptables real servers (keepalived-dr-arptables.yaml)', () => {
  const VIPS = ['172.25.33.100', '172.25.33.200'];
  const rules = [
    '-A -t 172.25.33.100:80 -s rr',
    '-a -t 172.25.33.100:80 -r 172.25.33.3:80 -g -w 1',
    '-a -t 172.25.33.100:80 -r 172.25.33.4:80 -g -w 1',
    '-A -t 172.25.33.200:80 -s rr -p 50',
    '-a -t 172.25.33.200:80 -r 172.25.33.3:80 -g -w 1',
    '-a -t 172.25.33.200:80 -r 172.25.33.4:80 -g -w 1',
  ];
  /** `arptables -L -n` of a real server; `mangled` lists the VIPs whose OUTPUT rule is in place. */
  const arptables = (rip: string, mangled: string[]) =>
    `Chain INPUT (policy ACCEPT)\n${VIPS.map((vip) => `-j DROP -d ${vip} \n`).join('')}Chain OUTPUT (policy ACCEPT)\n${mangled.map((vip) => `-j mangle -s ${vip} --mangle-ip-s ${rip} \n`).join('')}Chain FORWARD (policy ACCEPT)\n`;
  let cluster: Cluster;
  let plan: VerifyPlan;
  beforeAll(async () => {
    cluster = (await loadInventory(path.join(repoRoot, 'inventory', 'keepalived-dr-arptables.yaml'), { env: exampleSecrets })).cluster!;
    // No client in this inventory: the real servers' pages are fetched from the first director.
    plan = planVerify(cluster, ['server1', 'server2', 'server3', 'server4'], undefined);
  });

  function observe(server4Mangled: string[], table: string[] = rules): Observed {
    const outputs = new Map<string, Map<string, Output>>();
    const own: Record<string, string> = { server1: '172.25.33.1', server2: '172.25.33.2', server3: '172.25.33.3', server4: '172.25.33.4' };
    for (const [host, observations] of plan.observations) {
      const out = new Map<string, Output>();
      for (const { key } of observations) {
        let stdout = '';
        if (key === 'addresses') {
          stdout = addressLine(2, 'eth0', `${own[host]!}/24`);
          if (host === 'server1') for (const vip of VIPS) stdout += addressLine(2, 'eth0', `${vip}/32`, 'eth0');
          if (host === 'server3' || host === 'server4') VIPS.forEach((vip, i) => (stdout += addressLine(1, 'lo', `${vip}/32`, `lo:${i}`)));
        } else if (key === 'ipvs') stdout = table.join('\n') + '\n';
        else if (key === 'processes') stdout = '/usr/sbin/keepalived --dont-fork\n';
        else if (key === 'boot') stdout = 'keepalived enabled\n';
        else if (key === 'config-test') stdout = '';
        else if (key === 'arptables') stdout = arptables(own[host]!, host === 'server4' ? server4Mangled : VIPS);
        else if (key.startsWith('get ')) stdout = `${key.includes('.3:') ? 'server3' : 'server4'}\n@@status 200\n`;
        out.set(key, { stdout, exitCode: 0 });
      }
      outputs.set(host, out);
    }
    return { outputs, unreachable: new Map() };
  }

  it('expects the table on both directors (keepalived programs IPVS on each), and the arptables rules for both VIPs', () => {
    expect(plan.observations.get('server3')!.map((o) => o.key)).toEqual(['addresses', 'arptables']);
    const results = evaluate(cluster, plan, observe(VIPS));
    expect(results.filter((r) => r.status === 'fail').map((r) => `${r.check} ${r.subject}: ${r.detail}`)).toEqual([
      'through the VIP tcp_172.25.33.100_80: no client host sent requests: add one to the group clients, or name one with --from HOST',
      'through the VIP tcp_172.25.33.200_80: no client host sent requests: add one to the group clients, or name one with --from HOST',
    ]);
    expect(results.find((r) => r.check === 'IPVS table' && r.subject === 'server2')).toMatchObject({ status: 'pass', detail: 'as described (6 rules)' });
    expect(results.find((r) => r.check === 'real server ARP' && r.subject === 'server4')).toMatchObject({ status: 'pass', detail: 'arptables rules in force for every VIP' });
  });

  it("blames keepalived's own check for a real server out of the table whose page answers, without ldirectord's advice", () => {
    const results = evaluate(cluster, plan, observe(VIPS, rules.filter((rule) => rule !== rules[1])));
    const detail = results.find((r) => r.check === 'IPVS table' && r.subject === 'server1')!.detail;
    expect(detail).toBe("172.25.33.3:80 is out of the table, yet its health page answers: keepalived's own check of it fails");
  });

  it('fails a real server whose arptables rules do not hide one VIP as a source', () => {
    const results = evaluate(cluster, plan, observe(['172.25.33.100']));
    expect(results.find((r) => r.check === 'real server ARP' && r.subject === 'server4')).toMatchObject({
      status: 'fail',
      detail: 'no rule replaces 172.25.33.200 by 172.25.33.4 in the ARP requests it sends',
    });
    expect(results.find((r) => r.check === 'real server ARP' && r.subject === 'server3')).toMatchObject({ status: 'pass' });
  });
});
