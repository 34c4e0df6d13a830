// The files of an LVS director that no cluster manager runs: the IPVS rules as ipvsadm-restore reads
// them, the tutorials' /etc/init.d/lvs script (virtual addresses + rules), its systemd unit, and
// Debian's /etc/default/ipvsadm. Rendered from a view of the cluster (view.ts); pure.
import { quote, shellAssignment } from '../../src/index.ts';
import { ipvsadmRules, serviceSelector, type IpvsServiceView } from '../../src/cluster/ipvs.ts';

export { ipvsadmRules, type IpvsRealView, type IpvsServiceView } from '../../src/cluster/ipvs.ts';

/** An address the director holds while it runs the rules: a VIP, or the NAT-side gateway. */
export interface HeldAddressView {
  address: string;
  prefix: number;
  /** the device, e.g. eth0 */
  device: string;
  /** the alias label ip(8) gives it, e.g. eth0:0 (what ifconfig shows) */
  label: string;
  /** what it is, for the script's comments, e.g. "VIP of http_192.168.2.254_80" */
  purpose: string;
}

/** An ipvsadm argument in a shell command: its option letters as they are, every value quoted. */
function shellWord(arg: string): string {
  return /^-[A-Za-z]$/.test(arg) ? arg : quote(arg);
}

/**
 * The rules file ipvsadm-restore reads at boot. EL's ipvsadm service feeds it to ipvsadm -R as it
 * is (ipvsadm's reader does not skip comment lines, so there are none) and its systemd unit
 * overwrites it with ipvsadm-save -n when stopped; Debian's init script drops lines starting with
 * "#" and its `save` writes a "# ipvsadm.rules" header first, so the Debian file has that header.
 */
export function renderRulesFile(services: readonly IpvsServiceView[], family: 'el' | 'debian'): string {
  const lines = ipvsadmRules(services).map((args) => args.join(' '));
  return (family === 'debian' ? '# ipvsadm.rules\n' : '') + lines.map((l) => `${l}\n`).join('');
}

/** The Debian file the ipvsadm init script reads: AUTO says whether it loads /etc/ipvsadm.rules. */
export function renderDebianDefaults(loadRulesAtBoot: boolean, syncInterface: string): string {
  return [
    '# /etc/default/ipvsadm, written by provision from the cluster description.',
    '',
    loadRulesAtBoot
      ? '# Load /etc/ipvsadm.rules at boot: no cluster manager owns the IPVS rules of this director.'
      : '# Do not load /etc/ipvsadm.rules at boot: the cluster manager owns the IPVS rules.',
    shellAssignment('AUTO', loadRulesAtBoot ? 'true' : 'false'),
    '',
    '# The IPVS connection synchronization daemon (none|master|backup); heartbeat starts it',
    '# (LVSSyncDaemonSwap) when the cluster description asks for it.',
    shellAssignment('DAEMON', 'none'),
    shellAssignment('IFACE', syncInterface),
    '',
  ].join('\n');
}

const lvsScriptHeader = (cluster: string) => `#!/bin/sh
#
# lvs: the virtual addresses and the IPVS rules of LVS director of cluster ${cluster}.
# Written by provision from the cluster description (the director role); changes made here are
# overwritten on the next run.
#
# chkconfig: 2345 20 80
# description: LVS director: adds the virtual IP addresses and loads the IPVS rules
### BEGIN INIT INFO
# Provides:          lvs
# Required-Start:    $network $remote_fs
# Required-Stop:     $network $remote_fs
# Default-Start:     2 3 4 5
# Default-Stop:      0 1 6
# Short-Description: LVS director: virtual IP addresses and IPVS rules
### END INIT INFO

PATH=/sbin:/usr/sbin:/bin:/usr/bin
export PATH
`;

// POSIX sh for dash, busybox and EL5's bash 3: iproute2's ip (present from EL5 on; ifconfig is not
// installed on current Debian and Ubuntu) with -o, one line per address, to test for an address.
const lvsScriptFunctions = `
# has_address ADDRESS DEVICE: the device holds the address (with any prefix)
has_address() {
    ip -o -4 addr show dev "$2" 2>/dev/null | grep -F " inet $1/" >/dev/null
}

# add_address ADDRESS PREFIX DEVICE LABEL
add_address() {
    has_address "$1" "$3" || ip addr add "$1/$2" dev "$3" label "$4"
}

# remove_address ADDRESS PREFIX DEVICE
remove_address() {
    if has_address "$1" "$3"; then ip addr del "$1/$2" dev "$3"; fi
}
`;

/**
 * The tutorials' /etc/init.d/lvs, made safe to run again: start adds each held address unless it
 * is there, clears the IPVS table and loads every rule; reload does the same (the handler uses it
 * when the rules change); stop clears the table and removes the addresses; status exits 0 only
 * when every address and every virtual service is in place (LSB: 3 otherwise).
 */
export function renderLvsScript(clusterName: string, services: readonly IpvsServiceView[], held: readonly HeldAddressView[]): string {
  const rules = ipvsadmRules(services);
  const addLines = held.flatMap((h) => [`    # ${h.purpose}`, `    add_address ${[h.address, String(h.prefix), h.device, h.label].map(quote).join(' ')} || return 1`]);
  const removeLines = held.map((h) => `    remove_address ${[h.address, String(h.prefix), h.device].map(quote).join(' ')}`);
  const statusLines = [
    ...held.map((h) => `    has_address ${quote(h.address)} ${quote(h.device)} || missing="$missing ${h.address}"`),
    ...services.map((s) => {
      const selector = serviceSelector(s);
      return `    ipvsadm -L -n ${selector.map(shellWord).join(' ')} >/dev/null 2>&1 || missing="$missing ${selector.join(' ')}"`;
    }),
  ];
  const body = `
start() {
${addLines.join('\n')}
    ipvsadm -C || return 1
${rules.map((args) => `    ipvsadm ${args.map(shellWord).join(' ')} || return 1`).join('\n')}
}

stop() {
    ipvsadm -C
${removeLines.join('\n')}
}

status() {
    missing=
${statusLines.join('\n')}
    if [ -n "$missing" ]; then
        echo "LVS director stopped (missing:$missing)"
        return 3
    fi
    echo "LVS director running"
    ipvsadm -L -n
}

case "$1" in
    start|reload|force-reload)
        start
        ;;
    stop)
        stop
        ;;
    restart)
        stop
        start
        ;;
    status)
        status
        ;;
    *)
        echo "Usage: $0 {start|stop|restart|reload|status}" >&2
        exit 2
        ;;
esac
`;
  return lvsScriptHeader(clusterName) + lvsScriptFunctions + body;
}

/**
 * A native unit on systemd hosts, so that enabling and reloading need no SysV generator. It starts
 * after the ipvsadm service: that one restores the rules into an empty table (ipvsadm -R fails on
 * a service that exists already), then the lvs script adds the addresses and loads the same rules.
 */
export function renderLvsUnit(): string {
  return `# lvs.service, written by provision (the director role): runs /etc/init.d/lvs.
[Unit]
Description=LVS director: virtual IP addresses and IPVS rules
Wants=network-online.target
After=network-online.target ipvsadm.service

[Service]
Type=oneshot
RemainAfterExit=yes
ExecStart=/etc/init.d/lvs start
ExecReload=/etc/init.d/lvs reload
ExecStop=/etc/init.d/lvs stop

[Install]
WantedBy=multi-user.target
`;
}

/**
 * A drop-in for EL's ipvsadm.service (EL7 on), whose stop saves the live table over
 * /etc/sysconfig/ipvsadm: the file holds the cluster description's rules, and at shutdown the table
 * may be empty already (the lvs script stops first and clears it), so stopping only clears it, as
 * the EL5/EL6 init script does by default (IPVS_SAVE_ON_STOP="no").
 */
export function renderIpvsadmDropIn(): string {
  return `# Written by provision (the director role): /etc/sysconfig/ipvsadm holds the IPVS rules of the
# cluster description; stopping ipvsadm.service clears the table without saving it over them.
[Service]
ExecStop=
ExecStop=/sbin/ipvsadm -C
`;
}
