// The real shells that targets may have, on this machine: dash (Debian's /bin/sh), busybox sh and
// bash in POSIX mode (shellPrograms). Tests that check generated shell code run it under them, and
// fail (not skip) when one is missing.
import { execFileSync, spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, rmSync, symlinkSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';

export interface PosixShell {
  name: string;
  /** program and arguments; the script follows on stdin */
  command: readonly [string, ...string[]];
}

/** The absolute path of a program on this machine's PATH, if any. */
export function which(program: string): string | undefined {
  const found = spawnSync('/bin/sh', ['-c', 'command -v "$1"', 'sh', program], { encoding: 'utf8' });
  const path = found.stdout.trim();
  return found.status === 0 && path.startsWith('/') ? path : undefined;
}

function required(program: string, apt: string): string {
  const path = which(program);
  if (path === undefined) throw new Error(`${program} is not installed on this machine; these tests need it (apt-get install ${apt})`);
  return path;
}

/** dash and busybox sh, each reading its script from stdin as on a target reached over ssh. */
export function posixShells(): PosixShell[] {
  return [
    { name: 'dash', command: [required('dash', 'dash'), '-s'] },
    { name: 'busybox sh', command: [required('busybox', 'busybox'), 'sh', '-s'] },
  ];
}

/**
 * A temporary directory with a link to busybox for each of its applets: as PATH, it makes a host
 * that has busybox and nothing else. Remove it with `rmSync(dir, { recursive: true })`.
 */
export function busyboxAppletDir(): string {
  const busybox = required('busybox', 'busybox');
  const dir = mkdtempSync(join(tmpdir(), 'provision-busybox-'));
  try {
    for (const applet of execFileSync(busybox, ['--list'], { encoding: 'utf8' }).split('\n')) {
      if (applet !== '') symlinkSync(busybox, join(dir, applet));
    }
  } catch (error) {
    rmSync(dir, { recursive: true, force: true });
    throw error;
  }
  return dir;
}

/** A shell as a program that provision can be told to use (ConnectorOptions.shell): `PATH -c CODE`, `PATH -s`. */
export interface ShellProgram {
  name: string;
  path: string;
}

/**
 * dash, busybox sh and bash in POSIX mode (CentOS 5's /bin/sh is bash 3), each as a program called
 * `sh` in a directory of its own under `dir`: busybox and bash choose their behaviour by that name
 * (bash started as sh is `bash --posix`).
 */
export function shellPrograms(dir: string): ShellProgram[] {
  const named = (name: string, subdir: string, program: string): ShellProgram => {
    mkdirSync(join(dir, subdir), { recursive: true });
    const path = join(dir, subdir, 'sh');
    symlinkSync(required(program, program), path);
    return { name, path };
  };
  return [
    { name: 'dash', path: required('dash', 'dash') },
    named('busybox sh', 'busybox', 'busybox'),
    named('bash --posix', 'bash', 'bash'),
  ];
}
