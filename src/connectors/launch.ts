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
//
// On a terminal (sudoers `Defaults requiretty`: sudo refuses to run without one, so the ssh channel
// gets a pty; see TerminalStdin) three things differ, because a pty is not a pair of pipes:
//   - it passes no end-of-file: the outer shell reads exactly the announced number of bytes from
//     the terminal (head -c, or dd) and pipes them to sudo, so the command's stdin is a pipe that
//     ends where the payload ends. When stdin must stay open (a lock held for a run), one more
//     byte written later (Launch.terminal.stdinEnd) ends it.
//   - it merges stderr into stdout: the root shell sends the command's stderr to an unlinked temp
//     file and prints it after the command, behind a marker line (Launch.terminal.stderrMarker).
//     So stderr arrives whole at the end, not as it is written, and a command killed after a
//     timeout leaves none.
//   - sudo may run the command in a session of its own (`Defaults use_pty`): the root shell
//     reports its own process group (from /proc) rather than the outer shell's.
// The pty itself is put in raw mode when it is requested (no echo: the password never comes back;
// no line editing, no signal characters, no CR/LF translation: every byte passes unchanged).
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

/** How the payload reaches a command that runs on a terminal. */
export interface TerminalStdin {
  /** length in bytes of the payload that follows the launch's stdinPrefix */
  payloadBytes: number;
  /** the command's stdin stays open after the payload until Launch.terminal.stdinEnd is written */
  keepOpen: boolean;
}

export interface Launch {
  /** the command line for the target's login shell (ssh exec) or for `sh -c` (local) */
  command: string;
  /** written to stdin before the payload: password lines and sentinel; secret, never log it */
  stdinPrefix: string;
  /** the first word of the line that announces the started shell */
  readyMarker: string;
  /** set when the command runs on a terminal */
  terminal?: {
    /** stdout ends at the line `\n<stderrMarker>\n`; the command's stderr follows it */
    stderrMarker: string;
    /** ends the command's stdin when it was kept open (a terminal passes no end-of-file) */
    stdinEnd: string;
  };
}

/**
 * Starts `body` (shell code, trusted: built by this module) in a shell that runs as root when
 * privilege.sudo is set. `shell` is the POSIX shell's path on the target. With `terminal`, the
 * command will run on a pty (see the top of this file).
 */
export function buildLaunch(body: string, privilege: Privilege, shell: string, terminal?: TerminalStdin): Launch {
  const nonce = randomBytes(8).toString('hex');
  const readyMarker = `provision-ready-${nonce}`;
  const sentinel = `provision-stdin-${nonce}`;
  const stderrMarker = `provision-stderr-${nonce}`;
  const announce = terminal ? `${ownProcessGroup}; echo "${readyMarker} $g"; ` : `echo "${readyMarker} $1"; `;
  const run = terminal ? `${stderrCapture}; ${announce}` : announce;
  // The newline: a body ending in a comment must not swallow the parenthesis.
  const payload = (code: string) => (terminal ? `( ${code}\n) 2>&4 4>&- 5<&-; ${stderrTrailer(stderrMarker)}` : code);
  // "$$" is expanded by the outer shell: the session leader, whose pid is the process group id.
  const inner = (code: string) => `${quote(shell)} -c ${quote(run + code)} sh "$$"`;

  let sudo = '';
  let checkPassword: string[] = [];
  let stdinPrefix = '';
  let skipToSentinel = '';
  if (privilege.sudo && privilege.password === undefined) {
    sudo = 'sudo -n -- ';
  } else if (privilege.sudo && privilege.password !== undefined) {
    if (/[\n\r\0]/.test(privilege.password)) throw new Error('a sudo password cannot contain a line break or NUL');
    checkPassword = [`IFS= read -r pw || exit 1`, `printf '%s\\n' "$pw" | sudo -S -p '' -- true || exit 1`, `pw=`];
    sudo = `sudo -S -p '' -- `;
    skipToSentinel = `IFS= read -r l; [ "$l" = ${quote(sentinel)} ] || IFS= read -r l; `;
    stdinPrefix = `${privilege.password}\n${privilege.password}\n${sentinel}\n`;
  }
  const command = `${sudo}${inner(skipToSentinel + payload(body))}`;

  let outer: string;
  if (!terminal && !privilege.sudo) {
    // Nothing to do before the command: the outer shell runs it itself, one exec fewer per
    // execution (on 100 hosts that is 200 shells less). It is the session leader, so "$$" is the
    // process group, as the inner shell's "$1" would have been.
    outer = `echo "${readyMarker} $$"; ${body}`;
  } else if (!terminal) {
    outer = [...checkPassword, `exec ${command}`].join('; ');
  } else {
    // The outer shell reads the first password line itself; the framer passes on the rest.
    const checkedLine = privilege.password === undefined ? 0 : Buffer.byteLength(`${privilege.password}\n`);
    const framedBytes = Buffer.byteLength(stdinPrefix) - checkedLine + terminal.payloadBytes;
    outer = [...checkPassword, `${frameStdin(framedBytes, terminal.keepOpen)} | ${command}`].join('; ');
  }
  // Run the outer part by `shell` too: the login shell may not be a POSIX shell (csh).
  return {
    command: `exec ${quote(shell)} -c ${quote(outer)}`,
    stdinPrefix,
    readyMarker,
    ...(terminal ? { terminal: { stderrMarker, stdinEnd: '\n' } } : {}),
  };
}

/**
 * Sets g to the shell's process group: from /proc (sudo with use_pty starts the command in a
 * session of its own), else the outer shell's ($1).
 */
const ownProcessGroup = 'g=$1; if [ -r /proc/$$/stat ]; then s=$(cat /proc/$$/stat) && s=${s##*") "} && set -- $s && g=$3; fi';

/** Opens fd 4 (write) and fd 5 (read) on a temp file that is already unlinked: nothing is left behind, even after a kill. */
const stderrCapture = 'e=$(mktemp "${TMPDIR:-/tmp}/provision-stderr.XXXXXX") || exit 1; exec 4>"$e" 5<"$e"; rm -f "$e"';

/** After the command: the marker line, the captured stderr, the command's exit status. */
function stderrTrailer(marker: string): string {
  return `rc=$?; printf '\\n%s\\n' ${quote(marker)}; cat <&5; exit "$rc"`;
}

/**
 * Shell code that copies exactly `bytes` bytes from the terminal to stdout, then (keepOpen) waits for
 * one more byte before it ends. head -c reads no further than asked (GNU); busybox head may read
 * ahead, which is harmless when nothing follows the payload; dd reading one byte at a time is exact
 * everywhere, and slow, so it serves the kept-open case (small lock scripts) and heads without -c.
 */
function frameStdin(bytes: number, keepOpen: boolean): string {
  const exact = `dd ibs=1 count=${bytes} obs=32768 2>/dev/null`;
  if (keepOpen) return `{ ${exact}; dd bs=1 count=1 >/dev/null 2>&1; }`;
  return `{ if head -c 0 </dev/null >/dev/null 2>&1; then head -c ${bytes}; else ${exact}; fi; }`;
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
