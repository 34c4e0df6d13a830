// The heartbeat role: the command plan and the three files of every director of every example
// cluster managed by heartbeat, on a fresh host of every platform (test/fixtures/golden/heartbeat/),
// and what the files must say whatever the example.
import { describe, expect, it } from 'vitest';
import type { Facts } from '../../src/core/facts.ts';
import { OperationError } from '../../src/core/operation.ts';
import type { Cluster } from '../../src/cluster/model.ts';
import { loadExampleClusters } from '../../test/support/example-clusters.ts';
import { factsFor, platforms } from '../../test/support/facts.ts';
import { expectRoleGoldens } from '../../test/support/goldens.ts';
import { heartbeatCluster, heartbeatHosts, sourceInstall, ultraMonkey, withHeartbeat } from '../../test/support/heartbeat-clusters.ts';
import { planRole, type RolePlan } from '../../test/support/plan-role.ts';
import heartbeat from './index.ts';
import { heartbeatDaemonDir, heartbeatGeneration } from './platform.ts';
import { renderHaCf } from './render.ts';
import { haCfView } from './view.ts';

const examples = await loadExampleClusters();
const managed = examples.filter((e) => e.cluster.manager === 'heartbeat');
const variants: Array<[name: string, facts: Facts]> = [
  ...platforms.map((p): [string, Facts] => [p, factsFor(p)]),
  // The lab's Debian 12 hosts run without systemd.
  ['debian12-sysv', factsFor('debian12', { init: 'sysv' })],
];
const cases = managed.flatMap((example) => example.cluster.directors.map((host) => ({ example, host })));

function plan(cluster: Cluster, host: string, facts: Facts): RolePlan {
  return planRole(heartbeat, { host, inventory: heartbeatHosts, cluster, facts });
}

/** The files the plan writes, by path (a task that fails writes none). */
function files(result: RolePlan): Record<string, string> {
  return Object.fromEntries(result.tasks.flatMap((t) => Object.entries(t.files ?? {})).filter((e): e is [string, string] => e[1] !== null));
}

const errors = (result: RolePlan) => result.tasks.filter((t) => t.status === 'error').map((t) => `${t.task}: ${t.error ?? ''}`);

describe('heartbeat role on a fresh director', () => {
  it('has example clusters to render', () => {
    expect(managed.map((e) => e.name)).toContain('dr-heartbeat-ldirectord');
  });

  it.each(cases.map((c) => [`${c.example.name} ${c.host}`, c] as const))('%s', (_, { example, host }) => {
    const plans = variants.map(([variant, facts]) => [variant, planRole(heartbeat, { host, inventory: example.hosts, cluster: example.cluster, facts })] as const);
    expectRoleGoldens(`heartbeat/${example.name}/${host}`, plans);
  });
});

describe('the files of the two directors', () => {
  const cluster = heartbeatCluster(ultraMonkey);
  const debian = factsFor('debian12');
  const lvs1 = files(plan(cluster, 'lvs1', debian));
  const lvs2 = files(plan(cluster, 'lvs2', debian));

  it('are identical but for the unicast peer', () => {
    const ucast = heartbeatCluster(withHeartbeat(ultraMonkey, { ucast: [{ interface: 'eth1', addresses: { lvs1: '10.0.0.1', lvs2: '10.0.0.2' } }] }));
    const one = files(plan(ucast, 'lvs1', debian));
    const two = files(plan(ucast, 'lvs2', debian));
    expect(one['/etc/ha.d/ha.cf']).toContain('\nucast eth1 10.0.0.2\n');
    expect(two['/etc/ha.d/ha.cf']).toContain('\nucast eth1 10.0.0.1\n');
    expect(one['/etc/ha.d/ha.cf']?.replace('10.0.0.2', 'PEER')).toBe(two['/etc/ha.d/ha.cf']?.replace('10.0.0.1', 'PEER'));
    expect(one['/etc/ha.d/haresources']).toBe(two['/etc/ha.d/haresources']);
    expect(one['/etc/ha.d/authkeys']).toBe(two['/etc/ha.d/authkeys']);
    expect(lvs1['/etc/ha.d/ha.cf']).toBe(lvs2['/etc/ha.d/ha.cf']);
  });

  it('name every director by its uname -n, the primary first, and give the primary the resources', () => {
    expect(lvs1['/etc/ha.d/ha.cf']).toContain('\nnode lvs1\nnode lvs2\n');
    const renamed = heartbeatCluster(withHeartbeat(ultraMonkey, { node_names: { lvs1: 'lvs1.example.com', lvs2: 'lvs2.example.com' } }));
    const text = files(plan(renamed, 'lvs2', debian));
    expect(text['/etc/ha.d/ha.cf']).toContain('\nnode lvs1.example.com\nnode lvs2.example.com\n');
    expect(text['/etc/ha.d/haresources']).toMatch(/^lvs1\.example\.com /m);
  });

  it('start ldirectord before the VIP and the description’s services after it', () => {
    const nat = heartbeatCluster({
      ...withHeartbeat(ultraMonkey, { lvs_sync_daemon: true, resources: ['httpd'] }),
      nat: { interface: 'eth1', gateway: '10.0.10.1', prefix: 24 },
      virtual_services: [
        ...ultraMonkey.virtual_services,
        { vip: '192.168.0.100', port: 443, realservers: [{ host: 'web3' }] },
        { vip: '192.168.0.101', vip_prefix: 32, interface: 'eth2', port: 80, realservers: [{ host: 'web3' }] },
      ],
    });
    // heartbeat 2 (CentOS 5's packages) still has LVSSyncDaemonSwap.
    const text = files(plan(nat, 'lvs1', factsFor('el5')))['/etc/ha.d/haresources'];
    expect(text?.split('\n').filter((l) => !l.startsWith('#'))).toEqual([
      'lvs1 ldirectord::/etc/ha.d/ldirectord.cf LVSSyncDaemonSwap::master IPaddr2::192.168.0.100/24/eth0 IPaddr2::192.168.0.101/32/eth2 IPaddr2::10.0.10.1/24/eth1 httpd',
      '',
    ]);
  });

  it('hold the VIP only when ldirectord is disabled', () => {
    const vipOnly = heartbeatCluster({ ...ultraMonkey, ldirectord: { enabled: false } });
    expect(files(plan(vipOnly, 'lvs1', debian))['/etc/ha.d/haresources']).toMatch(/^lvs1 IPaddr2::192\.168\.0\.100\/24\/eth0\n$/m);
  });
});

describe('ha.cf', () => {
  const cluster = heartbeatCluster(ultraMonkey);
  const settings = cluster.heartbeat as NonNullable<Cluster['heartbeat']>;

  it('sets udpport and baud before the media that use them, and logging first', () => {
    const all = heartbeatCluster(
      withHeartbeat(ultraMonkey, {
        serial: [{ device: '/dev/ttyS0', baud: '19200' }, { device: '/dev/ttyS1' }],
        bcast: ['eth1', 'eth2'],
        ucast: [{ interface: 'eth1' }],
        udpport: 695,
        logging: { debugfile: '/var/log/ha-debug', logfile: '/var/log/ha-log', logfacility: 'local0' },
      }),
    );
    const lines = renderHaCf(haCfView(all, all.heartbeat!, 'lvs1', undefined)).split('\n');
    const at = (prefix: string) => lines.findIndex((l) => l.startsWith(prefix));
    expect(lines.slice(1, 4)).toEqual(['debugfile /var/log/ha-debug', 'logfile /var/log/ha-log', 'logfacility local0']);
    for (const medium of ['serial ', 'bcast ', 'mcast ', 'ucast ']) {
      expect(at(medium), medium).toBeGreaterThan(at('udpport 695'));
      expect(at(medium), medium).toBeGreaterThan(at('baud 19200'));
    }
    expect(lines).toContain('bcast eth1 eth2');
    expect(lines).toContain('mcast eth0 225.0.0.1 694 1 0');
    expect(lines).toContain('ucast eth1 192.168.0.2');
    expect(lines.filter((l) => l.startsWith('serial '))).toEqual(['serial /dev/ttyS0', 'serial /dev/ttyS1']);
  });

  it('refuses serial ports at different baud rates (heartbeat has one)', () => {
    const mixed = heartbeatCluster(withHeartbeat(ultraMonkey, { serial: [{ device: '/dev/ttyS0', baud: '19200' }, { device: '/dev/ttyS1', baud: '9600' }] }));
    expect(() => haCfView(mixed, mixed.heartbeat!, 'lvs1', undefined)).toThrow(/one baud rate/);
  });

  it('respawns ipfail as hacluster from the platform’s daemon directory, and only when asked', () => {
    const el = (major: 5 | 6, arch: string) => factsFor(major === 5 ? 'el5' : 'el6', { arch });
    const packaged = { from: 'packages' } as const;
    expect(heartbeatDaemonDir(el(5, 'x86_64'), packaged)).toBe('/usr/lib64/heartbeat');
    expect(heartbeatDaemonDir(el(5, 'i686'), packaged)).toBe('/usr/lib/heartbeat');
    expect(heartbeatDaemonDir(el(6, 'x86_64'), packaged)).toBe('/usr/lib64/heartbeat');
    expect(heartbeatDaemonDir(factsFor('debian11'), packaged)).toBe('/usr/lib/heartbeat');
    expect(heartbeatDaemonDir(factsFor('ubuntu2204'), packaged)).toBe('/usr/lib/heartbeat');
    expect(heartbeatDaemonDir(factsFor('debian12'), packaged)).toBe('/usr/libexec/heartbeat');
    expect(heartbeatDaemonDir(factsFor('ubuntu2404'), packaged)).toBe('/usr/libexec/heartbeat');
    const source = { ...sourceInstall('heartbeat', '3.0.4'), configure_args: [] };
    expect(heartbeatDaemonDir(factsFor('el8'), source)).toBe('/usr/lib64/heartbeat');
    expect(heartbeatDaemonDir(factsFor('debian12'), source)).toBe('/usr/lib/heartbeat');

    expect(files(plan(cluster, 'lvs1', factsFor('el6')))['/etc/ha.d/ha.cf']).toContain('\nrespawn hacluster /usr/lib64/heartbeat/ipfail\ncrm off\n');
    expect(files(plan(cluster, 'lvs1', factsFor('ubuntu2404')))['/etc/ha.d/ha.cf']).toContain('\nrespawn hacluster /usr/libexec/heartbeat/ipfail\n');
    const noIpfail = heartbeatCluster(withHeartbeat(ultraMonkey, { ipfail: false }));
    expect(files(plan(noIpfail, 'lvs1', factsFor('el6')))['/etc/ha.d/ha.cf']).not.toContain('respawn');
    expect(settings.ipfail).toBe(true);
  });

  it('lists ping nodes and a ping group', () => {
    const group = heartbeatCluster(withHeartbeat(ultraMonkey, { ping_group: { name: 'routers', addresses: ['192.168.0.253', '192.168.0.254'] } }));
    const text = renderHaCf(haCfView(group, group.heartbeat!, 'lvs1', undefined));
    expect(text).toContain('\nping 192.168.0.254\nping_group routers 192.168.0.253 192.168.0.254\n');
  });
});

describe('authkeys', () => {
  const debian = factsFor('debian12');

  it('is a secret file of mode 0600 with one sha1 or md5 key', () => {
    const result = plan(heartbeatCluster(ultraMonkey), 'lvs1', debian);
    const task = result.tasks.find((t) => t.task === 'authkeys');
    expect(task?.summary).toBe('write /etc/ha.d/authkeys (mode 0600)');
    expect(heartbeat.tasks({ vars: {}, host: { name: 'lvs1', address: '', groups: [] }, inventory: { hosts: [] }, cluster: heartbeatCluster(ultraMonkey) }).find((t) => t.name === 'authkeys')?.op.target).toBe('/etc/ha.d/authkeys');
    expect(files(result)['/etc/ha.d/authkeys']).toMatch(/\nauth 1\n1 sha1 ThisIsMyPassword\n$/);
    const md5 = heartbeatCluster(withHeartbeat(ultraMonkey, { authkeys: { method: 'md5', key: 'k3y' } }));
    expect(files(plan(md5, 'lvs1', debian))['/etc/ha.d/authkeys']).toMatch(/\nauth 1\n1 md5 k3y\n$/);
  });

  it('has no key with crc', () => {
    const crc = heartbeatCluster(withHeartbeat(ultraMonkey, { authkeys: { method: 'crc', allow_crc: true } }));
    expect(files(plan(crc, 'lvs1', debian))['/etc/ha.d/authkeys']).toMatch(/\nauth 1\n1 crc\n$/);
  });

  it('refuses a missing key, or one with white space, without showing it', () => {
    const noKey = heartbeatCluster(withHeartbeat(ultraMonkey, { authkeys: { method: 'sha1' } }));
    expect(errors(plan(noKey, 'lvs1', debian))).toEqual([expect.stringMatching(/^authkeys: heartbeat\.authkeys: method sha1 needs a key/)]);
    const spaced = heartbeatCluster(withHeartbeat(ultraMonkey, { authkeys: { method: 'sha1', key: 'two words' } }));
    const [message] = errors(plan(spaced, 'lvs1', debian));
    expect(message).toMatch(/white space/);
    expect(message).not.toContain('two words');
  });
});

describe('platforms', () => {
  const packaged = heartbeatCluster(ultraMonkey);

  it('installs the platform’s packages, enables heartbeat at boot and restarts it when a file changes, unless the play starts it', () => {
    const el5 = plan(packaged, 'lvs1', factsFor('el5'));
    expect(el5.tasks[0]).toMatchObject({ task: 'heartbeat installed', status: 'changed', summary: 'install heartbeat, heartbeat-pils, heartbeat-stonith' });
    expect(el5.tasks.at(-1)).toMatchObject({ task: 'heartbeat enabled at boot and running', script: 'chkconfig heartbeat on\nservice heartbeat start' });
    // On the fresh host heartbeat is stopped: the last task starts it with the new files, and the
    // handler leaves it alone (a restart moments after the start hung on the lab).
    expect(el5.handlers).toEqual([{ handler: 'restart heartbeat', status: 'ok', summary: 'heartbeat was not running when the play began' }]);
    const sysv = plan(packaged, 'lvs1', factsFor('debian12', { init: 'sysv' }));
    expect(sysv.tasks.at(-1)?.script).toBe('update-rc.d heartbeat defaults\nupdate-rc.d heartbeat enable\nservice heartbeat start');
    for (const file of ['ha.cf', 'haresources', 'authkeys']) expect(sysv.tasks.find((t) => t.task === file)?.notify).toEqual(['restart heartbeat']);
  });

  it('installs ifconfig where the IPaddr agent needs it', () => {
    const ipaddr = heartbeatCluster(withHeartbeat(ultraMonkey, { resource_agent: 'IPaddr' }));
    expect(plan(ipaddr, 'lvs1', factsFor('el9')).tasks.find((t) => t.task === 'ifconfig for the IPaddr resource agent')?.summary).toBe('install net-tools');
    expect(plan(packaged, 'lvs1', factsFor('el9')).tasks.map((t) => t.task)).not.toContain('ifconfig for the IPaddr resource agent');
  });

  it('stops on EL7 and later unless heartbeat is built from source, saying what to do', () => {
    for (const platform of ['el7', 'el8', 'el9'] as const) {
      const result = plan(packaged, 'lvs1', factsFor(platform));
      expect(result.tasks[0]?.status, platform).toBe('skipped');
      expect(errors(result)[0], platform).toMatch(/^ha\.cf: heartbeat is not packaged for .*: .*from: source.*manager: keepalived/);
    }
    const built = heartbeatCluster({ ...ultraMonkey, install: { heartbeat: sourceInstall('heartbeat', '3.0.6') } });
    const el8 = plan(built, 'lvs1', factsFor('el8'));
    expect(errors(el8)).toEqual([]);
    expect(el8.tasks[0]?.status).toBe('skipped');
    expect(files(el8)['/etc/ha.d/ha.cf']).toContain('respawn hacluster /usr/lib64/heartbeat/ipfail');
  });

  it('refuses LVSSyncDaemonSwap where heartbeat 3 dropped it', () => {
    const sync = heartbeatCluster(withHeartbeat(ultraMonkey, { lvs_sync_daemon: true }));
    expect(errors(plan(sync, 'lvs1', factsFor('el5')))).toEqual([]);
    for (const platform of ['el6', 'debian11', 'debian12', 'ubuntu2404'] as const) {
      expect(errors(plan(sync, 'lvs1', factsFor(platform))), platform).toEqual([expect.stringMatching(/^haresources: heartbeat\.lvs_sync_daemon: LVSSyncDaemonSwap is a heartbeat 2 resource script/)]);
    }
    const source = { ...sourceInstall('heartbeat', '2.1.4'), configure_args: [] };
    expect(heartbeatGeneration(factsFor('el7'), source)).toBe(2);
    expect(heartbeatGeneration(factsFor('el7'), { ...source, url: 'http://mirror.example.com/Heartbeat-3-0-STABLE-3.0.4.tar.bz2' })).toBe(3);
  });

  it('leaves hosts that are not heartbeat directors alone', () => {
    expect(plan(packaged, 'web3', factsFor('debian12')).tasks).toEqual([]);
    const keepalived = examples.find((e) => e.cluster.manager === 'keepalived');
    if (keepalived) expect(planRole(heartbeat, { host: keepalived.cluster.directors[0] as string, inventory: keepalived.hosts, cluster: keepalived.cluster, facts: factsFor('el9') }).tasks).toEqual([]);
    expect(() => planRole(heartbeat, { host: 'lvs1', inventory: heartbeatHosts, facts: factsFor('el9') })).toThrow(/no cluster: section/);
  });

  it('reports user mistakes as OperationErrors', () => {
    const noKey = heartbeatCluster(withHeartbeat(ultraMonkey, { authkeys: { method: 'sha1' } }));
    const task = heartbeat.tasks({ vars: {}, host: { name: 'lvs1', address: '', groups: [] }, inventory: { hosts: [] }, cluster: noKey }).find((t) => t.name === 'authkeys');
    expect(() => task?.op.plan(factsFor('debian12'), { stdout: 'link=no\ntype=absent\n', exitCode: 0 })).toThrow(OperationError);
  });
});
