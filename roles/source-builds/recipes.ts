// How each component of the heartbeat/LVS stack is built from its source archive: the configure
// command, what `make install` leaves behind (the sourceBuild's `creates`), and the packages the
// build needs per platform. The order of SOURCE_COMPONENTS is the dependency order: libnet before
// cluster-glue, cluster-glue before resource-agents and heartbeat.
import { quote, type Facts } from '../../src/index.ts';
import type { SourceComponent } from '../../src/cluster/model.ts';
import { platformSelectors, type PerPlatform, type PlatformSelector } from '../../src/operations/per-platform.ts';
import { HA_GROUP, HA_USER, autotoolsLayout } from './layout.ts';

export interface Recipe {
  /** the name the upstream project and its archives use, e.g. cluster-glue */
  name: string;
  /** whether the build takes a --libdir (then the role plans one build per library directory, see layout.ts) */
  usesLibdir: boolean;
  /** the configure step, given the library directory and the description's extra configure arguments; '' when there is none */
  configure(libdir: string, extraArgs: string[]): string;
  /** `make install` (and ldconfig for libraries, so the next build and the daemons find them) */
  install: string;
  /** a file the installation creates, wherever the libraries go: the build is skipped when it exists */
  creates: string;
  /** build dependencies besides the common tools */
  buildDepends: PerPlatform<string[]>;
  /** what the build needs that no package list can say (it depends on the running kernel), before the build */
  prepare?: PrepareStep[];
}

/** A command run before a build, unless its result is there already. */
export interface PrepareStep {
  name: string;
  run: string;
  unless: string;
  when: (facts: Facts) => boolean;
}

const el5 = (facts: Facts) => facts.os.family === 'el' && facts.os.major === 5;

// The kernel-devel package of the running kernel (EL5 names its tree /usr/src/kernels/<release>-<arch>).
const runningKernelDevel = 'kernel-devel-$(uname -r)';
const runningKernelTree = `"$(rpm -ql ${runningKernelDevel} | head -n 1)"`;

/**
 * EL5's ipvsadm (1.24 in tutorial 000) compiles against the running kernel's IPVS header, which it
 * finds under /usr/src/linux: the tutorial installs kernel-devel and links /usr/src/linux to its
 * tree (`ln -s /usr/src/kernels/\`ls /usr/src/kernels/\` /usr/src/linux`). The same, for the running
 * kernel rather than whichever kernel-devel yum picks or the only tree `ls` finds, and only once.
 */
const ipvsadmKernelTree: PrepareStep[] = [
  {
    name: 'the running kernel\'s headers (kernel-devel)',
    run: `yum -y install ${runningKernelDevel}`,
    unless: `rpm -q ${runningKernelDevel}`,
    when: el5,
  },
  {
    name: '/usr/src/linux: the running kernel\'s tree',
    // A real directory there is someone's kernel source: left alone, and the build fails visibly.
    run: `if [ -d /usr/src/linux ] && [ ! -L /usr/src/linux ]; then echo '/usr/src/linux is a directory, not the link to the running kernel' >&2; exit 1; fi\nln -sfn ${runningKernelTree} /usr/src/linux`,
    unless: `test "$(readlink /usr/src/linux)" = ${runningKernelTree}`,
    when: el5,
  },
];

/** A configure command line: options as they are (readable), anything else (the description's own arguments) quoted for sh. */
function commandLine(words: string[]): string {
  return words.map((word) => (/^[A-Za-z0-9_@%+=:,./-]+$/.test(word) ? word : quote(word))).join(' ');
}

/**
 * Archives made from a source repository (the hg and GitHub archives the tutorials download) have
 * no configure script yet; release tarballs do. Either works.
 */
const generateConfigure = (generator: string) => `if [ ! -x ./configure ]; then ${generator}; fi`;

const installAndRefreshLinker = 'make install\nldconfig';

// cluster-glue, heartbeat and resource-agents turn compiler warnings into errors unless told
// otherwise, which breaks their old sources on newer compilers.
const noFatalWarnings = '--enable-fatal-warnings=no';

// Man pages are built with xsltproc and the DocBook stylesheets; configure needs them.
const docbook: PerPlatform<string[]> = {
  el5: ['libxslt', 'docbook-style-xsl', 'docbook-dtds'],
  el: ['libxslt', 'docbook-style-xsl', 'docbook-dtds'],
  debian: ['xsltproc', 'docbook-xsl', 'docbook-xml'],
};

const glibAndXml: PerPlatform<string[]> = {
  // EL5 has no libuuid-devel: e2fsprogs-devel has uuid/uuid.h there.
  el5: ['glib2-devel', 'libxml2-devel', 'bzip2-devel', 'e2fsprogs-devel', 'libtool-ltdl-devel', 'flex', 'bison'],
  el: ['glib2-devel', 'libxml2-devel', 'bzip2-devel', 'libuuid-devel', 'libtool-ltdl-devel', 'flex', 'bison'],
  debian: ['libglib2.0-dev', 'libxml2-dev', 'libbz2-dev', 'uuid-dev', 'libltdl-dev', 'flex', 'bison'],
};

/** The selectors a value for `selector` falls back to, most specific first, as pickForPlatform reads a map. */
function fallbackChain(selector: PlatformSelector): PlatformSelector[] {
  if (selector === 'default') return ['default'];
  if (/^el\d+$/.test(selector)) return [selector, 'el', 'default'];
  if (/^ubuntu\d+$/.test(selector)) return [selector, 'ubuntu', 'debian', 'default'];
  if (selector === 'ubuntu') return ['ubuntu', 'debian', 'default'];
  if (/^debian\d+$/.test(selector)) return [selector, 'debian', 'default'];
  return [selector, 'default'];
}

/**
 * Several per-platform package lists as one: for every platform selector, the union of what each
 * list gives a host of that selector (so `el5` of the result also has the names another list gives
 * every `el` host).
 */
export function combinePackageLists(...maps: PerPlatform<string[]>[]): PerPlatform<string[]> {
  const out: PerPlatform<string[]> = {};
  for (const selector of platformSelectors) {
    const chain = fallbackChain(selector);
    const found = maps.map((map) => chain.map((s) => map[s]).find((names) => names !== undefined));
    if (found.every((names) => names === undefined)) continue;
    out[selector] = [...new Set(found.flatMap((names) => names ?? []))];
  }
  return out;
}

// cluster-glue beyond glib, libxml2 and DocBook, found by building Debian's cluster-glue 1.0.12
// tarball on a Debian 12 minbase root with this recipe: its autogen.sh looks for a `libtool`
// program, which Debian ships apart from libtoolize (libtool-bin; EL's libtool has both), and its
// hb_report.8 man page is made with asciidoc's a2x whenever xsltproc is there (EL5's asciidoc is
// EPEL's). gcc 12 builds the sources as they are: no -fcommon, no patch.
const glueTools: PerPlatform<string[]> = {
  el: ['asciidoc'],
  debian: ['libtool-bin', 'asciidoc-base'],
};

export const RECIPES: Record<SourceComponent, Recipe> = {
  // The C packet library (libnet 1.1.x, used for gratuitous ARP), not the Perl module of the same name.
  libnet: {
    name: 'libnet',
    usesLibdir: true,
    configure: (libdir, args) => [generateConfigure('./autogen.sh'), commandLine(['./configure', '--prefix=/usr', `--libdir=${libdir}`, ...args])].join('\n'),
    install: installAndRefreshLinker,
    creates: '/usr/include/libnet.h',
    buildDepends: {},
  },
  cluster_glue: {
    name: 'cluster-glue',
    usesLibdir: true,
    configure: (libdir, args) =>
      [
        generateConfigure('./autogen.sh'),
        commandLine(['./configure', ...autotoolsLayout(libdir), `--with-daemon-user=${HA_USER}`, `--with-daemon-group=${HA_GROUP}`, noFatalWarnings, ...args]),
      ].join('\n'),
    install: installAndRefreshLinker,
    creates: '/usr/sbin/lrmadmin',
    buildDepends: combinePackageLists(glibAndXml, docbook, glueTools),
  },
  resource_agents: {
    name: 'resource-agents',
    usesLibdir: true,
    configure: (libdir, args) => [generateConfigure('./autogen.sh'), commandLine(['./configure', ...autotoolsLayout(libdir), noFatalWarnings, ...args])].join('\n'),
    install: installAndRefreshLinker,
    // The OCF root is <prefix>/lib/ocf on every architecture.
    creates: '/usr/lib/ocf/resource.d/heartbeat/IPaddr2',
    buildDepends: combinePackageLists(glibAndXml, docbook),
  },
  heartbeat: {
    name: 'heartbeat',
    usesLibdir: true,
    configure: (libdir, args) => [generateConfigure('./bootstrap'), commandLine(['./configure', ...autotoolsLayout(libdir), noFatalWarnings, ...args])].join('\n'),
    install: installAndRefreshLinker,
    creates: '/usr/bin/cl_status',
    buildDepends: combinePackageLists(glibAndXml, docbook, { el5: ['python'], el6: ['python'], el7: ['python'], el: ['python3'], debian: ['python3'] }),
  },
  // ipvsadm has a plain Makefile (no configure); it installs /sbin/ipvsadm.
  ipvsadm: {
    name: 'ipvsadm',
    usesLibdir: false,
    configure: () => '',
    install: 'make install',
    creates: '/sbin/ipvsadm',
    prepare: ipvsadmKernelTree,
    buildDepends: {
      // EL5 has no popt-devel: the popt package has the headers.
      el5: ['popt', 'libnl-devel'],
      el6: ['popt-devel', 'libnl-devel'],
      el: ['popt-devel', 'libnl3-devel'],
      debian: ['libpopt-dev', 'libnl-3-dev', 'libnl-genl-3-dev'],
    },
  },
  keepalived: {
    name: 'keepalived',
    usesLibdir: false,
    configure: (_libdir, args) => commandLine(['./configure', '--prefix=/usr', '--sysconfdir=/etc', ...args]),
    install: 'make install',
    creates: '/usr/sbin/keepalived',
    buildDepends: {
      el5: ['openssl-devel', 'popt', 'kernel-headers'],
      el6: ['openssl-devel', 'popt-devel', 'libnl-devel', 'kernel-headers'],
      el: ['openssl-devel', 'libnl3-devel', 'kernel-headers'],
      debian: ['libssl-dev', 'libnl-3-dev', 'libnl-genl-3-dev'],
    },
  },
};

/** What every build needs: a compiler, make, the autotools, and the tools sourceBuild downloads and unpacks with. */
export const BUILD_TOOLS: PerPlatform<string[]> = {
  el5: ['gcc', 'make', 'autoconf', 'automake', 'libtool', 'pkgconfig', 'curl', 'tar', 'gzip', 'bzip2'],
  el6: ['gcc', 'make', 'autoconf', 'automake', 'libtool', 'pkgconfig', 'curl', 'tar', 'gzip', 'bzip2'],
  el7: ['gcc', 'make', 'autoconf', 'automake', 'libtool', 'pkgconfig', 'curl', 'tar', 'gzip', 'bzip2'],
  // EL8 and later name pkg-config's package pkgconf-pkg-config.
  el: ['gcc', 'make', 'autoconf', 'automake', 'libtool', 'pkgconf-pkg-config', 'curl', 'tar', 'gzip', 'bzip2'],
  debian: ['gcc', 'make', 'autoconf', 'automake', 'libtool', 'pkg-config', 'curl', 'ca-certificates', 'tar', 'gzip', 'bzip2', 'xz-utils'],
};

