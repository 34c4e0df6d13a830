// A process that installs packages through MachineApt into the Debian root ROOT, the way the CLI
// does (src/cli/main.ts): on an error anywhere it waits for apt (idle) before it reports and exits.
// With FAIL_AFTER_MS set, a branch unrelated to apt fails that long after the install began.
// Used by test/integration/machine/apt.test.ts to end a process while apt is in flight.
import { setTimeout as delay } from 'node:timers/promises';
import { MachineApt } from '../../src/lab/apt.ts';

const [root, ...packages] = process.argv.slice(2);
const failAfterMs = process.env.FAIL_AFTER_MS === undefined ? undefined : Number(process.env.FAIL_AFTER_MS);
const log = (line: string) => process.stdout.write(`${line}\n`);
const apt = new MachineApt({ root: root!, log });

const elsewhere = async (): Promise<void> => {
  if (failAfterMs === undefined) return;
  await delay(failAfterMs);
  throw new Error('a branch unrelated to apt failed');
};

try {
  await Promise.all([apt.install(packages, 'the test'), elsewhere()]);
  log('done');
} catch (error) {
  await apt.idle();
  log(`failed: ${(error as Error).message}`);
  process.exitCode = 1;
}
