// The keepalived role: keepalived.conf and the command plan of every director of every example
// cluster managed by keepalived, on a fresh host of every platform (test/fixtures/golden/keepalived/),
// what the file must say whatever the example (dialect, VRRP rules), and keepalived's own parser.
import { describe, expect, it } from 'vitest';
import type { Facts } from '../../src/core/facts.ts';
import { OperationError } from '../../src/core/operation.ts';
import type { Cluster } from '../../src/cluster/model.ts';
import { exampleSecrets, loadExampleClusters, type ExampleCluster } from '../../test/support/example-clusters.ts';
import { factsFor, platforms } from '../../test/support/facts.ts';
import { freshProbe } from '../../test/support/fresh-host.ts';
import { configTest, findKeepalived } from '../../test/support/keepalived-binary.ts';
import { expectRoleGoldens } from '../../test/support/goldens.ts';
import { planRole } from '../../test/support/plan-role.ts';
import keepalived, { keepalivedConf } from './index.ts';
import { KEEPALIVED_CONF, maxAuthPassLength, renderKeepalivedConf, type KeepalivedView } from './render.ts';
import { keepalivedDialect } from './view.ts';

const examples = await loadExampleClusters();
const managed = examples.filter((e) => e.cluster.manager === 'keepalived');
const variants: Array<[name: string, facts: Facts]> = [
  ...platforms.map((p): [string, Facts] => [p, factsFor(p)]),
  // The lab's Debian 12 hosts run without systemd.
  ['debian12-sysv', factsFor('debian12', { init: 'sysv' })],
];
const cases = managed.flatMap((example) => example.cluster.directors.map((host) => ({ example, host })));
const variantCases = cases.flatMap((c) => variants.map(([variant, facts]) => ({ ...c, variant, facts })));

function example(name: string): ExampleCluster {
  const found = examples.find((e) => e.name === name);
  if (found === undefined) throw new Error(`no example cluster ${name}`);
  return found;
}

function withKeepalived(cluster: Cluster, change: Partial<NonNullable<Cluster['keepalived']>>): Cluster {
  return { ...cluster, keepalived: { ...(cluster.keepalived as NonNullable<Cluster['keepalived']>), ...change } };
}

describe('keepalived role on a fresh director', () => {
  it('has example clusters to render', () => {
    expect(managed.map((e) => e.name)).toEqual(expect.arrayContaining(['keepalived-dr-arptables', 'keepalived-dr-unicast', 'keepalived-nat']));
  });

  it.each(cases.map((c) => [`${c.example.name} ${c.host}`, c] as const))('%s', (_, { example, host }) => {
    const plans = variants.map(([variant, facts]) => [variant, planRole(keepalived, { host, inventory: example.hosts, cluster: example.cluster, facts })] as const);
    for (const [variant, plan] of plans) {
      const conf = plan.tasks.find((t) => t.task === 'keepalived.conf')?.files?.[KEEPALIVED_CONF];
      expect(conf, `${variant}: the plan writes keepalived.conf`).toBeTypeOf('string');
    }
    expectRoleGoldens(`keepalived/${example.name}/${host}`, plans);
  });
});

describe('keepalived.conf', () => {
  const dr = example('keepalived-dr-unicast');
  const nat = example('keepalived-nat');

  it('spells the retries the way the platform’s keepalived reads them', () => {
    for (const platform of ['el5', 'el6', 'el7'] as const) {
      const conf = keepalivedConf(dr.cluster, 'server1', factsFor(platform));
      expect(conf, platform).toContain('nb_get_retry 3');
      expect(conf, platform).not.toMatch(/^\s*retry /m);
      // keepalived 1.x has no retries on TCP_CHECK.
      expect(conf.slice(conf.indexOf('TCP_CHECK')), platform).not.toMatch(/^\s*(nb_get_)?retry|delay_before_retry/m);
    }
    for (const platform of ['el8', 'el9', 'debian11', 'debian12', 'ubuntu2204', 'ubuntu2404'] as const) {
      const conf = keepalivedConf(dr.cluster, 'server1', factsFor(platform));
      expect(conf, platform).not.toContain('nb_get_retry');
      expect(conf.match(/^\s*retry 3$/gm), platform).toHaveLength(3);
    }
  });

  it('reads the keepalived version of a source build from the archive name or the version', () => {
    const el6 = factsFor('el6');
    expect(keepalivedDialect({ from: 'source', url: 'http://mirror.example.com/keepalived-1.2.20.tar.gz', sha256: 'a'.repeat(64), configure_args: [] }, el6).major).toBe(1);
    expect(keepalivedDialect({ from: 'source', url: 'http://mirror.example.com/keepalived-2.2.8.tar.gz', sha256: 'a'.repeat(64), configure_args: [] }, el6).major).toBe(2);
    expect(keepalivedDialect({ from: 'source', url: 'http://mirror.example.com/ka.tgz', sha256: 'a'.repeat(64), version: '2.0.20', configure_args: [] }, el6).major).toBe(2);
    expect(() => keepalivedDialect({ from: 'source', url: 'http://mirror.example.com/ka.tgz', sha256: 'a'.repeat(64), configure_args: [] }, el6)).toThrow(/install\.keepalived\.version/);
  });

  it('advertises by unicast to the other director only, from its own address', () => {
    const server1 = keepalivedConf(dr.cluster, 'server1', factsFor('el9'));
    const server2 = keepalivedConf(dr.cluster, 'server2', factsFor('el9'));
    expect(server1).toContain('    unicast_src_ip 172.25.33.1\n    unicast_peer {\n        172.25.33.2\n    }');
    expect(server2).toContain('    unicast_src_ip 172.25.33.2\n    unicast_peer {\n        172.25.33.1\n    }');
    expect(server1).toMatch(/priority 100\n/);
    expect(server2).toMatch(/priority 50\n/);
    // Everything but the router id, the addresses and the priority is the same on both directors.
    const strip = (conf: string) => conf.replace(/server[12]|172\.25\.33\.[12]\b|priority \d+/g, 'X');
    expect(strip(server1)).toBe(strip(server2));
  });

  it('moves the NAT real servers’ gateway with the VIP and keeps the real servers’ ports only with NAT', () => {
    const conf = keepalivedConf(nat.cluster, 'lb1', factsFor('debian12'));
    expect(conf).toContain('    virtual_ipaddress {\n        192.168.26.10/24 dev eth0\n        10.11.12.1/24 dev eth1\n    }');
    expect(conf).toContain('real_server 10.11.12.101 8080 {');
    const drPorted = { ...dr.cluster, virtual_services: dr.cluster.virtual_services.map((s) => ({ ...s, realservers: s.realservers.map((r) => ({ ...r, port: 8080 })) })) };
    // With direct routing the packet keeps its port: keepalived would warn and use the service's.
    expect(keepalivedConf(drPorted, 'server1', factsFor('debian12'))).toContain('real_server 172.25.33.3 80 {');
  });

  it('refuses a VRRP password longer than VRRP PASS carries', () => {
    const cluster = withKeepalived(dr.cluster, { auth: { type: 'PASS', pass: 'x'.repeat(maxAuthPassLength + 1) } });
    expect(() => keepalivedConf(cluster, 'server1', factsFor('el9'))).toThrow(OperationError);
    expect(() => keepalivedConf(cluster, 'server1', factsFor('el9'))).toThrow(/at most 8/);
    const ok = withKeepalived(dr.cluster, { auth: { type: 'PASS', pass: 'x'.repeat(maxAuthPassLength) } });
    expect(keepalivedConf(ok, 'server1', factsFor('el9'))).toContain(`auth_pass ${'x'.repeat(maxAuthPassLength)}\n`);
  });

  it('refuses nopreempt on a director that starts as MASTER', () => {
    const cluster = withKeepalived(dr.cluster, { state: { server1: 'MASTER', server2: 'BACKUP' } });
    expect(() => keepalivedConf(cluster, 'server1', factsFor('el9'))).toThrow(/nopreempt only with state BACKUP/);
    expect(keepalivedConf(cluster, 'server2', factsFor('el9'))).toContain('    state BACKUP\n');
  });

  it('names a firewall-mark service by its mark, without a protocol', () => {
    const view: KeepalivedView = {
      host: 'lb1',
      routerId: 'lb1',
      instances: [],
      virtualServers: [{ selector: { fwmark: 7 }, delayLoop: 6, scheduler: 'wlc', kind: 'DR', realServers: [{ address: '10.0.0.1', port: 0, weight: 1 }] }],
    };
    const conf = renderKeepalivedConf(view, { major: 2, shipped: '2.x' });
    expect(conf).toContain('virtual_server fwmark 7 {\n    delay_loop 6\n    lb_algo wlc\n    lb_kind DR\n\n    real_server 10.0.0.1 0 {');
    expect(conf).not.toContain('protocol');
  });

  it('refuses values that keepalived’s tokenizer would split or read as a comment', () => {
    const cluster = withKeepalived(dr.cluster, { auth: { type: 'PASS', pass: 'a b!c' } });
    expect(() => keepalivedConf(cluster, 'server1', factsFor('el9'))).toThrow(/cannot be written into keepalived\.conf/);
  });

  it('problem 5: a refused VRRP password is not quoted in the message, in any form', () => {
    for (const pass of ['Qz"7\\k', 'Qz 7!k']) {
      const cluster = withKeepalived(dr.cluster, { auth: { type: 'PASS', pass } });
      const message = (() => {
        try {
          keepalivedConf(cluster, 'server1', factsFor('el9'));
          return '';
        } catch (error) {
          return (error as Error).message;
        }
      })();
      expect(message).toMatch(/^keepalived: the VRRP password of \S+ cannot be written into keepalived\.conf/);
      expect(message).not.toContain('Qz');
    }
  });
});

describe('the keepalived role', () => {
  it('does nothing on hosts that are not directors, or for clusters of another manager', () => {
    const dr = example('keepalived-dr-unicast');
    expect(planRole(keepalived, { host: 'server3', inventory: dr.hosts, cluster: dr.cluster, facts: factsFor('el9') }).tasks).toEqual([]);
    for (const other of examples.filter((e) => e.cluster.manager !== 'keepalived')) {
      const host = other.cluster.directors[0] as string;
      expect(planRole(keepalived, { host, inventory: other.hosts, cluster: other.cluster, facts: factsFor('el9') }).tasks, other.name).toEqual([]);
    }
  });

  it('keeps the VRRP password out of sight: the file is secret and mode 0600', () => {
    const dr = example('keepalived-dr-unicast');
    const plan = planRole(keepalived, { host: 'server1', inventory: dr.hosts, cluster: dr.cluster, facts: factsFor('el9') });
    const task = plan.tasks.find((t) => t.task === 'keepalived.conf');
    expect(task?.summary).toMatch(/mode 0600/);
    expect(task?.files?.[KEEPALIVED_CONF]).toContain(`auth_pass ${exampleSecrets.VRRP_PASS}`);
  });

  it('problem 6: keepalived.conf stays secret without auth, so a diff never shows the old auth_pass', () => {
    const dr = example('keepalived-dr-unicast');
    const withoutAuth = { ...dr.cluster, keepalived: { ...dr.cluster.keepalived!, auth: undefined } };
    const old = keepalivedConf(dr.cluster, 'server1', factsFor('el9'));
    const conf = keepalived.tasks({ vars: {}, host: { name: 'server1', address: 'server1', groups: [] }, inventory: { hosts: [] }, cluster: withoutAuth } as never).find((t) => t.name === 'keepalived.conf')!;
    const probe = freshProbe(conf.op, factsFor('el9'), { files: { [KEEPALIVED_CONF]: { content: old, mode: '0600' } } });
    expect(probe.stdout).not.toContain('auth_pass');
    const plan = conf.op.plan(factsFor('el9'), probe);
    expect(plan).toMatchObject({ changed: true, diff: [{ path: KEEPALIVED_CONF, secret: true, change: 'changed' }] });
    expect(JSON.stringify(plan.changed && plan.diff)).not.toContain(exampleSecrets.VRRP_PASS);
  });
});

// The real parser: keepalived --config-test exits non-zero on any error or warning (an unknown
// keyword, a deprecated one, a password cut to 8 characters, a missing interface).
const keepalivedHere = findKeepalived();
describe.skipIf('skip' in keepalivedHere)(`keepalived --config-test ${'skip' in keepalivedHere ? `(skipped: ${keepalivedHere.skip})` : ''}`, () => {
  const binary = 'binary' in keepalivedHere ? keepalivedHere.binary : undefined;
  const testable = variantCases.filter((c) => binary !== undefined && keepalivedDialect(c.example.cluster.install.keepalived, c.facts).major === binary.major);
  it.each(testable.map((c) => [`${c.variant} ${c.example.name} ${c.host}`, c] as const))('accepts %s', (_, { example, host, facts }) => {
    const result = configTest(binary as NonNullable<typeof binary>, keepalivedConf(example.cluster, host, facts));
    // On failure the diff shows keepalived's complaints.
    expect(result).toEqual({ ok: true, output: result.output });
  });

  it('rejects what the role refuses to write (the test can fail)', () => {
    const conf = keepalivedConf(example('keepalived-dr-unicast').cluster, 'server1', factsFor('debian12')).replace('lb_algo rr', 'lb_algo nosuch');
    expect(configTest(binary as NonNullable<typeof binary>, conf).ok).toBe(false);
  });
});
