// The file-family operations against a real file system, under dash and under busybox sh with only
// busybox applets: the probe reads the state, the planned script changes it, and the next probe and
// plan must say "no change" (idempotence). Contents are compared byte for byte.
import { spawn } from 'node:child_process';
import { chmodSync, existsSync, lstatSync, mkdirSync, readdirSync, readFileSync, rmSync, statSync, symlinkSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { setTimeout as sleep } from 'node:timers/promises';
import { afterAll, afterEach, beforeEach, describe, expect, it } from 'vitest';
import { OperationError } from '../../../src/core/operation.ts';
import { absent } from '../../../src/operations/absent.ts';
import { block } from '../../../src/operations/block.ts';
import { command } from '../../../src/operations/command.ts';
import { directory } from '../../../src/operations/directory.ts';
import { file } from '../../../src/operations/file.ts';
import { line } from '../../../src/operations/line.ts';
import { applyWith, changeScript, cleanup, converge, dashWithOnly, facts, freshDir, probeWith, scriptFile, shells, type Shell } from './real-shell.ts';

/** Everything a shell could misread: quotes, expansions, escapes, printf directives, the probe's own markers. */
const hostile = [
  `single ' and double " quotes, '\\'' and "\\"" pairs`,
  'command substitution $(touch PWNED) and `touch PWNED2` and ${HOME} $HOME $1 $@ $$',
  'backslashes \\ \\\\ \\n \\t \\0 \\c end\\',
  'printf directives %s %d %n %% and a lone %',
  '-e -n --',
  'tabs\tand\ttrailing spaces   ',
  'unicode: é ü ✓ 漢字',
  'carriage return\r',
  '<<provision:content>>',
  'type=directory',
  'link=yes',
  '<<provision:end>>',
  '<<provision:unreadable>>',
  '',
  '',
  'no final newline, ends with the end marker:',
  '<<provision:end>>',
].join('\n');

const uid = (path: string) => statSync(path).uid;
const modeOf = (path: string) => statSync(path).mode & 0o7777;
const sizeOf = (path: string) => {
  try {
    return statSync(path).size;
  } catch {
    return 0; // renamed or removed since it was listed
  }
};
const provisionTemporaries = (dir: string) => readdirSync(dir).filter((name) => name.includes('.provision-'));

afterAll(() => cleanup());

describe.each(shells())('under $name', (shell: Shell) => {
  let dir: string;
  beforeEach(() => {
    dir = freshDir('real-sh');
  });
  afterEach(() => {
    rmSync(dir, { recursive: true, force: true });
  });

  describe('file', () => {
    it('writes hostile content byte for byte with mode and owner, then reports no change', () => {
      const path = join(dir, 'authkeys');
      const content = hostile.replaceAll('PWNED', join(dir, 'pwned'));
      const run = converge(shell, file({ path, content, mode: '0600', owner: 'daemon', group: 'daemon', secret: true }));

      expect(run.first).toMatchObject({ changed: true, summary: `write ${path} (mode 0600, owner daemon, group daemon)` });
      expect(readFileSync(path)).toEqual(Buffer.from(content, 'utf8'));
      expect(modeOf(path)).toBe(0o600);
      expect(uid(path)).toBe(1);
      expect(run.second).toEqual({ changed: false });
      expect(existsSync(join(dir, 'pwned'))).toBe(false);
      expect(existsSync(join(dir, 'pwned2'))).toBe(false);
      expect(provisionTemporaries(dir)).toEqual([]);
    });

    it('writes an empty file and a file of newlines exactly', () => {
      for (const content of ['', '\n', '\n\n\n']) {
        const path = join(dir, `f${content.length}`);
        const run = converge(shell, file({ path, content }));
        expect(readFileSync(path, 'utf8')).toBe(content);
        expect(modeOf(path)).toBe(0o644);
        expect(run.second).toEqual({ changed: false });
      }
    });

    it('only chmods when only the mode differs, keeping the content', () => {
      const path = join(dir, 'ha.cf');
      writeFileSync(path, 'keepalive 2\n');
      chmodSync(path, 0o644);
      const run = converge(shell, file({ path, content: 'keepalive 2\n', mode: '0600' }));
      expect(run.first).toMatchObject({ changed: true, summary: `chmod 0600 ${path}` });
      expect(modeOf(path)).toBe(0o600);
      expect(readFileSync(path, 'utf8')).toBe('keepalive 2\n');
      expect(run.second).toEqual({ changed: false });
    });

    it('keeps the old mode and makes a timestamped backup when replacing a file', () => {
      const path = join(dir, 'haresources');
      writeFileSync(path, 'old\n');
      chmodSync(path, 0o640);
      const run = converge(shell, file({ path, content: 'new\n', backup: true }));
      expect(readFileSync(path, 'utf8')).toBe('new\n');
      expect(modeOf(path)).toBe(0o640);
      const backups = readdirSync(dir).filter((name) => /^haresources\.\d{14}~$/.test(name));
      expect(backups).toHaveLength(1);
      expect(readFileSync(join(dir, backups[0] ?? ''), 'utf8')).toBe('old\n');
      expect(modeOf(join(dir, backups[0] ?? ''))).toBe(0o640);
      expect(run.second).toEqual({ changed: false });
    });

    it('fails with a clear message when the parent directory is missing, creating nothing', () => {
      const path = join(dir, 'missing', 'ha.cf');
      const op = file({ path, content: 'x' });
      const plan = op.plan(facts, probeWith(shell, op));
      if (!plan.changed) throw new Error('expected a change');
      const result = applyWith(shell, plan.script);
      expect(result.status).not.toBe(0);
      expect(result.stderr).toContain(`cannot write ${path}: the directory ${join(dir, 'missing')} does not exist`);
      expect(existsSync(join(dir, 'missing'))).toBe(false);
    });
  });

  describe('directory', () => {
    it('creates nested directories with mode and owner, then reports no change', () => {
      const path = join(dir, 'a', 'b', 'c');
      const run = converge(shell, directory({ path, mode: '0750', owner: 'daemon' }));
      expect(run.first).toMatchObject({ changed: true, summary: `create directory ${path} (mode 0750, owner daemon)` });
      expect(statSync(path).isDirectory()).toBe(true);
      expect(modeOf(path)).toBe(0o750);
      expect(uid(path)).toBe(1);
      expect(run.second).toEqual({ changed: false });
    });

    it('fixes the mode of an existing directory', () => {
      const path = join(dir, 'd');
      mkdirSync(path, { mode: 0o700 });
      chmodSync(path, 0o700);
      const run = converge(shell, directory({ path, mode: '2775' }));
      expect(run.first).toMatchObject({ changed: true, summary: `chmod 2775 ${path}` });
      expect(modeOf(path)).toBe(0o2775);
      expect(run.second).toEqual({ changed: false });
    });

    it('refuses a path that is a regular file', () => {
      const path = join(dir, 'plain');
      writeFileSync(path, 'x');
      const op = directory({ path });
      expect(() => op.plan(facts, probeWith(shell, op))).toThrow(OperationError);
      expect(() => op.plan(facts, probeWith(shell, op))).toThrow(/is a regular file, not a directory/);
    });
  });

  describe('absent', () => {
    it('removes a directory tree, then reports no change', () => {
      const path = join(dir, 'tree');
      mkdirSync(join(path, 'sub'), { recursive: true });
      writeFileSync(join(path, 'sub', 'file'), 'x');
      const run = converge(shell, absent({ path }));
      expect(run.first).toMatchObject({ changed: true, summary: `remove ${path} (a directory tree)` });
      expect(existsSync(path)).toBe(false);
      expect(run.second).toEqual({ changed: false });
    });

    it('removes a symbolic link to a directory, not the directory', () => {
      const target = join(dir, 'target');
      mkdirSync(target);
      writeFileSync(join(target, 'kept'), 'x');
      const link = join(dir, 'link');
      symlinkSync(target, link);
      const run = converge(shell, absent({ path: link }));
      expect(run.first).toMatchObject({ summary: `remove ${link} (a symbolic link)` });
      expect(() => lstatSync(link)).toThrow();
      expect(readFileSync(join(target, 'kept'), 'utf8')).toBe('x');
      expect(run.second).toEqual({ changed: false });
    });

    it('removes a dangling symbolic link', () => {
      const link = join(dir, 'dangling');
      symlinkSync(join(dir, 'nowhere'), link);
      const run = converge(shell, absent({ path: link }));
      expect(run.first).toMatchObject({ summary: `remove ${link} (a dangling symbolic link)` });
      expect(() => lstatSync(link)).toThrow();
      expect(run.second).toEqual({ changed: false });
    });
  });

  describe('line', () => {
    it('appends to a file without a final newline, keeping the rest byte for byte', () => {
      const path = join(dir, 'sysctl.conf');
      writeFileSync(path, '# keep me\r\nnet.ipv4.conf.all.arp_ignore = 1');
      const run = converge(shell, line({ path, line: 'net.ipv4.ip_forward = 1', regexp: /^net\.ipv4\.ip_forward\s*=/ }));
      expect(run.first).toMatchObject({ changed: true, summary: `append a line to ${path}` });
      expect(readFileSync(path, 'utf8')).toBe('# keep me\r\nnet.ipv4.conf.all.arp_ignore = 1\nnet.ipv4.ip_forward = 1\n');
      expect(run.second).toEqual({ changed: false });
    });

    it('replaces the last line matching the regexp only', () => {
      const path = join(dir, 'ldirectord');
      writeFileSync(path, 'CONFIG_FILE=a\n# comment\nCONFIG_FILE=b\ntail');
      const run = converge(shell, line({ path, line: `CONFIG_FILE='/etc/ha.d/$(x)'`, regexp: '^CONFIG_FILE=' }));
      expect(run.first).toMatchObject({ changed: true, summary: `replace line 3 of ${path}` });
      expect(readFileSync(path, 'utf8')).toBe(`CONFIG_FILE=a\n# comment\nCONFIG_FILE='/etc/ha.d/$(x)'\ntail`);
      expect(run.second).toEqual({ changed: false });
    });

    it('creates a missing file when asked, with its mode', () => {
      const path = join(dir, 'new.conf');
      const run = converge(shell, line({ path, line: 'x=1', create: true, mode: '0640' }));
      expect(readFileSync(path, 'utf8')).toBe('x=1\n');
      expect(modeOf(path)).toBe(0o640);
      expect(run.second).toEqual({ changed: false });
    });
  });

  describe('block', () => {
    it('adds, updates and removes a marked block, leaving the rest byte for byte', () => {
      const path = join(dir, 'hosts');
      const original = '127.0.0.1 localhost\n# tail without newline';
      writeFileSync(path, original);

      const added = converge(shell, block({ path, block: '192.168.2.1 rs1\n192.168.2.2 rs2\n' }));
      expect(added.first).toMatchObject({ changed: true, summary: `add a managed block to ${path}` });
      expect(readFileSync(path, 'utf8')).toBe(
        `${original}\n# BEGIN PROVISION MANAGED BLOCK\n192.168.2.1 rs1\n192.168.2.2 rs2\n# END PROVISION MANAGED BLOCK\n`,
      );
      expect(added.second).toEqual({ changed: false });

      const updated = converge(shell, block({ path, block: `192.168.2.3 '$(rs3)'` }));
      expect(updated.first).toMatchObject({ changed: true, summary: `update the managed block in ${path}` });
      expect(readFileSync(path, 'utf8')).toBe(`${original}\n# BEGIN PROVISION MANAGED BLOCK\n192.168.2.3 '$(rs3)'\n# END PROVISION MANAGED BLOCK\n`);
      expect(updated.second).toEqual({ changed: false });

      const removed = converge(shell, block({ path, block: '' }));
      expect(removed.first).toMatchObject({ changed: true, summary: `remove the managed block from ${path}` });
      expect(readFileSync(path, 'utf8')).toBe(`${original}\n`);
      expect(removed.second).toEqual({ changed: false });
    });
  });

  describe('command', () => {
    it('runs until its creates path exists', () => {
      const marker = join(dir, 'done');
      const run = converge(shell, command({ run: `echo built > ${marker}`, creates: marker }));
      expect(run.first).toMatchObject({ changed: true });
      expect(readFileSync(marker, 'utf8')).toBe('built\n');
      expect(run.second).toEqual({ changed: false, note: `${marker} exists` });
    });

    it('evaluates noisy unless/onlyIf checks without disturbing the probe output', () => {
      const conf = join(dir, 'sysctl.conf');
      writeFileSync(conf, 'a=1\n');
      const op = command({
        run: `echo 'b=2' >> ${conf}`,
        // A check that prints on both streams and reads stdin must not reach the probe's output.
        unless: `echo unless=succeeded; echo noise >&2; cat; grep -q '^b=2$' ${conf}`,
        onlyIf: `echo only-if=failed; [ -f ${conf} ]`,
      });
      const run = converge(shell, op);
      expect(run.first).toMatchObject({ changed: true });
      expect(readFileSync(conf, 'utf8')).toBe('a=1\nb=2\n');
      expect(run.second).toEqual({ changed: false, note: 'the unless check succeeded' });
    });

    it('does not run when onlyIf fails', () => {
      const op = command({ run: 'exit 3', onlyIf: `[ -e ${join(dir, 'absent')} ]` });
      expect(op.plan(facts, probeWith(shell, op))).toEqual({ changed: false, note: 'the onlyIf check failed' });
    });
  });

  describe('an interrupted atomic write', () => {
    const old = 'old content\n';
    // Large enough that the write takes several milliseconds, so the signal lands inside it.
    const large = `${'0123456789abcdef'.repeat(1024 * 1024)}\n`;

    const scripts = new Map<string, string>();
    /** The script replacing the old content by the large one (the same for every attempt). */
    function planLargeWrite(path: string): string {
      const cached = scripts.get(path);
      if (cached !== undefined) return cached;
      const op = file({ path, content: large });
      const plan = op.plan(facts, probeWith(shell, op));
      if (!plan.changed) throw new Error('expected a change');
      scripts.set(path, plan.script);
      return plan.script;
    }

    /** Starts the write, sends `signal` to the shell's process group once the temporary file exists. */
    async function interrupt(path: string, signal: NodeJS.Signals, delayMs?: number): Promise<{ sawTemporary: boolean }> {
      writeFileSync(path, old);
      const [program = 'sh', ...args] = shell.command;
      const script = scriptFile(changeScript(planLargeWrite(path)));
      const child = spawn(program, [...args, script], { env: shell.env, cwd: '/', detached: true, stdio: 'ignore' });
      const exited = new Promise<void>((done) => child.once('exit', () => done()));
      const pid = child.pid;
      if (pid === undefined) throw new Error(`could not start ${shell.name}`);
      let sawTemporary = false;
      if (delayMs === undefined) {
        // Non-empty: mktemp has returned and printf is writing (or has written) the content. Stop
        // looking once the target has been replaced: the window has passed.
        const deadline = Date.now() + 10_000;
        while (!sawTemporary && sizeOf(path) === old.length && Date.now() < deadline) {
          sawTemporary = provisionTemporaries(dir).some((name) => sizeOf(join(dir, name)) > 0);
        }
      } else {
        await sleep(delayMs);
      }
      try {
        process.kill(-pid, signal);
      } catch {
        // the write already finished
      }
      await exited;
      // The subshell may still be running its traps after the outer shell died: wait for the group.
      for (let i = 0; i < 500; i++) {
        try {
          process.kill(-pid, 0);
        } catch {
          break;
        }
        await sleep(10);
      }
      rmSync(script, { force: true });
      return { sawTemporary };
    }

    /**
     * Under load the signal may land after the mv although the temporary file was seen: try a few
     * times until one attempt is interrupted before the mv (the file still has its old content).
     */
    async function interruptBeforeRename(path: string, signal: NodeJS.Signals, check: () => void): Promise<number> {
      for (let attempt = 1; attempt <= 5; attempt++) {
        for (const temporary of provisionTemporaries(dir)) rmSync(join(dir, temporary));
        const { sawTemporary } = await interrupt(path, signal);
        check();
        if (sawTemporary && readFileSync(path, 'utf8') === old) return attempt;
      }
      throw new Error(`the ${signal} never landed before the rename in 5 attempts`);
    }

    it('leaves the old file when the shell is killed (SIGKILL) during the write', async () => {
      const path = join(dir, 'big.conf');
      await interruptBeforeRename(path, 'SIGKILL', () => {
        const content = readFileSync(path, 'utf8');
        // A temporary file left behind means the kill came before the mv: the old content must be there.
        expect(content).toBe(provisionTemporaries(dir).length > 0 ? old : large);
      });
    }, 60_000);

    it('never shows readers a partial file while it writes', async () => {
      const path = join(dir, 'big.conf');
      writeFileSync(path, old);
      const [program = 'sh', ...args] = shell.command;
      const script = scriptFile(changeScript(planLargeWrite(path)));
      const child = spawn(program, [...args, script], { env: shell.env, cwd: '/', stdio: 'ignore' });
      const exited = new Promise<number | null>((done) => child.once('exit', (code) => done(code)));
      // A rename swaps whole files: every look at the path sees the old size or the new one.
      const seen = new Set<number>();
      const deadline = Date.now() + 10_000;
      let size = old.length;
      while (size !== large.length && Date.now() < deadline) {
        size = sizeOf(path);
        seen.add(size);
      }
      expect(await exited).toBe(0);
      rmSync(script);
      expect([...seen].filter((s) => s !== old.length && s !== large.length)).toEqual([]);
      expect(readFileSync(path, 'utf8')).toBe(large);
    }, 60_000);

    it('leaves the old or the new file, never a partial one, wherever SIGKILL lands', async () => {
      const path = join(dir, 'big.conf');
      for (const delayMs of [0, 5, 20, 50, 100, 200, 400]) {
        await interrupt(path, 'SIGKILL', delayMs);
        const content = readFileSync(path, 'utf8');
        expect(content === old || content === large, `after a kill at ${delayMs} ms the file has ${content.length} bytes`).toBe(true);
        for (const temporary of provisionTemporaries(dir)) rmSync(join(dir, temporary));
      }
    }, 60_000);

    it('removes its temporary file when terminated (SIGTERM)', async () => {
      const path = join(dir, 'big.conf');
      await interruptBeforeRename(path, 'SIGTERM', () => {
        expect(provisionTemporaries(dir)).toEqual([]);
        expect([old, large]).toContain(readFileSync(path, 'utf8'));
      });
    }, 60_000);
  });
});

describe('a secret file on a target without md5sum', () => {
  it('is compared by cksum instead: written once, then no change', () => {
    const dir = freshDir('real-sh-cksum');
    try {
      const shell = dashWithOnly('dash without md5sum', ['stat', 'mktemp', 'chmod', 'chown', 'mv', 'rm', 'cksum']);
      const path = join(dir, 'authkeys');
      const run = converge(shell, file({ path, content: 'auth 1\n1 sha1 0ld-s3cret\n', mode: '0600', secret: true }));
      expect(run.first).toMatchObject({ changed: true, diff: [{ path, secret: true, change: 'created' }] });
      expect(run.second).toEqual({ changed: false });
      writeFileSync(path, 'auth 1\n1 sha1 drifted\n');
      expect(converge(shell, file({ path, content: 'auth 1\n1 sha1 0ld-s3cret\n', mode: '0600', secret: true })).first).toMatchObject({
        changed: true,
        diff: [{ path, secret: true, change: 'changed' }],
      });
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});
