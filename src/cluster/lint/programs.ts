// The programs the directors run, judged by what they are however they are written (programOf):
// exactly one of them writes the IPVS table, and what heartbeat starts is not also started at boot.
import type { PathSegment } from '../../inventory/yaml-file.ts';
import { ipvsOwner, type Cluster, type IpvsOwner } from '../model.ts';
import type { Issue, LintRule } from './rule.ts';

/**
 * The program a haresources entry or a service name starts, however it is written: a resource's
 * arguments ("ldirectord::ldirectord.cf"), a resource class ("ocf:heartbeat:ldirectord",
 * "lsb:lvs"), a path to the init script ("/etc/rc.d/init.d/lvs", "/etc/rc3.d/S20lvs"), a unit
 * suffix ("ipvsadm.service") and case all name the same program.
 */
export function programOf(entry: string): string {
  let name = entry.trim().split('::')[0] ?? '';
  name = name.replace(/^(ocf:[^:]*:|(lsb|systemd|service|upstart|heartbeat):)/i, '');
  const slash = name.lastIndexOf('/');
  if (slash !== -1) {
    const dir = name.slice(0, slash);
    name = name.slice(slash + 1);
    // rc?.d links are named after the script, behind a start/kill order: S20lvs, K80lvs.
    if (/(^|\/)rc[0-6S]\.d$/i.test(dir)) name = name.replace(/^[SK]\d+/i, '');
  }
  return name.replace(/\.(service|sh|init)$/i, '').toLowerCase();
}

/** Programs that write the IPVS table when they start, by programOf name, with what they do to it. */
const IPVS_WRITERS: Readonly<Record<string, string>> = {
  ldirectord: 'rewrites the table from its health checks',
  keepalived: 'rewrites the table from its health checks',
  pulse: 'starts lvs/lvsd and nanny, which rewrite the table',
  lvsd: "piranha's daemon: rewrites the table",
  nanny: "piranha's checker: adds and removes real servers",
  // The tutorials' /etc/init.d/lvs (and piranha's own lvs daemon, which pulse starts).
  lvs: 'clears the table and loads fixed rules',
  ipvsadm: 'restores the saved rules',
};

/** The IPVS writer a manager runs, as programOf names it. */
const MANAGER_PROGRAM: Readonly<Record<IpvsOwner, string>> = { ldirectord: 'ldirectord', keepalived: 'keepalived', piranha: 'pulse', 'ipvsadm-at-boot': 'ipvsadm' };

/** A program that would write the IPVS table on a director: what it is, why it runs, where the description asks for it. */
interface IpvsWriter {
  /** programOf name */
  program: string;
  /** "ldirectord (the manager)", "/etc/init.d/lvs (heartbeat resource: clears the table and loads fixed rules)" */
  label: string;
  at: PathSegment[];
}

/**
 * Every program that would write the IPVS table on a director, judged by what it is rather than
 * how it is written: the manager, the director role's boot-time rules, heartbeat's resources (run
 * on the active director), and realserver.services when a director is also a real server (they
 * are started at boot on the directors too).
 */
function ipvsWriters(cluster: Cluster): IpvsWriter[] {
  const writers: IpvsWriter[] = [];
  const managerOwner = ipvsOwner(cluster);
  if (managerOwner !== 'ipvsadm-at-boot') {
    writers.push({ program: MANAGER_PROGRAM[managerOwner], label: `${MANAGER_PROGRAM[managerOwner]} (the manager)`, at: managerOwner === 'ldirectord' ? ['ldirectord'] : ['manager'] });
  }
  if (cluster.manager === 'none') {
    // The director role's lvs script loads the rules at boot whatever ipvs_rules_at_boot says; the
    // ipvsadm service, when enabled as well, restores the same rules: one writer.
    writers.push({ program: 'lvs', label: "the director role's /etc/init.d/lvs (manager none: adds the VIPs and loads the rules at boot)", at: ['manager'] });
  } else if (cluster.ipvs_rules_at_boot) {
    writers.push({ program: 'ipvsadm', label: 'the ipvsadm service at boot (ipvs_rules_at_boot: restores the saved rules)', at: ['ipvs_rules_at_boot'] });
  }
  const own = writers[0]?.program;
  cluster.heartbeat?.resources.forEach((resource, index) => {
    const program = programOf(resource);
    const does = IPVS_WRITERS[program];
    // Even the manager's own program: heartbeat would start a second instance of it.
    if (does !== undefined) writers.push({ program, label: `${resource} (heartbeat resource: ${does})`, at: ['heartbeat', 'resources', index] });
  });
  if (directorsServe(cluster)) {
    cluster.realserver.services.forEach((service, index) => {
      const program = programOf(service);
      const does = IPVS_WRITERS[program];
      // The program that writes the table anyway, enabled at boot once more, is no second writer
      // (ldirectord under heartbeat is managed-service-at-boot's finding).
      if (does === undefined || program === own) return;
      writers.push({ program, label: `${service} (realserver.services, started at boot on the directors: ${does})`, at: ['realserver', 'services', index] });
    });
  }
  return writers;
}

/** Whether a director is also a real server (the Ultra Monkey layout): realserver.services then run on the directors. */
const directorsServe = (cluster: Cluster): boolean =>
  cluster.directors.some((director) => cluster.virtual_services.some((service) => service.realservers.some((server) => server.host === director)));

export const PROGRAM_RULES: readonly LintRule[] = [
  {
    id: 'ipvs-single-owner',
    severity: 'error',
    summary: 'exactly one program writes the IPVS table',
    reason:
      'ldirectord, keepalived and pulse each rewrite the IPVS table to match their own view (removing failed servers); a second writer (another manager, a boot-time ipvsadm restore, the tutorial\'s lvs script) puts back what the first removed, or clears it. What counts is the program, however it is named: /etc/init.d/lvs, lsb:lvs and lvs.service are the same script, and a service in realserver.services runs on directors that are also real servers.',
    check: ({ cluster }) => {
      const writers = ipvsWriters(cluster);
      const [first] = writers;
      if (first === undefined) {
        // Only heartbeat without ldirectord gets here (every other manager writes the table):
        // nothing loads the rules, and the director role disables the ipvsadm service, so the
        // active director forwards nothing (a tutorial types the rules by hand on one node).
        return [{ message: 'nothing writes the IPVS table: ldirectord is off, ipvs_rules_at_boot is false and no heartbeat resource loads rules; enable ldirectord, or set ipvs_rules_at_boot: true', at: ['ipvs_rules_at_boot'] }];
      }
      if (writers.length === 1) return [];
      const names = writers.map((writer) => writer.label).join(', ');
      return writers.slice(1).map((writer) => ({ message: `the IPVS table would be written by ${names}: keep only ${first.program}`, at: writer.at }));
    },
  },
  {
    id: 'managed-service-at-boot',
    severity: 'error',
    summary: 'services the cluster manager starts are not also started at boot',
    reason:
      'heartbeat starts its resources (ldirectord, httpd...) on the node that holds the VIP and stops them on the other; a service also enabled at boot runs on both nodes, and on the passive one it fights the active one (ldirectord programs IPVS there too).',
    check: ({ cluster }) => {
      const hb = cluster.heartbeat;
      if (hb === undefined || !directorsServe(cluster)) return [];
      const managed = new Set(hb.resources.map(programOf));
      if (cluster.ldirectord?.enabled === true) managed.add('ldirectord');
      const issues: Issue[] = [];
      cluster.realserver.services.forEach((service, index) => {
        if (managed.has(programOf(service))) {
          issues.push({ message: `${service} is started by heartbeat on the active director, and realserver.services also enables it at boot on the directors (they are real servers too)`, at: ['realserver', 'services', index] });
        }
      });
      return issues;
    },
  },
];
