import { describe, expect, it } from 'vitest';
import { backslashEscape, containsSecret, MIN_SECRET_LENGTH, secretLengthProblem } from '../../../src/core/secret.ts';
import { quote } from '../../../src/core/shell.ts';
import { atomicWriteScript } from '../../../src/operations/write-file.ts';
import { renderFileDiff } from '../../../src/report/diff.ts';
import { MASK, maskStream, Redactor } from '../../../src/report/redact.ts';
import { buildApplyScript } from '../../../src/runner/batch.ts';
import type { RunEvent, TaskResultEvent } from '../../../src/runner/events.ts';
import { giveaways } from '../../support/secret-forms.ts';

/** Secrets with every character that quoting or escaping changes. */
const hostileSecrets = [
  "Audit'SecretQ7",
  'pa"ss\\word',
  'dollar$HOME$(id)',
  'back`tick`s',
  'with  spaces ',
  'ünïcødé✓漢字',
  'new\nline\r\tend',
  "all'\"\\$`%",
  '--leading-dash',
];

const task = (fields: Partial<TaskResultEvent>): TaskResultEvent => ({
  type: 'task', host: 'h', play: 'p', role: 'r', task: 't', kind: 'task', status: 'changed', changed: true, durationMs: 1, remoteExecutions: 2, ...fields,
});

/** Every form of `secret` that this code can write or a reader can decode, each inside ordinary text. */
function derivedForms(secret: string): Record<string, string> {
  const bytes = Buffer.from(secret, 'utf8');
  const forms: Record<string, string> = {
    literal: secret,
    'shell-quoted': quote(secret),
    'shell-quoted inside a word': `--key=${quote(secret)}x`,
    'JSON string': JSON.stringify(secret),
    'JSON string in JSON': JSON.stringify(JSON.stringify({ key: secret })),
    'shell-quoted in JSON': JSON.stringify({ script: `printf '%s' ${quote(secret)}` }),
    'C-style \\" and \\\\ escapes (keepalived)': `"${backslashEscape(secret, '"\\')}"`,
    'line breaks as \\n (piranha)': backslashEscape(secret, '\r\n'),
    'shell double quotes': `"${secret.replace(/["\\$`]/g, '\\$&')}"`,
    'percent-encoded': encodeURIComponent(secret),
    hex: bytes.toString('hex'),
    'a file write script': atomicWriteScript({ path: '/etc/ha.d/authkeys', content: `auth 1\n1 sha1 ${secret}\n`, mode: 0o600, backup: false, replaces: true }),
    'an apply script': buildApplyScript('@@token', [{ id: 't1', script: `printf '%s' ${quote(secret)} >/etc/x` }]),
  };
  for (let offset = 0; offset < 3; offset++) {
    const file = Buffer.concat([Buffer.from('#!/bin/sh\nkey='.slice(0, 10 + offset)), bytes, Buffer.from('\nend\n')]);
    forms[`base64 of a file, alignment ${offset}`] = file.toString('base64');
    forms[`base64url of a file, alignment ${offset}`] = file.toString('base64url');
  }
  return forms;
}

describe('Redactor: every derived form of every secret', () => {
  const redactor = new Redactor(hostileSecrets);

  describe.each(hostileSecrets)('secret %j', (secret) => {
    it.each(Object.entries(derivedForms(secret)))('masks its %s form', (_name, form) => {
      const text = `before ${form} after`;
      const safe = redactor.text(text);
      expect(safe).toContain(MASK);
      expect(safe.startsWith('before ')).toBe(true);
      for (const giveaway of giveaways(secret)) expect(safe).not.toContain(giveaway);
      expect(containsSecret(text, [secret])).toBe(true);
      expect(containsSecret(safe, [secret])).toBe(false);
    });
  });

  it('leaves text without a secret untouched, parts of secrets and quoting included', () => {
    const text = [
      "changed: [lvs-master] heartbeat : authkeys - write /etc/ha.d/authkeys (mode 0600)",
      "Audit'Secret and SecretQ7 and pa\"ss and 'with' \\n \\\\ $HOME `id` %24 ünï 漢",
      Buffer.from('unrelated content of some file\n').toString('base64'),
      JSON.stringify({ path: '/etc/keepalived/keepalived.conf', note: "it's \"quoted\"" }),
    ].join('\n');
    expect(redactor.text(text)).toBe(text);
  });

  it('masks a secret that contains another whole, and secrets next to each other', () => {
    const r = new Redactor(['s3cr3t', 's3cr3t-longer']);
    expect(r.text('a s3cr3t-longer b s3cr3ts3cr3t c')).toBe(`a ${MASK} b ${MASK}${MASK} c`);
  });

  it('problem 5: a key with a quote shows neither literally nor shell-quoted in a -v script or a JSON event', () => {
    const secret = "Audit'SecretQ7";
    const r = new Redactor([secret]);
    const script = atomicWriteScript({ path: '/etc/ha.d/authkeys', content: `auth 1\n1 sha1 ${secret}\n`, mode: 0o600, backup: false, replaces: false });
    expect(script).toContain("Audit'\\''SecretQ7");
    const event = r.event(task({ script, output: `sh: Audit'\\''SecretQ7: not found` }));
    const json = JSON.stringify(event);
    expect(json).not.toContain('SecretQ7');
    expect(json).not.toContain("Audit'");
  });

  it('problem 5: a VRRP password with " or \\ does not show escaped in an error message', () => {
    const secret = 'vr"r\\p7';
    const r = new Redactor([secret]);
    const message = `keepalived: VRRP password ${JSON.stringify(secret)} cannot be written into keepalived.conf`;
    expect(message).toContain('vr\\"r\\\\p7');
    const safe = r.event(task({ status: 'failed', message }));
    expect(JSON.stringify(safe)).not.toMatch(/vr.{0,4}r.{0,4}p7/);
  });
});

describe('Redactor: file diffs', () => {
  const secret = 'current-secret';
  const redactor = new Redactor([secret]);

  it('problem 4: a secret file diff carries no content, old or new, whatever the renderer', () => {
    // A diff from an older planner that still had content: the redactor drops it.
    const leaky = { path: '/etc/ha.d/authkeys', before: 'auth 1\n1 sha1 0ld-secret-n0t-known\n', after: `auth 1\n1 sha1 ${secret}\n`, secret: true } as unknown as TaskResultEvent['diff'];
    const safe = redactor.event(task({ diff: leaky ? [leaky as never] : [] }));
    expect(safe.diff).toEqual([{ path: '/etc/ha.d/authkeys', secret: true, change: 'changed' }]);
    expect(JSON.stringify(safe)).not.toContain('0ld-secret');
  });

  it('a diff whose old or new text holds any form of a secret is treated as secret', () => {
    const shown = { path: '/etc/ldirectord.cf', before: null, after: `request="${backslashEscape(secret, '"')}"\n` };
    const safe = redactor.event(task({ diff: [shown] }));
    expect(safe.diff).toEqual([{ path: '/etc/ldirectord.cf', secret: true, change: 'created' }]);
    expect(renderFileDiff(safe.diff![0]!)).toBe('--- /dev/null\n+++ /etc/ldirectord.cf\n(created; content not shown: the file holds a secret)\n');
    const removed = redactor.event(task({ diff: [{ path: '/etc/x', before: `old ${JSON.stringify(secret)}`, after: null }] }));
    expect(removed.diff).toEqual([{ path: '/etc/x', secret: true, change: 'removed' }]);
  });

  it('a diff without a secret is shown as it is', () => {
    const d = { path: '/etc/ha.d/ha.cf', before: 'keepalive 1\n', after: 'keepalive 2\n' };
    expect(redactor.event(task({ diff: [d] })).diff).toEqual([d]);
  });

  it('an in-place edit whose old or new line holds a secret is treated as secret, and shown as it is otherwise', () => {
    const edited = (before: string, after: string) => ({ path: '/etc/x.conf', edits: [{ line: 3, before, after }, { line: 'end' as const, after: 'tail' }] });
    expect(redactor.event(task({ diff: [edited(`k = ${secret}`, 'k = 1')] })).diff).toEqual([{ path: '/etc/x.conf', secret: true, change: 'changed' }]);
    expect(redactor.event(task({ diff: [edited('k = 1', `k = ${secret}`)] })).diff).toEqual([{ path: '/etc/x.conf', secret: true, change: 'changed' }]);
    const plain = edited('k = 0', 'k = 1');
    expect(redactor.event(task({ diff: [plain] })).diff).toEqual([plain]);
    expect(renderFileDiff(plain)).toBe('--- /etc/x.conf (before)\n+++ /etc/x.conf (after)\n@@ -3 +3 @@\n-k = 0\n+k = 1\n@@ end of file @@\n+tail\n');
  });

  it('every event type is masked, the original is not changed', () => {
    const events: RunEvent[] = [
      { type: 'warning', host: 'h', message: `key ${quote(secret)}` },
      { type: 'host-unreachable', host: 'h', play: 'p', message: `auth failed for ${secret}`, remoteExecutions: 0 },
      task({ summary: secret, message: secret, script: secret, output: secret }),
    ];
    for (const event of events) {
      expect(JSON.stringify(redactor.event(event))).not.toContain(secret);
      expect(JSON.stringify(event)).toContain(secret);
    }
  });
});

describe('the secret minimum (problem 7)', () => {
  it('refuses shorter values, saying the minimum and why; accepts the empty value (never searched for)', () => {
    expect(secretLengthProblem('e')).toBe(
      `has 1 character; a secret needs at least ${MIN_SECRET_LENGTH}, because every output is masked by searching for it, and a shorter one would mask ordinary text and give itself away`,
    );
    expect(secretLengthProblem('vagrant')).toBeUndefined();
    expect(secretLengthProblem('')).toBeUndefined();
    expect(MIN_SECRET_LENGTH).toBe(6);
  });

  it('a secret of the minimum length masks only itself', () => {
    expect(new Redactor(['e'.repeat(MIN_SECRET_LENGTH)]).text('changed: eeeee eeeeee')).toBe(`changed: eeeee ${MASK}`);
  });
});

describe('maskStream: the CLI guard over stdout and stderr', () => {
  it('masks every secret known at the time of each write, strings and UTF-8 buffers alike', () => {
    const written: string[] = [];
    const stream = { write: (chunk: string | Buffer) => written.push(String(chunk)) > 0 } as unknown as NodeJS.WriteStream;
    const known = new Set<string>();
    maskStream(stream, () => known);
    maskStream(stream, () => known); // a second call does not wrap twice
    stream.write('before any secret: s3cr3t-value\n');
    known.add('s3cr3t-value');
    stream.write(`ERROR: got ${JSON.stringify('s3cr3t-value')}\n`);
    stream.write(Buffer.from(`key=${quote("s3cr3t-value")}\n`));
    expect(written).toEqual(['before any secret: s3cr3t-value\n', `ERROR: got "${MASK}"\n`, `key=${MASK}\n`]);
  });
});
