// Every fixture is what the facts script prints on one platform; its .json beside it is the Facts
// a reader works out by hand from that output.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import type { Facts } from '../../../src/core/facts.ts';
import { parseFacts, splitSections } from '../../../src/facts/parse.ts';
import { factMarker, factSections } from '../../../src/facts/script.ts';
import { sectionOrders } from './section-order.ts';

const fixtureDir = join(import.meta.dirname, '../../fixtures/facts');
const fixtures = readdirSync(fixtureDir)
  .filter((file) => file.endsWith('.txt'))
  .map((file) => file.slice(0, -'.txt'.length))
  .sort();

const fixtureText = (name: string): string => readFileSync(join(fixtureDir, `${name}.txt`), 'utf8');

describe('the fixtures', () => {
  it('cover every platform the brief names, each with its expected facts', () => {
    expect(fixtures).toEqual([
      'almalinux9.4',
      'alpine3.19-busybox',
      'buildroot-busybox-ifconfig',
      'centos5.6',
      'centos6.10',
      'centos7.9',
      'debian11',
      'debian12-lab',
      'rhel5.11-ifconfig',
      'rocky8.10',
      'ubuntu22.04',
      'ubuntu24.04',
    ]);
    for (const name of fixtures) expect(readdirSync(fixtureDir)).toContain(`${name}.json`);
  });

  it.each(fixtures)('%s has the sections the script prints, in its order', (name) => {
    const markers = fixtureText(name)
      .split('\n')
      .filter((line) => line.startsWith(factMarker))
      .map((line) => line.slice(factMarker.length + 1));
    expect([sectionOrders.ip, sectionOrders.ifconfig]).toContainEqual(markers);
  });
});

describe('parseFacts', () => {
  it.each(fixtures)('%s', (name) => {
    const expected = JSON.parse(readFileSync(join(fixtureDir, `${name}.json`), 'utf8')) as Facts;
    expect(parseFacts(fixtureText(name))).toEqual(expected);
  });

  it('prefers ip over ifconfig when the output has both', () => {
    const withBoth =
      fixtureText('centos5.6') +
      `${factMarker} ${factSections.ifconfig}\nbogus0    Link encap:Ethernet  HWaddr 00:00:00:00:00:01\n          inet addr:10.0.0.1  Mask:255.0.0.0\n`;
    expect(parseFacts(withBoth).interfaces.map((i) => i.name)).toEqual(['lo', 'eth0', 'eth1', 'sit0']);
  });

  it('refuses output in which the script did not run to the end, naming what is missing', () => {
    expect(() => parseFacts('')).toThrow(/lacks the section\(s\) os-release, redhat-release, .*init-script-dirs/);
    const cut = fixtureText('debian11').split(`${factMarker} ${factSections.user}`)[0] ?? '';
    expect(() => parseFacts(cut)).toThrow(/lacks the section\(s\) user, systemd-booted, upstart-version, commands, init-script-dirs:/);
  });

  it('takes the first line of a one-line section and ignores stray blank lines', () => {
    const text = fixtureText('debian11').replace(`${factMarker} uname-n\nweb1\n`, `${factMarker} uname-n\n\n  web1  \n\n`);
    expect(parseFacts(text).nodename).toBe('web1');
  });
});

describe('splitSections', () => {
  it('maps each section to the lines up to the next marker, ignoring text before the first', () => {
    const sections = splitSections(`noise\n${factMarker} a\none\ntwo\n${factMarker} empty\n${factMarker} b\n\nthree\n`);
    expect([...sections]).toEqual([
      ['a', 'one\ntwo'],
      ['empty', ''],
      ['b', '\nthree\n'],
    ]);
  });

  it('does not take a line that merely contains the marker for one', () => {
    expect([...splitSections(`${factMarker} a\nsay ${factMarker} b\n`).keys()]).toEqual(['a']);
  });
});
