// Which init system runs the host's services: it decides whether a service is driven by systemctl,
// by upstart's initctl (EL6, Ubuntu up to 14.04) or by /etc/init.d scripts.
import type { InitSystem } from '../core/facts.ts';

export interface InitSources {
  /** /run/systemd/system is a directory (sd_booted(3)) */
  systemdBooted: boolean;
  /** output of `initctl version`, e.g. "init (upstart 0.6.5)"; '' when there is no running upstart */
  upstartVersion: string;
  /** OpenRC (Alpine, Gentoo) is installed: its /etc/init.d scripts are not sysv scripts */
  openrc: boolean;
  /** which of /etc/init.d and /etc/rc.d/init.d exist */
  initScriptDirs: string[];
}

export function detectInit(sources: InitSources): InitSystem {
  if (sources.systemdBooted) return 'systemd';
  if (/\bupstart\b/.test(sources.upstartVersion)) return 'upstart';
  if (sources.openrc) return 'unknown';
  if (sources.initScriptDirs.length > 0) return 'sysv';
  return 'unknown';
}
