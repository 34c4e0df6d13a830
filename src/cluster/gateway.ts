// The default gateway the cluster description gives each of its hosts. Two roles set it, each for
// the hosts it owns, from these functions: the base role for the directors (and for hosts the
// description says nothing about, from its default_gateway variable), the realserver role for the
// real servers that are not directors. Pure; lint (realserver-default-gateway) and the base role
// judge a default_gateway that contradicts the description with the same function.
import { OperationError } from '../core/operation.ts';
import { isDirector, servicesOf, type Cluster } from './model.ts';

export interface DefaultGateway {
  address: string;
  /**
   * Why this address, for the comments of the files that keep it: nat (a NAT real server's replies
   * go back through the director), router (the network's router, of a DR/TUN real server or a
   * director), configured (the base role's default_gateway variable).
   */
  reason: 'nat' | 'router' | 'configured';
}

/**
 * A director's default gateway: the network's router (cluster.network.gateway), as tutorial 000
 * sets GATEWAY=192.168.2.1 on both directors. A director that is also a real server gets the same:
 * the router, never the floating NAT address it holds itself while active (tutorial 002).
 */
export function directorGateway(cluster: Cluster, host: string): DefaultGateway | undefined {
  if (!isDirector(cluster, host)) return undefined;
  const address = cluster.network.gateway;
  return address === undefined ? undefined : { address, reason: 'router' };
}

/**
 * The default gateway the cluster imposes on a real server that is not a director. NAT: the
 * directors' floating NAT-side address, because the replies must go back through the director that
 * rewrites their source to the VIP (tutorial 004's "default gateway disappeared" problem is this
 * route not persisting). DR/TUN: the network's router, never the director (tutorial 002), when the
 * cluster names one. Directors: see directorGateway.
 */
export function realServerGateway(cluster: Cluster, host: string): DefaultGateway | undefined {
  const services = servicesOf(cluster, host);
  if (services.length === 0 || isDirector(cluster, host)) return undefined;
  if (services.some((service) => service.forwarding === 'nat')) {
    const address = cluster.nat?.gateway ?? cluster.realserver.gateway;
    if (address === undefined) {
      throw new OperationError(
        `realserver: ${host} serves a NAT service, so its default gateway must be the directors' floating NAT-side address; set cluster.nat.gateway (e.g. 192.168.10.1, as in the piranha tutorial)`,
      );
    }
    return { address, reason: 'nat' };
  }
  // The model's realserver.gateway defaults to the NAT gateway when any service uses NAT; a host
  // that serves only DR/TUN services must still use the router.
  const usesNat = cluster.virtual_services.some((service) => service.forwarding === 'nat');
  const address = usesNat ? cluster.network.gateway : cluster.realserver.gateway;
  return address === undefined ? undefined : { address, reason: 'router' };
}

/**
 * Why `defaultGateway` (the base role's variable; '' is unset) cannot be `host`'s, or undefined: a
 * real server's gateway is the realserver role's, and two roles writing different GATEWAY= lines
 * would each change it back on every run. A director's may differ: the variable overrides it.
 */
export function defaultGatewayConflict(cluster: Cluster, host: string, defaultGateway: string): string | undefined {
  const decided = realServerGateway(cluster, host);
  if (decided === undefined || defaultGateway === '' || defaultGateway === decided.address) return undefined;
  const source = decided.reason === 'nat' ? 'cluster.nat.gateway' : 'the router: realserver.gateway or network.gateway';
  return `the realserver role sets the default gateway of ${host}, a real server of cluster ${cluster.name}, to ${decided.address} (${source}); default_gateway ${defaultGateway} contradicts it: leave default_gateway unset for the cluster's real servers, or change the description`;
}
