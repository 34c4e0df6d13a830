// Whose lab it is: a lab whose user still runs is in use (CI's leftover cleanup leaves it alone);
// one whose user ended, or that names none, is a leftover.
import { spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { processStartTime } from '../../../src/lab/processes.ts';
import { labInUse, type LabState } from '../../../src/lab/state.ts';

const state = (user?: LabState['user']): LabState => ({ version: 1, phase: 'up', inventory: 'lab.yaml', createdAt: '', bridges: [], resources: [], hosts: {}, ...(user ? { user } : {}) });

describe('labInUse', () => {
  it('is true while the recorded process runs, false once it ended or when none is recorded', async () => {
    expect(await labInUse(state({ pid: process.pid, startTime: (await processStartTime(process.pid))! }))).toBe(true);
    // The same pid with another start time is another process (a reused pid).
    expect(await labInUse(state({ pid: process.pid, startTime: '1' }))).toBe(false);
    const ended = spawnSync('true').pid!;
    expect(await labInUse(state({ pid: ended, startTime: '1' }))).toBe(false);
    expect(await labInUse(state())).toBe(false);
  });
});
