// One run at a time per host: the first execution on a host takes a lock that it holds until the
// run closes its stdin (or the connection drops, which closes it too: no stale lock after a crash).
// A second run waits a bounded time, then stops with a clear message. Once it holds the lock, the
// same execution prints the host's facts: they cost no round trip of their own, and they are read
// under the lock, so the run's first probes can already leave out tasks whose `when` is false.
//
// The holder also waits, once its stdin ends, for the apply scripts of its run that still run on the
// host after a dropped connection (step-registry.ts).
import { quote } from '../core/shell.ts';
import { newMarkerToken } from './batch.ts';
import { LOCK_PATH_SH, WAIT_FOR_STEPS_SH } from './step-registry.ts';

/**
 * Waits for the end of stdin (the run's release), reading and dropping it with the shell's own
 * `read`: no `cat` process on every host of every run.
 */
const DRAIN_STDIN = 'while IFS= read -r provision_line; do :; done';

export function lockScript(token: string, waitSeconds: number, factsScript: string | null = null): string {
  const wait = Math.max(1, Math.ceil(waitSeconds));
  // The facts run with stdin from /dev/null: the holder's stdin is the run's, and ends the lock.
  const facts = factsScript === null ? '' : `( ${factsScript}\n) </dev/null 2>/dev/null\nprintf '\\n%s\\n' ${quote(`${token} facts-end`)}\n`;
  return `__provision_main() {
${LOCK_PATH_SH}
lock=$__provision_lock
if command -v flock >/dev/null 2>&1; then
  exec 9>>"$lock" || exit 70
  if ! flock -w ${wait} 9; then printf '%s busy %s\\n' ${quote(token)} "$lock"; exit 75; fi
  printf '%s locked %s\\n' ${quote(token)} "$lock"
${facts}  ${DRAIN_STDIN}
  __provision_wait_for_steps "$lock"
  exit 0
fi
# No flock (old busybox): creating a directory is atomic too.
n=0
while ! mkdir "$lock.d" 2>/dev/null; do
  n=$((n + 1))
  if [ "$n" -ge ${wait} ]; then printf '%s busy %s\\n' ${quote(token)} "$lock.d"; exit 75; fi
  sleep 1
done
trap 'rmdir "$lock.d" 2>/dev/null' EXIT HUP INT TERM
printf '%s locked %s\\n' ${quote(token)} "$lock.d"
${facts}${DRAIN_STDIN}
__provision_wait_for_steps "$lock"
}
${WAIT_FOR_STEPS_SH}
__provision_main
`;
}

export interface LockRunner {
  run(
    script: string,
    options: { onStdout(chunk: string): void; keepStdinOpenUntil: Promise<void>; timeoutMs?: number },
  ): Promise<{ exitCode: number; stdout: string; stderr: string }>;
}

export class HostBusyError extends Error {
  override name = 'HostBusyError';
}

export interface HostLock {
  /** ends the holder (and so the lock) and waits for it */
  release(): Promise<void>;
  /** the facts script's output, when one was given */
  facts: string | null;
}

/**
 * Takes the host's lock and, once it holds it, runs `factsScript` (when given) in the same
 * execution.
 */
export async function acquireHostLock(conn: LockRunner, waitSeconds: number, factsScript: string | null = null): Promise<HostLock> {
  const token = newMarkerToken();
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let output = '';
  let onReady!: (facts: string | null) => void;
  const ready = new Promise<string | null>((resolve) => (onReady = resolve));
  const lockedLine = new RegExp(`${token} locked \\S+\\n`);
  const factsEnd = `\n${token} facts-end\n`;
  const holder = conn.run(lockScript(token, waitSeconds, factsScript), {
    keepStdinOpenUntil: released,
    // The holder lives as long as the run; the connector must not time it out.
    timeoutMs: 0,
    onStdout(chunk) {
      output += chunk;
      const locked = lockedLine.exec(output);
      if (!locked) return;
      if (factsScript === null) return onReady(null);
      const start = locked.index + locked[0].length;
      const end = output.indexOf(factsEnd, start);
      if (end !== -1) onReady(output.slice(start, end));
    },
  });
  const outcome = await Promise.race([ready.then((facts) => ({ facts })), holder.then((r) => r)]);
  if ('facts' in outcome) {
    return {
      facts: outcome.facts,
      release: async () => {
        release();
        await holder.catch(() => undefined);
      },
    };
  }
  release();
  const busy = new RegExp(`${token} busy (\\S+)`).exec(outcome.stdout);
  if (busy) {
    throw new HostBusyError(
      `another provision run holds this host's lock (${busy[1]}); waited ${waitSeconds} s. Let it finish and run again, or raise --lock-timeout`,
    );
  }
  throw new HostBusyError(`could not take the host's lock (exit code ${outcome.exitCode}): ${outcome.stderr.trim().slice(-500)}`);
}
