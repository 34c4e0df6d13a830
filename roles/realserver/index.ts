// The LVS real server role: what each real server of the cluster needs (tutorials 000, 002, 003,
// 004). In order, because the order is the point:
//   1. ARP: arp_ignore/arp_announce (or arptables rules) before any VIP exists, so that no client
//      ever maps a VIP to a real server's MAC;
//   2. the VIPs: DR on loopback aliases, TUN on tunl0, each kept for boot the family's way
//      (boot_method below) and brought up now; and the default gateway (NAT: the director), kept
//      the way roles/base/gateway.ts keeps every gateway;
//   3. the page each health check fetches, with the text it expects, and the site's index page
//      naming the real server (which one answered through the VIP);
//   4. the services the real server runs, the web servers among them listening on every port the
//      directors send this host web requests to (listen.ts).
// A host that serves no virtual service gets no task.
import { defineRole, ops, sh, type Facts, type Task } from '../../src/index.ts';
import { clusterOf } from '../../src/cluster/role.ts';
import { APACHE, isApache, isWebServer, WEB_SERVERS, type WebServer } from '../../src/cluster/web-ports.ts';
import { defaultGatewayTasks } from '../base/gateway.ts';
import { applyRulesScript, jfTool, nftTool, renderSavedRules, rulesInPlaceCheck, standardTool, type ArpSave, type ArpTool } from './arptables.ts';
import {
  debianArptablesFile,
  ifcfgPath,
  indexPagePath,
  initScriptPath,
  interfacesFile,
  pageDirectories,
  renderIfcfg,
  renderInitScript,
  renderInterfaces,
  renderUnit,
  scriptCarries,
  unitPath,
  type ScriptItems,
} from './render.ts';
import { apache2ConfName, apache2EnabledPath, apache2ListenPath, httpdListenPath, nginxListenPath, renderApacheListen, renderNginxListen } from './listen.ts';
import { realserverVariables, type BootMethod } from './variables.ts';
import { realServerView, type LoopbackVip, type RealServerView } from './view.ts';


const el = (facts: Facts) => facts.os.family === 'el';
const elUpTo7 = (facts: Facts) => el(facts) && facts.os.major <= 7;
const arptablesJf = (facts: Facts) => el(facts) && facts.os.major <= 6;
const debianProper = (facts: Facts) => facts.os.family === 'debian' && facts.os.distro !== 'ubuntu';
const systemd = (facts: Facts) => facts.init === 'systemd';
const debianFamily = (facts: Facts) => facts.os.family === 'debian';

/** Which mechanism keeps each part of the view at boot on a host of `facts`. */
export interface BootLayout {
  ifcfgVips: LoopbackVip[];
  ifupdownVips: LoopbackVip[];
  script: ScriptItems;
}

export function bootLayout(view: RealServerView, facts: Facts, method: BootMethod): BootLayout {
  const native = method === 'native';
  const ifcfg = native && elUpTo7(facts);
  const ifupdown = native && debianProper(facts);
  const hasVips = view.loopbackVips.length + view.tunnelVips.length > 0;
  const scriptVips = ifcfg || ifupdown ? [] : view.loopbackVips;
  const script: ScriptItems = { loopbackVips: scriptVips, tunnelVips: view.tunnelVips };
  const scriptHasVips = script.loopbackVips.length + script.tunnelVips.length > 0;
  if (scriptHasVips && view.arp === 'sysctl') script.arpSysctlInterfaces = view.arpInterfaces;
  // EL restores saved arptables rules with its arptables service; Debian has no such service.
  if (scriptHasVips && view.arp === 'arptables' && facts.os.family === 'debian') script.arptablesFile = debianArptablesFile;
  return {
    ifcfgVips: ifcfg && hasVips ? view.loopbackVips : [],
    ifupdownVips: ifupdown ? view.loopbackVips : [],
    script,
  };
}

/**
 * How each family runs and keeps arptables rules: the chain names its tool knows, the command that
 * saves the running rules and the file it writes, which the family restores at boot (EL: the
 * arptables_jf or arptables service; Debian: the realserver script or the ifupdown stanza).
 */
const arptablesFamilies: Array<{ name: string; tool: ArpTool; save: ArpSave; when: (facts: Facts) => boolean }> = [
  { name: 'arptables_jf', tool: jfTool, save: { kind: 'command', command: 'service arptables_jf save', file: '/etc/sysconfig/arptables' }, when: arptablesJf },
  { name: 'arptables', tool: standardTool, save: { kind: 'rendered', file: '/etc/sysconfig/arptables' }, when: (facts) => el(facts) && !arptablesJf(facts) },
  { name: nftTool.command, tool: nftTool, save: { kind: 'rendered', file: debianArptablesFile }, when: (facts) => !el(facts) },
];

/** How the role's variables shape the task list. */
export interface RealServerChoices {
  bootMethod: BootMethod;
  /** the index page's line; undefined: the role leaves the index page alone */
  indexPage?: string;
}

export function realServerTasks(view: RealServerView, choices: RealServerChoices): Task[] {
  const layout = (facts: Facts) => bootLayout(view, facts, choices.bootMethod);
  const vips = [...view.loopbackVips.map((v) => v.vip), ...view.tunnelVips.map((v) => v.vip)];
  return [...arpTasks(view, vips), ...vipTasks(view, layout), ...scriptTasks(view, layout), ...pageTasks(view, choices.indexPage), ...serviceTasks(view)];
}

function arpTasks(view: RealServerView, vips: string[]): Task[] {
  if (vips.length === 0) return [];
  const tasks: Task[] = [];
  if (view.arp === 'sysctl') {
    for (const name of ['all', ...view.arpInterfaces]) {
      // sysctl writes a VLAN interface (eth0.100) with a slash, as its dots separate the levels.
      const key = `net.ipv4.conf.${name.replace(/\./g, '/')}`;
      tasks.push(
        { name: `ignore ARP requests for addresses of other interfaces (${name})`, op: ops.sysctl({ name: `${key}.arp_ignore`, value: 1 }) },
        { name: `announce only addresses of the sending interface (${name})`, op: ops.sysctl({ name: `${key}.arp_announce`, value: 2 }) },
      );
    }
  } else {
    const rules = view.arpRules;
    tasks.push({
      name: 'arptables installed',
      // Debian and Ubuntu: arptables-nft comes with iptables (see nftTool).
      op: ops.packages({ names: { el5: ['arptables_jf'], el6: ['arptables_jf'], el7: ['arptables'], el8: ['iptables-arptables'], el9: ['iptables-nft', 'iptables-nft-services'], debian: ['iptables'] } }),
    });
    for (const family of arptablesFamilies) {
      tasks.push({
        name: `ARP requests for the VIPs dropped and never sent from them (${family.name}${family.save.kind === 'command' ? `, saved in ${family.save.file}` : ''})`,
        op: ops.command({ run: applyRulesScript(rules, family.tool, family.save), unless: rulesInPlaceCheck(rules, family.tool, family.save) }),
        when: family.when,
      });
      if (family.save.kind === 'rendered') {
        tasks.push({ name: `ARP rules restored at boot from ${family.save.file}`, op: ops.file({ path: family.save.file, content: renderSavedRules(rules, family.tool), mode: '0644' }), when: family.when });
      }
    }
    tasks.push({
      name: 'arptables rules restored at boot',
      op: ops.service({ name: { el5: 'arptables_jf', el6: 'arptables_jf', el: 'arptables' }, enabled: true }),
      when: el,
    });
  }
  if (view.tunnelVips.length > 0) {
    // The kernel filters with the larger of `all` and the interface's value: both must be 0 for
    // tunl0 (the script sets tunl0's, which exists only once the ipip module is loaded).
    tasks.push({ name: 'no reverse-path filtering of tunnelled packets (all)', op: ops.sysctl({ name: 'net.ipv4.conf.all.rp_filter', value: 0 }) });
  }
  return tasks;
}

/** A read-only check that the VIP is where the host needs it. */
function vipPresent(view: RealServerView, vip: string): string {
  // A director that is also a real server holds the VIP on its network interface while active:
  // then it must not be added to lo as well (heartbeat's IPaddr took it off lo on purpose).
  return view.alsoDirector ? sh`ip -o -4 addr show | grep -qF ${`inet ${vip}/`}` : sh`ip -o -4 addr show dev lo | grep -qF ${`inet ${vip}/`}`;
}

function vipTasks(view: RealServerView, layout: (facts: Facts) => BootLayout): Task[] {
  const tasks: Task[] = [];
  for (const vip of view.loopbackVips) {
    const inIfcfg = (facts: Facts) => layout(facts).ifcfgVips.includes(vip);
    tasks.push(
      { name: `VIP ${vip.vip} on ${vip.label} at boot (ifcfg)`, op: ops.file({ path: ifcfgPath(vip.label), content: renderIfcfg(view, vip) }), when: inIfcfg },
      { name: `VIP ${vip.vip} on ${vip.label} now (ifup)`, op: ops.command({ run: sh`ifup ${vip.label}`, unless: vipPresent(view, vip.vip) }), when: inIfcfg },
    );
  }
  const ifupdown = (facts: Facts) => layout(facts).ifupdownVips.length > 0;
  if (view.loopbackVips.length > 0) {
    tasks.push(
      { name: 'ifupdown installed', op: ops.packages({ names: ['ifupdown'] }), when: ifupdown },
      {
        name: 'ifupdown reads /etc/network/interfaces.d',
        // Debian's default file has this line; `source-directory /etc/network/interfaces.d` (the
        // same) is replaced by it rather than doubled, which would define the aliases twice.
        op: ops.line({
          path: '/etc/network/interfaces',
          line: 'source /etc/network/interfaces.d/*',
          regexp: /^\s*source(-directory)?\s+\/etc\/network\/interfaces\.d(\/\*)?\s*$/,
          create: true,
        }),
        when: ifupdown,
      },
      {
        name: `VIPs on loopback aliases at boot (${interfacesFile})`,
        op: ops.file({ path: interfacesFile, content: (facts) => renderInterfaces(view, layout(facts).ifupdownVips, view.arp === 'arptables' ? debianArptablesFile : undefined) }),
        when: ifupdown,
      },
    );
    for (const vip of view.loopbackVips) {
      // --force: ifupdown's state file may say the alias is up when its address was removed.
      tasks.push({ name: `VIP ${vip.vip} on ${vip.label} now (ifup)`, op: ops.command({ run: sh`ifup --force ${vip.label}`, unless: vipPresent(view, vip.vip) }), when: ifupdown });
    }
  }
  if (view.gateway !== undefined) tasks.push(...defaultGatewayTasks(view.host, view.gateway));
  return tasks;
}

function scriptTasks(view: RealServerView, layout: (facts: Facts) => BootLayout): Task[] {
  const carried = (facts: Facts) => scriptCarries(layout(facts).script);
  const status = `${initScriptPath} status >/dev/null`;
  return [
    { name: `${initScriptPath}`, op: ops.file({ path: initScriptPath, content: (facts) => renderInitScript(view, layout(facts).script), mode: '0755' }), when: carried },
    {
      name: `${unitPath}`,
      op: ops.file({ path: unitPath, content: renderUnit(view) }),
      notify: ['reload systemd units'],
      when: (facts) => carried(facts) && systemd(facts),
    },
    {
      name: 'realserver addresses up now',
      op: ops.command({ run: `${initScriptPath} start`, unless: status }),
      when: (facts) => carried(facts) && !systemd(facts),
    },
    {
      name: 'realserver addresses up now (systemd)',
      // reload runs `start` again on an active unit: it adds what is missing, nothing goes down.
      op: ops.command({ run: 'systemctl daemon-reload\nsystemctl reload-or-restart realserver', unless: `systemctl is-active --quiet realserver && ${status}` }),
      when: (facts) => carried(facts) && systemd(facts),
    },
    { name: 'realserver addresses up at boot', op: ops.service({ name: 'realserver', enabled: true }), when: carried },
  ];
}

function pageTasks(view: RealServerView, indexPage: string | undefined): Task[] {
  // Written before the web server is installed, so a package that ships an index page (Debian's
  // apache2) keeps ours.
  const index = indexPage === undefined || view.checksReadIndex ? undefined : { path: indexPagePath(view.documentRoot), content: `${indexPage}\n` };
  const directories = [...new Set([...view.pages.flatMap((page) => [view.documentRoot, ...pageDirectories(view.documentRoot, page)]), ...(index ? [view.documentRoot] : [])])];
  return [
    ...directories.map((path) => ({ name: `directory ${path}`, op: ops.directory({ path, mode: '0755' }) })),
    ...view.pages.map((page) => ({ name: `health-check page ${page.path} (${page.services.join(', ')})`, op: ops.file({ path: page.path, content: page.content, mode: '0644' }) })),
    ...(index ? [{ name: `index page ${index.path}, naming the real server`, op: ops.file({ path: index.path, content: index.content, mode: '0644' }) }] : []),
  ];
}

function serviceTasks(view: RealServerView): Task[] {
  // The web server is part of the real server: installed (its package is named like its service:
  // nginx, httpd, apache2), then told to listen on the mapped ports (its drop-in goes where the
  // package's configuration reads it, so it must exist), then started. Apache listed under both
  // its names is one web server: its tasks come once, where the first name is.
  const firstApache = view.services.find(isApache);
  return view.services.flatMap((name) => {
    const apache = isApache(name);
    if (apache && name !== firstApache) return [];
    return [
      { name: `${name} installed`, op: ops.packages({ names: apache ? { el: [APACHE.el], debian: [APACHE.debian] } : [name] }) },
      ...listenTasks(view, name),
      { name: `${name} running and started at boot`, op: ops.service({ name: apache ? APACHE : name, enabled: true, state: 'started' }) },
    ];
  });
}

const reloadHandler = (name: WebServer): string => `reload ${name}`;

/**
 * A web server the role knows (WEB_SERVERS) listens on the web ports besides its own: a drop-in
 * file the role owns, where the host's package reads it (Apache, by either name: EL's httpd or
 * Debian's and Ubuntu's apache2). Nothing when every request arrives on port 80, and nothing for
 * other services (lint's realserver-port-listener warns when none of them is a web server the role
 * knows: the same function, unservedWebPorts, decides).
 */
function listenTasks(view: RealServerView, name: string): Task[] {
  // The services lint counts as configured (isWebServer) are exactly those handled here.
  if (view.webPorts.length === 0 || !isWebServer(name)) return [];
  const ports = view.webPorts.map((p) => p.port).join(', ');
  switch (name) {
    case 'nginx':
      return [{ name: `nginx listens on port ${ports} (${nginxListenPath})`, op: ops.file({ path: nginxListenPath, content: renderNginxListen(view), mode: '0644' }), notify: [reloadHandler('nginx')] }];
    case 'httpd':
    case 'apache2':
      // Apache by either name: the drop-in of the host's family (EL's httpd, Debian's apache2).
      return [
        { name: `httpd listens on port ${ports} (${httpdListenPath})`, op: ops.file({ path: httpdListenPath, content: (facts) => renderApacheListen(view, facts), mode: '0644' }), notify: [reloadHandler('httpd')], when: el },
        {
          name: `apache2 listens on port ${ports} (${apache2ListenPath})`,
          op: ops.file({ path: apache2ListenPath, content: (facts) => renderApacheListen(view, facts), mode: '0644' }),
          notify: [reloadHandler('apache2')],
          when: debianFamily,
        },
        {
          name: `apache2 reads ${apache2ListenPath} (a2enconf)`,
          op: ops.command({ run: sh`a2enconf -q ${apache2ConfName}`, creates: apache2EnabledPath }),
          notify: [reloadHandler('apache2')],
          when: debianFamily,
        },
      ];
    default: {
      const unhandled: never = name;
      throw new Error(`realserver: no listener tasks for the web server ${String(unhandled)}`);
    }
  }
}

export default defineRole({
  name: 'realserver',
  needsCluster: true,
  ...realserverVariables,
  tasks: (ctx) => {
    const view = realServerView(clusterOf(ctx, 'realserver'), ctx.host.name);
    if (view === undefined) return [];
    const indexPage = ctx.vars.manage_index_page ? ctx.vars.index_page || ctx.host.name : undefined;
    return realServerTasks(view, { bootMethod: ctx.vars.boot_method, ...(indexPage === undefined ? {} : { indexPage }) });
  },
  handlers: () => [
    { name: 'reload systemd units', op: ops.command({ run: 'systemctl daemon-reload' }) },
    // A running web server reads its new ports on reload (nginx, and Apache's graceful restart,
    // open new listening sockets). Not only when it ran at the play's start (ifRunning): on Debian
    // the package's installation starts it before its drop-in is written, and the service task
    // then finds it running; reloading one the play has just started costs a web server nothing.
    ...WEB_SERVERS.map((name) => ({ name: reloadHandler(name), op: ops.service({ name, state: 'reloaded' as const }) })),
  ],
});
