// The integration tests' global setup. The lab tests refuse to start beside a lab that is up (they
// would tear a user's lab down). On CI (CI=true) nobody else uses the machine's lab, so one left up
// by an earlier, interrupted run or by a benchmark is taken down once, before any test, instead of
// failing every lab test.
import { existsSync } from 'node:fs';
import { labDown } from '../../src/lab/lab.ts';
import { labPaths } from '../../src/lab/paths.ts';

export default async function setup(): Promise<void> {
  if (process.env.CI !== 'true' || process.platform !== 'linux' || process.getuid?.() !== 0) return;
  if (!existsSync(labPaths().state)) return;
  process.stderr.write(`CI: a lab was left up (${labPaths().state}); taking it down before the tests\n`);
  await labDown();
}
