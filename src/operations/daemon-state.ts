// Whether a daemon runs, read from its pid file and /proc, without starting any of its tools: the
// service probe's way on SysV init and upstart hosts (an init script's `status` action starts the
// daemon's own program, and ldirectord's is a Perl program that takes seconds to start), and the
// ldirectord role's check for the instance heartbeat runs.
//
// A pid file says the daemon runs only when the process it names is alive and is that daemon: its
// kernel name (/proc/PID/status Name, the first 15 bytes of the program's file name; a script's
// name for a script) or the base name of one of its first three arguments (an interpreter, its
// options, the script) is one of the daemon's process names. A pid file naming a process that has
// ended (or is a zombie, ended and not reaped yet), or a pid the kernel gave to another program
// since (a stale pid file after a crash or a power cut), does not. /proc/PID/status is read, not /proc/PID/comm, which kernels before 2.6.33
// (EL5, EL6) do not have; the tools used (tr, head, grep -E, sed) are in busybox and on EL5.

/**
 * POSIX sh functions (the names start with provision_):
 *
 *   provision_is_daemon PID PROCESS...     0: PID is alive and is one of the PROCESSes; 1: no such
 *                                          process, or another program; 2: cannot tell (/proc/PID
 *                                          exists but cannot be read); 3: a process that has ended
 *                                          and is not reaped yet (a zombie)
 *   provision_pid_verdict FILE PROCESS...  sets provision_verdict to what FILE (a regular file) says:
 *                                          daemon, other (a live process of another program), dead
 *                                          (ended, or a zombie), invalid (no pid in it), unknown; and
 *                                          provision_pid to its pid ('' when invalid). 0 when daemon.
 */
export const DAEMON_STATE_FUNCTIONS = [
  'provision_is_daemon() {',
  '  provision_d_pid=$1; shift',
  '  [ -d "/proc/$provision_d_pid" ] || return 1',
  '  provision_d_name= provision_d_state=',
  // Name is the first line; State the second, or the third after Umask (Linux 4.7 and later).
  '  { IFS= read -r provision_d_name && IFS= read -r provision_d_state && case $provision_d_state in (State:*) ;; (*) IFS= read -r provision_d_state ;; esac; } 2>/dev/null <"/proc/$provision_d_pid/status"',
  '  case $provision_d_name in',
  '    (Name:?*) provision_d_name=${provision_d_name#Name:?} ;;',
  '    (*) if [ -d "/proc/$provision_d_pid" ]; then return 2; fi; return 1 ;;',
  '  esac',
  `  case $provision_d_state in (*'(zombie)'*|*'(dead)'*) return 3 ;; esac`,
  '  for provision_d_want; do',
  '    [ "$provision_d_name" = "$provision_d_want" ] && return 0',
  '    if [ ${#provision_d_name} -eq 15 ]; then case $provision_d_want in ("$provision_d_name"*) return 0 ;; esac; fi',
  '  done',
  `  tr '\\0' '\\n' 2>/dev/null <"/proc/$provision_d_pid/cmdline" | head -n 3 | {`,
  '    while IFS= read -r provision_d_arg; do',
  '      for provision_d_want; do [ "${provision_d_arg##*/}" = "$provision_d_want" ] && exit 0; done',
  '    done',
  '    exit 1',
  '  } && return 0',
  '  return 1',
  '}',
  'provision_pid_verdict() {',
  '  provision_v_file=$1; shift',
  '  provision_pid=',
  '  { IFS= read -r provision_pid || :; } 2>/dev/null <"$provision_v_file"',
  '  case $provision_pid in',
  `    (''|*[!0-9]*) provision_pid= provision_verdict=invalid; return 1 ;;`,
  '  esac',
  '  provision_is_daemon "$provision_pid" "$@"',
  '  case $? in',
  '    (0) provision_verdict=daemon; return 0 ;;',
  '    (2) provision_verdict=unknown ;;',
  '    (3) provision_verdict=dead ;;',
  '    (*) if [ -d "/proc/$provision_pid" ]; then provision_verdict=other; else provision_verdict=dead; fi ;;',
  '  esac',
  '  return 1',
  '}',
].join('\n');

/** The kernel keeps the first 15 bytes of a program's name (TASK_COMM_LEN 16, with its NUL). */
export const kernelName = (process: string): string => Buffer.from(process, 'utf8').subarray(0, 15).toString('utf8');

/** An ERE that matches the Name line of /proc/PID/status of a process of one of these names. */
export function statusNamePattern(processes: string[]): string {
  const escaped = [...new Set(processes.map(kernelName))].map((p) => p.replace(/[.+]/g, (c) => `\\${c}`));
  return `^Name:[[:space:]](${escaped.join('|')})$`;
}

/**
 * POSIX sh that exits 0 when `pidFile` names a live process of one of `processes`, and 1 otherwise
 * (no pid file, an empty or invalid one, an ended process, a pid now used by another program, a
 * process that cannot be read). Read-only; for command guards (onlyIf, unless).
 */
export function pidFileNamesDaemon(pidFile: string, processes: string[]): string {
  if (!pidFile.startsWith('/') || !/^[A-Za-z0-9_./@:+-]+$/.test(pidFile)) throw new Error(`pidFileNamesDaemon: ${JSON.stringify(pidFile)} is not a plain absolute path`);
  for (const p of processes) {
    if (!/^[A-Za-z0-9_.@:+-]+$/.test(p)) throw new Error(`pidFileNamesDaemon: ${JSON.stringify(p)} is not a process name`);
  }
  return [DAEMON_STATE_FUNCTIONS, `[ -f ${pidFile} ] && provision_pid_verdict ${pidFile} ${processes.join(' ')}`].join('\n');
}
