// Golden command plans and files of the base role on a fresh host of every platform
// (test/fixtures/golden/base/), and the default gateway it keeps: a director's from the cluster
// description, any other host's from default_gateway.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import type { Facts } from '../../src/core/facts.ts';
import { loadExampleClusters, type ExampleCluster } from '../../test/support/example-clusters.ts';
import { factsFor, platforms } from '../../test/support/facts.ts';
import { expectRoleGoldens } from '../../test/support/goldens.ts';
import { planRole, type InventoryHostInput, type RolePlan } from '../../test/support/plan-role.ts';
import { posixShells } from '../../test/support/posix-shells.ts';
import realserver from '../realserver/index.ts';
import { gatewayScriptPath, gatewayUnitPath, renderGatewayScript, renderGatewayUnit, routesVia } from './gateway.ts';
import base from './index.ts';

const inventory: InventoryHostInput[] = [
  { name: 'lvs-master', address: '192.168.2.250', groups: ['all', 'directors'] },
  { name: 'lvs-backup', address: '192.168.2.251', groups: ['all', 'directors'] },
  { name: 'web1', address: '192.168.2.252', groups: ['all', 'realservers'] },
  { name: 'web2', address: '192.168.2.253', groups: ['all', 'realservers'] },
  // Reached by name: it has no address to write into /etc/hosts.
  { name: 'controller', address: 'controller.example.org', groups: ['all'] },
];

// The lab's Debian 12 hosts run without systemd.
const variants: Array<[name: string, facts: Facts]> = [
  ...platforms.map((p): [string, Facts] => [p, factsFor(p)]),
  ['debian12-sysv', factsFor('debian12', { init: 'sysv' })],
];

const examples = await loadExampleClusters();
function example(name: string): ExampleCluster {
  const found = examples.find((e) => e.name === name);
  if (found === undefined) throw new Error(`no example cluster ${name}`);
  return found;
}
const planIn = (e: ExampleCluster, host: string, facts: Facts, vars: Record<string, unknown> = {}): RolePlan =>
  planRole(base, { host, inventory: e.hosts, cluster: e.cluster, facts, vars });
const gatewayTasksOf = (p: RolePlan) => p.tasks.filter((t) => t.task.startsWith('default gateway') || t.task === gatewayUnitPath);
const routeNow = (p: RolePlan) => p.tasks.find((t) => / now$/.test(t.task) && t.task.startsWith('default gateway'));

describe('base role plan on a fresh host', () => {
  it('on every platform', () => {
    const plans = variants.map(([variant, facts]) => [variant, planRole(base, { host: 'lvs-master', inventory, facts, vars: { default_gateway: '192.168.2.1' } })] as const);
    expectRoleGoldens('base/lvs-master', plans);
  });

  it('on a director of tutorial 000 (dr-heartbeat-ldirectord), on every platform', () => {
    const e = example('dr-heartbeat-ldirectord');
    expectRoleGoldens('base/dr-heartbeat-ldirectord/lvs-master', variants.map(([variant, facts]) => [variant, planIn(e, 'lvs-master', facts)] as const));
  });
});

describe('the default gateway', () => {
  it("of tutorial 000's directors: GATEWAY=192.168.2.1 beside HOSTNAME on EL5, and the route now", () => {
    const e = example('dr-heartbeat-ldirectord');
    for (const host of ['lvs-master', 'lvs-backup']) {
      const p = planIn(e, host, factsFor('el5'));
      const written = p.tasks.find((t) => t.task === 'default gateway 192.168.2.1 at boot (/etc/sysconfig/network)')?.files?.['/etc/sysconfig/network'];
      expect(written, host).toMatch(new RegExp(`^NETWORKING=yes\\n(.*\\n)*HOSTNAME=${host}\\n(.*\\n)*GATEWAY=192\\.168\\.2\\.1\\n$`));
      expect(routeNow(p), host).toMatchObject({ status: 'changed', script: 'ip route replace default via 192.168.2.1' });
      expect(p.tasks.filter((t) => t.task.includes(gatewayScriptPath)).map((t) => t.status), host).toEqual(['skipped']);
    }
  });

  it('of a director that is also a real server (Ultra Monkey): the router, never itself; the realserver role sets none', () => {
    const e = example('ultramonkey-active-active');
    for (const [variant, facts] of variants) {
      for (const host of e.cluster.directors) {
        const p = planIn(e, host, facts);
        expect(routeNow(p)?.script, `${variant} ${host}`).toBe('ip route replace default via 192.168.0.254');
        const el7OrOlder = facts.os.family === 'el' && facts.os.major <= 7;
        const kept = el7OrOlder ? p.tasks.find((t) => t.task.endsWith('(/etc/sysconfig/network)'))?.files?.['/etc/sysconfig/network'] : p.tasks.find((t) => t.task.includes(gatewayScriptPath))?.files?.[gatewayScriptPath];
        expect(kept, `${variant} ${host}`).toContain(el7OrOlder ? 'GATEWAY=192.168.0.254\n' : '\tip route replace default via 192.168.0.254\n');
        const itself = new RegExp(`(via |GATEWAY=)${(e.cluster.addresses[host] ?? '').replace(/\./g, '\\.')}(?![\\d.])`);
        expect(JSON.stringify(p), `${variant} ${host}`).not.toMatch(itself);
        const asRealServer = planRole(realserver, { host, inventory: e.hosts, cluster: e.cluster, facts });
        expect(asRealServer.tasks.filter((t) => t.task.includes('gateway')), `${variant} ${host}`).toEqual([]);
      }
    }
  });

  it('is none where the description names none and default_gateway is unset', () => {
    // The lab's network has no router; a NAT real server's gateway is the realserver role's.
    for (const [name, host] of [['lab', 'lvs-master'], ['nat-heartbeat', 'web1']] as const) {
      for (const [variant, facts] of variants) expect(gatewayTasksOf(planIn(example(name), host, facts)), `${name} ${host} ${variant}`).toEqual([]);
    }
    expect(gatewayTasksOf(planRole(base, { host: 'lvs-master', inventory, facts: factsFor('el5') }))).toEqual([]);
  });

  it('of a host outside any cluster: default_gateway, on every family', () => {
    for (const [variant, facts] of variants) {
      const p = planRole(base, { host: 'controller', inventory, facts, vars: { default_gateway: '10.1.2.3' } });
      expect(routeNow(p)?.script, variant).toBe('ip route replace default via 10.1.2.3');
    }
  });

  it('default_gateway overrides a director’s, and must agree with a real server’s', () => {
    const e = example('dr-heartbeat-ldirectord');
    expect(routeNow(planIn(e, 'lvs-master', factsFor('el9'), { default_gateway: '192.168.2.2' }))?.script).toBe('ip route replace default via 192.168.2.2');
    // The realserver role sets web1's: base adds nothing, whether default_gateway agrees or is unset.
    expect(gatewayTasksOf(planIn(e, 'web1', factsFor('el5'), { default_gateway: '192.168.2.1' }))).toEqual([]);
    expect(() => planIn(example('nat-heartbeat'), 'web1', factsFor('el5'), { default_gateway: '10.0.0.254' })).toThrow(
      /realserver role sets the default gateway of web1, a real server of cluster \w+, to 172\.16\.10\.1 \(cluster\.nat\.gateway\); default_gateway 10\.0\.0\.254 contradicts it/,
    );
  });

  it('changes nothing on a host that keeps it already (but the route, which only the host can tell)', () => {
    const e = example('dr-heartbeat-ldirectord');
    for (const [variant, facts] of variants) {
      const first = planIn(e, 'lvs-master', facts);
      const files = Object.fromEntries(first.tasks.flatMap((t) => Object.entries(t.files ?? {})).flatMap(([path, content]) => (content === null ? [] : [[path, { content, mode: path === gatewayScriptPath ? '0755' : '0644' }]])));
      const again = planRole(base, { host: 'lvs-master', inventory: e.hosts, cluster: e.cluster, facts, state: { files, services: { 'default-gateway': { enabled: true } } } });
      const changed = gatewayTasksOf(again).filter((t) => t.status === 'changed').map((t) => t.task);
      expect(changed, variant).toEqual(['default gateway 192.168.2.1 now']);
    }
  });

  it.each(posixShells().map((s) => [s.name, s] as const))('%s: the route guard and the script’s status read the route in use', (_, shell) => {
    const gateway = { address: '192.168.2.1', reason: 'router' } as const;
    // ip lists the lowest metric first: the route the kernel uses.
    const inUse = 'default via 192.168.2.1 dev eth0 \ndefault via 10.0.0.1 dev eth0 proto dhcp metric 100 \n';
    const other = 'default via 10.0.0.1 dev eth0 proto dhcp metric 100 \ndefault via 192.168.2.1 dev eth0 metric 200 \n';
    const standIn = `ip() { if [ "$1 $2" = "route show" ]; then printf '%s' "$ROUTES"; else echo "ip $*" >>"$LOG"; fi; }\n`;
    const script = renderGatewayScript('lvs-master', gateway);
    const log = `${process.env.TMPDIR ?? '/tmp'}/provision-gateway-${process.pid}-${shell.name.replace(/\W/g, '')}`;
    const run = (routes: string, action: string) =>
      spawnSync(shell.command[0], [...shell.command.slice(1), action], { input: standIn + script, env: { ROUTES: routes, LOG: log, PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
    const guard = (routes: string) => spawnSync(shell.command[0], shell.command.slice(1), { input: standIn + routesVia(gateway.address), env: { ROUTES: routes, PATH: '/usr/bin:/bin' } }).status;
    expect([guard(inUse), guard(other), guard('')]).toEqual([0, 1, 1]);
    expect(run(inUse, 'status')).toMatchObject({ status: 0, stdout: 'default gateway 192.168.2.1\n' });
    expect(run(other, 'status')).toMatchObject({ status: 3 });
    expect(run('', 'status')).toMatchObject({ status: 3 });
    expect(run('', 'start').status).toBe(0);
    expect(spawnSync('cat', [log], { encoding: 'utf8' }).stdout).toBe('ip route replace default via 192.168.2.1\n');
    spawnSync('rm', ['-f', log]);
    expect(renderGatewayUnit('lvs-master')).toContain(`\nAfter=network-online.target\n\n[Service]\nType=oneshot\nRemainAfterExit=yes\nExecStart=${gatewayScriptPath} start\n`);
  });
});
