import { describe, expect, it } from 'vitest';
import { detectInit, type InitSources } from '../../../src/facts/init.ts';

const sysvHost: InitSources = { systemdBooted: false, upstartVersion: '', openrc: false, initScriptDirs: ['/etc/init.d'] };

describe('detectInit', () => {
  it('is systemd when /run/systemd/system exists, whatever else is installed', () => {
    expect(detectInit({ ...sysvHost, systemdBooted: true, upstartVersion: 'init (upstart 1.12.1)' })).toBe('systemd');
  });

  it('is upstart when the running init says so (EL6, Ubuntu 14.04)', () => {
    expect(detectInit({ ...sysvHost, upstartVersion: 'init (upstart 0.6.5)\n' })).toBe('upstart');
    expect(detectInit({ ...sysvHost, upstartVersion: 'init (upstart 1.12.1)' })).toBe('upstart');
  });

  it('is sysv on a host with init scripts and neither systemd nor upstart running (EL5, the Debian lab hosts)', () => {
    expect(detectInit(sysvHost)).toBe('sysv');
    expect(detectInit({ ...sysvHost, initScriptDirs: ['/etc/init.d', '/etc/rc.d/init.d'] })).toBe('sysv');
    // an Ubuntu 14.04 container diverts initctl to /bin/true: no output, no upstart
    expect(detectInit({ ...sysvHost, upstartVersion: '' })).toBe('sysv');
  });

  it('is unknown under OpenRC, whose /etc/init.d scripts are not sysv scripts, and with no init scripts at all', () => {
    expect(detectInit({ ...sysvHost, openrc: true })).toBe('unknown');
    expect(detectInit({ ...sysvHost, initScriptDirs: [] })).toBe('unknown');
  });
});
