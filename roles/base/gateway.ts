// A host's default gateway, kept for boot the family's way and set now: the one place that renders
// a persistent default route, used by the base role (directors, and hosts outside a cluster) and by
// the realserver role (the real servers' NAT gateway or router).
//
//   EL5-EL7   GATEWAY= in /etc/sysconfig/network, where the tutorials put it (000, 002) and the
//             network service reads it at boot.
//   elsewhere /etc/init.d/default-gateway (and its systemd unit), which runs `ip route replace`
//             once the network is up. On EL8/EL9 this is the NetworkManager-era place too: the
//             global GATEWAY= of /etc/sysconfig/network is deprecated since RHEL 7 and read only for
//             ifcfg profiles (EL9 writes keyfiles), and the profile's own ipv4.gateway, which nmcli
//             would set, is refused on a DHCP profile ("gateway cannot be set if there are no
//             addresses configured") and belongs to a profile provision did not write. On Debian and
//             Ubuntu a gateway line would need the interface's own ifupdown or netplan stanza,
//             which belongs to the installer, not to provision.
import { ops, quote, raw, sh, type Facts, type Task } from '../../src/index.ts';
import type { DefaultGateway } from '../../src/cluster/gateway.ts';
import { initScriptDispatch, renderScriptUnit } from './init-script.ts';

export const gatewayScriptPath = '/etc/init.d/default-gateway';
export const gatewayUnitPath = '/etc/systemd/system/default-gateway.service';

/** EL5-EL7 keep the default gateway (and, on EL5/EL6, the hostname) in /etc/sysconfig/network. */
export const keepsGatewayInSysconfig = (facts: Facts): boolean => facts.os.family === 'el' && facts.os.major <= 7;

// The gateway of the route in use: with several default routes (a DHCP client's at a higher
// metric), ip lists the lowest metric, the one the kernel uses, first.
const currentGateway = `ip route show 0/0 | awk '$1 == "default" { print $3; exit }'`;

/** Succeeds when the host routes through `address` now. */
export const routesVia = (address: string): string => sh`test "$(${raw(currentGateway)})" = ${address}`;

const reasonComment: Record<DefaultGateway['reason'], string> = {
  nat: 'NAT: the replies must go back through the director, which rewrites their source to the VIP.',
  router: "The network's router, not a director: with direct routing the replies go straight to the clients.",
  configured: "The base role's default_gateway.",
};

export function renderGatewayScript(host: string, gateway: DefaultGateway): string {
  const address = quote(gateway.address);
  return [
    '#!/bin/sh',
    '#',
    `# default-gateway: the default route of ${host}`,
    '#',
    '### BEGIN INIT INFO',
    '# Provides:          default-gateway',
    '# Required-Start:    $network',
    '# Required-Stop:     $network',
    '# Default-Start:     2 3 4 5',
    '# Default-Stop:',
    '# Short-Description: default gateway',
    '### END INIT INFO',
    '#',
    '# Written by provision; changes here are overwritten.',
    `# ${reasonComment[gateway.reason]}`,
    '',
    'PATH=/sbin:/usr/sbin:/bin:/usr/bin',
    'export PATH',
    '',
    `start() {\n\tip route replace default via ${address}\n}`,
    '',
    '# Keeps the route: without it the host would be cut off.',
    'stop() {\n\t:\n}',
    '',
    'status() {',
    `\tif [ "$(${currentGateway})" = ${address} ]; then`,
    `\t\techo "default gateway ${gateway.address}"`,
    '\telse',
    `\t\techo "default gateway not ${gateway.address}"`,
    '\t\treturn 3',
    '\tfi',
    '}',
    '',
    ...initScriptDispatch,
  ].join('\n');
}

/** The systemd unit that runs the script once the network is online; stopping it keeps the route. */
export function renderGatewayUnit(host: string): string {
  return renderScriptUnit({
    comments: [`The default route of ${host}: ${gatewayScriptPath} run by systemd.`, 'Written by provision; changes here are overwritten.'],
    description: 'Default gateway',
    ordering: ['Wants=network-online.target', 'After=network-online.target'],
    script: gatewayScriptPath,
    stop: false,
  });
}

/** The tasks that keep `gateway` as the default gateway of `host` at boot and set it now. */
export function defaultGatewayTasks(host: string, gateway: DefaultGateway): Task[] {
  const { address } = gateway;
  const inScript = (facts: Facts) => !keepsGatewayInSysconfig(facts);
  return [
    {
      name: `default gateway ${address} at boot (/etc/sysconfig/network)`,
      op: ops.shellVar({ path: '/etc/sysconfig/network', name: 'GATEWAY', value: address, create: true }),
      when: keepsGatewayInSysconfig,
    },
    { name: `default gateway ${address} at boot (${gatewayScriptPath})`, op: ops.file({ path: gatewayScriptPath, content: renderGatewayScript(host, gateway), mode: '0755' }), when: inScript },
    { name: gatewayUnitPath, op: ops.file({ path: gatewayUnitPath, content: renderGatewayUnit(host) }), when: (facts) => inScript(facts) && facts.init === 'systemd' },
    { name: 'default gateway set at boot', op: ops.service({ name: 'default-gateway', enabled: true }), when: inScript },
    { name: `default gateway ${address} now`, op: ops.command({ run: sh`ip route replace default via ${address}`, unless: routesVia(address) }) },
  ];
}
