// The ldirectord role: the command plan, ldirectord.cf and Debian's /etc/default/ldirectord of every
// director of every example cluster managed by heartbeat, on a fresh host of every platform
// (test/fixtures/golden/ldirectord/), and what ldirectord's parser requires of the file.
import { describe, expect, it } from 'vitest';
import type { Facts } from '../../src/core/facts.ts';
import type { Cluster } from '../../src/cluster/model.ts';
import type { ClusterFile } from '../../src/cluster/schema.ts';
import { loadExampleClusters } from '../../test/support/example-clusters.ts';
import { factsFor, platforms } from '../../test/support/facts.ts';
import { heartbeatCluster, heartbeatHosts, sourceInstall, ultraMonkey } from '../../test/support/heartbeat-clusters.ts';
import { expectRoleGoldens } from '../../test/support/goldens.ts';
import { planRole, type RolePlan } from '../../test/support/plan-role.ts';
import ldirectord, { INSTANCE_PID_FILE } from './index.ts';
import { LDIRECTORD_CF, renderLdirectordCf } from './render.ts';
import { ldirectordView } from './view.ts';

const DEFAULTS_FILE = '/etc/default/ldirectord';

const examples = await loadExampleClusters();
const managed = examples.filter((e) => e.cluster.manager === 'heartbeat' && e.cluster.ldirectord?.enabled);
const variants: Array<[name: string, facts: Facts]> = [
  ...platforms.map((p): [string, Facts] => [p, factsFor(p)]),
  ['debian12-sysv', factsFor('debian12', { init: 'sysv' })],
];
const cases = managed.flatMap((example) => example.cluster.directors.map((host) => ({ example, host })));

function plan(cluster: Cluster, facts: Facts, host = 'lvs1'): RolePlan {
  return planRole(ldirectord, { host, inventory: heartbeatHosts, cluster, facts });
}

function conf(file: ClusterFile): string {
  const cluster = heartbeatCluster(file);
  return renderLdirectordCf(ldirectordView(cluster, cluster.ldirectord!));
}

describe('ldirectord role on a fresh director', () => {
  it('has example clusters to render', () => {
    expect(managed.length).toBeGreaterThan(0);
  });

  it.each(cases.map((c) => [`${c.example.name} ${c.host}`, c] as const))('%s', (_, { example, host }) => {
    const plans = variants.map(([variant, facts]) => [variant, planRole(ldirectord, { host, inventory: example.hosts, cluster: example.cluster, facts })] as const);
    for (const [variant, result] of plans) {
      const written = Object.assign({}, ...result.tasks.map((t) => t.files ?? {})) as Record<string, string | null>;
      expect(written[LDIRECTORD_CF], `${variant}: the plan writes ldirectord.cf`).toBeTypeOf('string');
    }
    expectRoleGoldens(`ldirectord/${example.name}/${host}`, plans);
  });
});

describe('ldirectord.cf', () => {
  it('puts globals at the first column and a virtual service’s lines under it, indented', () => {
    const lines = conf(ultraMonkey).split('\n');
    const virtual = lines.indexOf('virtual=192.168.0.100:80');
    expect(virtual).toBeGreaterThan(0);
    expect(lines.slice(0, virtual).filter((l) => l !== '' && !l.startsWith('#'))).toEqual([
      'checktimeout=15',
      'checkinterval=5',
      'autoreload=no',
      'logfile="/var/log/ldirectord.log"',
      'quiescent=no',
    ]);
    const block = lines.slice(virtual + 1, lines.indexOf('', virtual));
    expect(block.every((l) => /^ {4,}\S/.test(l))).toBe(true);
    expect(block.map((l) => l.trim())).toEqual([
      'real=192.168.0.1:80 gate 1',
      'real=192.168.0.2:80 gate 1',
      'fallback=127.0.0.1:80 gate',
      'service=http',
      'scheduler=rr',
      'persistent=600',
      'protocol=tcp',
      'checktype=negotiate',
      'request="ldirectord.html"',
      'receive="It worked"',
    ]);
    expect(lines.every((l) => !/\s$/.test(l)), 'no trailing blanks (ldirectord compares yes/no exactly)').toBe(true);
  });

  it('writes the forwarding method, port mapping, weights, netmask and fwmark services as ldirectord reads them', () => {
    const text = conf({
      ...ultraMonkey,
      nat: { interface: 'eth1', gateway: '10.0.10.1' },
      virtual_services: [
        {
          vip: '192.168.0.100',
          port: 80,
          forwarding: 'nat',
          scheduler: 'wlc',
          persistence: { timeout: 300, netmask: '255.255.255.0' },
          realservers: [{ address: '10.0.10.11', port: 8080, weight: 3 }, { address: '10.0.10.12', port: 8080, weight: 0 }],
          fallback: { address: '127.0.0.1', port: 8080 },
        },
        { vip: '192.168.0.100', protocol: 'fwmark', fwmark: 7, forwarding: 'tun', realservers: [{ address: '192.168.5.1' }], check: { checktype: 'connect', checkport: 443 } },
        { vip: '192.168.0.101', port: 53, protocol: 'udp', realservers: [{ host: 'web3' }], check: { checktype: 'connect', checkinterval: 2, quiescent: true } },
      ],
    });
    expect(text).toContain('\nvirtual=192.168.0.100:80\n        real=10.0.10.11:8080 masq 3\n        real=10.0.10.12:8080 masq 0\n        fallback=127.0.0.1:8080 masq\n');
    expect(text).toContain('        scheduler=wlc\n        persistent=300\n        netmask=255.255.255.0\n        protocol=tcp\n        checktype=connect\n');
    expect(text).toContain('\nvirtual=7\n        real=192.168.5.1 ipip 1\n        service=https\n        scheduler=wlc\n        protocol=fwm\n        checktype=connect\n        checkport=443\n');
    // Overrides of the globals (checkinterval 5, quiescent no) are written in the service only.
    expect(text).toContain('\nvirtual=192.168.0.101:53\n        real=192.168.0.3:53 gate 1\n        service=dns\n        scheduler=wlc\n        protocol=udp\n        checktype=connect\n        checkinterval=2\n        quiescent=yes\n');
    expect(text.match(/^\s+checktimeout=/m)).toBeNull();
    // ldirectord ignores a service's own checkinterval unless each service is checked in its own process.
    expect(text).toMatch(/^fork=yes$/m);
    expect(conf(ultraMonkey)).not.toContain('fork=');
  });

  it('refuses values ldirectord would misread', () => {
    const check = (c: NonNullable<ClusterFile['virtual_services'][number]['check']>) => () =>
      conf({ ...ultraMonkey, virtual_services: [{ ...ultraMonkey.virtual_services[0]!, check: c }] });
    expect(check({ request: 'status', receive: 'build #42' })).toThrow(/'#'.*comment/);
    expect(check({ request: 'status', receive: 'say "hi"' })).toThrow(/double quote/);
    expect(check({ request: 'status', receive: 'ok', virtualhost: 'two words' })).toThrow(/one word/);
  });
});

describe('installation and boot', () => {
  const packaged = heartbeatCluster(ultraMonkey);

  it('installs the platform’s package, or the Perl modules of a source-built ldirectord', () => {
    expect(plan(packaged, factsFor('el5')).tasks[0]).toMatchObject({ task: 'ldirectord installed', summary: 'install heartbeat-ldirectord' });
    expect(plan(packaged, factsFor('el7')).tasks[0]).toMatchObject({ summary: 'install ldirectord' });
    expect(plan(packaged, factsFor('ubuntu2404')).tasks[0]).toMatchObject({ summary: 'install ldirectord' });
    const source = heartbeatCluster({
      ...ultraMonkey,
      virtual_services: [...ultraMonkey.virtual_services, { vip: '192.168.0.100', port: 53, protocol: 'udp', realservers: [{ host: 'web3' }] }],
      install: { resource_agents: sourceInstall('resource-agents', '3.9.5') },
    });
    const debian = plan(source, factsFor('debian12'));
    expect(debian.tasks[0]?.status).toBe('skipped');
    expect(debian.tasks[1]?.summary).toBe(
      'install perl, libsocket6-perl, libwww-perl, liburi-perl, libhtml-parser-perl, libio-socket-inet6-perl, libmailtools-perl, libnet-dns-perl',
    );
    expect(plan(source, factsFor('el6')).tasks[1]?.summary).toContain('perl-Socket6, perl-libwww-perl');
    const cpan = heartbeatCluster({ ...ultraMonkey, install: { resource_agents: sourceInstall('resource-agents', '3.9.5'), perl_modules: { from: 'cpan', modules: [] } } });
    expect(plan(cpan, factsFor('debian12')).tasks.slice(0, 2).map((t) => t.status)).toEqual(['skipped', 'skipped']);
  });

  it('tells Debian’s init script where the configuration is', () => {
    const debian = plan(packaged, factsFor('debian12', { init: 'sysv' }));
    expect(debian.tasks.find((t) => t.task.startsWith('the Debian init script'))).toMatchObject({ status: 'changed', files: { [DEFAULTS_FILE]: `CONFIG_FILE=${LDIRECTORD_CF}\n` } });
    const stock = '# Set the following variable to define a default configuration \n# file for ldirectord.\n\n# CONFIG_FILE=/etc/ldirectord.cf\n';
    const edited = planRole(ldirectord, { host: 'lvs1', inventory: heartbeatHosts, cluster: packaged, facts: factsFor('debian12'), state: { files: { [DEFAULTS_FILE]: stock } } });
    expect(edited.tasks.find((t) => t.task.startsWith('the Debian init script'))?.files?.[DEFAULTS_FILE]).toBe(stock.replace('# CONFIG_FILE=/etc/ldirectord.cf', `CONFIG_FILE=${LDIRECTORD_CF}`));
    expect(plan(packaged, factsFor('el6')).tasks.find((t) => t.task.startsWith('the Debian init script'))?.status).toBe('skipped');
  });

  it('keeps ldirectord out of the boot sequence, stopping only the unit heartbeat does not own', () => {
    const enabled = { services: { ldirectord: { enabled: true, running: true } } };
    const systemd = planRole(ldirectord, { host: 'lvs1', inventory: heartbeatHosts, cluster: packaged, facts: factsFor('debian12'), state: enabled });
    expect(systemd.tasks.filter((t) => t.script?.includes('systemctl')).map((t) => t.script)).toEqual(['systemctl disable ldirectord\nsystemctl stop ldirectord']);
    const sysv = planRole(ldirectord, { host: 'lvs1', inventory: heartbeatHosts, cluster: packaged, facts: factsFor('el6'), state: enabled });
    const boot = sysv.tasks.filter((t) => t.task.startsWith('ldirectord not started') && t.status !== 'skipped');
    expect(boot.map((t) => t.script)).toEqual(['chkconfig ldirectord off']);
  });

  it('reloads ldirectord only where heartbeat runs it', () => {
    const result = plan(packaged, factsFor('debian12'));
    expect(result.tasks.find((t) => t.task === 'ldirectord.cf')?.notify).toEqual(['reload ldirectord']);
    const handler = ldirectord.handlers?.({ vars: {}, host: { name: 'lvs1', address: '', groups: [] }, inventory: { hosts: [] }, cluster: packaged })[0];
    // Read from the pid file of heartbeat's instance (ldirectord.cf: /var/run/ldirectord.ldirectord.cf.pid)
    // and /proc, without starting ldirectord (test/integration/machine/daemon-state.test.ts runs it).
    expect(INSTANCE_PID_FILE).toBe('/var/run/ldirectord.ldirectord.cf.pid');
    expect(handler?.op.probe()).toContain(`provision_pid_verdict ${INSTANCE_PID_FILE} ldirectord`);
    expect(handler?.op.probe()).not.toContain('/usr/sbin/ldirectord');
    expect(result.handlers).toEqual([{ handler: 'reload ldirectord', status: 'ok', summary: 'the onlyIf check failed' }]);
  });

  it('leaves other hosts and clusters alone', () => {
    expect(plan(packaged, factsFor('debian12'), 'web3').tasks).toEqual([]);
    expect(plan(heartbeatCluster({ ...ultraMonkey, ldirectord: { enabled: false } }), factsFor('debian12')).tasks).toEqual([]);
  });
});
