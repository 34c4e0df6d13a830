// ldirectord.cf, rendered from a view of the cluster's virtual services (view.ts). Pure.
//
// The syntax is what ldirectord's own parser (read_config in the ldirectord Perl script) accepts:
// global directives start at the first column; the directives of a virtual service follow its
// `virtual=` line indented by at least four spaces (a tab counts as four); `request`, `receive` and
// `logfile` take double-quoted values; yes/no values must be exactly that (no trailing blank); and
// inside a virtual block everything after a '#' is a comment, even within quotes.
import { OperationError } from '../../src/index.ts';

/** Where the configuration lives: heartbeat's haresources and Debian's /etc/default/ldirectord name this path. */
export const LDIRECTORD_CF = '/etc/ha.d/ldirectord.cf';

export type LdirectordForward = 'gate' | 'masq' | 'ipip';

export interface LdirectordGlobals {
  checktimeout: number;
  checkinterval: number;
  autoreload: boolean;
  logfile: string;
  quiescent: boolean;
  emailalert?: string;
  /** check each virtual service in its own process: ldirectord ignores a service's own checkinterval otherwise */
  fork: boolean;
}

export interface LdirectordVirtualView {
  /** "192.168.2.254:80", or a firewall mark ("1") */
  virtual: string;
  protocol: 'tcp' | 'udp' | 'fwm';
  reals: Array<{ address: string; port?: number; forward: LdirectordForward; weight: number }>;
  fallback?: { address: string; port?: number; forward: LdirectordForward };
  service: string;
  scheduler: string;
  persistent?: number;
  netmask?: string;
  checktype: string;
  checkport?: number;
  request?: string;
  receive?: string;
  virtualhost?: string;
  /** set only where the service overrides the global value */
  checkinterval?: number;
  checktimeout?: number;
  negotiatetimeout?: number;
  quiescent?: boolean;
}

export interface LdirectordView {
  globals: LdirectordGlobals;
  virtuals: LdirectordVirtualView[];
}

const INDENT = '        ';
const yesNo = (value: boolean) => (value ? 'yes' : 'no');
const hostPort = (address: string, port?: number) => (port === undefined ? address : `${address}:${port}`);

export function renderLdirectordCf(view: LdirectordView): string {
  const { globals } = view;
  const lines = [
    `# ${LDIRECTORD_CF}: written by provision from the cluster description; edit the description, not this file.`,
    '# heartbeat starts ldirectord with this file on the active director (haresources).',
    `checktimeout=${globals.checktimeout}`,
    `checkinterval=${globals.checkinterval}`,
    `autoreload=${yesNo(globals.autoreload)}`,
    `logfile=${quoted('logfile', globals.logfile)}`,
    `quiescent=${yesNo(globals.quiescent)}`,
    ...(globals.fork ? ['fork=yes'] : []),
    ...(globals.emailalert === undefined ? [] : [`emailalert=${globals.emailalert}`]),
  ];
  for (const virtual of view.virtuals) lines.push('', ...virtualBlock(virtual));
  return lines.map((line) => `${line}\n`).join('');
}

function virtualBlock(v: LdirectordVirtualView): string[] {
  const where = `virtual service ${v.virtual}`;
  const inner: string[] = [];
  for (const real of v.reals) inner.push(`real=${hostPort(real.address, real.port)} ${real.forward} ${real.weight}`);
  if (v.fallback !== undefined) inner.push(`fallback=${hostPort(v.fallback.address, v.fallback.port)} ${v.fallback.forward}`);
  inner.push(`service=${v.service}`, `scheduler=${v.scheduler}`);
  if (v.persistent !== undefined) inner.push(`persistent=${v.persistent}`);
  if (v.netmask !== undefined) inner.push(`netmask=${v.netmask}`);
  inner.push(`protocol=${v.protocol}`, `checktype=${v.checktype}`);
  if (v.checkport !== undefined) inner.push(`checkport=${v.checkport}`);
  if (v.request !== undefined) inner.push(`request=${quoted(`${where}: check.request`, v.request, { inVirtual: true })}`);
  if (v.receive !== undefined) inner.push(`receive=${quoted(`${where}: check.receive`, v.receive, { inVirtual: true })}`);
  if (v.virtualhost !== undefined) inner.push(`virtualhost=${bare(`${where}: check.virtualhost`, v.virtualhost)}`);
  if (v.checkinterval !== undefined) inner.push(`checkinterval=${v.checkinterval}`);
  if (v.checktimeout !== undefined) inner.push(`checktimeout=${v.checktimeout}`);
  if (v.negotiatetimeout !== undefined) inner.push(`negotiatetimeout=${v.negotiatetimeout}`);
  if (v.quiescent !== undefined) inner.push(`quiescent=${yesNo(v.quiescent)}`);
  return [`virtual=${v.virtual}`, ...inner.map((line) => INDENT + line)];
}

/** A double-quoted value; ldirectord has no escapes, so what it cannot read is refused here. */
function quoted(what: string, value: string, options: { inVirtual?: boolean } = {}): string {
  if (/["\n\r]/.test(value)) throw new OperationError(`ldirectord.cf: ${what} ${JSON.stringify(value)} cannot contain a double quote or a line break (ldirectord.cf has no escapes)`);
  if (options.inVirtual && value.includes('#')) {
    throw new OperationError(`ldirectord.cf: ${what} ${JSON.stringify(value)} contains '#': inside a virtual service ldirectord cuts a line at '#' (a comment), even within quotes; choose a value without it`);
  }
  if (value.trim() === '') throw new OperationError(`ldirectord.cf: ${what} is empty`);
  return `"${value}"`;
}

function bare(what: string, value: string): string {
  if (!/^[^\s"#]+$/.test(value)) throw new OperationError(`ldirectord.cf: ${what} ${JSON.stringify(value)} must be one word without '"' or '#' (a host name)`);
  return value;
}
