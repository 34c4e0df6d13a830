// The LVS director: ipvsadm, IPv4 forwarding for NAT, and who loads the IPVS rules at boot.
//
// Exactly one program owns a cluster's IPVS table (the lint rule ipvs-single-owner). When a manager
// owns it (ldirectord under heartbeat, keepalived, piranha's lvs), this role makes sure nothing else
// loads rules at boot: the ipvsadm service is disabled (not stopped: on EL7+ stopping it saves and
// clears the live table), Debian's AUTO is false, EL's saved rules are removed, and the tutorials'
// lvs script is taken away. When the description restores the rules at boot (manager none, or
// heartbeat without ldirectord), it writes them where the family's ipvsadm service reads them
// (EL: /etc/sysconfig/ipvsadm, Debian: /etc/ipvsadm.rules with AUTO="true") and enables it; with
// manager none it also installs the tutorials' /etc/init.d/lvs, which adds the VIPs (and the NAT
// gateway) and loads the rules now and at every boot. With a manager, the VIPs and the NAT gateway
// are the manager's (haresources, keepalived's virtual_ipaddress, lvs.cf's nat_router).
//
// The role does nothing on hosts that are not directors of the cluster.
import { defineRole, ops, type Facts, type Task } from '../../src/index.ts';
import { isDirector, type Cluster } from '../../src/cluster/model.ts';
import { clusterOf } from '../../src/cluster/role.ts';
import { renderDebianDefaults, renderIpvsadmDropIn, renderLvsScript, renderLvsUnit, renderRulesFile } from './render.ts';
import { heldAddresses, ipvsServices } from './view.ts';

export const elRulesPath = '/etc/sysconfig/ipvsadm';
export const debianRulesPath = '/etc/ipvsadm.rules';
export const debianDefaultsPath = '/etc/default/ipvsadm';
export const lvsScriptPath = '/etc/init.d/lvs';
export const lvsUnitPath = '/etc/systemd/system/lvs.service';
export const ipvsadmDropInDir = '/etc/systemd/system/ipvsadm.service.d';
export const ipvsadmDropInPath = `${ipvsadmDropInDir}/provision.conf`;

const isEl = (facts: Facts) => facts.os.family === 'el';
const isDebian = (facts: Facts) => facts.os.family === 'debian';
const isSystemd = (facts: Facts) => facts.init === 'systemd';
/** EL7 on: ipvsadm.service saves the live table over the rules file when it stops. */
const isSystemdEl = (facts: Facts) => isEl(facts) && isSystemd(facts);

/** ipvsadm -R adds to the table (an existing service is an error), so the table is cleared first. */
const loadRulesCommand = {
  el: `ipvsadm -C\nipvsadm -R < ${elRulesPath}`,
  // Debian's init script loads the file the same way: without its comment lines.
  debian: `ipvsadm -C\ngrep -v '^#' ${debianRulesPath} | ipvsadm -R`,
};

export default defineRole({
  name: 'director',
  needsCluster: true,
  defaults: {},
  tasks: (ctx) => {
    const cluster = clusterOf(ctx, 'director');
    if (!isDirector(cluster, ctx.host.name)) return [];
    const services = ipvsServices(cluster);
    const rulesAtBoot = cluster.ipvs_rules_at_boot;
    const ownsAddresses = cluster.manager === 'none';
    const packaged = cluster.install.ipvsadm.from === 'packages';
    // With manager none the lvs script loads the rules; otherwise they are loaded by themselves.
    const rulesHandler = ownsAddresses ? 'reload lvs' : 'load IPVS rules';
    const syncInterface = cluster.network.interface.split(':')[0] as string;

    const tasks: Task[] = [];
    if (packaged) tasks.push({ name: 'ipvsadm installed', op: ops.packages({ names: ['ipvsadm'] }) });
    if (cluster.ip_forward) tasks.push({ name: 'IPv4 forwarding (NAT)', op: ops.sysctl({ name: 'net.ipv4.ip_forward', value: 1 }) });

    if (rulesAtBoot) {
      tasks.push(
        { name: 'IPVS rules for the ipvsadm service', op: ops.file({ path: elRulesPath, content: renderRulesFile(services, 'el'), mode: '0600' }), when: isEl, notify: [rulesHandler] },
        { name: 'IPVS rules for the ipvsadm service', op: ops.file({ path: debianRulesPath, content: renderRulesFile(services, 'debian'), mode: '0600' }), when: isDebian, notify: [rulesHandler] },
      );
    } else {
      tasks.push(
        { name: 'no IPVS rules restored at boot', op: ops.absent({ path: elRulesPath }), when: isEl },
        // What Debian's ipvsadm init script itself writes when the file is missing.
        { name: 'no IPVS rules restored at boot', op: ops.file({ path: debianRulesPath, content: renderRulesFile([], 'debian') }), when: isDebian },
      );
    }
    tasks.push({ name: 'ipvsadm settings', op: ops.file({ path: debianDefaultsPath, content: renderDebianDefaults(rulesAtBoot, syncInterface) }), when: isDebian });
    if (rulesAtBoot) {
      tasks.push(
        { name: 'ipvsadm.service drop-in directory', op: ops.directory({ path: ipvsadmDropInDir, mode: '0755' }), when: isSystemdEl },
        { name: 'ipvsadm.service keeps the rules file', op: ops.file({ path: ipvsadmDropInPath, content: renderIpvsadmDropIn() }), when: isSystemdEl },
      );
    } else {
      tasks.push({
        name: 'ipvsadm.service as packaged',
        op: ops.command({ run: `rm -f ${ipvsadmDropInPath}\nsystemctl daemon-reload`, removes: ipvsadmDropInPath }),
        when: isSystemdEl,
      });
    }
    if (ownsAddresses) tasks.push({ name: 'lvs unit', op: ops.file({ path: lvsUnitPath, content: renderLvsUnit() }), when: isSystemd, notify: ['reload lvs'] });
    // systemd reads new and changed units and drop-ins only when told to.
    const elUnits = [...(ownsAddresses ? ['lvs.service'] : []), ...(rulesAtBoot ? ['ipvsadm.service'] : [])];
    if (elUnits.length > 0) tasks.push(daemonReload(elUnits, isSystemdEl));
    if (ownsAddresses) tasks.push(daemonReload(['lvs.service'], (facts) => isDebian(facts) && isSystemd(facts)));
    // A source-built ipvsadm installs its init script on EL only (make install, into /etc/rc.d/init.d).
    tasks.push({
      name: rulesAtBoot ? 'ipvsadm restores the rules at boot' : 'ipvsadm restores no rules at boot',
      op: ops.service({ name: 'ipvsadm', enabled: rulesAtBoot }),
      ...(packaged ? {} : { when: isEl }),
    });

    tasks.push(...(ownsAddresses ? lvsScriptTasks(cluster) : lvsScriptRemoval()));
    return tasks;
  },
  handlers: () => [
    { name: 'reload lvs', op: ops.service({ name: 'lvs', state: 'reloaded', ifRunning: true }) },
    // Only the family's file exists, so the command picks the one there is.
    { name: 'load IPVS rules', op: ops.command({ run: `if [ -f ${elRulesPath} ]; then\n${loadRulesCommand.el}\nelse\n${loadRulesCommand.debian}\nfi` }) },
  ],
});

/** systemctl daemon-reload, unless every unit is loaded and up to date with its files on disk. */
function daemonReload(units: string[], when: (facts: Facts) => boolean): Task {
  const upToDate = units.map((u) => `[ "$(systemctl show -p LoadState -p NeedDaemonReload ${u} | sort | tr '\\n' ' ')" = 'LoadState=loaded NeedDaemonReload=no ' ]`);
  return { name: 'systemd reads the units', op: ops.command({ run: 'systemctl daemon-reload', unless: upToDate.join(' && ') }), when };
}

/** manager none: the tutorials' lvs script holds the VIPs and loads the rules, now and at boot. */
function lvsScriptTasks(cluster: Cluster): Task[] {
  const script = () => renderLvsScript(cluster.name, ipvsServices(cluster), heldAddresses(cluster));
  return [
    { name: 'lvs script', op: ops.file({ path: lvsScriptPath, content: script, mode: '0755' }), notify: ['reload lvs'] },
    {
      // chkconfig turns a script on only once it knows it; packages do this in their %post.
      name: 'lvs script known to chkconfig',
      op: ops.command({ run: 'chkconfig --add lvs', unless: 'chkconfig --list lvs' }),
      when: (facts) => isEl(facts) && !isSystemd(facts),
    },
    { name: 'lvs started at boot and running', op: ops.service({ name: 'lvs', enabled: true, state: 'started' }) },
  ];
}

/**
 * A manager owns the VIPs and the rules: the lvs script of an earlier manager-less setup must not
 * come back at the next boot. It is disabled and removed, not stopped (stopping it would clear the
 * IPVS table the manager may have programmed already).
 */
function lvsScriptRemoval(): Task[] {
  return [
    {
      name: 'no lvs script at boot',
      op: ops.command({ run: `systemctl disable lvs.service || true\nrm -f ${lvsUnitPath} ${lvsScriptPath}\nsystemctl daemon-reload`, removes: lvsScriptPath }),
      when: isSystemd,
    },
    { name: 'no lvs script at boot', op: ops.command({ run: `chkconfig --del lvs || true\nrm -f ${lvsScriptPath}`, removes: lvsScriptPath }), when: (facts) => isEl(facts) && !isSystemd(facts) },
    { name: 'no lvs script at boot', op: ops.command({ run: `update-rc.d -f lvs remove\nrm -f ${lvsScriptPath}`, removes: lvsScriptPath }), when: (facts) => isDebian(facts) && !isSystemd(facts) },
  ];
}
