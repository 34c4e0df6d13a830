// The output of the commands that check a live cluster (verify, drain): a line per check on stdout
// (stderr when the JSON events go to stdout), and the JSON events with --json.
import { FanOut } from '../report/fan-out.ts';
import { JsonReporter } from '../report/json.ts';
import { PlainReporter } from '../report/plain.ts';
import { Redactor } from '../report/redact.ts';
import type { Reporter } from '../runner/events.ts';

/** Opens the --json file at once: a path that cannot be written is an error before any host is reached. */
export function checkReporter(flags: { json?: string; verbose: number }): Reporter {
  const jsonToStdout = flags.json === '-';
  const human = new PlainReporter(jsonToStdout ? process.stderr : process.stdout, { verbosity: flags.verbose, diff: false, color: process.stdout.isTTY === true && !jsonToStdout });
  if (!flags.json) return human;
  return new FanOut(new Redactor([]), [human, new JsonReporter(jsonToStdout ? process.stdout : flags.json)]);
}
