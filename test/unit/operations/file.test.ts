import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { Facts } from '../../../src/core/facts.ts';
import { OperationError, type Plan, type ProbeOutput } from '../../../src/core/operation.ts';
import { quote } from '../../../src/core/shell.ts';
import { file, type FileOptions } from '../../../src/operations/file.ts';
import { posixCksum } from '../../../src/runner/cksum.ts';
import { factsFor } from '../../support/facts.ts';
import { absentPath, probed } from './fixtures.ts';

interface Case {
  name: string;
  options: FileOptions;
  probe: ProbeOutput;
  facts?: Facts;
  expected: Plan;
}

const el5 = factsFor('el5');
const authkeys = '/etc/ha.d/authkeys';
const keys = 'auth 1\n1 sha1 s3cret\n';

// The plan only; the scripts are checked below and run for real in real-sh.test.ts.
const cases: Case[] = [
  {
    name: 'a missing file is written with the default mode',
    options: { path: '/etc/ha.d/ha.cf', content: 'keepalive 2\n' },
    probe: absentPath,
    expected: {
      changed: true,
      summary: 'write /etc/ha.d/ha.cf (mode 0644)',
      script: expect.any(String) as unknown as string,
      diff: [{ path: '/etc/ha.d/ha.cf', before: null, after: 'keepalive 2\n' }],
    },
  },
  {
    name: 'a secret file defaults to 0600 and is marked secret in the diff',
    options: { path: authkeys, content: keys, secret: true },
    probe: absentPath,
    expected: {
      changed: true,
      summary: `write ${authkeys} (mode 0600)`,
      script: expect.any(String) as unknown as string,
      shownScript: expect.any(String) as unknown as string,
      diff: [{ path: authkeys, secret: true, change: 'created' }],
    },
  },
  {
    name: 'same content and mode: no change',
    options: { path: authkeys, content: keys, mode: '0600', owner: 'root' },
    probe: probed({ type: 'file', mode: '600', content: keys }),
    expected: { changed: false },
  },
  {
    name: 'only the mode differs: chmod only',
    options: { path: authkeys, content: keys, mode: '0600' },
    probe: probed({ type: 'file', mode: '644', content: keys }),
    expected: { changed: true, summary: `chmod 0600 ${authkeys}`, script: `chmod 0600 ${authkeys} || exit 1` },
  },
  {
    name: 'only the owner and group differ: chown only',
    options: { path: '/etc/ha.d/ha.cf', content: 'x\n', owner: 'hacluster', group: 'haclient' },
    probe: probed({ type: 'file', content: 'x\n' }),
    expected: { changed: true, summary: 'chown hacluster:haclient /etc/ha.d/ha.cf', script: 'chown hacluster:haclient /etc/ha.d/ha.cf || exit 1' },
  },
  {
    name: 'mode and group differ: chmod and chgrp',
    options: { path: '/etc/x', content: 'x\n', mode: '0640', group: 'haclient' },
    probe: probed({ type: 'file', content: 'x\n' }),
    expected: { changed: true, summary: 'chmod 0640 /etc/x; chgrp haclient /etc/x', script: 'chmod 0640 /etc/x || exit 1\nchgrp haclient /etc/x || exit 1' },
  },
  {
    name: 'owner given by id matches the probed name',
    options: { path: '/etc/x', content: 'x\n', owner: '0', group: '0' },
    probe: probed({ type: 'file', content: 'x\n' }),
    expected: { changed: false },
  },
  {
    name: 'a missing final newline is a difference',
    options: { path: '/etc/x', content: 'a\n' },
    probe: probed({ type: 'file', content: 'a' }),
    expected: { changed: true, summary: 'write /etc/x', script: expect.any(String) as unknown as string, diff: [{ path: '/etc/x', before: 'a', after: 'a\n' }] },
  },
  {
    name: 'content and mode differ: the summary names the new mode',
    options: { path: authkeys, content: keys, mode: '0600' },
    probe: probed({ type: 'file', mode: '644', content: 'old\n' }),
    expected: {
      changed: true,
      summary: `write ${authkeys} (mode 0600)`,
      script: expect.any(String) as unknown as string,
      diff: [{ path: authkeys, before: 'old\n', after: keys }],
    },
  },
  {
    name: 'content depending on the facts',
    options: { path: '/etc/x', content: (f) => `family ${f.os.family} ${f.os.major}\n` },
    probe: probed({ type: 'file', content: 'family el 5\n' }),
    facts: el5,
    expected: { changed: false },
  },
];

describe('file plans', () => {
  it.each(cases)('$name', ({ options, probe, facts, expected }) => {
    expect(file(options).plan(facts ?? factsFor('debian12'), probe)).toEqual(expected);
  });
});

describe('secret files', () => {
  const md5 = (text: string) => `${createHash('md5').update(text).digest('hex')}  -`;
  const secretFile = (content: string) => file({ path: authkeys, content, mode: '0600', secret: true });
  const probedDigest = (digest: string) => ({ stdout: `link=no\ntype=file\nattrs=600 0 0 root root\ndigest=${digest}\n`, exitCode: 0 });

  it('the probe reads a digest of the old content, never the content', () => {
    const probe = secretFile(keys).probe();
    expect(probe).toContain('md5sum');
    expect(probe).not.toContain('cat ');
  });

  it('compares by digest (md5sum or cksum) and changes nothing when the content is the same', () => {
    expect(secretFile(keys).plan(el5, probedDigest(md5(keys)))).toEqual({ changed: false });
    expect(secretFile(keys).plan(el5, probedDigest(posixCksum(keys)))).toEqual({ changed: false });
  });

  it('a changed secret file: no content in the diff or in the shown script, only in the script that runs', () => {
    const plan = secretFile(keys).plan(el5, probedDigest(md5('auth 1\n1 sha1 0ld-s3cret\n')));
    expect(plan).toMatchObject({ changed: true, diff: [{ path: authkeys, secret: true, change: 'changed' }] });
    if (!plan.changed) return;
    expect(plan.diff?.[0]).not.toHaveProperty('before');
    expect(plan.diff?.[0]).not.toHaveProperty('after');
    expect(plan.script).toContain('s3cret');
    expect(plan.shownScript).not.toContain('s3cret');
    expect(plan.shownScript).toContain('not shown');
    expect(JSON.stringify(plan.diff)).not.toContain('0ld');
  });

  it('an unreadable secret file is a clear error', () => {
    expect(() => secretFile(keys).plan(el5, probedDigest('unreadable'))).toThrow(/cannot read \/etc\/ha.d\/authkeys on the target; check its permissions/);
  });
});

describe('file scripts', () => {
  const script = (options: FileOptions, probe: ProbeOutput) => {
    const plan = file(options).plan(factsFor('debian12'), probe);
    if (!plan.changed) throw new Error('expected a change');
    return plan.script;
  };

  it('writes a new file atomically: temp file beside it, traps, printf, chmod, chown, mv', () => {
    expect(script({ path: authkeys, content: keys, mode: '0600', owner: 'root', group: 'haclient' }, absentPath)).toBe(
      [
        `if [ ! -d /etc/ha.d ]; then printf '%s\\n' 'cannot write /etc/ha.d/authkeys: the directory /etc/ha.d does not exist; create it first (e.g. with a directory task)' >&2; exit 1; fi`,
        'provision_tmp=',
        `trap 'rm -f "$provision_tmp"' EXIT`,
        `trap 'exit 129' HUP`,
        `trap 'exit 130' INT`,
        `trap 'exit 143' TERM`,
        'provision_tmp=$(mktemp /etc/ha.d/.authkeys.provision-XXXXXX) || exit 1',
        `printf '%s' 'auth 1\n1 sha1 s3cret\n' >"$provision_tmp" || exit 1`,
        'chmod 0600 "$provision_tmp" || exit 1',
        'chown root:haclient "$provision_tmp" || exit 1',
        'mv -f "$provision_tmp" /etc/ha.d/authkeys || exit 1',
        'if command -v selinuxenabled >/dev/null 2>&1 && selinuxenabled && command -v restorecon >/dev/null 2>&1; then restorecon /etc/ha.d/authkeys || exit 1; fi',
        'trap - EXIT HUP INT TERM',
      ].join('\n'),
    );
  });

  it('quotes hostile content as one printf argument', () => {
    const content = `it's "$(rm -rf /)" \`id\` $HOME %s \\n\n-e`;
    const text = script({ path: '/etc/x', content }, absentPath);
    expect(text).toContain(`printf '%s' ${quote(content)} >"$provision_tmp"`);
    expect(quote(content)).toBe(`'it'\\''s "$(rm -rf /)" \`id\` $HOME %s \\n\n-e'`);
  });

  // With the test above, the writer's whole script, once: the roles' golden files show each write
  // as one line (test/support/goldens.ts), so a change of the writer changes these two tests only.
  it('replaces a file atomically, keeping its mode, owner and SELinux label, and backs it up before the mv', () => {
    expect(script({ path: '/etc/ha.d/haresources', content: 'new\n', backup: true }, probed({ type: 'file', mode: '640', uid: 0, gid: 107, content: 'old\n' }))).toBe(
      [
        `if [ ! -d /etc/ha.d ]; then printf '%s\\n' 'cannot write /etc/ha.d/haresources: the directory /etc/ha.d does not exist; create it first (e.g. with a directory task)' >&2; exit 1; fi`,
        'provision_tmp=',
        `trap 'rm -f "$provision_tmp"' EXIT`,
        `trap 'exit 129' HUP`,
        `trap 'exit 130' INT`,
        `trap 'exit 143' TERM`,
        'provision_tmp=$(mktemp /etc/ha.d/.haresources.provision-XXXXXX) || exit 1',
        `printf '%s' 'new\n' >"$provision_tmp" || exit 1`,
        'chmod 0640 "$provision_tmp" || exit 1',
        'chown 0:107 "$provision_tmp" || exit 1',
        'if command -v selinuxenabled >/dev/null 2>&1 && selinuxenabled; then chcon --reference=/etc/ha.d/haresources "$provision_tmp" || exit 1; fi',
        'cp -p /etc/ha.d/haresources /etc/ha.d/haresources."$(date +%Y%m%d%H%M%S)"~ || exit 1',
        'mv -f "$provision_tmp" /etc/ha.d/haresources || exit 1',
        'trap - EXIT HUP INT TERM',
      ].join('\n'),
    );
  });

  it('does not back up a file that does not exist yet, nor chown a new file when no owner is asked', () => {
    const text = script({ path: '/etc/x', content: 'x', backup: true }, absentPath);
    expect(text).not.toContain('cp -p');
    expect(text).not.toContain('chown');
  });
});

describe('file errors', () => {
  it.each([
    ['a directory', probed({ type: 'directory' }), /the path is a directory, not a regular file; remove it with absent\(\) first/],
    ['a symbolic link', probed({ type: 'file', link: true }), /the path is a symbolic link; give the path of the file it points to/],
    ['a special file', probed({ type: 'other' }), /the path is a special file/],
  ])('refuses to replace %s', (_name, probe, message) => {
    const op = file({ path: '/etc/x', content: 'x' });
    expect(() => op.plan(factsFor('el7'), probe)).toThrow(OperationError);
    expect(() => op.plan(factsFor('el7'), probe)).toThrow(message);
  });

  it('refuses a NUL byte in the content', () => {
    expect(() => file({ path: '/etc/x', content: 'a\0b' }).plan(factsFor('el7'), absentPath)).toThrow(/contains a NUL byte; this operation writes text files only/);
  });

  it('refuses bad arguments when the task is defined', () => {
    expect(() => file({ path: 'etc/x', content: '' })).toThrow(/relative/);
    expect(() => file({ path: '/etc/x', content: '', mode: 'u+rw' })).toThrow(/not an octal mode/);
    expect(() => file({ path: '/etc/x', content: '', owner: 'a:b' })).toThrow(/not a valid user name/);
  });

  it('names itself and its target', () => {
    const op = file({ path: '/etc/x', content: '' });
    expect([op.kind, op.target]).toEqual(['file', '/etc/x']);
  });
});
