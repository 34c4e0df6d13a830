// The files of an LVS real server, rendered from its view (view.ts); pure.
//
//   ifcfg-lo:N                EL5-EL7: a DR VIP on a loopback alias (tutorial 002), brought up by
//                             the network service at boot
//   interfaces.d/lvs-realserver  Debian: the same as ifupdown stanzas
//   /etc/init.d/realserver    the tutorials' script (tutorial 000), POSIX sh with ip(8): whatever
//                             the family's network configuration cannot hold (TUN, EL8/EL9 and
//                             Ubuntu VIPs), or every VIP when chosen
//   realserver.service        its systemd unit, on systemd hosts
// The default gateway is kept by the shared gateway files (roles/base/gateway.ts).
import { quote, shellAssignment } from '../../src/index.ts';
import { initScriptDispatch, renderScriptUnit } from '../base/init-script.ts';
import { nftTool } from './arptables.ts';
import type { CheckPage, LoopbackVip, RealServerView, TunnelVip } from './view.ts';

/** Where Debian-family hosts keep their arptables rules (the package defines no place; EL uses /etc/sysconfig/arptables). */
export const debianArptablesFile = '/etc/arptables.rules';
/** What loads the saved rules on the Debian family: the restore command of its tool (nftTool). */
const debianArptablesRestore = `${nftTool.command}-restore`;
export const initScriptPath = '/etc/init.d/realserver';
export const unitPath = '/etc/systemd/system/realserver.service';
export const interfacesFile = '/etc/network/interfaces.d/lvs-realserver';
/** The page a web server sends for / (nginx, apache2 and httpd look for index.html first). */
export const indexPagePath = (documentRoot: string): string => `${documentRoot === '/' ? '' : documentRoot}/index.html`;

export const ifcfgPath = (label: string): string => `/etc/sysconfig/network-scripts/ifcfg-${label}`;

/**
 * EL's ifcfg file of one loopback alias. The tutorial's NETWORK= and BROADCAST= lines are left
 * out: they named the /24 of the LAN, contradicting the host netmask, and ifup derives both from
 * IPADDR and NETMASK. NAME=loopback as in the tutorial (initscripts show it in messages).
 */
export function renderIfcfg(view: RealServerView, vip: LoopbackVip): string {
  return [
    `# ${vip.label}: the LVS-DR virtual IP ${vip.vip} of cluster ${view.cluster} (${vip.services.join(', ')}).`,
    '# Written by provision from the cluster description; changes here are overwritten.',
    '# On the loopback, with a host netmask, this real server accepts the packets the director',
    '# forwards to it unchanged; arp_ignore/arp_announce (or arptables) keep it from answering ARP',
    '# for the VIP, which only the director may do.',
    ...(view.alsoDirector ? directorNote.map((line) => `# ${line}`) : []),
    shellAssignment('DEVICE', vip.label),
    shellAssignment('IPADDR', vip.vip),
    shellAssignment('NETMASK', '255.255.255.255'),
    shellAssignment('ONBOOT', 'yes'),
    shellAssignment('NAME', 'loopback'),
    '',
  ].join('\n');
}

// Why a director that is also a real server has the VIP on lo as well (tutorials 000 and 002).
const directorNote = [
  'This host is a director too. At boot the VIP comes up here first; when heartbeat makes the',
  'host the active director, IPaddr/IPaddr2 takes the VIP off lo and puts it on the network',
  'interface (and puts it back on lo when it gives the VIP up). provision never adds it to lo',
  'while another interface holds it.',
];

/**
 * Debian's ifupdown stanzas for the loopback aliases (the file sits in /etc/network/interfaces.d/,
 * which /etc/network/interfaces must `source`; a task checks that). With arptables, the rules are
 * loaded before the first VIP comes up.
 */
export function renderInterfaces(view: RealServerView, vips: LoopbackVip[], arptablesFile?: string): string {
  const lines = [
    `# The LVS-DR virtual IPs of ${view.host} in cluster ${view.cluster}, on loopback aliases.`,
    '# Written by provision from the cluster description; changes here are overwritten.',
    '# On the loopback, with a host netmask, this real server accepts the packets the director',
    '# forwards to it unchanged; arp_ignore/arp_announce (or arptables) keep it from answering ARP',
    '# for the VIPs, which only the director may do.',
    ...(view.alsoDirector ? directorNote.map((line) => `# ${line}`) : []),
  ];
  vips.forEach((vip, i) => {
    lines.push(
      '',
      `# ${vip.services.join(', ')}`,
      `auto ${vip.label}`,
      `iface ${vip.label} inet static`,
      `\taddress ${vip.vip}`,
      '\tnetmask 255.255.255.255',
    );
    if (i === 0 && arptablesFile !== undefined) lines.push(`\tpre-up ${debianArptablesRestore} < ${arptablesFile}`);
  });
  return lines.join('\n') + '\n';
}

/** What the realserver script brings up: the parts of the view no network configuration holds. */
export interface ScriptItems {
  loopbackVips: LoopbackVip[];
  tunnelVips: TunnelVip[];
  /** set arp_ignore/arp_announce on `all` and these interfaces before adding VIPs */
  arpSysctlInterfaces?: string[];
  /** load these saved arptables rules before adding VIPs (Debian family: no service does it) */
  arptablesFile?: string;
}

export const scriptCarries = (items: ScriptItems): boolean => items.loopbackVips.length + items.tunnelVips.length > 0;

/**
 * The tutorials' /etc/init.d/realserver (start, stop, status), in POSIX sh with ip(8) instead of
 * ifconfig/route/netstat, which minimal installations of recent releases lack. Unlike the
 * tutorial's, it does not take lo down and up (that cuts every local connection), it sets the ARP
 * parameters on the real interfaces (on lo they do nothing), and start adds only what is missing,
 * so it can run at any time.
 */
export function renderInitScript(view: RealServerView, items: ScriptItems): string {
  const sysctlLines = (items.arpSysctlInterfaces === undefined ? [] : ['all', ...items.arpSysctlInterfaces]).flatMap((name) => {
    const dir = `net/ipv4/conf/${name}`;
    return [`\tset_kernel_parameter ${quote(`${dir}/arp_ignore`)} 1`, `\tset_kernel_parameter ${quote(`${dir}/arp_announce`)} 2`];
  });
  const start: string[] = [];
  const stop: string[] = [];
  const status: string[] = [];
  if (sysctlLines.length > 0) {
    start.push(
      '\t# ARP first: arp_ignore=1 answers ARP requests only for addresses of the receiving interface,',
      '\t# arp_announce=2 never gives an address of another interface as the sender of a request.',
      '\t# Set before the VIPs exist, so that no client ever maps a VIP to this host: only the',
      '\t# director may answer for it.',
      ...sysctlLines,
    );
  }
  if (items.arptablesFile !== undefined) {
    start.push(
      '\t# ARP first: the saved arptables rules drop ARP requests for the VIPs and rewrite a VIP as',
      '\t# the sender of our requests to our own address; loaded before the VIPs exist, so that no',
      '\t# client ever maps a VIP to this host: only the director may answer for it.',
      `\t${debianArptablesRestore} < ${quote(items.arptablesFile)}`,
    );
  }
  // A blank line between the parts of start, not before the first.
  const gap = (): string[] => (start.length > 0 ? [''] : []);
  if (items.loopbackVips.length > 0) {
    start.push(
      ...gap(),
      '\t# Direct routing: the director sends the packets for a VIP unchanged to this host, which',
      '\t# accepts them because the VIP is a local address here: on a loopback alias, never announced.',
    );
    if (view.alsoDirector) start.push(...directorNote.map((line) => `\t# ${line}`));
    for (const vip of items.loopbackVips) {
      start.push(`\tadd_loopback_vip ${quote(vip.vip)} ${quote(vip.label)}\t# ${vip.services.join(', ')}`);
      stop.push(`\tif has_address ${quote(vip.vip)} lo; then ip addr del ${quote(`${vip.vip}/32`)} dev lo; fi`);
      status.push(`\thas_loopback_vip ${quote(vip.vip)} || missing="$missing ${vip.vip}"`);
    }
  }
  if (items.tunnelVips.length > 0) {
    start.push(
      ...gap(),
      '\t# Tunnelling: the director wraps the packets for a VIP in IP-in-IP; the ipip module unwraps',
      '\t# them on tunl0, where the VIP is a local address. They come out of tunl0 with the',
      '\t# client as source, whose route is another interface: reverse-path filtering would drop them.',
      '\tip link show tunl0 >/dev/null 2>&1 || modprobe ipip',
      '\tset_kernel_parameter net/ipv4/conf/tunl0/rp_filter 0',
      '\tset_kernel_parameter net/ipv4/conf/all/rp_filter 0',
      '\tip link set tunl0 up',
    );
    for (const vip of items.tunnelVips) {
      start.push(`\thas_address ${quote(vip.vip)} tunl0 || ip addr add ${quote(`${vip.vip}/32`)} dev tunl0\t# ${vip.services.join(', ')}`);
      stop.push(`\tif has_address ${quote(vip.vip)} tunl0; then ip addr del ${quote(`${vip.vip}/32`)} dev tunl0; fi`);
      status.push(`\thas_address ${quote(vip.vip)} tunl0 || missing="$missing ${vip.vip}"`);
    }
  }
  if (stop.length === 0) stop.push('\t:');

  return [
    '#!/bin/sh',
    '#',
    `# realserver: the LVS real server addresses of ${view.host} in cluster ${view.cluster}`,
    '#',
    '# chkconfig: 2345 20 80',
    '# description: Puts the LVS virtual IPs on this real server without answering ARP \\',
    '#              for them.',
    '### BEGIN INIT INFO',
    '# Provides:          realserver',
    '# Required-Start:    $network $local_fs',
    '# Required-Stop:     $network $local_fs',
    '# Should-Start:      arptables_jf arptables',
    '# Default-Start:     2 3 4 5',
    '# Default-Stop:      0 1 6',
    '# Short-Description: LVS real server addresses',
    '# Description:       Puts the LVS virtual IPs on this real server without answering',
    '#                    ARP for them.',
    '### END INIT INFO',
    '#',
    '# Written by provision from the cluster description; changes here are overwritten.',
    '# The stop action removes the VIPs and keeps the ARP settings.',
    '',
    'PATH=/sbin:/usr/sbin:/bin:/usr/bin',
    'export PATH',
    '',
    '# has_address ADDRESS [DEVICE]: ADDRESS is configured (on DEVICE).',
    'has_address() {',
    '\tif [ -n "$2" ]; then',
    '\t\tip -o -4 addr show dev "$2" 2>/dev/null | grep -qF "inet $1/"',
    '\telse',
    '\t\tip -o -4 addr show | grep -qF "inet $1/"',
    '\tfi',
    '}',
    '',
    ...(view.alsoDirector
      ? [
          '# has_loopback_vip VIP: the VIP is here, on lo or (active director) on the network interface.',
          'has_loopback_vip() {',
          '\thas_address "$1"',
          '}',
          '',
          '# add_loopback_vip VIP LABEL: puts the VIP on lo unless an interface holds it already.',
          'add_loopback_vip() {',
          '\thas_address "$1" || ip addr add "$1/32" dev lo label "$2"',
          '}',
        ]
      : [
          '# has_loopback_vip VIP: the VIP is on lo.',
          'has_loopback_vip() {',
          '\thas_address "$1" lo',
          '}',
          '',
          '# add_loopback_vip VIP LABEL: puts the VIP on lo (labelled as the alias ifconfig shows).',
          'add_loopback_vip() {',
          '\thas_address "$1" lo || ip addr add "$1/32" dev lo label "$2"',
          '}',
        ]),
    '',
    '# set_kernel_parameter PATH VALUE: writes /proc/sys/PATH (what sysctl -w does, without procps).',
    'set_kernel_parameter() {',
    '\tif [ -w "/proc/sys/$1" ]; then',
    '\t\techo "$2" >"/proc/sys/$1"',
    '\telse',
    '\t\techo "realserver: /proc/sys/$1 does not exist; is the interface named right?" >&2',
    '\t\treturn 1',
    '\tfi',
    '}',
    '',
    '# In a subshell with set -e: the first failing step fails the action.',
    'start() (',
    '\tset -e',
    ...start,
    ')',
    '',
    'stop() (',
    '\tset -e',
    ...stop,
    ')',
    '',
    'status() {',
    '\tmissing=',
    ...status,
    '\tif [ -z "$missing" ]; then',
    '\t\techo "LVS real server running"',
    '\t\treturn 0',
    '\tfi',
    '\techo "LVS real server stopped; missing:$missing"',
    '\treturn 3',
    '}',
    '',
    ...initScriptDispatch,
  ].join('\n');
}

/** The systemd unit that runs the script. */
export function renderUnit(view: RealServerView): string {
  return renderScriptUnit({
    comments: [`The LVS real server addresses of ${view.host} in cluster ${view.cluster}: ${initScriptPath} run by systemd.`, 'Written by provision from the cluster description; changes here are overwritten.'],
    description: 'LVS real server addresses (virtual IPs, ARP settings)',
    // arptables.service loads the ARP rules before the VIPs come up.
    ordering: ['After=network.target arptables.service'],
    script: initScriptPath,
    stop: true,
  });
}

/** The directories a page needs between the document root and itself, parents first. */
export function pageDirectories(documentRoot: string, page: CheckPage): string[] {
  const root = documentRoot.replace(/\/+$/, '');
  const parts = page.path.slice(root.length + 1).split('/').slice(0, -1);
  return parts.map((_, i) => `${root}/${parts.slice(0, i + 1).join('/')}`);
}
