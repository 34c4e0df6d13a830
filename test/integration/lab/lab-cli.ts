// The lab's commands as a program of their own, for tests that run them in a child process (and
// kill it half-way): `node --import tsx test/integration/lab/lab-cli.ts lab up -i FILE`.
import { Command } from 'commander';
import { UserError } from '../../../src/core/errors.ts';
import { registerLabCommands } from '../../../src/lab/cli.ts';

const program = new Command('provision').exitOverride();
registerLabCommands(program);
try {
  await program.parseAsync(process.argv.slice(2), { from: 'user' });
} catch (error) {
  const code = (error as { code?: string }).code;
  if (typeof code === 'string' && code.startsWith('commander.')) {
    process.exitCode = code === 'commander.helpDisplayed' ? 0 : 2;
  } else if (error instanceof UserError) {
    process.stderr.write(`ERROR: ${error.format()}\n`);
    process.exitCode = 2;
  } else {
    process.stderr.write(`ERROR (internal): ${(error as Error).stack ?? String(error)}\n`);
    process.exitCode = 250;
  }
}
