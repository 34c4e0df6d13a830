// The integration tests' global setup. The lab tests refuse to start beside a lab that is up (they
// would tear a user's lab down). On CI (CI=true) a lab left up by an earlier, interrupted run or by
// a benchmark that has ended is taken down once, before any test, instead of failing every lab
// test. A lab whose user still runs (a test or benchmark of another vitest beside this one) is left
// alone: the lab tests then say that a lab is up.
import { labDown } from '../../src/lab/lab.ts';
import { labPaths } from '../../src/lab/paths.ts';
import { labInUse, StateFile } from '../../src/lab/state.ts';

export default async function setup(): Promise<void> {
  if (process.env.CI !== 'true' || process.platform !== 'linux' || process.getuid?.() !== 0) return;
  const state = await StateFile.read(labPaths().state);
  if (state === undefined) return;
  if (await labInUse(state.state)) {
    process.stderr.write(`CI: the lab is up and its user (pid ${state.state.user!.pid}) still runs: left as it is\n`);
    return;
  }
  process.stderr.write(`CI: a lab was left up (${labPaths().state}); taking it down before the tests\n`);
  await labDown();
}
