// The lab's command line: clear messages for what a user can get wrong.
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { assertNoLabRunning, command, LAB_CLI, skipReason } from './support.ts';

const lab = (args: string[], as: 'root' | 'nobody' = 'root') =>
  as === 'root'
    ? command(process.execPath, ['--import', 'tsx', LAB_CLI, 'lab', ...args])
    : command('setpriv', ['--reuid=65534', '--regid=65534', '--clear-groups', 'env', 'HOME=/tmp', process.execPath, '--import', 'tsx', LAB_CLI, 'lab', ...args]);

describe.skipIf(skipReason)('provision lab (command line)', () => {
  it.skipIf(!existsSync('/usr/bin/setpriv'))('says that it needs root, and what to use instead', async () => {
    const result = await lab(['up', '-i', 'inventory/lab.yaml'], 'nobody');
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('ERROR: the lab needs root');
    expect(result.stderr).toMatch(/Vagrantfile .*Docker/);
  });

  it('says when the lab is not up, and how to start it', async () => {
    assertNoLabRunning();
    const status = await lab(['status']);
    expect(status.code).toBe(2);
    expect(status.stderr).toContain("ERROR: the lab is not up\n  start it with 'provision lab up --inventory FILE'");
    const reset = await lab(['reset', 'web1']);
    expect(reset.code).toBe(2);
    expect(reset.stderr).toContain('ERROR: the lab is not up');
    const down = await lab(['down']);
    expect(down.code).toBe(0);
    expect(down.stdout).toBe('The lab was not up: nothing to remove.\n');
  });

  it('names a missing inventory file', async () => {
    const result = await lab(['up', '-i', 'inventory/no-such-file.yaml']);
    expect(result.code).toBe(2);
    expect(result.stderr).toContain('ERROR: inventory file not found: inventory/no-such-file.yaml');
  });
});
