// The source-builds role: the command plan of every director of every example cluster on a fresh
// host of every platform (test/fixtures/golden/source-builds/), and the order, configure flags and
// idempotence guards of the builds.
import { describe, expect, it } from 'vitest';
import type { Facts } from '../../src/core/facts.ts';
import type { Cluster } from '../../src/cluster/model.ts';
import { SOURCE_COMPONENTS, type ClusterFile } from '../../src/cluster/schema.ts';
import { loadExampleClusters } from '../../test/support/example-clusters.ts';
import { factsFor, platforms } from '../../test/support/facts.ts';
import { heartbeatCluster, heartbeatHosts, sourceInstall, ultraMonkey } from '../../test/support/heartbeat-clusters.ts';
import { expectRoleGoldens } from '../../test/support/goldens.ts';
import { planRole, type RolePlan } from '../../test/support/plan-role.ts';
import sourceBuilds, { CPAN_MARKERS } from './index.ts';
import { sourceLibdir, sourceVersion } from './layout.ts';
import { combinePackageLists } from './recipes.ts';

const examples = await loadExampleClusters();
const variants: Array<[name: string, facts: Facts]> = [
  ...platforms.map((p): [string, Facts] => [p, factsFor(p)]),
  ['debian12-sysv', factsFor('debian12', { init: 'sysv' })],
];
/** Whether the description builds anything from source (the other examples plan no task at all). */
const buildsSomething = (cluster: Cluster) =>
  SOURCE_COMPONENTS.some((component) => cluster.install[component].from === 'source') || cluster.install.perl_modules.from === 'cpan';
const building = examples.filter((e) => buildsSomething(e.cluster));
const cases = building.flatMap((example) => example.cluster.directors.map((host) => ({ example, host })));

const stack: ClusterFile = {
  ...ultraMonkey,
  install: {
    libnet: sourceInstall('libnet', '1.1.6'),
    cluster_glue: { ...sourceInstall('glue', '1.0.7'), configure_args: ['--with-initdir=/etc/init.d', 'CFLAGS=-O2 -g'] },
    resource_agents: sourceInstall('resource-agents', '3.9.5'),
    heartbeat: { ...sourceInstall('Heartbeat-3-0-STABLE', '3.0.4') },
    ipvsadm: sourceInstall('ipvsadm', '1.26'),
    // built only for keepalived clusters
    keepalived: sourceInstall('keepalived', '1.2.20'),
  },
};

function plan(cluster: Cluster, facts: Facts, host = 'lvs1'): RolePlan {
  return planRole(sourceBuilds, { host, inventory: heartbeatHosts, cluster, facts });
}

const ran = (result: RolePlan) => result.tasks.filter((t) => t.status !== 'skipped').map((t) => t.task);

describe('source-builds role on a fresh director', () => {
  it('plans nothing for the examples that install everything from packages', () => {
    for (const example of examples.filter((e) => !buildsSomething(e.cluster))) {
      for (const host of example.cluster.directors) expect(planRole(sourceBuilds, { host, inventory: example.hosts, cluster: example.cluster, facts: factsFor('el6') }).tasks, example.name).toEqual([]);
    }
  });

  it.skipIf(cases.length === 0).each(cases.map((c) => [`${c.example.name} ${c.host}`, c] as const))('%s', (_, { example, host }) => {
    const plans = variants.map(([variant, facts]) => [variant, planRole(sourceBuilds, { host, inventory: example.hosts, cluster: example.cluster, facts })] as const);
    expectRoleGoldens(`source-builds/${example.name}/${host}`, plans);
  });

  it('the whole heartbeat stack', () => {
    expectRoleGoldens('source-builds/heartbeat-stack/lvs1', variants.map(([variant, facts]) => [variant, plan(heartbeatCluster(stack), facts)] as const));
  });
});

describe('builds', () => {
  const cluster = heartbeatCluster(stack);

  it('come in dependency order, after the build tools and the haclient/hacluster account', () => {
    expect(ran(plan(cluster, factsFor('el6')))).toEqual([
      'build tools and libraries',
      'haclient group',
      'hacluster user',
      'build libnet (libraries in /usr/lib64)',
      'build cluster-glue (libraries in /usr/lib64)',
      'build resource-agents (libraries in /usr/lib64)',
      'build heartbeat (libraries in /usr/lib64)',
      'build ipvsadm',
    ]);
    expect(ran(plan(cluster, factsFor('debian12')))).toContain('build heartbeat (libraries in /usr/lib)');
  });

  it('create the account the way the packages do: a system group and a user without a login', () => {
    const el = plan(cluster, factsFor('el5'));
    expect(el.tasks.find((t) => t.task === 'haclient group')?.script).toBe('groupadd -r haclient');
    expect(el.tasks.find((t) => t.task === 'hacluster user' && t.status === 'changed')?.script).toBe(
      "useradd -r -g haclient -d /var/lib/heartbeat -s /sbin/nologin -c 'heartbeat cluster daemons' -M hacluster",
    );
    expect(plan(cluster, factsFor('ubuntu2404')).tasks.find((t) => t.task === 'hacluster user' && t.status === 'changed')?.script).toContain('-s /usr/sbin/nologin');
  });

  it('install into /usr and /etc, with the platform’s library directory', () => {
    const script = (facts: Facts, task: string) => plan(cluster, facts).tasks.find((t) => t.task === task)?.script ?? '';
    const glue = script(factsFor('el7'), 'build cluster-glue (libraries in /usr/lib64)');
    expect(glue).toContain(
      "if [ ! -x ./configure ]; then ./autogen.sh; fi\n./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var --libdir=/usr/lib64 --with-daemon-user=hacluster --with-daemon-group=haclient --enable-fatal-warnings=no --with-initdir=/etc/init.d 'CFLAGS=-O2 -g'\n",
    );
    expect(glue).toContain('make install\nldconfig\n');
    const heartbeat = script(factsFor('debian11'), 'build heartbeat (libraries in /usr/lib)');
    expect(heartbeat).toContain('if [ ! -x ./configure ]; then ./bootstrap; fi\n./configure --prefix=/usr --sysconfdir=/etc --localstatedir=/var --libdir=/usr/lib --enable-fatal-warnings=no\n');
    expect(sourceLibdir(factsFor('el5', { arch: 'i686' }))).toBe('/usr/lib');
    expect(sourceLibdir(factsFor('el9', { arch: 'aarch64' }))).toBe('/usr/lib64');
    // ipvsadm has a Makefile only.
    const ipvsadm = script(factsFor('el6'), 'build ipvsadm');
    expect(ipvsadm).not.toContain('==> configure');
    expect(ipvsadm).toContain("'==> install: make install'");
  });

  it('are pinned and run once: the archive’s checksum, and a file the installation creates', () => {
    const tasks = sourceBuilds.tasks({ vars: {}, host: { name: 'lvs1', address: '', groups: [] }, inventory: { hosts: [] }, cluster });
    const probes = Object.fromEntries(tasks.filter((t) => t.op.kind === 'sourceBuild').map((t) => [t.name, t.op.probe()]));
    expect(probes['build libnet (libraries in /usr/lib)']).toContain('/usr/include/libnet.h');
    expect(probes['build cluster-glue (libraries in /usr/lib64)']).toContain('/usr/sbin/lrmadmin');
    expect(probes['build resource-agents (libraries in /usr/lib)']).toContain('/usr/lib/ocf/resource.d/heartbeat/IPaddr2');
    expect(probes['build heartbeat (libraries in /usr/lib64)']).toContain('/usr/bin/cl_status');
    expect(probes['build ipvsadm']).toContain('/sbin/ipvsadm');
    const installed = planRole(sourceBuilds, { host: 'lvs1', inventory: heartbeatHosts, cluster, facts: factsFor('el6'), state: { files: { '/usr/bin/cl_status': '' } } });
    expect(installed.tasks.find((t) => t.task === 'build heartbeat (libraries in /usr/lib64)')).toMatchObject({ status: 'ok', summary: '/usr/bin/cl_status exists' });
    const glue = plan(cluster, factsFor('el6')).tasks.find((t) => t.task === 'build cluster-glue (libraries in /usr/lib64)');
    expect(glue?.script).toContain('ababababababababababababababababababababababababababababababab');
    expect(glue?.summary).toBe('build cluster-glue-1.0.7 from http://mirror.example.com/src/glue-1.0.7.tar.gz');
  });

  it('give EL5’s ipvsadm (tutorial 000’s 1.24) the running kernel’s headers under /usr/src/linux first, once', () => {
    const ipvsadm124 = heartbeatCluster({ ...ultraMonkey, install: { ipvsadm: sourceInstall('ipvsadm', '1.24') } });
    const steps = ["the running kernel's headers (kernel-devel)", "/usr/src/linux: the running kernel's tree"];
    const el5 = plan(ipvsadm124, factsFor('el5'));
    expect(ran(el5).slice(-3)).toEqual([...steps, 'build ipvsadm']);
    expect(el5.tasks.find((t) => t.task === steps[0])?.script).toBe('yum -y install kernel-devel-$(uname -r)');
    expect(el5.tasks.find((t) => t.task === steps[1])?.script).toContain('\nln -sfn "$(rpm -ql kernel-devel-$(uname -r) | head -n 1)" /usr/src/linux');
    for (const [variant, facts] of variants.filter(([name]) => name !== 'el5')) expect(ran(plan(ipvsadm124, facts)), variant).not.toEqual(expect.arrayContaining([steps[0]]));
    // Built already: neither step runs, whatever kernel the host runs now.
    const built = planRole(sourceBuilds, { host: 'lvs1', inventory: heartbeatHosts, cluster: ipvsadm124, facts: factsFor('el5'), state: { files: { '/sbin/ipvsadm': '' } } });
    expect(built.tasks.filter((t) => [...steps, 'build ipvsadm'].includes(t.task)).map((t) => t.status)).toEqual(['ok', 'ok', 'ok']);
    // Each step's guard: the package of the running kernel, the link to its tree.
    const tasks = sourceBuilds.tasks({ vars: {}, host: { name: 'lvs1', address: '', groups: [] }, inventory: { hosts: [] }, cluster: ipvsadm124 });
    const probes = tasks.filter((t) => steps.includes(t.name)).map((t) => t.op.probe());
    expect(probes[0]).toContain('rpm -q kernel-devel-$(uname -r)');
    expect(probes[1]).toContain('test "$(readlink /usr/src/linux)" = "$(rpm -ql kernel-devel-$(uname -r) | head -n 1)"');
  });

  it('read the version from the archive name unless the description gives it', () => {
    expect(sourceVersion({ from: 'source', url: 'http://m/Heartbeat-3-0-STABLE-3.0.4.tar.bz2', sha256: '', configure_args: [] })).toBe('3.0.4');
    expect(sourceVersion({ from: 'source', url: 'http://m/glue-1.0.7.tar.bz2?raw=1', sha256: '', configure_args: [] })).toBe('1.0.7');
    expect(sourceVersion({ from: 'source', url: 'http://m/src.tgz', sha256: '', version: '9.9', configure_args: [] })).toBe('9.9');
    expect(sourceVersion({ from: 'source', url: 'http://m/src.tgz', sha256: '', configure_args: [] })).toBeUndefined();
  });

  it('install the build dependencies of the components built, per platform', () => {
    const names = (facts: Facts) => plan(cluster, facts).tasks[0]?.summary ?? '';
    expect(names(factsFor('el5'))).toContain('e2fsprogs-devel');
    expect(names(factsFor('el5'))).toContain('popt,');
    expect(names(factsFor('el6'))).toContain('libuuid-devel');
    expect(names(factsFor('el7'))).toContain('libnl3-devel');
    expect(names(factsFor('el8'))).toContain('pkgconf-pkg-config');
    expect(names(factsFor('debian12'))).toContain('libglib2.0-dev');
    expect(names(factsFor('debian12'))).toContain('libnl-genl-3-dev');
    // only ipvsadm: no glib, no account
    const ipvsadmOnly = heartbeatCluster({ ...ultraMonkey, install: { ipvsadm: sourceInstall('ipvsadm', '1.31') } });
    expect(ran(plan(ipvsadmOnly, factsFor('debian12')))).toEqual(['build tools and libraries', 'build ipvsadm']);
    expect(plan(ipvsadmOnly, factsFor('debian12')).tasks[0]?.summary).not.toContain('glib');
  });

  it('combine per-platform lists so that a specific platform keeps the general names', () => {
    const combined = combinePackageLists({ el5: ['a5'], el: ['a'] }, { el: ['b'], debian: ['d'] }, { ubuntu: ['u'] });
    expect(combined.el5).toEqual(['a5', 'b']);
    expect(combined.el9).toEqual(['a', 'b']);
    expect(combined.ubuntu2404).toEqual(['d', 'u']);
    expect(combined.debian12).toEqual(['d']);
  });
});

describe('what is built where', () => {
  it('builds keepalived for keepalived clusters only, and nothing on real servers', () => {
    const keepalived = examples.find((e) => e.cluster.manager === 'keepalived');
    expect(keepalived).toBeDefined();
    const withSource: Cluster = { ...keepalived!.cluster, install: { ...keepalived!.cluster.install, keepalived: { ...sourceInstall('keepalived', '1.2.20'), configure_args: [] }, heartbeat: { ...sourceInstall('heartbeat', '3.0.4'), configure_args: [] } } };
    const result = planRole(sourceBuilds, { host: withSource.directors[0]!, inventory: keepalived!.hosts, cluster: withSource, facts: factsFor('el6') });
    expect(ran(result)).toEqual(['build tools and libraries', 'build keepalived']);
    expect(result.tasks[1]?.script).toContain("'==> configure: ./configure --prefix=/usr --sysconfdir=/etc'");
    expect(plan(heartbeatCluster(stack), factsFor('el6'), 'web3').tasks).toEqual([]);
    expect(plan(heartbeatCluster(ultraMonkey), factsFor('el6')).tasks).toEqual([]);
  });

  it('builds the CPAN tarballs of ldirectord’s Perl modules, each once', () => {
    const cpan = heartbeatCluster({
      ...ultraMonkey,
      install: {
        resource_agents: sourceInstall('resource-agents', '3.9.5'),
        perl_modules: { from: 'cpan', modules: [{ name: 'Socket6', url: 'http://mirror.example.com/cpan/Socket6-0.29.tar.gz', sha256: 'cd'.repeat(32) }] },
      },
    });
    const result = plan(cpan, factsFor('el7'));
    const build = result.tasks.find((t) => t.task === 'build Perl module Socket6');
    expect(build?.script).toContain("'==> configure: perl Makefile.PL'");
    expect(build?.script).toContain(`touch ${CPAN_MARKERS}/Socket6-0.29.tar.gz.installed`);
    expect(result.tasks.find((t) => t.task === 'Perl build tools')?.summary).toContain('perl-ExtUtils-MakeMaker');
    const done = planRole(sourceBuilds, { host: 'lvs1', inventory: heartbeatHosts, cluster: cpan, facts: factsFor('el7'), state: { files: { [`${CPAN_MARKERS}/Socket6-0.29.tar.gz.installed`]: '' } } });
    expect(done.tasks.find((t) => t.task === 'build Perl module Socket6')?.status).toBe('ok');
  });
});
