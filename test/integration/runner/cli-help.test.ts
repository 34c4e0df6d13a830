// `provision --help` is what an Ansible user types first: it must show how to run a playbook (the
// default command's usage and every flag), and the other commands, as the real CLI prints it.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeProject, runCli, type Project } from '../../support/project.ts';

/** The option lines of a help text: the flags column of each entry under "Options:". */
function optionsOf(help: string): string[] {
  const section = help.split(/^Options:\n/m)[1]?.split(/\n\n/)[0] ?? '';
  return section.split('\n').flatMap((line) => (/^ {2}-/.test(line) ? [line.trim().split(/ {2,}/)[0] as string] : []));
}

/** The command names listed under "Commands:". */
function commandsOf(help: string): string[] {
  const section = help.split(/^Commands:\n/m)[1]?.split(/\n\n/)[0] ?? '';
  return section.split('\n').flatMap((line) => (/^ {2}\S/.test(line) ? [line.trim().split(' ')[0] as string] : []));
}

describe('provision --help', () => {
  let project: Project;
  beforeAll(async () => {
    project = await makeProject({});
  });
  afterAll(() => project.remove());

  const help = (...args: string[]) => runCli(project, args, { json: false });

  it('shows the run usage, every run flag and the subcommands, and exits 0', async () => {
    const result = await help('--help');
    expect(result.exitCode).toBe(0);
    expect(result.stdout).toMatch(/^Usage: provision \[options\] \[playbook\]$/m);
    expect(result.stdout).toMatch(/^ {2}playbook +the playbook to run \(default playbooks\/site\.yml\)$/m);
    expect(optionsOf(result.stdout)).toEqual([
      '-i, --inventory <file>',
      '-l, --limit <pattern>',
      '-t, --tags <tags>',
      '--skip-tags <tags>',
      '-e, --extra-vars <vars>',
      '-C, --check',
      '-D, --diff',
      '-v, --verbose',
      '-f, --forks <n>',
      '--json <file>',
      '--lock-timeout <seconds>',
      '-K, --ask-become-pass',
      '-h, --help',
    ]);
    expect(commandsOf(result.stdout)).toEqual(['run', 'verify', 'drain', 'undrain', 'drill', 'test', 'lab', 'vagrant', 'lint', 'help']);
  });

  it('-h and `provision help` print the same help', async () => {
    const expected = (await help('--help')).stdout;
    for (const args of [['-h'], ['help']]) {
      const result = await help(...args);
      expect(result.exitCode, args.join(' ')).toBe(0);
      expect(result.stdout, args.join(' ')).toBe(expected);
    }
  });

  it('the run flags are the run command\'s own: `provision run --help` lists the same ones', async () => {
    const root = await help('--help');
    const run = await help('run', '--help');
    expect(run.exitCode).toBe(0);
    expect(run.stdout).toMatch(/^Usage: provision run \[options\] \[playbook\]$/m);
    expect(optionsOf(run.stdout)).toEqual(optionsOf(root.stdout));
    expect(commandsOf(run.stdout)).toEqual([]);
  });

  it("a subcommand's help is its own: lint shows its flags, not the run flags", async () => {
    const result = await help('lint', '--help');
    expect(result.exitCode).toBe(0);
    expect(optionsOf(result.stdout)).toEqual(['-i, --inventory <file>', '--rules', '-h, --help']);
  });
});
