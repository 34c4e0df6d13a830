// Facts of each OS family this project supports, for plan-level tests of operations and roles.
import type { Facts } from '../../src/core/facts.ts';

export const platforms = ['el5', 'el6', 'el7', 'el8', 'el9', 'debian11', 'debian12', 'ubuntu2204', 'ubuntu2404'] as const;
export type Platform = (typeof platforms)[number];

const eth0 = { name: 'eth0', mac: '52:54:00:12:34:56', ipv4: ['192.168.2.250/24'], ipv6: [] };
const lo = { name: 'lo', ipv4: ['127.0.0.1/8'], ipv6: ['::1/128'] };

function base(os: Facts['os'], init: Facts['init'], packageManager: Facts['packageManager']): Facts {
  return { os, init, packageManager, nodename: 'lvs-master', arch: 'x86_64', kernel: '6.1.0', interfaces: [lo, eth0], user: 'root' };
}

const table: Record<Platform, Facts> = {
  el5: base({ family: 'el', distro: 'centos', version: '5.6', major: 5, pretty: 'CentOS release 5.6 (Final)' }, 'sysv', 'yum'),
  el6: base({ family: 'el', distro: 'centos', version: '6.10', major: 6, pretty: 'CentOS release 6.10 (Final)' }, 'upstart', 'yum'),
  el7: base({ family: 'el', distro: 'centos', version: '7.9.2009', major: 7, pretty: 'CentOS Linux 7 (Core)' }, 'systemd', 'yum'),
  el8: base({ family: 'el', distro: 'rocky', version: '8.10', major: 8, pretty: 'Rocky Linux 8.10 (Green Obsidian)' }, 'systemd', 'dnf'),
  el9: base({ family: 'el', distro: 'almalinux', version: '9.4', major: 9, pretty: 'AlmaLinux 9.4 (Seafoam Ocelot)' }, 'systemd', 'dnf'),
  debian11: base({ family: 'debian', distro: 'debian', version: '11', major: 11, pretty: 'Debian GNU/Linux 11 (bullseye)' }, 'systemd', 'apt'),
  debian12: base({ family: 'debian', distro: 'debian', version: '12', major: 12, pretty: 'Debian GNU/Linux 12 (bookworm)' }, 'systemd', 'apt'),
  ubuntu2204: base({ family: 'debian', distro: 'ubuntu', version: '22.04', major: 22, pretty: 'Ubuntu 22.04.4 LTS' }, 'systemd', 'apt'),
  ubuntu2404: base({ family: 'debian', distro: 'ubuntu', version: '24.04', major: 24, pretty: 'Ubuntu 24.04.1 LTS' }, 'systemd', 'apt'),
};

/** Facts of a platform; `overrides` adjusts e.g. the init system (a Debian lab host without systemd). */
export function factsFor(platform: Platform, overrides: Partial<Facts> = {}): Facts {
  return { ...structuredClone(table[platform]), ...overrides };
}
