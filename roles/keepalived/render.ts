// keepalived.conf, rendered from a per-host view of the cluster (view.ts builds it from the cluster
// description). Pure: the same view and dialect give the same text, byte for byte.
//
// The syntax is keepalived.conf(5). keepalived has two generations on the platforms this project
// supports, and the dialect says which one a host runs: 1.x (EL6 1.2.13, EL7 1.3.5, EPEL 5) spells
// the HTTP_GET retry count `nb_get_retry` and has no retries on TCP_CHECK; 2.x (EL8+, Debian 11+,
// Ubuntu 22.04+) spells it `retry` (nb_get_retry is deprecated there, and `keepalived
// --config-test` fails on the deprecation warning) and retries TCP_CHECK too.
import { OperationError } from '../../src/index.ts';

/** Where keepalived reads its configuration (the path of every packaging). */
export const KEEPALIVED_CONF = '/etc/keepalived/keepalived.conf';

export interface KeepalivedDialect {
  /** 1 or 2: the keepalived major version the platform ships */
  major: 1 | 2;
  /** what the platform ships, for comments and messages, e.g. "1.3.5 (EL7)" */
  shipped: string;
}

export interface NotificationView {
  emails: string[];
  from: string;
  smtpServer: string;
  smtpConnectTimeout: number;
}

export interface VrrpAddressView {
  /** e.g. 192.168.2.254 */
  address: string;
  /** e.g. 24 */
  prefix: number;
  device: string;
  /** an alias label such as eth0:0, when the cluster description names the interface so */
  label?: string;
}

export interface VrrpInstanceView {
  /** e.g. VI_51 */
  name: string;
  state: 'MASTER' | 'BACKUP';
  interface: string;
  virtualRouterId: number;
  priority: number;
  advertInt: number;
  nopreempt: boolean;
  /** VRRP authentication (PASS or AH, a password of at most 8 characters); none: no authentication block */
  auth?: { type: 'PASS' | 'AH'; pass: string };
  /** unicast adverts from this host's address to the peers; undefined: multicast (224.0.0.18) */
  unicast?: { sourceIp: string; peers: string[] };
  addresses: VrrpAddressView[];
}

export interface HttpGetCheckView {
  /** SSL_GET is HTTP_GET over TLS, with the same keywords */
  type: 'HTTP_GET' | 'SSL_GET';
  path: string;
  /** expected HTTP status; exactly one of statusCode and digest */
  statusCode?: number;
  /** MD5 of the expected page (genhash) */
  digest?: string;
  connectPort?: number;
  connectTimeout: number;
  retries: number;
  delayBeforeRetry: number;
}

export interface TcpCheckView {
  type: 'TCP_CHECK';
  connectPort?: number;
  connectTimeout: number;
  retries: number;
  delayBeforeRetry: number;
}

export type CheckView = HttpGetCheckView | TcpCheckView;

export interface RealServerView {
  address: string;
  port: number;
  weight: number;
  check?: CheckView;
}

export interface VirtualServerView {
  /** "192.168.2.254 80", or "fwmark 1" for a firewall-mark service */
  selector: { vip: string; port: number } | { fwmark: number };
  /** none for a firewall-mark service (keepalived warns when one is given) */
  protocol?: 'TCP' | 'UDP';
  delayLoop: number;
  /** rr, wrr, lc, wlc, lblc, lblcr, dh, sh, sed, nq */
  scheduler: string;
  kind: 'DR' | 'NAT' | 'TUN';
  persistence?: { timeout: number; granularity?: string };
  /** the Host: header HTTP_GET and SSL_GET send */
  virtualhost?: string;
  sorryServer?: { address: string; port: number };
  realServers: RealServerView[];
}

export interface KeepalivedView {
  /** the director the file is for (its inventory name) */
  host: string;
  /** global_defs router_id: the host's name unless the description sets one */
  routerId: string;
  notification?: NotificationView;
  instances: VrrpInstanceView[];
  virtualServers: VirtualServerView[];
}

/** The VRRP PASS authentication carries at most 8 characters; keepalived truncates longer ones. */
export const maxAuthPassLength = 8;

// Characters keepalived's tokenizer reads as syntax: blanks split words, '!' and '#' start comments,
// braces open and close blocks, '"' quotes.
const unsafeWord = /[\s!#{}"]/;

/** `secret`: the message names the value without quoting it (a password is never shown, in any form). */
function word(what: string, value: string, { secret = false }: { secret?: boolean } = {}): string {
  if (value === '' || unsafeWord.test(value)) {
    const shown = secret ? '' : ` ${JSON.stringify(value)}`;
    throw new OperationError(`keepalived: ${what}${shown} cannot be written into keepalived.conf (no blanks, quotes, braces, '!' or '#'); change it in the cluster description`);
  }
  return value;
}

function checkView(view: KeepalivedView): void {
  for (const instance of view.instances) {
    if (instance.auth !== undefined && instance.auth.pass.length > maxAuthPassLength) {
      throw new OperationError(
        `keepalived: the VRRP password of ${instance.name} has ${instance.auth.pass.length} characters; VRRP PASS authentication carries at most ${maxAuthPassLength} (keepalived would silently cut it, and peers with another cut would not agree); use a password of 1 to ${maxAuthPassLength} characters`,
      );
    }
    if (instance.nopreempt && instance.state !== 'BACKUP') {
      throw new OperationError(`keepalived: ${instance.name} has nopreempt with state ${instance.state}; keepalived honours nopreempt only with state BACKUP, so start every node as BACKUP and let the priority decide`);
    }
    if (!Number.isInteger(instance.virtualRouterId) || instance.virtualRouterId < 1 || instance.virtualRouterId > 255) {
      throw new OperationError(`keepalived: virtual_router_id ${instance.virtualRouterId} of ${instance.name} is outside 1-255`);
    }
    if (!Number.isInteger(instance.priority) || instance.priority < 1 || instance.priority > 255) {
      throw new OperationError(`keepalived: priority ${instance.priority} of ${instance.name} is outside 1-255`);
    }
  }
}

function renderGlobalDefs(view: KeepalivedView): string[] {
  const lines = ['global_defs {'];
  if (view.notification) {
    const n = view.notification;
    lines.push('    notification_email {', ...n.emails.map((e) => `        ${word('notification email', e)}`), '    }');
    lines.push(`    notification_email_from ${word('notification sender', n.from)}`);
    lines.push(`    smtp_server ${word('SMTP server', n.smtpServer)}`);
    lines.push(`    smtp_connect_timeout ${n.smtpConnectTimeout}`);
  }
  lines.push(`    router_id ${word('router_id', view.routerId)}`, '}');
  return lines;
}

function renderInstance(instance: VrrpInstanceView): string[] {
  const lines = [
    `vrrp_instance ${word('vrrp_instance name', instance.name)} {`,
    `    state ${instance.state}`,
    `    interface ${word('interface', instance.interface)}`,
    `    virtual_router_id ${instance.virtualRouterId}`,
    `    priority ${instance.priority}`,
    `    advert_int ${instance.advertInt}`,
  ];
  if (instance.nopreempt) lines.push('    nopreempt');
  if (instance.auth !== undefined) {
    lines.push('    authentication {', `        auth_type ${instance.auth.type}`, `        auth_pass ${word(`the VRRP password of ${instance.name}`, instance.auth.pass, { secret: true })}`, '    }');
  }
  if (instance.unicast) {
    lines.push(`    unicast_src_ip ${instance.unicast.sourceIp}`, '    unicast_peer {', ...instance.unicast.peers.map((p) => `        ${p}`), '    }');
  }
  lines.push(
    '    virtual_ipaddress {',
    ...instance.addresses.map((a) => `        ${a.address}/${a.prefix} dev ${word('device', a.device)}${a.label === undefined ? '' : ` label ${word('label', a.label)}`}`),
    '    }',
    '}',
  );
  return lines;
}

function renderCheck(check: CheckView, dialect: KeepalivedDialect): string[] {
  const retries = (indent: string): string[] => [`${indent}${dialect.major === 1 ? 'nb_get_retry' : 'retry'} ${check.retries}`, `${indent}delay_before_retry ${check.delayBeforeRetry}`];
  if (check.type === 'HTTP_GET' || check.type === 'SSL_GET') {
    const lines = [`        ${check.type} {`, '            url {', `                path ${word('check path', check.path)}`];
    if (check.digest !== undefined) lines.push(`                digest ${word('digest', check.digest)}`);
    if (check.statusCode !== undefined) lines.push(`                status_code ${check.statusCode}`);
    lines.push('            }');
    if (check.connectPort !== undefined) lines.push(`            connect_port ${check.connectPort}`);
    lines.push(`            connect_timeout ${check.connectTimeout}`, ...retries('            '), '        }');
    return lines;
  }
  const lines = ['        TCP_CHECK {'];
  if (check.connectPort !== undefined) lines.push(`            connect_port ${check.connectPort}`);
  lines.push(`            connect_timeout ${check.connectTimeout}`);
  if (dialect.major === 2) lines.push(...retries('            '));
  else lines.push('            ! keepalived 1.x does not retry TCP_CHECK: one failed connect takes the server out');
  lines.push('        }');
  return lines;
}

function renderVirtualServer(vs: VirtualServerView, dialect: KeepalivedDialect): string[] {
  const selector = 'fwmark' in vs.selector ? `fwmark ${vs.selector.fwmark}` : `${vs.selector.vip} ${vs.selector.port}`;
  const lines = [
    `virtual_server ${selector} {`,
    `    delay_loop ${vs.delayLoop}`,
    `    lb_algo ${word('scheduler', vs.scheduler)}`,
    `    lb_kind ${vs.kind}`,
  ];
  if (vs.persistence) {
    lines.push(`    persistence_timeout ${vs.persistence.timeout}`);
    if (vs.persistence.granularity !== undefined) lines.push(`    persistence_granularity ${word('persistence granularity', vs.persistence.granularity)}`);
  }
  if (vs.protocol !== undefined) lines.push(`    protocol ${vs.protocol}`);
  if (vs.virtualhost !== undefined) lines.push(`    virtualhost ${word('virtualhost', vs.virtualhost)}`);
  if (vs.sorryServer) lines.push(`    sorry_server ${vs.sorryServer.address} ${vs.sorryServer.port}`);
  for (const real of vs.realServers) {
    lines.push('', `    real_server ${real.address} ${real.port} {`, `        weight ${real.weight}`);
    if (real.check) lines.push(...renderCheck(real.check, dialect));
    lines.push('    }');
  }
  lines.push('}');
  return lines;
}

/** The whole keepalived.conf of one director. */
export function renderKeepalivedConf(view: KeepalivedView, dialect: KeepalivedDialect): string {
  checkView(view);
  const sections = [
    [`! keepalived.conf of ${view.host}, written by provision from the cluster description.`, `! keepalived ${dialect.shipped}. Changes made here are overwritten on the next run.`],
    renderGlobalDefs(view),
    ...view.instances.map(renderInstance),
    ...view.virtualServers.map((vs) => renderVirtualServer(vs, dialect)),
  ];
  return sections.map((lines) => lines.join('\n')).join('\n\n') + '\n';
}
