// Names and MAC addresses of what the lab creates on the machine.
import { describe, expect, it } from 'vitest';
import { UserError } from '../../../src/core/errors.ts';
import { assertLinkName, hostLinkName, isLabName, labMacAddress } from '../../../src/lab/naming.ts';

describe('hostLinkName', () => {
  it('names the machine end of each kind of host interface apart, within 15 characters', () => {
    const names = ['e', 't', 'c'].map((kind) => hostLinkName(12, 1, kind as 'e' | 't' | 'c'));
    expect(names).toEqual(['pvlab12e1', 'pvlab12t1', 'pvlab12c1']);
    for (const name of names) {
      expect(isLabName(name)).toBe(true);
      expect(() => assertLinkName(name)).not.toThrow();
    }
  });
});

describe('assertLinkName', () => {
  it.each(['', 'a-very-long-interface', 'br 0', '../x', '-x'])('refuses %j', (name) => {
    expect(() => assertLinkName(name, 'tap device')).toThrow(UserError);
    expect(() => assertLinkName(name, 'tap device')).toThrow(/cannot be a network tap device name/);
  });
});

describe('labMacAddress', () => {
  it('is stable, unicast and locally administered, and differs between interfaces', () => {
    const mac = labMacAddress('dir1/eth0');
    expect(mac).toMatch(/^([0-9a-f]{2}:){5}[0-9a-f]{2}$/);
    expect(labMacAddress('dir1/eth0')).toBe(mac);
    expect(labMacAddress('dir1/eth1')).not.toBe(mac);
    expect(labMacAddress('dir2/eth0')).not.toBe(mac);
    const firstOctet = parseInt(mac.slice(0, 2), 16);
    expect(firstOctet & 1).toBe(0);
    expect(firstOctet & 2).toBe(2);
  });
});
