// Facts describe a target; they are gathered once per host in the same remote execution as the
// first probes (see src/facts/).

export type OsFamily = 'el' | 'debian' | 'unknown';
export type InitSystem = 'systemd' | 'sysv' | 'upstart' | 'unknown';
export type PackageManager = 'yum' | 'dnf' | 'apt' | 'unknown';

export interface InterfaceFact {
  name: string;
  mac?: string;
  /** CIDR addresses, e.g. 192.168.2.250/24 */
  ipv4: string[];
  ipv6: string[];
}

export interface Facts {
  os: {
    family: OsFamily;
    /** os-release ID or the EL flavour: centos, rhel, rocky, almalinux, debian, ubuntu ... */
    distro: string;
    /** full version string, e.g. "5.6", "12", "24.04" */
    version: string;
    /** major release number, e.g. 5 for CentOS 5.6, 24 for Ubuntu 24.04 */
    major: number;
    /** human name, e.g. "CentOS release 5.6 (Final)" */
    pretty: string;
  };
  init: InitSystem;
  packageManager: PackageManager;
  /** `uname -n`: heartbeat matches node names against it */
  nodename: string;
  arch: string;
  kernel: string;
  interfaces: InterfaceFact[];
  /** the user the scripts run as, after sudo */
  user: string;
}
