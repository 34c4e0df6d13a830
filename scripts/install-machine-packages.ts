// `npm test` runs this first (npm's pretest): installs what the tests need from Debian, through the
// lab's one apt (src/lab/apt.ts: serial, never ended in flight, stale lists refreshed once), so the
// README's test command works on a fresh Debian 12 machine. Quick when everything is installed: it
// asks dpkg only.
import { UserError } from '../src/core/errors.ts';
import { hasCommand } from '../src/lab/command.ts';
import { machineApt } from '../src/lab/apt.ts';
import { testMachinePackages } from '../src/lab/packages.ts';

const log = (line: string) => process.stdout.write(`${line}\n`);

async function install(): Promise<void> {
  const wanted = testMachinePackages();
  if (!(await hasCommand('dpkg-query')) || !(await hasCommand('apt-get'))) {
    throw new UserError('the tests run on Debian (12): this machine has no dpkg and apt-get', {}, `install these packages' equivalents: ${wanted.join(' ')}`);
  }
  const missing = await machineApt.missing(wanted);
  if (missing.length === 0) return;
  if (process.getuid?.() !== 0) {
    throw new UserError(`the tests need root and these packages: ${missing.join(' ')}`, {}, 'run the tests as root (they create network namespaces, VMs and containers)');
  }
  await machineApt.install(missing, 'what the tests need', log);
}

try {
  await install();
} catch (error) {
  // apt may still be finishing what it started; it is never ended in flight.
  await machineApt.idle();
  process.stderr.write(`${error instanceof UserError ? error.format() : String(error)}\n`);
  process.exitCode = 1;
}
