// The IPVS table a cluster description implies, in the form `ipvsadm-save -n` prints it: what the
// director role writes (the rules file, the lvs script) and what `provision verify` compares a live
// director's table with. Pure.
import { OperationError } from '../core/operation.ts';
import type { Cluster } from './model.ts';

export interface IpvsRealView {
  address: string;
  port: number;
  weight: number;
}

export interface IpvsServiceView {
  protocol: 'tcp' | 'udp' | 'fwmark';
  vip: string;
  /** tcp and udp services */
  port?: number;
  /** fwmark services */
  fwmark?: number;
  scheduler: string;
  persistence?: { timeout: number; netmask: string };
  forwarding: 'dr' | 'nat' | 'tun';
  reals: IpvsRealView[];
}

const forwardingSwitch = { dr: '-g', nat: '-m', tun: '-i' } as const;

export function serviceSelector(service: IpvsServiceView): string[] {
  if (service.protocol === 'fwmark') {
    if (service.fwmark === undefined) throw new OperationError(`director: the firewall-mark service on ${service.vip} has no fwmark`);
    return ['-f', String(service.fwmark)];
  }
  if (service.port === undefined) throw new OperationError(`director: the ${service.protocol} service on ${service.vip} has no port`);
  return [service.protocol === 'tcp' ? '-t' : '-u', `${service.vip}:${service.port}`];
}

/**
 * The ipvsadm arguments of every rule, in the exact form `ipvsadm-save -n` prints them (so that a
 * file written from them and a table saved by ipvsadm compare equal): "-A <service> -s <scheduler>
 * [-p <timeout> [-M <netmask>]]", then "-a <service> -r <address>:<port> -g|-m|-i -w <weight>" per
 * real server.
 */
export function ipvsadmRules(services: readonly IpvsServiceView[]): string[][] {
  const rules: string[][] = [];
  for (const service of services) {
    const selector = serviceSelector(service);
    const add = ['-A', ...selector, '-s', service.scheduler];
    if (service.persistence) {
      add.push('-p', String(service.persistence.timeout));
      // ipvsadm prints the persistence netmask only when it is not the default, one client per address.
      if (service.persistence.netmask !== '255.255.255.255') add.push('-M', service.persistence.netmask);
    }
    rules.push(add);
    for (const real of service.reals) {
      // With direct routing and tunnelling ipvsadm forces the real server's port to the service's
      // (the packet is not rewritten); writing it so keeps the file equal to what ipvsadm-save prints.
      const port = service.protocol !== 'fwmark' && service.forwarding !== 'nat' ? (service.port ?? real.port) : real.port;
      rules.push(['-a', ...selector, '-r', `${real.address}:${port}`, forwardingSwitch[service.forwarding], '-w', String(real.weight)]);
    }
  }
  return rules;
}

export function ipvsServices(cluster: Cluster): IpvsServiceView[] {
  return cluster.virtual_services.map((service) => ({
    protocol: service.protocol,
    vip: service.vip,
    ...(service.port === undefined ? {} : { port: service.port }),
    ...(service.fwmark === undefined ? {} : { fwmark: service.fwmark }),
    scheduler: service.scheduler,
    ...(service.persistence ? { persistence: { timeout: service.persistence.timeout, netmask: service.persistence.netmask } } : {}),
    forwarding: service.forwarding,
    // A firewall-mark service without a port keeps the client's port: ipvsadm writes it as 0.
    reals: service.realservers.map((real) => ({ address: real.address, port: real.port ?? service.port ?? 0, weight: real.weight })),
  }));
}
