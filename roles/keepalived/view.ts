// What keepalived.conf says on one director, taken from the cluster description: the one VRRP
// instance that moves every VIP (and the NAT-side gateway) between the directors, and a
// virtual_server per virtual service with its real servers and their checks.
import type { Facts } from '../../src/index.ts';
import { OperationError } from '../../src/index.ts';
import { FORWARDING_WORDS, keepalivedCheck, usesForwarding, vipsOf, type Cluster, type ComponentInstall, type VirtualService } from '../../src/cluster/model.ts';
import type { CheckView, KeepalivedDialect, KeepalivedView, RealServerView, VirtualServerView, VrrpAddressView } from './render.ts';

/** What each platform's repositories ship (EL5: EPEL 5; the base repositories of EL5 have none). */
export function packagedKeepalived(facts: Facts): KeepalivedDialect {
  if (facts.os.family === 'el') {
    if (facts.os.major <= 5) return { major: 1, shipped: '1.x (EPEL 5)' };
    if (facts.os.major === 6) return { major: 1, shipped: '1.2.13 (EL6)' };
    if (facts.os.major === 7) return { major: 1, shipped: '1.3.5 (EL7)' };
    return { major: 2, shipped: `2.x (EL${facts.os.major})` };
  }
  return { major: 2, shipped: `2.x (${facts.os.pretty || facts.os.distro})` };
}

/** The keepalived a host runs: the platform's package, or the version built from source. */
export function keepalivedDialect(install: ComponentInstall, facts: Facts): KeepalivedDialect {
  if (install.from === 'packages') return packagedKeepalived(facts);
  // keepalived-2.2.8.tar.gz; the archive's name tells when `version` is not given.
  const version = install.version ?? /keepalived-(\d+(?:\.\d+)*)\.tar/.exec(install.url)?.[1];
  const major = version === undefined ? undefined : Number.parseInt(version, 10);
  if (major !== 1 && major !== 2) {
    throw new OperationError(
      `keepalived: cannot tell which keepalived ${install.url} builds (1.x and 2.x spell the retry settings differently); give install.keepalived.version, e.g. 2.2.8`,
    );
  }
  return { major, shipped: `${version ?? major} (built from source)` };
}

/** An interface as the cluster description names it: eth0, or an alias eth0:0 (device eth0, label eth0:0). */
function deviceAndLabel(name: string): { device: string; label?: string } {
  const colon = name.indexOf(':');
  return colon === -1 ? { device: name } : { device: name.slice(0, colon), label: name };
}

function address(address: string, prefix: number, iface: string): VrrpAddressView {
  return { address, prefix, ...deviceAndLabel(iface) };
}

function checkOf(service: VirtualService): CheckView {
  const check = keepalivedCheck(service);
  if (check.type === 'TCP_CHECK') {
    return { type: 'TCP_CHECK', ...(check.connect_port === undefined ? {} : { connectPort: check.connect_port }), connectTimeout: check.connect_timeout, retries: check.retry, delayBeforeRetry: check.delay_before_retry };
  }
  const url = check.url;
  if (url === undefined) throw new OperationError(`keepalived: the ${check.type} check of ${service.name} needs check.url (the page to fetch, e.g. { path: /, status_code: 200 })`);
  return {
    type: check.type,
    path: url.path,
    // A url without either checks nothing useful; keepalived's own examples expect 200.
    ...(url.digest === undefined ? { statusCode: url.status_code ?? 200 } : { digest: url.digest.toLowerCase() }),
    ...(url.digest !== undefined && url.status_code !== undefined ? { statusCode: url.status_code } : {}),
    ...(check.connect_port === undefined ? {} : { connectPort: check.connect_port }),
    connectTimeout: check.connect_timeout,
    retries: check.retry,
    delayBeforeRetry: check.delay_before_retry,
  };
}

function virtualServerOf(service: VirtualService): VirtualServerView {
  const check = keepalivedCheck(service);
  const fwmark = service.protocol === 'fwmark';
  if (fwmark && service.fwmark === undefined) throw new OperationError(`keepalived: the firewall-mark service ${service.name} has no fwmark`);
  const realServers = service.realservers.map((real): RealServerView => {
    // Direct routing and tunnelling cannot change the port: keepalived (like ipvsadm) uses the
    // service's and warns about any other.
    const port = service.forwarding === 'nat' ? real.port : (service.port ?? real.port);
    return { address: real.address, port: port ?? 0, weight: real.weight, check: checkOf(service) };
  });
  let sorryServer: VirtualServerView['sorryServer'];
  if (service.fallback) {
    const port = service.fallback.port ?? service.port;
    if (port === undefined) throw new OperationError(`keepalived: the fallback of ${service.name} needs a port (keepalived's sorry_server takes an address and a port)`);
    sorryServer = { address: service.fallback.address, port };
  }
  return {
    selector: fwmark ? { fwmark: service.fwmark as number } : { vip: service.vip, port: service.port as number },
    ...(fwmark ? {} : { protocol: service.protocol === 'udp' ? 'UDP' : 'TCP' }),
    delayLoop: check.delay_loop,
    scheduler: service.scheduler,
    kind: FORWARDING_WORDS[service.forwarding].keepalived as VirtualServerView['kind'],
    ...(service.persistence
      ? { persistence: { timeout: service.persistence.timeout, ...(service.persistence.netmask === '255.255.255.255' ? {} : { granularity: service.persistence.netmask }) } }
      : {}),
    ...(check.virtualhost === undefined ? {} : { virtualhost: check.virtualhost }),
    ...(sorryServer ? { sorryServer } : {}),
    realServers,
  };
}

/** keepalived.conf of `host`, one of the cluster's directors. */
export function keepalivedView(cluster: Cluster, host: string): KeepalivedView {
  const settings = cluster.keepalived;
  if (settings === undefined) throw new OperationError(`keepalived: the cluster ${cluster.name} has no keepalived: section (virtual_router_id, priorities, auth)`);
  const priority = settings.priority[host];
  const state = settings.state[host];
  if (priority === undefined || state === undefined) throw new OperationError(`keepalived: ${host} is not a director of cluster ${cluster.name} (${cluster.directors.join(', ')})`);
  const addresses = vipsOf(cluster).map((vip) => address(vip.vip, vip.prefix, vip.interface));
  // The NAT real servers route their replies through this address: it moves with the VIPs.
  if (cluster.nat && usesForwarding(cluster, 'nat')) addresses.push(address(cluster.nat.gateway, cluster.nat.prefix, cluster.nat.interface));
  const peers = cluster.directors.filter((d) => d !== host).map((d) => cluster.addresses[d] as string);
  const sourceIp = cluster.addresses[host];
  const unicast = settings.unicast && sourceIp !== undefined && peers.length > 0 ? { sourceIp, peers } : undefined;
  const notification = settings.notification_email;
  return {
    host,
    routerId: settings.router_id ?? host,
    ...(notification
      ? { notification: { emails: notification.to, from: notification.from, smtpServer: notification.smtp_server, smtpConnectTimeout: notification.smtp_connect_timeout } }
      : {}),
    instances: [
      {
        name: settings.instance,
        state,
        interface: deviceAndLabel(settings.interface).device,
        virtualRouterId: settings.virtual_router_id,
        priority,
        advertInt: settings.advert_int,
        nopreempt: settings.nopreempt,
        ...(settings.auth ? { auth: { type: settings.auth.type, pass: settings.auth.pass } } : {}),
        ...(unicast ? { unicast } : {}),
        addresses,
      },
    ],
    virtualServers: cluster.virtual_services.map(virtualServerOf),
  };
}
