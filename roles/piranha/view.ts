// What lvs.cf says, taken from the cluster description: the two LVS routers, pulse's heartbeat, the
// forwarding method, the NAT router and a virtual block per virtual service.
import { OperationError } from '../../src/index.ts';
import { FORWARDING_WORDS, piranhaCheck, prefixToNetmask, usesForwarding, type Cluster, type VirtualService } from '../../src/cluster/model.ts';
import type { LvsCfView, LvsServerView, LvsVirtualView } from './render.ts';

/** The schedulers piranha's lvs.cf parser knows (lvsconfig.c); it refuses sed and nq. */
export const PIRANHA_SCHEDULERS: ReadonlySet<string> = new Set(['rr', 'wrr', 'lc', 'wlc', 'lblc', 'lblcr', 'dh', 'sh']);

/**
 * Gives each floating address an alias device, as the tutorial does (VIP on eth0:0, NAT router on
 * eth1:0): eth0:0, eth0:1, ... per device, the same alias for the same address; an interface the
 * description already names as an alias (eth0:3) is kept.
 */
class AliasAllocator {
  private readonly next = new Map<string, number>();
  private readonly byAddress = new Map<string, string>();

  aliasFor(address: string, iface: string): string {
    const known = this.byAddress.get(address);
    if (known !== undefined) return known;
    let alias = iface;
    if (!iface.includes(':')) {
      const n = this.next.get(iface) ?? 0;
      this.next.set(iface, n + 1);
      alias = `${iface}:${n}`;
    }
    this.byAddress.set(address, alias);
    return alias;
  }
}

function virtualOf(service: VirtualService, aliases: AliasAllocator): LvsVirtualView {
  if (!PIRANHA_SCHEDULERS.has(service.scheduler)) {
    throw new OperationError(
      `piranha: the scheduler ${service.scheduler} of ${service.name} is not one piranha's lvs.cf accepts (${[...PIRANHA_SCHEDULERS].join(', ')}); pulse would refuse the whole file. Choose one of those, or use manager keepalived`,
    );
  }
  if (service.port === undefined) {
    throw new OperationError(`piranha: ${service.name} needs a port: nanny checks each real server on the service's port, also for a firewall-mark service`);
  }
  const check = piranhaCheck(service);
  let sorryServer: string | undefined;
  if (service.fallback) {
    if (service.fallback.port !== undefined && service.fallback.port !== service.port) {
      throw new OperationError(`piranha: the fallback of ${service.name} listens on port ${service.fallback.port}, but piranha's sorry_server is an address only (it is used on the service's port ${service.port}); drop the fallback's port or use manager keepalived`);
    }
    sorryServer = service.fallback.address;
  }
  const servers = service.realservers.map(
    (real): LvsServerView => ({ name: real.name, address: real.address, ...(service.forwarding === 'nat' && real.port !== undefined ? { port: real.port } : {}), weight: real.weight }),
  );
  return {
    name: service.name,
    address: service.vip,
    device: aliases.aliasFor(service.vip, service.interface),
    vipNetmask: prefixToNetmask(service.vip_prefix),
    // A firewall-mark service is still checked over TCP on its port.
    protocol: service.protocol === 'udp' ? 'udp' : 'tcp',
    port: service.port,
    ...(service.protocol === 'fwmark' && service.fwmark !== undefined ? { fwmark: service.fwmark } : {}),
    scheduler: service.scheduler,
    ...(service.persistence ? { persistent: { timeout: service.persistence.timeout, netmask: service.persistence.netmask } } : {}),
    ...(sorryServer === undefined ? {} : { sorryServer }),
    ...(check.send === undefined ? {} : { send: check.send }),
    ...(check.expect === undefined ? {} : { expect: check.expect }),
    loadMonitor: check.load_monitor,
    timeout: check.timeout,
    reentry: check.reentry,
    quiesceServer: false,
    servers,
  };
}

/** lvs.cf of the cluster: the same on both LVS routers. */
export function lvsCfView(cluster: Cluster): LvsCfView {
  const settings = cluster.piranha;
  if (settings === undefined) throw new OperationError(`piranha: the cluster ${cluster.name} is not managed by piranha (manager ${cluster.manager})`);
  const methods = [...new Set(cluster.virtual_services.map((s) => s.forwarding))];
  if (methods.length !== 1) {
    throw new OperationError(
      `piranha: lvs.cf has one forwarding method for all virtual servers (network = nat, direct or tunnel), but the services use ${methods.join(' and ')}; use one method, or manager keepalived`,
    );
  }
  const forwarding = methods[0] as VirtualService['forwarding'];
  const aliases = new AliasAllocator();
  const virtuals = cluster.virtual_services.map((service) => virtualOf(service, aliases));
  let natRouter: LvsCfView['natRouter'];
  if (usesForwarding(cluster, 'nat')) {
    const nat = cluster.nat;
    if (nat === undefined) {
      throw new OperationError(`piranha: NAT needs the real servers' gateway on the directors (lvs.cf nat_router); add nat: { interface, gateway } to the cluster ${cluster.name}`);
    }
    natRouter = { address: nat.gateway, device: aliases.aliasFor(nat.gateway, nat.interface), netmask: prefixToNetmask(nat.prefix) };
  }
  const [primary, backup] = cluster.directors.map((d) => cluster.addresses[d] as string);
  return {
    primary: primary as string,
    ...(backup === undefined ? {} : { backup }),
    backupActive: settings.backup_active && backup !== undefined,
    heartbeatPort: settings.heartbeat_port,
    keepalive: settings.keepalive,
    deadtime: settings.deadtime,
    network: FORWARDING_WORDS[forwarding].piranha as LvsCfView['network'],
    ...(natRouter ? { natRouter } : {}),
    debugLevel: settings.debug_level,
    rshCommand: settings.rsh_command,
    virtuals,
  };
}
