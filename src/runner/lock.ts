// One run at a time per host: the first execution on a host takes a lock that it holds until the
// run closes its stdin (or the connection drops, which closes it too: no stale lock after a crash).
// A second run waits a bounded time, then stops with a clear message.
//
// The holder also waits, once its stdin ends, for the apply scripts of its run that still run on the
// host after a dropped connection (step-registry.ts).
import { quote } from '../core/shell.ts';
import { newMarkerToken } from './batch.ts';
import { LOCK_PATH_SH, WAIT_FOR_STEPS_SH } from './step-registry.ts';

export function lockScript(token: string, waitSeconds: number): string {
  const wait = Math.max(1, Math.ceil(waitSeconds));
  return `__provision_main() {
${LOCK_PATH_SH}
lock=$__provision_lock
if command -v flock >/dev/null 2>&1; then
  exec 9>>"$lock" || exit 70
  if ! flock -w ${wait} 9; then printf '%s busy %s\\n' ${quote(token)} "$lock"; exit 75; fi
  printf '%s locked %s\\n' ${quote(token)} "$lock"
  cat >/dev/null
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
cat >/dev/null
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

/** Takes the host's lock; resolves to the function that releases it. */
export async function acquireHostLock(conn: LockRunner, waitSeconds: number): Promise<() => Promise<void>> {
  const token = newMarkerToken();
  let release!: () => void;
  const released = new Promise<void>((resolve) => (release = resolve));
  let output = '';
  let onLocked!: (where: string) => void;
  const locked = new Promise<string>((resolve) => (onLocked = resolve));
  const holder = conn.run(lockScript(token, waitSeconds), {
    keepStdinOpenUntil: released,
    // The holder lives as long as the run; the connector must not time it out.
    timeoutMs: 0,
    onStdout(chunk) {
      output += chunk;
      const match = new RegExp(`${token} locked (\\S+)`).exec(output);
      if (match) onLocked(match[1]!);
    },
  });
  const outcome = await Promise.race([locked.then(() => 'locked' as const), holder.then((r) => r)]);
  if (outcome === 'locked') {
    return async () => {
      release();
      await holder.catch(() => undefined);
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
