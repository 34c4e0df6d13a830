// One lab command at a time per cache directory: `lab up` and `lab down` racing each other would
// leave resources no state names. The lock is a file holding the owner's pid and start time; a
// lock whose owner has ended is taken over.
import { mkdir, readFile, rm, writeFile } from 'node:fs/promises';
import path from 'node:path';
import { UserError } from '../core/errors.ts';
import { isRunning, processStartTime } from './processes.ts';

export async function acquireLabLock(file: string): Promise<() => Promise<void>> {
  await mkdir(path.dirname(file), { recursive: true });
  const startTime = (await processStartTime(process.pid)) ?? '';
  const mine = `${process.pid} ${startTime}\n`;
  // Two attempts: the second after removing a lock whose owner has ended.
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      await writeFile(file, mine, { flag: 'wx' });
      return async () => {
        if ((await readFile(file, 'utf8').catch(() => '')) === mine) await rm(file, { force: true });
      };
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code !== 'EEXIST') throw error;
    }
    const [pidText, ownerStart] = (await readFile(file, 'utf8').catch(() => '')).trim().split(' ');
    const pid = Number(pidText);
    if (Number.isInteger(pid) && pid > 0 && ownerStart !== undefined && (await isRunning(pid, ownerStart))) {
      throw new UserError(`another lab command (pid ${pid}) is running on this lab`, {}, `wait for it to finish; if it hangs, stop it (kill ${pid}) and run 'provision lab down'`);
    }
    await rm(file, { force: true });
  }
  throw new UserError(`cannot take the lab lock ${file}`, {}, 'another lab command may be starting at the same time; try again');
}
