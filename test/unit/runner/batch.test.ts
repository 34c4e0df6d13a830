import { execFileSync, spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { sh } from '../../../src/core/shell.ts';
import { buildApplyScript, buildProbeScript, newMarkerToken, parseApplyOutput, parseProbeOutput, probeDigest } from '../../../src/runner/batch.ts';
import { posixCksum } from '../../../src/runner/cksum.ts';

const runSh = (script: string, shell = '/bin/dash') =>
  spawnSync(shell, shell === 'busybox' ? ['sh', '-s'] : ['-s'], { input: script, encoding: 'utf8' });

describe('probe script', () => {
  it('returns each probe output byte for byte with its exit status, and the facts', () => {
    const token = newMarkerToken();
    const tricky = `no newline at end\n\n${'@@provision-0000 rc t0 0'}\nlast`;
    const script = buildProbeScript(token, 'echo FACTS', [
      { id: 't0', probe: sh`printf '%s' ${tricky}` },
      { id: 't1', probe: 'echo out; echo err >&2; exit 7' },
      { id: 't2', probe: '' },
      { id: 't3', probe: 'printf "\\n\\n"' },
    ]);
    for (const shell of ['/bin/dash', 'busybox']) {
      const out = parseProbeOutput(token, runSh(script, shell).stdout);
      expect(out.complete).toBe(true);
      expect(out.facts).toBe('FACTS\n');
      expect(out.probes.get('t0')).toEqual({ stdout: tricky, exitCode: 0 });
      expect(out.probes.get('t1')).toEqual({ stdout: 'out\n', exitCode: 7 });
      expect(out.probes.has('t2')).toBe(false);
      expect(out.probes.get('t3')).toEqual({ stdout: '\n\n', exitCode: 0 });
    }
  });

  it('probes do not read the script from stdin', () => {
    const token = newMarkerToken();
    const script = buildProbeScript(token, null, [{ id: 't0', probe: 'cat' }, { id: 't1', probe: 'echo second' }]);
    const out = parseProbeOutput(token, runSh(script).stdout);
    expect(out.probes.get('t0')!.stdout).toBe('');
    expect(out.probes.get('t1')!.stdout).toBe('second\n');
  });
});

describe('apply script', () => {
  it('verifies the probe digest with the target cksum before each guarded step', () => {
    expect(probeDigest({ stdout: 'x\n', exitCode: 0 }).cksum).toBe(execFileSync('cksum', { input: 'x\nrc=0\n' }).toString().trim());
    expect(probeDigest({ stdout: 'x\n', exitCode: 0 }).md5).toBe(execFileSync('md5sum', { input: 'x\nrc=0\n' }).toString().trim());
    const token = newMarkerToken();
    const steps = [
      { id: 't0', script: 'echo zero', guard: { probe: 'echo x', digest: probeDigest({ stdout: 'x\n', exitCode: 0 }) } },
      { id: 't1', script: 'echo one', guard: { probe: 'echo y', digest: probeDigest({ stdout: 'not y\n', exitCode: 0 }) } },
      { id: 't2', script: 'echo two' },
    ];
    for (const shell of ['/bin/dash', 'busybox']) {
      const out = parseApplyOutput(token, runSh(buildApplyScript(token, steps), shell).stdout);
      expect(out.steps).toEqual([
        { id: 't0', status: 'done', exitCode: 0, output: 'zero\n' },
        { id: 't1', status: 'stale' },
      ]);
      expect(out.complete).toBe(false);
    }
  });

  it('ends at a stale step with the probes the next round needs, each probe written once', () => {
    const token = newMarkerToken();
    const later = { id: 'p1', probe: 'echo later-play' };
    const steps = [
      { id: 't0', script: 'echo zero', guard: { probe: 'echo x', digest: probeDigest({ stdout: 'x\n', exitCode: 0 }), reprobe: [later] } },
      {
        id: 't1',
        script: 'echo one',
        guard: { probe: 'echo y', digest: probeDigest({ stdout: 'not y\n', exitCode: 0 }), reprobe: [{ id: 'p0', probe: 'echo y; exit 4' }, later] },
      },
      { id: 't2', script: 'echo two' },
    ];
    const script = buildApplyScript(token, steps, [later]);
    expect(script.split('echo later-play')).toHaveLength(2);
    for (const shell of ['/bin/dash', 'busybox']) {
      const out = parseApplyOutput(token, runSh(script, shell).stdout);
      expect(out.steps).toEqual([
        { id: 't0', status: 'done', exitCode: 0, output: 'zero\n' },
        { id: 't1', status: 'stale' },
      ]);
      // t1's re-probes ran to the end: the next round plans on them without a probe execution.
      expect(out.complete).toBe(true);
      expect(Object.fromEntries(out.probes)).toEqual({ p0: { stdout: 'y\n', exitCode: 4 }, p1: { stdout: 'later-play\n', exitCode: 0 } });
    }
  });

  it('stops at the first failing step under set -e and captures stderr', () => {
    const token = newMarkerToken();
    const script = buildApplyScript(token, [
      { id: 't0', script: 'false\necho not reached' },
      { id: 't1', script: 'echo never' },
    ]);
    const out = parseApplyOutput(token, runSh(script).stdout);
    expect(out.steps).toEqual([{ id: 't0', status: 'done', exitCode: 1, output: '' }]);
  });

  it('runs nothing when the script is cut off in transit', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'provision-cut-'));
    try {
      const marker = path.join(dir, 'ran');
      const script = buildApplyScript(newMarkerToken(), [{ id: 't0', script: sh`touch ${marker}` }]);
      const lastLine = script.lastIndexOf('__provision_main');
      for (let cut = 1; cut < lastLine + 'provision_main'.length; cut += 7) {
        runSh(script.slice(0, cut));
        expect(existsSync(marker), `cut at ${cut}`).toBe(false);
      }
      runSh(script);
      expect(existsSync(marker)).toBe(true);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });

  it('reports a step that began but never ended as cut off', () => {
    const token = 'T';
    const out = parseApplyOutput(token, `\nT begin t0\npartial output`);
    expect(out.steps).toEqual([{ id: 't0', status: 'cut-off', output: 'partial output' }]);
  });

  it('falls back to md5sum where the target has no cksum', () => {
    const dir = mkdtempSync(path.join(tmpdir(), 'provision-nocksum-'));
    try {
      // A PATH with busybox's md5sum but no cksum at all, as on a busybox-only host.
      for (const tool of ['md5sum', 'cat', 'printf', 'rm']) execFileSync('ln', ['-s', execFileSync('sh', ['-c', `command -v busybox`]).toString().trim(), path.join(dir, tool)]);
      const token = newMarkerToken();
      const steps = [
        { id: 't0', script: 'echo zero', guard: { probe: 'echo x', digest: probeDigest({ stdout: 'x\n', exitCode: 0 }) } },
        { id: 't1', script: 'echo one', guard: { probe: 'echo y', digest: probeDigest({ stdout: 'not y\n', exitCode: 0 }) } },
      ];
      const script = `PATH=${dir}; export PATH\n${buildApplyScript(token, steps).replace(/PATH=[^;]*;/, '')}`;
      const run = spawnSync('/bin/dash', ['-s'], { input: script, encoding: 'utf8', env: { PATH: dir } });
      expect(parseApplyOutput(token, run.stdout).steps.map((s) => s.status)).toEqual(['done', 'stale']);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  });
});

describe('posixCksum', () => {
  it('matches cksum(1) for assorted inputs', () => {
    for (const input of ['', 'a', 'hello\n', 'é😀', 'x'.repeat(100_000)]) {
      expect(posixCksum(input)).toBe(execFileSync('cksum', { input }).toString().trim());
    }
  });
});
