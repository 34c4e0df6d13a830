// The heartbeat views of one director, from the cluster description. Every node gets the same
// files except ha.cf's ucast lines, which name the peer's address on each unicast link.
import { OperationError } from '../../src/index.ts';
import { heartbeatNodeName, primaryDirector, vipsOf, type Cluster, type HeartbeatSettings } from '../../src/cluster/model.ts';
import { LDIRECTORD_CF } from '../ldirectord/render.ts';
import type { AuthkeysView, HaCfView, HaresourcesView } from './render.ts';

/** `ipfail`: the program's path on the host, when the description runs it. */
export function haCfView(cluster: Cluster, settings: HeartbeatSettings, host: string, ipfail: string | undefined): HaCfView {
  const bauds = [...new Set(settings.serial.map((path) => path.baud))];
  if (bauds.length > 1) {
    throw new OperationError(`heartbeat.serial: the paths ask for baud rates ${bauds.join(' and ')}, but heartbeat has one baud rate for all serial ports; give them the same baud`);
  }
  const peers = cluster.directors.filter((director) => director !== host);
  return {
    logging: settings.logging,
    keepalive: settings.keepalive,
    deadtime: settings.deadtime,
    warntime: settings.warntime,
    initdead: settings.initdead,
    udpport: settings.udpport,
    ...(bauds[0] === undefined ? {} : { serial: { baud: bauds[0], devices: settings.serial.map((path) => path.device) } }),
    bcast: settings.bcast,
    mcast: settings.mcast,
    ucast: settings.ucast.flatMap((path) => peers.map((peer) => ({ interface: path.interface, peer: addressOn(path.addresses, peer, path.interface) }))),
    autoFailback: settings.auto_failback,
    nodes: cluster.directors.map((director) => heartbeatNodeName(cluster, director)),
    ping: settings.ping,
    ...(settings.ping_group === undefined ? {} : { pingGroup: settings.ping_group }),
    ...(settings.ipfail && ipfail !== undefined ? { ipfail } : {}),
  };
}

function addressOn(addresses: Record<string, string>, director: string, link: string): string {
  const address = addresses[director];
  if (address === undefined) throw new OperationError(`heartbeat.ucast: no address of ${director} on ${link}; add it under addresses`);
  return address;
}

/**
 * One resource group owned by the primary: ldirectord first (the IPVS table is ready before the
 * VIP draws traffic, and it is torn down after the VIP is gone), the connection-sync swap, the
 * VIPs on the directors' interface, the NAT side's floating gateway, then the description's own
 * resources (services started on the active node).
 */
export function haresourcesView(cluster: Cluster, settings: HeartbeatSettings): HaresourcesView {
  const agent = settings.resource_agent;
  const resources: string[] = [];
  if (cluster.ldirectord?.enabled) resources.push(`ldirectord::${LDIRECTORD_CF}`);
  if (settings.lvs_sync_daemon) resources.push('LVSSyncDaemonSwap::master');
  for (const vip of vipsOf(cluster)) resources.push(`${agent}::${vip.vip}/${vip.prefix}/${vip.interface}`);
  if (cluster.nat !== undefined) resources.push(`${agent}::${cluster.nat.gateway}/${cluster.nat.prefix}/${cluster.nat.interface}`);
  resources.push(...settings.resources);
  return { node: heartbeatNodeName(cluster, primaryDirector(cluster)), resources };
}

export function authkeysView(settings: HeartbeatSettings): AuthkeysView {
  const { method, key } = settings.authkeys;
  if (method === 'crc') return { method };
  if (key === undefined || key === '') {
    throw new OperationError(`heartbeat.authkeys: method ${method} needs a key; set key (e.g. key: !env HA_AUTH_KEY)`);
  }
  // authkeys takes the key up to the end of the line: a blank would be part of it on one node and
  // easily lost on another (copy and paste), and a line break would end it.
  if (/\s/.test(key)) throw new OperationError(`heartbeat.authkeys: the key contains white space or a line break; use a key without (e.g. from: openssl rand -hex 20)`);
  return { method, key };
}
