// The director's share of the cluster description: the IPVS rules of every virtual service and, when
// no cluster manager runs (manager none), the addresses the director holds itself.
import { OperationError } from '../../src/index.ts';
import { usesForwarding, vipsOf, type Cluster } from '../../src/cluster/model.ts';
import type { HeldAddressView } from './render.ts';

export { ipvsServices } from '../../src/cluster/ipvs.ts';

/** eth0 -> device eth0, no label; eth0:3 -> device eth0, label eth0:3. */
function splitAlias(name: string): { device: string; label?: string } {
  const colon = name.indexOf(':');
  return colon === -1 ? { device: name } : { device: name.slice(0, colon), label: name };
}

/**
 * The VIPs (and the NAT real servers' gateway) that the lvs script adds when no manager moves them:
 * each on its interface under an alias label, eth0:0, eth0:1, ... as the tutorials' script names it.
 */
export function heldAddresses(cluster: Cluster): HeldAddressView[] {
  if (cluster.directors.length > 1) {
    throw new OperationError(
      `director: cluster ${cluster.name} has no manager but two directors (${cluster.directors.join(', ')}): both would hold the VIPs at once. List one director, or choose a manager (heartbeat, keepalived or piranha) to move the VIPs between them`,
    );
  }
  const nextAlias = new Map<string, number>();
  const labelFor = (iface: string): { device: string; label: string } => {
    const { device, label } = splitAlias(iface);
    if (label !== undefined) return { device, label };
    const n = nextAlias.get(device) ?? 0;
    nextAlias.set(device, n + 1);
    return { device, label: `${device}:${n}` };
  };
  const held: HeldAddressView[] = vipsOf(cluster).map((vip) => {
    const names = cluster.virtual_services.filter((s) => s.vip === vip.vip).map((s) => s.name);
    return { address: vip.vip, prefix: vip.prefix, ...labelFor(vip.interface), purpose: `VIP of ${names.join(', ')}` };
  });
  if (cluster.nat && usesForwarding(cluster, 'nat')) {
    held.push({ address: cluster.nat.gateway, prefix: cluster.nat.prefix, ...labelFor(cluster.nat.interface), purpose: 'default gateway of the NAT real servers' });
  }
  return held;
}
