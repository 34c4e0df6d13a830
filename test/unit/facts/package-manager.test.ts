import { describe, expect, it } from 'vitest';
import type { OsFamily } from '../../../src/core/facts.ts';
import type { OsFact } from '../../../src/facts/os.ts';
import { choosePackageManager } from '../../../src/facts/package-manager.ts';

function os(family: OsFamily, major: number): OsFact {
  return { family, distro: 'x', version: String(major), major, pretty: '' };
}

describe('choosePackageManager', () => {
  it.each([
    ['EL5-7 with yum', os('el', 5), ['yum'], 'yum'],
    ['EL7 with dnf from EPEL next to yum', os('el', 7), ['dnf', 'yum'], 'yum'],
    ['EL8+, where yum is an alias of dnf', os('el', 8), ['dnf', 'yum'], 'dnf'],
    ['EL9 with only dnf', os('el', 9), ['dnf'], 'dnf'],
    ['an EL7 with only dnf', os('el', 7), ['dnf'], 'dnf'],
    ['EL8 with only yum', os('el', 8), ['yum'], 'yum'],
    ['EL without either', os('el', 8), [], 'unknown'],
    ['Debian', os('debian', 12), ['apt-get'], 'apt'],
    ['Debian with dnf installed from its archive', os('debian', 12), ['dnf', 'apt-get'], 'apt'],
    ['Debian without apt-get', os('debian', 12), ['dnf'], 'unknown'],
    ['an unknown OS with apt-get', os('unknown', 1), ['apt-get', 'yum'], 'apt'],
    ['an unknown OS with dnf (Fedora)', os('unknown', 40), ['dnf', 'yum'], 'dnf'],
    ['an unknown OS with yum', os('unknown', 2), ['yum'], 'yum'],
    ['an unknown OS with none (Alpine)', os('unknown', 3), ['openrc'], 'unknown'],
  ] as const)('%s -> %s', (_case, facts, commands, expected) => {
    expect(choosePackageManager(facts, new Set(commands))).toBe(expected);
  });
});
