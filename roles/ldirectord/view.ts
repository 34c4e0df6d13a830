// The ldirectord view of a cluster: every virtual service with its real servers, fallback and
// check, in the description's order. Check values equal to the global ones are left to the globals.
import { FORWARDING_WORDS, ldirectordCheck, type Cluster, type LdirectordSettings, type VirtualService } from '../../src/cluster/model.ts';
import type { LdirectordForward, LdirectordView, LdirectordVirtualView } from './render.ts';

/** ipvsadm's default persistence netmask: one client address per entry. */
const SINGLE_CLIENT_NETMASK = '255.255.255.255';

export function ldirectordView(cluster: Cluster, settings: LdirectordSettings): LdirectordView {
  const virtuals = cluster.virtual_services.map((service) => virtualView(cluster, settings, service));
  return {
    globals: {
      checktimeout: settings.checktimeout,
      checkinterval: settings.checkinterval,
      autoreload: settings.autoreload,
      logfile: settings.logfile,
      quiescent: settings.quiescent,
      ...(settings.emailalert === undefined ? {} : { emailalert: settings.emailalert }),
      fork: virtuals.some((virtual) => virtual.checkinterval !== undefined),
    },
    virtuals,
  };
}

function virtualView(cluster: Cluster, settings: LdirectordSettings, service: VirtualService): LdirectordVirtualView {
  const forward = FORWARDING_WORDS[service.forwarding].ldirectord as LdirectordForward;
  const check = ldirectordCheck(cluster, service);
  const view: LdirectordVirtualView = {
    virtual: service.protocol === 'fwmark' ? String(service.fwmark) : `${service.vip}:${service.port}`,
    protocol: service.protocol === 'fwmark' ? 'fwm' : service.protocol,
    reals: service.realservers.map((server) => ({ address: server.address, ...(server.port === undefined ? {} : { port: server.port }), forward, weight: server.weight })),
    service: check.service,
    scheduler: service.scheduler,
    checktype: check.checktype,
  };
  if (service.fallback !== undefined) view.fallback = { ...service.fallback, forward };
  if (service.persistence !== undefined) {
    view.persistent = service.persistence.timeout;
    if (service.persistence.netmask !== SINGLE_CLIENT_NETMASK) view.netmask = service.persistence.netmask;
  }
  if (check.checkport !== undefined) view.checkport = check.checkport;
  if (check.request !== undefined) view.request = check.request;
  if (check.receive !== undefined) view.receive = check.receive;
  if (check.virtualhost !== undefined) view.virtualhost = check.virtualhost;
  if (check.checkinterval !== settings.checkinterval) view.checkinterval = check.checkinterval;
  if (check.checktimeout !== settings.checktimeout) view.checktimeout = check.checktimeout;
  if (check.negotiatetimeout !== undefined) view.negotiatetimeout = check.negotiatetimeout;
  if (check.quiescent !== settings.quiescent) view.quiescent = check.quiescent;
  return view;
}
