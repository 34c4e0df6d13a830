// Source builds on the directors, for the components the cluster description installs `from:
// source`: the build tools and libraries, the haclient group and hacluster user (cluster-glue and
// heartbeat run daemons as them, and their packages would have created them), then each component
// in dependency order (libnet, cluster-glue, resource-agents, heartbeat, ipvsadm, keepalived), each
// pinned by its SHA-256 and built once (`creates`); then the CPAN tarballs of ldirectord's Perl
// modules when the description asks for them. Components the cluster's manager does not use are not
// built. Hosts that are not directors get no tasks.
import { defineRole, ops, type Facts, type Task } from '../../src/index.ts';
import type { Cluster, SourceComponent } from '../../src/cluster/model.ts';
import { SOURCE_COMPONENTS } from '../../src/cluster/schema.ts';
import type { PerPlatform } from '../../src/operations/per-platform.ts';
import { clusterOf } from '../../src/cluster/role.ts';
import { HA_GROUP, HA_USER, LIBDIRS, sourceLibdir, sourceVersion } from './layout.ts';
import { BUILD_TOOLS, RECIPES, combinePackageLists } from './recipes.ts';

/** The components a cluster of this manager runs on its directors. */
function usedBy(cluster: Cluster, component: SourceComponent): boolean {
  switch (component) {
    case 'libnet':
    case 'cluster_glue':
    case 'resource_agents':
    case 'heartbeat':
      return cluster.manager === 'heartbeat';
    case 'ipvsadm':
      return true;
    case 'keepalived':
      return cluster.manager === 'keepalived';
  }
}

/** What `perl Makefile.PL && make && make install` needs (MakeMaker is a package of its own from EL6 on; XS modules need a compiler). */
const CPAN_TOOLS: PerPlatform<string[]> = {
  el5: ['perl', 'gcc', 'make', 'curl', 'tar', 'gzip'],
  el: ['perl', 'perl-ExtUtils-MakeMaker', 'gcc', 'make', 'curl', 'tar', 'gzip'],
  debian: ['perl', 'gcc', 'make', 'curl', 'ca-certificates', 'tar', 'gzip'],
};

/** CPAN installs leave no file provision can name before the build (the site directory varies with perl), so each build leaves a marker. */
export const CPAN_MARKERS = '/var/lib/provision/cpan';

export default defineRole({
  name: 'source-builds',
  needsCluster: true,
  defaults: {},
  tasks: (ctx) => {
    const cluster = clusterOf(ctx, 'source-builds');
    if (!cluster.directors.includes(ctx.host.name)) return [];
    const components = SOURCE_COMPONENTS.filter((component) => usedBy(cluster, component) && cluster.install[component].from === 'source');
    const cpanModules = cluster.manager === 'heartbeat' && cluster.ldirectord?.enabled === true && cluster.install.perl_modules.from === 'cpan' ? cluster.install.perl_modules.modules : [];
    const tasks: Task[] = [];
    if (components.length > 0) {
      tasks.push({ name: 'build tools and libraries', op: ops.packages({ names: combinePackageLists(BUILD_TOOLS, ...components.map((c) => RECIPES[c].buildDepends)) }) });
    }
    if (components.includes('cluster_glue') || components.includes('heartbeat')) tasks.push(...haAccount());
    for (const component of components) tasks.push(...buildTasks(cluster, component));
    if (cpanModules.length > 0) {
      tasks.push({ name: 'Perl build tools', op: ops.packages({ names: CPAN_TOOLS }) });
      for (const module of cpanModules) {
        const archive = module.url.replace(/[?#].*$/, '').split('/').pop() ?? module.name;
        const marker = `${CPAN_MARKERS}/${archive.replace(/[^A-Za-z0-9._+-]/g, '_')}.installed`;
        tasks.push({
          name: `build Perl module ${module.name}`,
          op: ops.sourceBuild({
            name: `perl-${module.name.replace(/::/g, '-')}`,
            url: module.url,
            sha256: module.sha256,
            configure: 'perl Makefile.PL',
            install: `make install\nmkdir -p ${CPAN_MARKERS}\ntouch ${marker}`,
            creates: marker,
          }),
        });
      }
    }
    return tasks;
  },
});

/** The haclient group and hacluster user, as cluster-glue's and heartbeat's packages create them. */
function haAccount(): Task[] {
  const user = (shell: string) => ops.user({ name: HA_USER, group: HA_GROUP, system: true, home: '/var/lib/heartbeat', shell, createHome: false, comment: 'heartbeat cluster daemons' });
  return [
    { name: `${HA_GROUP} group`, op: ops.group({ name: HA_GROUP, system: true }) },
    { name: `${HA_USER} user`, op: user('/sbin/nologin'), when: (facts: Facts) => facts.os.family === 'el' },
    { name: `${HA_USER} user`, op: user('/usr/sbin/nologin'), when: (facts: Facts) => facts.os.family !== 'el' },
  ];
}

/** One build, or one per library directory (the host's facts choose which runs). */
function buildTasks(cluster: Cluster, component: SourceComponent): Task[] {
  const install = cluster.install[component];
  if (install.from !== 'source') return [];
  const recipe = RECIPES[component];
  const build = (libdir: string) =>
    ops.sourceBuild({
      name: `${recipe.name}-${sourceVersion(install) ?? 'source'}`,
      url: install.url,
      sha256: install.sha256,
      configure: recipe.configure(libdir, install.configure_args),
      install: recipe.install,
      creates: recipe.creates,
    });
  // Skipped, as the build is, once the build's result is there (a kernel update does not ask for a rebuild).
  const prepared: Task[] = (recipe.prepare ?? []).map((step) => ({ name: step.name, op: ops.command({ run: step.run, unless: step.unless, creates: recipe.creates }), when: step.when }));
  if (!recipe.usesLibdir) return [...prepared, { name: `build ${recipe.name}`, op: build('') }];
  return [
    ...prepared,
    ...LIBDIRS.map((libdir) => ({
      name: `build ${recipe.name} (libraries in ${libdir})`,
      op: build(libdir),
      when: (facts: Facts) => sourceLibdir(facts) === libdir,
    })),
  ];
}
