import { describe, expect, it } from 'vitest';
import { OperationError } from '../../../src/core/operation.ts';
import { sourceBuild, type SourceBuildOptions } from '../../../src/operations/source-build.ts';
import { factsFor } from '../../support/facts.ts';

const facts = factsFor('el5');
const sha256 = 'A'.repeat(64);
const options: SourceBuildOptions = {
  name: 'ipvsadm-1.26',
  url: 'http://192.168.2.1/src/ipvsadm-1.26.tar.gz',
  sha256,
  creates: '/usr/local/sbin/ipvsadm',
};

function scriptOf(overrides: Partial<SourceBuildOptions> = {}): string {
  const plan = sourceBuild({ ...options, ...overrides }).plan(facts, { stdout: 'installed=no\n', exitCode: 0 });
  if (!plan.changed) throw new Error('expected a build');
  return plan.script;
}

describe('sourceBuild plan', () => {
  it('probes the creates path and skips the build when it exists', () => {
    const op = sourceBuild(options);
    expect(op.probe()).toBe('if [ -e /usr/local/sbin/ipvsadm ]; then echo installed=yes; else echo installed=no; fi');
    expect(op.plan(facts, { stdout: 'installed=yes\n', exitCode: 0 })).toEqual({ changed: false, note: '/usr/local/sbin/ipvsadm exists' });
    expect(op.plan(facts, { stdout: 'installed=no\n', exitCode: 0 })).toMatchObject({
      changed: true,
      summary: 'build ipvsadm-1.26 from http://192.168.2.1/src/ipvsadm-1.26.tar.gz',
    });
    expect(() => op.plan(facts, { stdout: '', exitCode: 2 })).toThrow(OperationError);
  });

  it('builds in a private directory under /var/tmp that a trap removes', () => {
    const script = scriptOf();
    expect(script.startsWith('set -e\n')).toBe(true);
    expect(script).toContain('provision_build=$(mktemp -d /var/tmp/provision-build-ipvsadm-1.26.XXXXXX)');
    expect(script).toContain(`trap 'cd / && rm -rf "$provision_build"' EXIT`);
  });

  it('downloads with curl, else wget, else says neither exists', () => {
    const script = scriptOf();
    expect(script).toContain('curl -fsSL -o "$provision_build"/source.tar.gz http://192.168.2.1/src/ipvsadm-1.26.tar.gz');
    expect(script).toContain('wget -q -O "$provision_build"/source.tar.gz http://192.168.2.1/src/ipvsadm-1.26.tar.gz');
    expect(script).toContain('neither curl nor wget is installed on the target');
  });

  it('verifies the SHA-256 (sha256sum, else openssl) and exits 65 before unpacking anything', () => {
    const script = scriptOf();
    expect(script).toContain('provision_sum=$(sha256sum <"$provision_build"/source.tar.gz)');
    expect(script).toContain('provision_sum=$(openssl dgst -sha256 <"$provision_build"/source.tar.gz)');
    expect(script).toContain(`if [ "$provision_sum" != ${'a'.repeat(64)} ]; then`);
    expect(script).toContain(
      "printf 'checksum mismatch for %s: expected %s, got %s; the download is not what the inventory pins: check the url and sha256\\n' " +
        `http://192.168.2.1/src/ipvsadm-1.26.tar.gz ${'a'.repeat(64)} "$provision_sum" >&2\n  exit 65`,
    );
    expect(script.indexOf('exit 65')).toBeLessThan(script.indexOf('tar x'));
    expect(script.indexOf('exit 65')).toBeLessThan(script.indexOf('./configure'));
  });

  it.each([
    ['http://h/a-1.tar.gz', ['tar xzf "$provision_build"/source.tar.gz']],
    ['http://h/a-1.tgz?download=1', ['tar xzf "$provision_build"/source.tgz']],
    ['https://h/a-1.tar.bz2', ['tar xjf "$provision_build"/source.tar.bz2']],
    ['ftp://h/a-1.tbz2', ['tar xjf "$provision_build"/source.tbz2']],
    ['http://h/a-1.tar.xz', ['xz -dc "$provision_build"/source.tar.xz >"$provision_build/source.tar"', 'tar xf "$provision_build/source.tar"']],
    ['http://h/a-1.tar', ['tar xf "$provision_build"/source.tar']],
  ])('unpacks %s by its suffix', (url, commands) => {
    const script = scriptOf({ url });
    for (const c of commands) expect(script.split('\n')).toContain(c);
  });

  it('runs configure, make and make install by default, in the single top directory', () => {
    const lines = scriptOf().split('\n');
    const cd = lines.indexOf('cd "./$1"');
    expect(lines.slice(cd - 2, cd)).toEqual(['set -- *', expect.stringContaining('does not unpack into one top directory; set subdir') as string]);
    const steps = ['./configure', 'make', 'make install'].map((step) => lines.indexOf(step));
    expect(steps.every((at) => at > cd)).toBe(true);
    expect([...steps].sort((a, b) => a - b)).toEqual(steps);
  });

  it('exports env values quoted, uses subdir, and skips an empty step', () => {
    const script = scriptOf({ env: { CFLAGS: "-O2 -DX='1'" }, subdir: 'ipvsadm-1.26/src', configure: '', make: 'make POPT_LIB=-lpopt' });
    expect(script).toContain(`CFLAGS='-O2 -DX='\\''1'\\'''\nexport CFLAGS`);
    expect(script).toContain('cd ipvsadm-1.26/src');
    expect(script).not.toContain('set -- *');
    expect(script).not.toContain('configure');
    expect(script).toContain('(\nset -e\nmake POPT_LIB=-lpopt\n)');
  });

  it('checks at the end that the install created the creates path', () => {
    expect(scriptOf().split('\n').at(-1)).toBe(
      "if [ ! -e /usr/local/sbin/ipvsadm ]; then printf '%s\\n' 'ipvsadm-1.26: installed, but /usr/local/sbin/ipvsadm does not exist; set creates to a path the install step makes, or every run builds again' >&2; exit 1; fi",
    );
  });

  it.each([
    [{ sha256: 'abc' }, /is not a SHA-256 \(64 hex digits\)/],
    [{ url: 'file:///tmp/x.tar.gz' }, /is not an http, https or ftp URL/],
    [{ url: 'not a url' }, /is not an http, https or ftp URL/],
    [{ url: 'http://h/a.zip' }, /cannot tell how to unpack http:\/\/h\/a.zip; the URL's path must end with .tar.gz, .tgz/],
    [{ name: 'a b' }, /the name "a b" must be letters/],
    [{ creates: 'usr/bin/x' }, /relative/],
    [{ subdir: '../x' }, /must be a path inside the archive/],
    [{ env: { 'A-B': '1' } }, /env "A-B" is not a valid variable name/],
  ])('refuses %o', (overrides, message) => {
    expect(() => sourceBuild({ ...options, ...overrides })).toThrow(message);
  });
});
