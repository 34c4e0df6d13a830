// sourceBuild: download a pinned source tarball, verify its SHA-256, build and install it
// (configure, make, make install), once: the `creates` path says it is installed.
import { posix } from 'node:path';
import type { Facts } from '../core/facts.ts';
import { OperationError, type Operation, type Plan, type ProbeOutput } from '../core/operation.ts';
import { quote } from '../core/shell.ts';
import { checkPath } from './file-state.ts';

export interface SourceBuildOptions {
  /** what is built, e.g. "ipvsadm-1.31": names the build directory and the messages */
  name: string;
  /** http(s) or ftp URL of a .tar.gz/.tgz, .tar.bz2/.tbz2, .tar.xz/.txz or .tar archive */
  url: string;
  /** the archive's SHA-256 (64 hex digits): anything else is refused before it is unpacked */
  sha256: string;
  /** absolute path the install step creates (e.g. /usr/local/sbin/ipvsadm): the build is skipped when it exists */
  creates: string;
  /** sh run in the source directory; default './configure'; '' skips the step */
  configure?: string;
  /** default 'make'; '' skips the step */
  make?: string;
  /** default 'make install'; '' skips the step */
  install?: string;
  /** variables exported to the three steps, e.g. { CFLAGS: '-O2' } */
  env?: Record<string, string>;
  /** the source directory inside the archive, when it does not unpack into one top directory */
  subdir?: string;
}

/** Exit status of a download whose SHA-256 is not the pinned one (EX_DATAERR). */
export const checksumMismatchStatus = 65;
/** Exit status when the target lacks a tool the build needs (EX_UNAVAILABLE). */
export const missingToolStatus = 69;

type Compression = 'gzip' | 'bzip2' | 'xz' | 'none';

const archiveSuffixes: ReadonlyArray<[suffix: string, compression: Compression]> = [
  ['.tar.gz', 'gzip'],
  ['.tgz', 'gzip'],
  ['.tar.bz2', 'bzip2'],
  ['.tbz2', 'bzip2'],
  ['.tar.xz', 'xz'],
  ['.txz', 'xz'],
  ['.tar', 'none'],
];

export function sourceBuild(options: SourceBuildOptions): Operation {
  const kind = 'sourceBuild';
  const { name, url } = options;
  if (!/^[A-Za-z0-9][A-Za-z0-9._+-]*$/.test(name)) {
    throw new OperationError(`sourceBuild: the name ${JSON.stringify(name)} must be letters, digits, '.', '_', '+' or '-' (e.g. "ipvsadm-1.31")`);
  }
  const where = `sourceBuild ${name}`;
  let archivePath: string;
  try {
    const parsed = new URL(url);
    if (!['http:', 'https:', 'ftp:'].includes(parsed.protocol)) throw new Error('not http(s) or ftp');
    archivePath = parsed.pathname;
  } catch {
    throw new OperationError(`${where}: the url ${JSON.stringify(url)} is not an http, https or ftp URL`);
  }
  const format = archiveSuffixes.find(([suffix]) => archivePath.endsWith(suffix));
  if (format === undefined) {
    throw new OperationError(
      `${where}: cannot tell how to unpack ${url}; the URL's path must end with ${archiveSuffixes.map(([s]) => s).join(', ')}`,
    );
  }
  const sha256 = options.sha256.toLowerCase();
  if (!/^[0-9a-f]{64}$/.test(sha256)) {
    throw new OperationError(`${where}: sha256 ${JSON.stringify(options.sha256)} is not a SHA-256 (64 hex digits); compute it with sha256sum on a trusted copy`);
  }
  const creates = checkPath(`${where} creates`, options.creates);
  const subdir = options.subdir;
  if (subdir !== undefined && (subdir === '' || subdir.startsWith('/') || subdir.split('/').includes('..'))) {
    throw new OperationError(`${where}: subdir ${JSON.stringify(subdir)} must be a path inside the archive, e.g. "ipvsadm-1.31"`);
  }
  const env = Object.entries(options.env ?? {});
  for (const [key] of env) {
    if (!/^[A-Za-z_][A-Za-z0-9_]*$/.test(key)) throw new OperationError(`${where}: env ${JSON.stringify(key)} is not a valid variable name`);
  }
  const steps: Array<[step: string, command: string]> = [
    ['configure', options.configure ?? './configure'],
    ['make', options.make ?? 'make'],
    ['install', options.install ?? 'make install'],
  ];

  const [suffix, compression] = format;
  const fail = (message: string, status = 1) => `printf '%s\\n' ${quote(message)} >&2; exit ${status}`;

  function script(): string {
    const archive = `"$provision_build"/${quote(`source${suffix}`)}`;
    const lines = [
      'set -e',
      // A private (0700) directory: nobody can swap the archive between its check and its unpacking.
      `provision_build=$(mktemp -d ${quote(`/var/tmp/provision-build-${name}.XXXXXX`)})`,
      `trap 'cd / && rm -rf "$provision_build"' EXIT`,
      `trap 'exit 129' HUP`,
      `trap 'exit 130' INT`,
      `trap 'exit 143' TERM`,
      `printf '%s\\n' ${quote(`==> download ${url}`)}`,
      'if command -v curl >/dev/null 2>&1; then',
      `  curl -fsSL -o ${archive} ${quote(url)} || { ${fail(`${name}: downloading ${url} failed (curl's message is above)`)}; }`,
      'elif command -v wget >/dev/null 2>&1; then',
      `  wget -q -O ${archive} ${quote(url)} || { ${fail(`${name}: downloading ${url} failed (wget's message is above)`)}; }`,
      'else',
      `  ${fail(`${name}: cannot download ${url}: neither curl nor wget is installed on the target; install one of them first`, missingToolStatus)}`,
      'fi',
      // sha256sum prints "HASH  -"; openssl prints "HASH", "(stdin)= HASH" or "SHA2-256(stdin)= HASH" by version.
      'if command -v sha256sum >/dev/null 2>&1; then',
      `  provision_sum=$(sha256sum <${archive})`,
      '  provision_sum=${provision_sum%% *}',
      'elif command -v openssl >/dev/null 2>&1; then',
      `  provision_sum=$(openssl dgst -sha256 <${archive})`,
      '  provision_sum=${provision_sum##* }',
      'else',
      `  ${fail(`${name}: cannot verify the download: neither sha256sum nor openssl is installed on the target`, missingToolStatus)}`,
      'fi',
      `if [ "$provision_sum" != ${sha256} ]; then`,
      `  printf 'checksum mismatch for %s: expected %s, got %s; the download is not what the inventory pins: check the url and sha256\\n' ${quote(url)} ${sha256} "$provision_sum" >&2`,
      `  exit ${checksumMismatchStatus}`,
      'fi',
      'mkdir "$provision_build/src"',
      'cd "$provision_build/src"',
      ...unpack(archive),
    ];
    if (subdir !== undefined) {
      lines.push(`cd ${quote(subdir)}`);
    } else {
      const notOneDirectory = `${name}: ${url} does not unpack into one top directory; set subdir to the directory that holds the sources`;
      lines.push('set -- *', `if [ "$#" -ne 1 ] || [ ! -d "$1" ]; then ${fail(notOneDirectory)}; fi`, 'cd "./$1"');
    }
    for (const [key, value] of env) lines.push(`${key}=${quote(value)}`, `export ${key}`);
    for (const [step, command] of steps) {
      if (command.trim() === '') continue;
      // The step runs in its own `set -e` subshell (not on the left of || where set -e is
      // ignored), so that its failure is reported with the step's name.
      lines.push(
        `printf '%s\\n' ${quote(`==> ${step}: ${command}`)}`,
        'set +e',
        `(\nset -e\n${command}\n)`,
        'provision_status=$?',
        'set -e',
        `if [ "$provision_status" -ne 0 ]; then printf '%s\\n' ${quote(`${name}: the ${step} step (${command}) failed`)} >&2; exit "$provision_status"; fi`,
      );
    }
    lines.push(
      `if [ ! -e ${quote(creates)} ]; then ${fail(`${name}: installed, but ${creates} does not exist; set creates to a path the install step makes, or every run builds again`)}; fi`,
    );
    return lines.join('\n');
  }

  function unpack(archive: string): string[] {
    switch (compression) {
      case 'gzip':
        return [`tar xzf ${archive}`];
      case 'bzip2':
        return [`tar xjf ${archive}`];
      case 'none':
        return [`tar xf ${archive}`];
      case 'xz':
        // Decompressed to a file (not a pipe) so that a failing xz fails the script; old tars lack J.
        return [
          `if ! command -v xz >/dev/null 2>&1; then ${fail(`${name}: cannot unpack ${posix.basename(archivePath)}: xz is not installed on the target; install it or use a .tar.gz or .tar.bz2 archive`, missingToolStatus)}; fi`,
          `xz -dc ${archive} >"$provision_build/source.tar"`,
          'tar xf "$provision_build/source.tar"',
          'rm -f "$provision_build/source.tar"',
        ];
    }
  }

  return {
    kind,
    target: name,
    probe: () => `if [ -e ${quote(creates)} ]; then echo installed=yes; else echo installed=no; fi`,
    plan(_facts: Facts, probed: ProbeOutput): Plan {
      const installed = /^installed=(yes|no)$/m.exec(probed.stdout)?.[1];
      if (installed === undefined) throw new OperationError(`${where}: the probe did not say whether ${creates} exists; run with -vvv to see its output`);
      if (installed === 'yes') return { changed: false, note: `${creates} exists` };
      return { changed: true, summary: `build ${name} from ${url}`, script: script() };
    },
  };
}
