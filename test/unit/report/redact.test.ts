import { describe, expect, it } from 'vitest';
import { MASK, Redactor } from '../../../src/report/redact.ts';
import type { RunEvent } from '../../../src/runner/events.ts';

describe('Redactor', () => {
  it('masks every secret in every string of an event, longest first', () => {
    const r = new Redactor(['s3cr3t', 's3cr3t-longer', '']);
    const event: RunEvent = {
      type: 'task', host: 'h', play: 'p', role: 'heartbeat', task: 'authkeys', kind: 'task', status: 'failed', changed: false,
      message: 'failed: auth 1\n1 sha1 s3cr3t-longer and s3cr3t',
      diff: [{ path: '/etc/ha.d/authkeys', before: 'old s3cr3t', after: 'new s3cr3t' }],
      durationMs: 1, remoteExecutions: 2,
    };
    const safe = r.event(event);
    expect(JSON.stringify(safe)).not.toContain('s3cr3t');
    expect(safe.type === 'task' && safe.message).toBe(`failed: auth 1\n1 sha1 ${MASK} and ${MASK}`);
    expect(event.message).toContain('s3cr3t'); // the original is not mutated
  });
});
