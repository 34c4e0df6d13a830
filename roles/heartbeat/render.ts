// The three files of a heartbeat (v1, haresources-style) cluster node, rendered from per-host views
// (view.ts builds them from the cluster description). Pure: the same view gives the same text.
//
// The syntax is heartbeat's own (the ha.cf, haresources and authkeys samples shipped in the
// heartbeat package's documentation). Two rules shape ha.cf: directives are read in order, so
// udpport and baud must come before the media (bcast, mcast, ucast, serial) that use them, and the
// logging directives take effect where they appear, so they come first.
import type { AuthMethod, AutoFailback, McastPath } from '../../src/cluster/model.ts';

export interface HaCfView {
  logging: { logfile?: string; debugfile?: string; logfacility?: string };
  keepalive: number;
  deadtime: number;
  warntime: number;
  initdead: number;
  udpport: number;
  /** heartbeat has one baud rate for every serial port */
  serial?: { baud: string; devices: string[] };
  bcast: string[];
  mcast: McastPath[];
  /** unicast paths: this node sends to the PEER's address on each (the one line that differs between nodes) */
  ucast: Array<{ interface: string; peer: string }>;
  autoFailback: AutoFailback;
  /** every node's `uname -n`, the primary first */
  nodes: string[];
  ping: string[];
  pingGroup?: { name: string; addresses: string[] };
  /** the ipfail program to respawn as hacluster (its default API authorization, so no apiauth line) */
  ipfail?: string;
}

export interface HaresourcesView {
  /** the preferred node (`uname -n` of the primary director) */
  node: string;
  /** started left to right on takeover, stopped right to left */
  resources: string[];
}

export interface AuthkeysView {
  method: AuthMethod;
  /** the shared key of sha1 and md5 (crc has none) */
  key?: string;
}

const header = (file: string, note?: string) =>
  [`# ${file}: written by provision from the cluster description; edit the description, not this file.`, ...(note ? [`# ${note}`] : [])]
    .map((line) => `${line}\n`)
    .join('');

export function renderHaCf(view: HaCfView): string {
  const lines: string[] = [];
  const add = (directive: string, ...values: Array<string | number>) => lines.push([directive, ...values].join(' '));
  if (view.logging.debugfile !== undefined) add('debugfile', view.logging.debugfile);
  if (view.logging.logfile !== undefined) add('logfile', view.logging.logfile);
  if (view.logging.logfacility !== undefined) add('logfacility', view.logging.logfacility);
  add('keepalive', view.keepalive);
  add('deadtime', view.deadtime);
  add('warntime', view.warntime);
  add('initdead', view.initdead);
  add('udpport', view.udpport);
  if (view.serial !== undefined) {
    add('baud', view.serial.baud);
    for (const device of view.serial.devices) add('serial', device);
  }
  if (view.bcast.length > 0) add('bcast', ...view.bcast);
  for (const path of view.mcast) add('mcast', path.interface, path.group, path.port, path.ttl, path.loop ? 1 : 0);
  for (const path of view.ucast) add('ucast', path.interface, path.peer);
  add('auto_failback', view.autoFailback);
  for (const node of view.nodes) add('node', node);
  if (view.ping.length > 0) add('ping', ...view.ping);
  if (view.pingGroup !== undefined) add('ping_group', view.pingGroup.name, ...view.pingGroup.addresses);
  if (view.ipfail !== undefined) add('respawn', 'hacluster', view.ipfail);
  // haresources (v1) mode, explicitly: with the CRM on, heartbeat would ignore haresources.
  add('crm', 'off');
  return header('/etc/ha.d/ha.cf') + lines.map((line) => `${line}\n`).join('');
}

export function renderHaresources(view: HaresourcesView): string {
  return header('/etc/ha.d/haresources', 'identical on every node') + `${[view.node, ...view.resources].join(' ')}\n`;
}

export function renderAuthkeys(view: AuthkeysView): string {
  const method = view.method === 'crc' ? 'crc' : `${view.method} ${view.key ?? ''}`;
  return header('/etc/ha.d/authkeys', 'mode 0600: heartbeat refuses to start otherwise') + `auth 1\n1 ${method}\n`;
}
