// /etc/sysconfig/ha/lvs.cf, rendered from a view of the cluster (view.ts builds it from the cluster
// description). Pure: the same view gives the same text, byte for byte, on both LVS routers (pulse
// wants the file identical on the primary and the backup).
//
// The syntax is what piranha's parser (lvsconfig.c) reads: one "keyword = value" per line, words
// split on blanks, values quoted with " or ' when they hold blanks (no escapes: a quoted value ends
// at the next quote of its kind), "virtual NAME {" and "server NAME {" blocks closed by "}", and
// comments only on lines of their own ("#" first). The order and the two-level indentation follow
// the files the piranha GUI writes, so that the GUI can still read and edit it.
import { createHash } from 'node:crypto';
import { OperationError } from '../../src/index.ts';
// The redactor knows this escaping: a secret in a value written with it is still masked.
import { backslashEscape } from '../../src/core/secret.ts';

export interface LvsServerView {
  /** the server block's name */
  name: string;
  address: string;
  /** written only when it differs from the virtual's port (port mapping, NAT only) */
  port?: number;
  weight: number;
}

export interface LvsVirtualView {
  name: string;
  address: string;
  /** the alias the VIP is added on, e.g. eth0:1 */
  device: string;
  vipNetmask: string;
  /** tcp or udp; a firewall-mark service is tcp or udp with a fwmark */
  protocol: 'tcp' | 'udp';
  port: number;
  fwmark?: number;
  scheduler: string;
  persistent?: { timeout: number; netmask?: string };
  sorryServer?: string;
  send?: string;
  expect?: string;
  loadMonitor: string;
  timeout: number;
  reentry: number;
  quiesceServer: boolean;
  servers: LvsServerView[];
}

export interface LvsCfView {
  primary: string;
  backup?: string;
  backupActive: boolean;
  heartbeatPort: number;
  keepalive: number;
  deadtime: number;
  network: 'nat' | 'direct' | 'tunnel';
  natRouter?: { address: string; device: string; netmask: string };
  debugLevel: string;
  rshCommand: string;
  virtuals: LvsVirtualView[];
}

/** A bare word: what the tokenizer reads back unchanged without quotes. */
const bareWord = /^[^\s"'#]+$/;

function bare(what: string, value: string): string {
  if (!bareWord.test(value)) {
    throw new OperationError(`piranha: ${what} ${JSON.stringify(value)} cannot be written into lvs.cf (no blanks, quotes or '#'); change it in the cluster description`);
  }
  return value;
}

/**
 * A value nanny sends or expects, quoted the way lvsconfig.c reads it back: inside "..." (or '...'
 * when it holds a double quote); a value with both quotes cannot be written. lvs.cf holds one line
 * per setting, so carriage returns and line feeds are written as \r and \n, which nanny turns
 * back into the characters before it sends or compares.
 */
function quoted(what: string, value: string): string {
  const oneLine = backslashEscape(value, '\r\n');
  if (!oneLine.includes('"')) return `"${oneLine}"`;
  if (!oneLine.includes("'")) return `'${oneLine}'`;
  throw new OperationError(`piranha: ${what} ${JSON.stringify(value)} holds both quote characters; lvs.cf cannot quote it`);
}

function flag(value: boolean): string {
  return value ? '1' : '0';
}

function renderVirtual(virtual: LvsVirtualView): string[] {
  const lines = [
    `virtual ${bare('virtual server name', virtual.name)} {`,
    '     active = 1',
    `     address = ${virtual.address} ${bare('device', virtual.device)}`,
    `     vip_nmask = ${virtual.vipNetmask}`,
  ];
  if (virtual.fwmark !== undefined) lines.push(`     fwmark = ${virtual.fwmark}`);
  lines.push(`     port = ${virtual.port}`);
  if (virtual.persistent) {
    lines.push(`     persistent = ${virtual.persistent.timeout}`);
    // piranha refuses a pmask of 255.255.255.255 (it means "no mask", which is the default).
    if (virtual.persistent.netmask !== undefined && virtual.persistent.netmask !== '255.255.255.255') lines.push(`     pmask = ${virtual.persistent.netmask}`);
  }
  if (virtual.sorryServer !== undefined) lines.push(`     sorry_server = ${virtual.sorryServer}`);
  if (virtual.send !== undefined) lines.push(`     send = ${quoted('send', virtual.send)}`);
  if (virtual.expect !== undefined) lines.push(`     expect = ${quoted('expect', virtual.expect)}`);
  lines.push(
    '     use_regex = 0',
    `     load_monitor = ${bare('load monitor', virtual.loadMonitor)}`,
    `     scheduler = ${bare('scheduler', virtual.scheduler)}`,
    `     protocol = ${virtual.protocol}`,
    `     timeout = ${virtual.timeout}`,
    `     reentry = ${virtual.reentry}`,
    `     quiesce_server = ${flag(virtual.quiesceServer)}`,
  );
  for (const server of virtual.servers) {
    lines.push(`     server ${bare('server name', server.name)} {`, `         address = ${server.address}`, '         active = 1');
    if (server.port !== undefined && server.port !== virtual.port) lines.push(`         port = ${server.port}`);
    lines.push(`         weight = ${server.weight}`, '     }');
  }
  lines.push('}');
  return lines;
}

/**
 * serial_no: the piranha GUI bumps it on every save; pulse and the GUI only compare it between the
 * two routers. A number derived from the rest of the file is the same on both routers and changes
 * whenever the configuration does, without a counter to keep anywhere.
 */
export function serialNumberOf(body: string): number {
  return parseInt(createHash('sha256').update(body).digest('hex').slice(0, 7), 16);
}

/** The whole lvs.cf; the same for both LVS routers. */
export function renderLvsCf(view: LvsCfView): string {
  const global = [`primary = ${view.primary}`, 'service = lvs', `backup_active = ${flag(view.backupActive)}`];
  global.push(`backup = ${view.backup ?? '0.0.0.0'}`);
  global.push(
    'heartbeat = 1',
    `heartbeat_port = ${view.heartbeatPort}`,
    `keepalive = ${view.keepalive}`,
    `deadtime = ${view.deadtime}`,
    `network = ${view.network}`,
  );
  if (view.natRouter) global.push(`nat_router = ${view.natRouter.address} ${bare('NAT router device', view.natRouter.device)}`, `nat_nmask = ${view.natRouter.netmask}`);
  global.push(`debug_level = ${bare('debug level', view.debugLevel)}`, `rsh_command = ${view.rshCommand}`);
  const body = [global.join('\n'), ...view.virtuals.map((v) => renderVirtual(v).join('\n'))].join('\n') + '\n';
  const header = [
    '# lvs.cf written by provision from the cluster description; the same on both LVS routers.',
    '# Changes made here (or with the piranha GUI) are overwritten on the next run.',
  ].join('\n');
  return `${header}\nserial_no = ${serialNumberOf(body)}\n${body}`;
}
