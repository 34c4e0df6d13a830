// What provision's init scripts (the realserver and default-gateway scripts) share: the dispatch of
// their actions, and their native systemd unit, instead of the generator's wrapper, which recent
// systemd releases warn about and will drop. ExecReload runs `start` again: the scripts' start adds
// only what is missing.

/** The end of a script that defines start(), stop() and status(): what runs for each action. */
export const initScriptDispatch: readonly string[] = [
  'case "$1" in',
  'start) start ;;',
  'stop) stop ;;',
  'restart | reload | force-reload) stop && start ;;',
  'status) status ;;',
  '*)',
  '\techo "Usage: $0 {start|stop|restart|status}" >&2',
  '\texit 2',
  '\t;;',
  'esac',
  '',
];

export interface ScriptUnit {
  /** the unit file's opening comment lines, without '# ' */
  comments: string[];
  description: string;
  /** the [Unit] ordering lines (After=, Wants=) */
  ordering: string[];
  script: string;
  /** run the script's stop when the unit stops (false: stopping the unit leaves everything as it is) */
  stop: boolean;
}

export function renderScriptUnit(unit: ScriptUnit): string {
  return [
    ...unit.comments.map((line) => `# ${line}`),
    '[Unit]',
    `Description=${unit.description}`,
    ...unit.ordering,
    '',
    '[Service]',
    'Type=oneshot',
    'RemainAfterExit=yes',
    `ExecStart=${unit.script} start`,
    `ExecReload=${unit.script} start`,
    ...(unit.stop ? [`ExecStop=${unit.script} stop`] : []),
    '',
    '[Install]',
    'WantedBy=multi-user.target',
    '',
  ].join('\n');
}
