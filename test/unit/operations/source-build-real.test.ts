// sourceBuild end to end: the test makes a small autotools-like source tarball, serves it over HTTP
// on 127.0.0.1, and runs the planned script with real shells: it downloads, verifies, builds and
// installs into a temporary prefix; it refuses a tarball whose SHA-256 is not the pinned one.
import { createHash, randomBytes } from 'node:crypto';
import { execFileSync } from 'node:child_process';
import { chmodSync, existsSync, mkdirSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Plan } from '../../../src/core/operation.ts';
import { checksumMismatchStatus, missingToolStatus, sourceBuild, type SourceBuildOptions } from '../../../src/operations/source-build.ts';
import { applyAsync, busyboxShell, cleanup, dashShell, dashWithOnly, facts, freshDir, probeWith, type Shell } from './real-shell.ts';

const configure = `#!/bin/sh
# A stand-in for an autotools configure: takes --prefix, writes the Makefile, leaves a trace.
set -e
prefix=/usr/local
for arg in "$@"; do
  case $arg in --prefix=*) prefix=\${arg#--prefix=} ;; esac
done
if [ -n "$CONFIGURE_TRACE" ]; then echo configured > "$CONFIGURE_TRACE"; fi
printf 'PREFIX = %s\\n' "$prefix" > Makefile
cat Makefile.in >> Makefile
`;

const makefile = `all: hello

hello: hello.in
\tsed "s|@GREETING@|$(GREETING)|" hello.in > hello
\tchmod 755 hello

install: hello
\tmkdir -p $(PREFIX)/bin
\tcp hello $(PREFIX)/bin/hello
`;

/** What the script and the test's configure and Makefile need besides a downloader and a checksum tool. */
const buildTools = ['mktemp', 'rm', 'mkdir', 'tar', 'gzip', 'make', 'sed', 'cat', 'chmod', 'cp'];

let work: string;
let server: Server;
let baseUrl: string;
const archives: Record<string, { bytes: Buffer; sha256: string }> = {};

function makeArchives(): void {
  const source = join(work, 'source');
  const top = join(source, 'hello-1.0');
  mkdirSync(top, { recursive: true });
  writeFileSync(join(top, 'configure'), configure);
  chmodSync(join(top, 'configure'), 0o755);
  writeFileSync(join(top, 'Makefile.in'), makefile);
  writeFileSync(join(top, 'hello.in'), '#!/bin/sh\necho "@GREETING@"\n');
  for (const [suffix, flag] of [
    ['.tar.gz', '-z'],
    ['.tar.bz2', '-j'],
    ['.tar.xz', '-J'],
  ] as const) {
    const archive = join(work, `hello-1.0${suffix}`);
    execFileSync('tar', ['-c', flag, '-f', archive, '-C', source, 'hello-1.0']);
    const bytes = readFileSync(archive);
    archives[`/hello-1.0${suffix}`] = { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
  }
  // Two top directories: the script must ask for subdir instead of guessing.
  mkdirSync(join(source, 'extra'));
  const flat = join(work, 'two-tops.tar.gz');
  execFileSync('tar', ['-c', '-z', '-f', flat, '-C', source, 'hello-1.0', 'extra']);
  const bytes = readFileSync(flat);
  archives['/two-tops.tar.gz'] = { bytes, sha256: createHash('sha256').update(bytes).digest('hex') };
}

beforeAll(async () => {
  work = freshDir('source-build');
  makeArchives();
  server = createServer((request, response) => {
    const archive = archives[request.url ?? ''];
    if (archive === undefined) {
      response.writeHead(404).end('not found\n');
      return;
    }
    response.writeHead(200, { 'content-type': 'application/octet-stream' }).end(archive.bytes);
  });
  await new Promise<void>((listening) => server.listen(0, '127.0.0.1', () => listening()));
  baseUrl = `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
});

afterAll(async () => {
  await new Promise<void>((closed) => server.close(() => closed()));
  rmSync(work, { recursive: true, force: true });
  cleanup();
});

/** A fresh install prefix and the options of a build into it (a unique name, to find its build directory). */
function build(path: string, overrides: Partial<SourceBuildOptions> = {}) {
  const prefix = join(freshDir('prefix'), 'usr');
  const trace = join(work, `configure-trace-${randomBytes(4).toString('hex')}`);
  const name = `hello-${randomBytes(4).toString('hex')}`;
  const op = sourceBuild({
    name,
    url: `${baseUrl}${path}`,
    sha256: archives[path]?.sha256 ?? '',
    creates: join(prefix, 'bin', 'hello'),
    configure: `./configure --prefix=${prefix}`,
    env: { GREETING: `hello from ${path}`, CONFIGURE_TRACE: trace },
    ...overrides,
  });
  return { op, name, prefix, trace };
}

async function planAndApply(shell: Shell, op: ReturnType<typeof sourceBuild>) {
  const plan: Plan = op.plan(facts, probeWith(shell, op));
  if (!plan.changed) throw new Error('expected the build to be planned');
  return { plan, result: await applyAsync(shell, plan.script) };
}

const buildDirsOf = (name: string) => readdirSync('/var/tmp').filter((entry) => entry.startsWith(`provision-build-${name}.`));

describe('sourceBuild with a real shell and a local HTTP server', () => {
  it('requires curl on this machine', () => {
    expect(execFileSync('sh', ['-c', 'command -v curl'], { encoding: 'utf8' }).trim()).not.toBe('');
  });

  describe.each([
    { shell: dashShell(), archive: '/hello-1.0.tar.gz', downloader: 'curl' },
    { shell: dashShell(), archive: '/hello-1.0.tar.bz2', downloader: 'curl' },
    { shell: dashShell(), archive: '/hello-1.0.tar.xz', downloader: 'curl' },
    // A minimal target: busybox wget, tar, xz and sha256sum; make from the host.
    { shell: busyboxShell({ hostTools: ['make'] }), archive: '/hello-1.0.tar.xz', downloader: 'busybox wget' },
    // No sha256sum: the checksum comes from openssl.
    { shell: dashWithOnly('dash without sha256sum', [...buildTools, 'curl', 'openssl']), archive: '/hello-1.0.tar.gz', downloader: 'curl' },
  ])('$archive with $downloader under $shell.name', ({ shell, archive }) => {
    it('builds and installs once, then reports no change', async () => {
      const { op, name, prefix } = build(archive);
      const { plan, result } = await planAndApply(shell, op);

      expect(plan).toMatchObject({ summary: `build ${name} from ${baseUrl}${archive}` });
      expect(result.stderr).toBe('');
      expect(result.status).toBe(0);
      const installed = join(prefix, 'bin', 'hello');
      expect(execFileSync(installed, { encoding: 'utf8' })).toBe(`hello from ${archive}\n`);
      expect(op.plan(facts, probeWith(shell, op))).toEqual({ changed: false, note: `${installed} exists` });
      expect(buildDirsOf(name)).toEqual([]);
    });
  });

  describe.each([dashShell(), busyboxShell({ hostTools: ['make'] })])('under $name', (shell) => {
    it('refuses a download whose SHA-256 is not the pinned one: exit 65, nothing unpacked or installed', async () => {
      const wrong = 'ab'.repeat(32);
      const { op, name, prefix, trace } = build('/hello-1.0.tar.gz', { sha256: wrong });
      const { result } = await planAndApply(shell, op);

      expect(result.status).toBe(checksumMismatchStatus);
      expect(result.stderr).toContain(
        `checksum mismatch for ${baseUrl}/hello-1.0.tar.gz: expected ${wrong}, got ${archives['/hello-1.0.tar.gz']?.sha256}; ` +
          'the download is not what the inventory pins: check the url and sha256',
      );
      expect(existsSync(trace)).toBe(false);
      expect(existsSync(prefix)).toBe(false);
      expect(buildDirsOf(name)).toEqual([]);
    });

    it('fails clearly when the download fails (HTTP 404)', async () => {
      const { op, name } = build('/missing.tar.gz', { sha256: '0'.repeat(64) });
      const { result } = await planAndApply(shell, op);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain(`${name}: downloading ${baseUrl}/missing.tar.gz failed`);
      expect(buildDirsOf(name)).toEqual([]);
    });

    it('asks for subdir when the archive has several top directories, and builds with it', async () => {
      const failing = build('/two-tops.tar.gz');
      const { result } = await planAndApply(shell, failing.op);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain('does not unpack into one top directory; set subdir');

      const { op, prefix } = build('/two-tops.tar.gz', { subdir: 'hello-1.0' });
      expect((await planAndApply(shell, op)).result.status).toBe(0);
      expect(existsSync(join(prefix, 'bin', 'hello'))).toBe(true);
    });

    it('names the failing step and stops there', async () => {
      const { op, name, prefix } = build('/hello-1.0.tar.gz', { make: 'echo compiling; exit 7' });
      const { result } = await planAndApply(shell, op);
      expect(result.status).toBe(7);
      expect(result.stdout).toContain('compiling');
      expect(result.stderr).toContain(`${name}: the make step (echo compiling; exit 7) failed`);
      expect(existsSync(prefix)).toBe(false);
    });

    it('fails when the install does not create the creates path (it would rebuild on every run)', async () => {
      const prefix = join(freshDir('prefix'), 'usr');
      const wrongCreates = sourceBuild({
        name: 'hello-creates',
        url: `${baseUrl}/hello-1.0.tar.gz`,
        sha256: archives['/hello-1.0.tar.gz']?.sha256 ?? '',
        creates: join(prefix, 'bin', 'not-installed'),
        configure: `./configure --prefix=${prefix}`,
      });
      const { result } = await planAndApply(shell, wrongCreates);
      expect(result.status).toBe(1);
      expect(result.stderr).toContain(`installed, but ${join(prefix, 'bin', 'not-installed')} does not exist`);
    });
  });

  it('says that it needs curl or wget when the target has neither', async () => {
    const shell = dashWithOnly('dash without curl and wget', [...buildTools, 'sha256sum']);
    const { op, name } = build('/hello-1.0.tar.gz');
    const { result } = await planAndApply(shell, op);
    expect(result.status).toBe(missingToolStatus);
    expect(result.stderr).toContain(`${name}: cannot download ${baseUrl}/hello-1.0.tar.gz: neither curl nor wget is installed on the target`);
  });
});
