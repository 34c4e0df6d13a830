// The README's two commands are the contract with a new user, and CI must run the second one
// exactly: otherwise a green CI says nothing about what a user who follows the README meets.
import { readFileSync } from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { MACHINE_TOOLS, TEST_PACKAGES, testMachinePackages } from '../../../src/lab/packages.ts';
import { repoRoot } from '../../support/project.ts';

const readme = readFileSync(path.join(repoRoot, 'README.md'), 'utf8');
const ciRun = readFileSync(path.join(repoRoot, '.ci/run'), 'utf8');
const packageJson = JSON.parse(readFileSync(path.join(repoRoot, 'package.json'), 'utf8')) as { scripts: Record<string, string> };

/** The commands of the README's "Two commands" block, without their comments. */
function readmeCommands(): string[] {
  const section = readme.slice(readme.indexOf('## Two commands'));
  const block = /```sh\n([\s\S]*?)```/.exec(section)?.[1] ?? '';
  return block.split('\n').map((line) => line.replace(/#.*$/, '').trim()).filter((line) => line !== '');
}

describe("the README's commands", () => {
  it('are the main job on the lab and the tests', () => {
    expect(readmeCommands()).toEqual(['npm ci && npm run demo', 'npm ci && npm test']);
  });

  it('CI runs exactly the test command, with nothing installed beforehand', () => {
    const commands = ciRun.split('\n').map((line) => line.trim()).filter((line) => line !== '' && !line.startsWith('#'));
    expect(commands.at(-1)).toBe(readmeCommands()[1]);
    // Whatever the tests need is installed by the test command itself, as on a user's machine.
    expect(ciRun).not.toMatch(/apt-get|apt install|dpkg/);
  });

  it('npm test installs what the tests need before it runs them', () => {
    expect(packageJson.scripts.pretest).toBe('tsx scripts/install-machine-packages.ts');
    const wanted = testMachinePackages();
    for (const name of [...TEST_PACKAGES, ...Object.values(MACHINE_TOOLS)]) expect(wanted).toContain(name);
    // tmux watches the live view; chromium renders the drill's HTML report; keepalived judges the
    // keepalived role's files; sshd serves the connector tests
    for (const name of ['tmux', 'chromium', 'keepalived', 'openssh-server', 'docker.io', 'qemu-system-x86']) expect(wanted).toContain(name);
  });
});
