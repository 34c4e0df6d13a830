// Where a host's lock lives, and the registry of apply scripts beside it.
//
// A dropped connection (a killed or crashed controller) does not stop the step a host is running:
// the apply script keeps each step's output in a file until the step has ended, so no write to the
// gone connection can kill the step half-way, and the script dies at its next write instead, before
// the following step. So that the next run does not act beside that last step, each apply script
// registers its PID under <lock>.steps/, and the lock holder (lock.ts), once its stdin ends, keeps
// the lock until every registered script has exited.

/** Sets $__provision_lock: the host's lock file (/var/lock, or /tmp where /var/lock is not writable). */
export const LOCK_PATH_SH = `__provision_lock=/var/lock/provision.lock
{ [ -d /var/lock ] && [ -w /var/lock ]; } || __provision_lock=/tmp/provision.lock`;

/** How long a lock holder whose run is gone waits for that run's last step (a source build in a slow VM takes a while). */
const STEP_WAIT_SECONDS = 3600;

/**
 * For apply scripts: registers the script and sets $__provision_sink, where each step's output goes
 * until the step ends (its registry entry's .out file, private to the user; /dev/stdout where the
 * registry cannot be written, e.g. another user's).
 */
export const REGISTER_STEPS_SH = `${LOCK_PATH_SH}
__provision_entry="$__provision_lock.steps/$$"
__provision_sink=/dev/stdout
if { [ -d "$__provision_lock.steps" ] || mkdir -m 700 "$__provision_lock.steps" 2>/dev/null; } && : >"$__provision_entry" 2>/dev/null; then
  __provision_sink="$__provision_entry.out"
  trap 'rm -f "$__provision_entry" "$__provision_entry.out"' EXIT
fi`;

/** For the lock holder: defines __provision_wait_for_steps LOCKFILE, which returns once no registered apply script runs. */
export const WAIT_FOR_STEPS_SH = `__provision_wait_for_steps() {
  __n=0
  while [ "$__n" -lt ${STEP_WAIT_SECONDS} ]; do
    __alive=
    for __entry in "$1.steps"/*; do
      case $__entry in *.out) continue ;; esac
      [ -f "$__entry" ] || continue
      if kill -0 "\${__entry##*/}" 2>/dev/null; then __alive=1; else rm -f "$__entry" "$__entry.out"; fi
    done
    [ -n "$__alive" ] || return 0
    __n=$((__n + 1))
    sleep 1
  done
}`;
