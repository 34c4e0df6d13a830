// The command line that starts a shell on the target (through sudo when needed) and what goes on
// its stdin before the payload. Shared by the ssh and the local connector, so both behave the same.
//
// Protocol: the shell that will run the payload first prints one line, `<marker> <pgid>`, where
// marker is unique to this launch and pgid is the process group of the whole command (the session
// sshd or the local connector started). The line proves that sudo succeeded (no line + exit means
// sudo or the login shell failed), and the process group is what a timeout kills: sshd does not
// kill a command when its channel closes, and killing only the shell would leave its children.
//
// Sudo with a password reads it from stdin (`sudo -S`), the same stdin the script arrives on, so:
//   1. the outer shell reads one password line and checks it with `sudo -S -- true` fed with just
//      that line: a wrong password fails here once (not once per script line sudo would read as
//      another attempt, which could lock the account);
//   2. then it execs `sudo -S` for the real command, with a second password line and a sentinel
//      after it on stdin. sudo reads the password only if it needs it (no cached credentials), so
//      the root shell skips lines up to the sentinel: the password never reaches the script.
// Everything here must run on dash, busybox ash and bash 3 (CentOS 5), as the login shell or as sh.
import { randomBytes } from 'node:crypto';
import { posix } from 'node:path';
import { quote } from '../core/shell.ts';

export interface Privilege {
  /** wrap the command in sudo (become as a user other than root) */
  sudo: boolean;
  /** the sudo password, when sudo needs one */
  password?: string;
}

export interface Launch {
  /** the command line for the target's login shell (ssh exec) or for `sh -c` (local) */
  command: string;
  /** written to stdin before the payload: password lines and sentinel; secret, never log it */
  stdinPrefix: string;
  /** the first word of the line that announces the started shell */
  readyMarker: string;
}

/**
 * Starts `body` (shell code, trusted: built by this module) in a shell that runs as root when
 * privilege.sudo is set. `shell` is the POSIX shell's path on the target.
 */
export function buildLaunch(body: string, privilege: Privilege, shell: string): Launch {
  const nonce = randomBytes(8).toString('hex');
  const readyMarker = `provision-ready-${nonce}`;
  const sentinel = `provision-stdin-${nonce}`;
  const announce = `echo "${readyMarker} $1"; `;
  // "$$" is expanded by the outer shell: the session leader, whose pid is the process group id.
  const inner = (code: string) => `${quote(shell)} -c ${quote(announce + code)} sh "$$"`;

  let outer: string;
  let stdinPrefix = '';
  if (!privilege.sudo) {
    outer = `exec ${inner(body)}`;
  } else if (privilege.password === undefined) {
    outer = `exec sudo -n -- ${inner(body)}`;
  } else {
    if (/[\n\r\0]/.test(privilege.password)) throw new Error('a sudo password cannot contain a line break or NUL');
    const skipToSentinel = `IFS= read -r l; [ "$l" = ${quote(sentinel)} ] || IFS= read -r l; `;
    outer = [
      `IFS= read -r pw || exit 1`,
      `printf '%s\\n' "$pw" | sudo -S -p '' -- true || exit 1`,
      `pw=`,
      `exec sudo -S -p '' -- ${inner(skipToSentinel + body)}`,
    ].join('; ');
    stdinPrefix = `${privilege.password}\n${privilege.password}\n${sentinel}\n`;
  }
  // Run the outer part by `shell` too: the login shell may not be a POSIX shell (csh).
  return { command: `exec ${quote(shell)} -c ${quote(outer)}`, stdinPrefix, readyMarker };
}

/** Shell code that runs the script arriving on stdin. */
export function scriptBody(shell: string): string {
  return `exec ${quote(shell)} -s`;
}

/**
 * Shell code that writes stdin to `path` atomically: a temp file in the same directory (rename is
 * atomic only within a file system), mode set before the rename, removed on failure.
 */
export function putBody(path: string, mode: number): string {
  assertAbsolute(path);
  if (!Number.isInteger(mode) || mode < 0 || mode > 0o7777) throw new Error(`invalid file mode ${mode}`);
  const template = posix.join(posix.dirname(path), `.${posix.basename(path)}.provision-XXXXXX`);
  return [
    'umask 077',
    `tmp=$(mktemp ${quote(template)}) || exit 1`,
    `if cat > "$tmp" && chmod ${mode.toString(8).padStart(4, '0')} "$tmp" && mv -f "$tmp" ${quote(path)}; then exit 0; fi`,
    'rm -f "$tmp"',
    'exit 1',
  ].join('\n');
}

/** Shell code that writes the file at `path` to stdout. */
export function getBody(path: string): string {
  assertAbsolute(path);
  return `exec cat < ${quote(path)}`;
}

/** Shell code that kills whole process groups (the timed-out commands and all their children). */
export function killBody(processGroups: number[]): string {
  for (const group of processGroups) {
    if (!Number.isInteger(group) || group <= 1) throw new Error(`invalid process group ${group}`);
  }
  // `-9 -PGID`: dash reads `kill -s KILL -PGID` as options, every shell accepts this form.
  return `kill -9 ${processGroups.map((group) => `-${group}`).join(' ')} 2>/dev/null; exit 0`;
}

function assertAbsolute(path: string): void {
  if (!posix.isAbsolute(path)) throw new Error(`a remote path must be absolute: ${path}`);
}
