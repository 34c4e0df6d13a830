// The director role: its files and command plan on every director of every example cluster, on a
// fresh host of every platform (test/fixtures/golden/director/); the IPVS rules in ipvsadm-save's
// exact form; who loads the rules at boot for each manager; and the lvs script run for real by dash
// and busybox sh against stand-ins for ip and ipvsadm.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { Facts } from '../../src/core/facts.ts';
import type { Cluster } from '../../src/cluster/model.ts';
import { loadExampleClusters, type ExampleCluster } from '../../test/support/example-clusters.ts';
import { factsFor, platforms } from '../../test/support/facts.ts';
import { expectRoleGoldens } from '../../test/support/goldens.ts';
import { planRole, type RolePlan } from '../../test/support/plan-role.ts';
import { posixShells } from '../../test/support/posix-shells.ts';
import director, { debianDefaultsPath, debianRulesPath, elRulesPath, ipvsadmDropInPath, lvsScriptPath, lvsUnitPath } from './index.ts';
import { ipvsadmRules, renderLvsScript, renderRulesFile, type IpvsServiceView } from './render.ts';
import { heldAddresses, ipvsServices } from './view.ts';

const examples = await loadExampleClusters();
const variants: Array<[name: string, facts: Facts]> = [...platforms.map((p): [string, Facts] => [p, factsFor(p)]), ['debian12-sysv', factsFor('debian12', { init: 'sysv' })]];
// The director role writes the same on every director of a cluster (a test below checks it), so the
// golden files are the primary's.
const cases = examples.map((example) => ({ example, host: example.cluster.directors[0] as string }));

function example(name: string): ExampleCluster {
  const found = examples.find((e) => e.name === name);
  if (found === undefined) throw new Error(`no example cluster ${name}`);
  return found;
}

function plan(example: ExampleCluster, facts: Facts, cluster: Cluster = example.cluster): RolePlan {
  return planRole(director, { host: cluster.directors[0] as string, inventory: example.hosts, cluster, facts });
}

const writes = (p: RolePlan, file: string): string | null | undefined => p.tasks.find((t) => t.files !== undefined && file in t.files)?.files?.[file];
const status = (p: RolePlan, task: string): string[] => p.tasks.filter((t) => t.task === task).map((t) => t.status);

describe('director role on a fresh director', () => {
  it.each(cases.map((c) => [`${c.example.name} ${c.host}`, c] as const))('%s', (_, { example, host }) => {
    const plans = variants.map(([variant, facts]) => [variant, planRole(director, { host, inventory: example.hosts, cluster: example.cluster, facts })] as const);
    expectRoleGoldens(`director/${example.name}/${host}`, plans);
  });
});

describe('every director of a cluster', () => {
  it.each(examples.filter((e) => e.cluster.directors.length > 1).map((e) => [e.name, e] as const))('%s: plans the same as the primary', (_, example) => {
    for (const [variant, facts] of variants) {
      const [primary, ...others] = example.cluster.directors.map((host) => planRole(director, { host, inventory: example.hosts, cluster: example.cluster, facts }));
      for (const other of others) expect(other, variant).toEqual(primary);
    }
  });
});

describe('the IPVS rules', () => {
  it('are written the way ipvsadm-save -n prints them', () => {
    const services: IpvsServiceView[] = [
      { protocol: 'tcp', vip: '192.168.2.254', port: 80, scheduler: 'lc', forwarding: 'dr', reals: [{ address: '192.168.2.252', port: 80, weight: 1 }] },
      { protocol: 'udp', vip: '192.168.2.254', port: 53, scheduler: 'rr', persistence: { timeout: 600, netmask: '255.255.255.255' }, forwarding: 'tun', reals: [{ address: '10.1.1.1', port: 53, weight: 0 }] },
      { protocol: 'fwmark', vip: '192.168.2.254', fwmark: 1, scheduler: 'wlc', persistence: { timeout: 360, netmask: '255.255.255.0' }, forwarding: 'nat', reals: [{ address: '10.0.0.1', port: 0, weight: 2 }] },
    ];
    expect(renderRulesFile(services, 'el')).toBe(
      [
        '-A -t 192.168.2.254:80 -s lc',
        '-a -t 192.168.2.254:80 -r 192.168.2.252:80 -g -w 1',
        // the default persistence netmask is not printed
        '-A -u 192.168.2.254:53 -s rr -p 600',
        '-a -u 192.168.2.254:53 -r 10.1.1.1:53 -i -w 0',
        '-A -f 1 -s wlc -p 360 -M 255.255.255.0',
        '-a -f 1 -r 10.0.0.1:0 -m -w 2',
        '',
      ].join('\n'),
    );
    // Debian's save writes this header first; its init script drops comment lines when loading.
    expect(renderRulesFile(services, 'debian')).toBe(`# ipvsadm.rules\n${renderRulesFile(services, 'el')}`);
  });

  it('keep a real server’s own port only with NAT (ipvsadm forces the service’s port otherwise)', () => {
    const service = (forwarding: IpvsServiceView['forwarding']): IpvsServiceView => ({ protocol: 'tcp', vip: '10.0.0.10', port: 80, scheduler: 'rr', forwarding, reals: [{ address: '172.16.10.2', port: 8080, weight: 1 }] });
    expect(ipvsadmRules([service('nat')])[1]).toContain('172.16.10.2:8080');
    expect(ipvsadmRules([service('dr')])[1]).toContain('172.16.10.2:80');
    expect(ipvsadmRules([service('tun')])[1]).toContain('172.16.10.2:80');
  });
});

describe('who loads the IPVS rules at boot', () => {
  it('with manager none: the family’s ipvsadm service and the lvs script', () => {
    const none = example('none-nat');
    for (const [variant, facts] of variants) {
      const p = plan(none, facts);
      const el = facts.os.family === 'el';
      expect(writes(p, el ? elRulesPath : debianRulesPath), variant).toBe(renderRulesFile(ipvsServices(none.cluster), el ? 'el' : 'debian'));
      expect(writes(p, el ? debianRulesPath : elRulesPath), variant).toBeUndefined();
      expect(p.tasks.find((t) => t.task === 'ipvsadm restores the rules at boot')?.summary, variant).toBe('enable ipvsadm');
      if (!el) expect(writes(p, debianDefaultsPath), variant).toContain('\nAUTO=true\n');
      expect(writes(p, lvsScriptPath), variant).toBe(renderLvsScript('web', ipvsServices(none.cluster), heldAddresses(none.cluster)));
      expect(writes(p, lvsUnitPath) !== undefined, variant).toBe(facts.init === 'systemd');
      // EL's ipvsadm.service would save the live table over the rules file when it stops.
      expect(writes(p, ipvsadmDropInPath) !== undefined, variant).toBe(el && facts.init === 'systemd');
      if (el && facts.init === 'systemd') expect(writes(p, ipvsadmDropInPath), variant).toContain('\n[Service]\nExecStop=\nExecStop=/sbin/ipvsadm -C\n');
      expect(p.tasks.find((t) => t.task === 'lvs started at boot and running')?.summary, variant).toMatch(/^enable lvs; start lvs$/);
      expect(p.handlers.map((h) => h.handler), variant).toEqual(['reload lvs']);
    }
  });

  it('with a manager: nothing, and what an earlier setup left is taken away', () => {
    for (const managed of examples.filter((e) => e.cluster.manager !== 'none' && !e.cluster.ipvs_rules_at_boot)) {
      for (const [variant, facts] of variants) {
        const p = plan(managed, facts);
        const what = `${managed.name} ${variant}`;
        if (facts.os.family === 'el') {
          expect(p.tasks.find((t) => t.task === 'no IPVS rules restored at boot')?.status, what).toBe('ok');
        } else {
          expect(writes(p, debianRulesPath), what).toBe('# ipvsadm.rules\n');
          expect(writes(p, debianDefaultsPath), what).toContain('\nAUTO=false\n');
        }
        expect(p.tasks.filter((t) => t.task === 'ipvsadm restores no rules at boot').map((t) => t.status), what).toEqual(['ok']);
        expect(writes(p, lvsScriptPath), what).toBeUndefined();
        expect(status(p, 'no lvs script at boot').filter((s) => s !== 'skipped'), what).toEqual(['ok']);
        expect(p.handlers, what).toEqual([]);
      }
    }
  });

  it('with heartbeat moving only the VIP: the rules at boot, loaded now by the handler, no lvs script', () => {
    const heartbeat = examples.find((e) => e.cluster.manager === 'heartbeat') as ExampleCluster;
    const cluster: Cluster = { ...heartbeat.cluster, ldirectord: { ...(heartbeat.cluster.ldirectord as NonNullable<Cluster['ldirectord']>), enabled: false }, ipvs_rules_at_boot: true };
    const p = plan(heartbeat, factsFor('el6'), cluster);
    expect(writes(p, elRulesPath)).toBe(renderRulesFile(ipvsServices(cluster), 'el'));
    expect(writes(p, lvsScriptPath)).toBeUndefined();
    expect(p.handlers.map((h) => [h.handler, h.script])).toEqual([['load IPVS rules', expect.stringContaining('ipvsadm -C\nipvsadm -R < /etc/sysconfig/ipvsadm')]]);
  });

  it('turns IPv4 forwarding on where a service uses NAT', () => {
    for (const e of examples) {
      const p = plan(e, factsFor('el9'));
      expect(p.tasks.some((t) => t.task === 'IPv4 forwarding (NAT)'), e.name).toBe(e.cluster.ip_forward);
    }
    expect(plan(example('none-nat'), factsFor('el5')).tasks.find((t) => t.task === 'IPv4 forwarding (NAT)')?.summary).toMatch(/net\.ipv4\.ip_forward = 1/);
  });

  it('refuses two directors without a manager: both would hold the VIPs', () => {
    const none = example('none-nat');
    const cluster = { ...none.cluster, directors: ['lvs', 'web1'] };
    const lvs = plan(none, factsFor('el9'), cluster).tasks.find((t) => t.task === 'lvs script');
    expect(lvs?.status).toBe('error');
    expect(lvs?.error).toMatch(/no manager but two directors/);
  });

  it('does nothing on hosts that are not directors', () => {
    const none = example('none-nat');
    expect(planRole(director, { host: 'web1', inventory: none.hosts, cluster: none.cluster, facts: factsFor('el9') }).tasks).toEqual([]);
  });
});

// --- the lvs script, run ------------------------------------------------------------------------
// Stand-ins for ip and ipvsadm keep the host's addresses and IPVS services in files and log every
// call, so the script's logic runs for real under the shells targets have. They are shell
// functions put in place of the script's PATH line: a function wins over PATH and over busybox's
// own applets (busybox sh runs its ip applet before any ip on PATH), so the test can never
// reach this machine's real addresses.

const standIns = `
ip() {
    echo "ip $*" >>"$FAKE_STATE/log"
    touch "$FAKE_STATE/addresses"
    case "$1 $2 $3 $4 $5" in
        "-o -4 addr show dev")
            while read -r fake_dev fake_address fake_label; do
                if [ "$fake_dev" = "$6" ]; then echo "2: $fake_dev    inet $fake_address scope global $fake_label"; fi
            done <"$FAKE_STATE/addresses" ;;
        "addr add "*) echo "$5 $3 $7" >>"$FAKE_STATE/addresses" ;;
        "addr del "*) grep -v "^$5 $3 " "$FAKE_STATE/addresses" >"$FAKE_STATE/kept"; mv "$FAKE_STATE/kept" "$FAKE_STATE/addresses" ;;
        *) echo "fake ip: unexpected arguments: $*" >&2; return 2 ;;
    esac
}
ipvsadm() {
    echo "ipvsadm $*" >>"$FAKE_STATE/log"
    touch "$FAKE_STATE/services"
    case "$1" in
        -C) : >"$FAKE_STATE/services" ;;
        -A) echo "$2 $3" >>"$FAKE_STATE/services" ;;
        -a) grep -qx -e "$2 $3" "$FAKE_STATE/services" || { echo "fake ipvsadm: no service $2 $3" >&2; return 1; } ;;
        -L) if [ $# -gt 2 ]; then grep -qx -e "$3 $4" "$FAKE_STATE/services"; else cat "$FAKE_STATE/services"; fi ;;
        *) echo "fake ipvsadm: unexpected arguments: $*" >&2; return 2 ;;
    esac
}
`;

describe('the lvs script, run by the shells targets have', () => {
  const none = example('none-nat');
  const script = renderLvsScript(none.cluster.name, ipvsServices(none.cluster), heldAddresses(none.cluster));
  const pathLine = '\nPATH=/sbin:/usr/sbin:/bin:/usr/bin\nexport PATH\n';
  const testable = script.replace(pathLine, `\n${standIns}`);
  let dir = '';
  beforeEach(() => {
    dir = mkdtempSync(path.join(tmpdir(), 'provision-lvs-script-'));
  });
  afterEach(() => rmSync(dir, { recursive: true, force: true }));

  const read = (file: string) => {
    try {
      return readFileSync(path.join(dir, file), 'utf8');
    } catch {
      return '';
    }
  };

  it.each(posixShells().map((s) => [s.name, s] as const))('%s: start, start again, status, stop, status', (_, shell) => {
    // Never run the script with the real ip: it would change this machine's addresses.
    if (!testable.includes('\nip() {')) throw new Error('the stand-ins did not replace the PATH line of the lvs script');
    const run = (action: string) => {
      const result = spawnSync(shell.command[0], [...shell.command.slice(1), action], { input: testable, env: { FAKE_STATE: dir, PATH: '/usr/bin:/bin' }, encoding: 'utf8' });
      return { code: result.status, stdout: result.stdout, stderr: result.stderr };
    };
    expect(spawnSync(shell.command[0], [...shell.command.slice(1).filter((a) => a !== '-s'), '-n'], { input: script }).status, 'syntax').toBe(0);

    expect(run('start')).toMatchObject({ code: 0, stderr: '' });
    expect(read('addresses')).toBe('eth0 192.168.2.254/24 eth0:0\neth1 10.0.0.254/24 eth1:0\n');
    const rules = ipvsadmRules(ipvsServices(none.cluster)).map((args) => `ipvsadm ${args.join(' ')}`);
    expect(read('log').split('\n').filter((l) => l.startsWith('ipvsadm'))).toEqual(['ipvsadm -C', ...rules]);

    // Again (the reload after a change): the addresses are there already, the table is rebuilt.
    expect(run('reload')).toMatchObject({ code: 0, stderr: '' });
    expect(read('addresses')).toBe('eth0 192.168.2.254/24 eth0:0\neth1 10.0.0.254/24 eth1:0\n');
    expect(read('log').split('\n').filter((l) => l.startsWith('ip addr add'))).toHaveLength(2);
    expect(read('services')).toBe('-t 192.168.2.254:80\n');

    expect(run('status')).toMatchObject({ code: 0, stdout: expect.stringContaining('LVS director running') });
    expect(run('stop')).toMatchObject({ code: 0 });
    expect(read('addresses')).toBe('');
    expect(read('services')).toBe('');
    expect(run('status')).toMatchObject({ code: 3, stdout: 'LVS director stopped (missing: 192.168.2.254 10.0.0.254 -t 192.168.2.254:80)\n' });
    expect(run('bogus')).toMatchObject({ code: 2 });
  });
});
