import { describe, expect, it } from 'vitest';
import { OperationError } from '../../../src/core/operation.ts';
import {
  attributeChanges,
  attributeCommands,
  checkAttributes,
  checkPath,
  describeAttributeChanges,
  fileStateProbe,
  parseFileState,
} from '../../../src/operations/file-state.ts';
import { probed } from './fixtures.ts';

const withContent = { withContent: true };

describe('fileStateProbe', () => {
  it('quotes the path and prints the content last, only for a regular file that is not a link', () => {
    const probe = fileStateProbe("/etc/it's here", withContent);
    expect(probe).toContain(`if [ -L '/etc/it'\\''s here' ]; then echo link=yes; else echo link=no; fi`);
    expect(probe).toContain(`stat -L -c 'attrs=%a %u %g %U %G' '/etc/it'\\''s here'`);
    expect(probe).toContain(`if [ -f '/etc/it'\\''s here' ] && [ ! -L '/etc/it'\\''s here' ]; then`);
    expect(probe.indexOf('cat ')).toBeGreaterThan(probe.indexOf('stat '));
  });

  it('reads no content when not asked', () => {
    expect(fileStateProbe('/etc/x', { withContent: false })).not.toContain('cat ');
  });
});

describe('parseFileState', () => {
  it('parses the literal probe output of a regular file', () => {
    const stdout = 'link=no\ntype=file\nattrs=640 0 107 root haclient\n<<provision:content>>\nnode a\nnode b\n\n<<provision:end>>\n';
    expect(parseFileState('/etc/ha.d/ha.cf', stdout, withContent)).toEqual({
      type: 'file',
      link: false,
      attributes: { mode: 0o640, uid: 0, gid: 107, owner: 'root', group: 'haclient' },
      content: 'node a\nnode b\n',
    });
  });

  it.each([
    ['no final newline', 'a\nb'],
    ['empty', ''],
    ['only newlines', '\n\n'],
    ['the markers themselves', '<<provision:content>>\n<<provision:end>>\ntype=directory\n'],
    ['ending with the end marker and no newline', 'x\n<<provision:end>>'],
    ['carriage returns and unicode', 'é\r\n✓\r'],
  ])('keeps content that is %s exactly', (_name, content) => {
    expect(parseFileState('/f', probed({ type: 'file', content }).stdout, withContent).content).toBe(content);
  });

  it('accepts output whose final newline the runner dropped', () => {
    const stdout = probed({ type: 'file', content: 'a\n' }).stdout.slice(0, -1);
    expect(parseFileState('/f', stdout, withContent).content).toBe('a\n');
  });

  it('parses setuid/setgid modes and directories without content', () => {
    expect(parseFileState('/d', probed({ type: 'directory', mode: '2775' }).stdout, withContent)).toEqual({
      type: 'directory',
      link: false,
      attributes: { mode: 0o2775, uid: 0, gid: 0, owner: 'root', group: 'root' },
    });
  });

  it('parses an absent path and a dangling link', () => {
    expect(parseFileState('/x', 'link=no\ntype=absent\n', withContent)).toEqual({ type: 'absent', link: false });
    expect(parseFileState('/x', 'link=yes\ntype=absent\n', withContent)).toEqual({ type: 'absent', link: true });
  });

  it('says so when the file cannot be read', () => {
    const stdout = 'link=no\ntype=file\nattrs=600 0 0 root root\n<<provision:content>>\n\n<<provision:unreadable>>\n';
    expect(() => parseFileState('/etc/shadow', stdout, withContent)).toThrow(/cannot read \/etc\/shadow on the target/);
  });

  it.each([
    ['empty output', ''],
    ['no attrs (stat missing)', 'link=no\ntype=file\n<<provision:content>>\nx\n<<provision:end>>\n'],
    ['attrs=unknown', 'link=no\ntype=file\nattrs=unknown\n<<provision:content>>\nx\n<<provision:end>>\n'],
    ['truncated content', 'link=no\ntype=file\nattrs=644 0 0 root root\n<<provision:content>>\nx\n'],
    ['no content', 'link=no\ntype=file\nattrs=644 0 0 root root\n'],
  ])('rejects %s with an OperationError', (_name, stdout) => {
    expect(() => parseFileState('/f', stdout, withContent)).toThrow(OperationError);
  });
});

describe('checkPath', () => {
  it.each([
    ['etc/ha.d', /relative/],
    ['/etc/ha.d/', /not normalized; write it as "\/etc\/ha.d"/],
    ['/etc/../etc/x', /not normalized; write it as "\/etc\/x"/],
    ['/etc//x', /not normalized/],
    ['/etc/./x', /not normalized/],
  ])('rejects %s', (path, message) => {
    expect(() => checkPath('file', path)).toThrow(message);
  });

  it('accepts absolute normalized paths', () => {
    expect(checkPath('file', '/')).toBe('/');
    expect(checkPath('file', '/etc/ha.d/ha.cf')).toBe('/etc/ha.d/ha.cf');
  });
});

describe('attributes', () => {
  it('accepts 3 or 4 octal digits and names or ids', () => {
    expect(checkAttributes('file', '/f', { mode: '0644', owner: 'hacluster', group: '107' })).toEqual({ mode: 0o644, owner: 'hacluster', group: '107' });
    expect(checkAttributes('file', '/f', { mode: '755' })).toEqual({ mode: 0o755 });
  });

  it.each([{ mode: 'u=rw' }, { mode: '0888' }, { mode: '12345' }, { mode: '' }, { owner: 'root:root' }, { group: 'a b' }, { owner: '' }])(
    'rejects %o',
    (options) => {
      expect(() => checkAttributes('file', '/f', options)).toThrow(OperationError);
    },
  );

  const current = { mode: 0o644, uid: 0, gid: 107, owner: 'root', group: 'haclient' };

  it('compares owners and groups by name or by id', () => {
    expect(attributeChanges({ mode: 0o644, owner: '0', group: 'haclient' }, current)).toEqual({});
    expect(attributeChanges({ owner: 'root', group: '107' }, current)).toEqual({});
    expect(attributeChanges({ mode: 0o600, owner: 'hacluster', group: 'root' }, current)).toEqual({ mode: 0o600, owner: 'hacluster', group: 'root' });
    expect(attributeChanges({ owner: 'root' }, undefined)).toEqual({ owner: 'root' });
  });

  it('uses chgrp for a group alone, chown user:group otherwise', () => {
    expect(attributeCommands('"$t"', { group: 'haclient' })).toEqual(['chgrp haclient "$t" || exit 1']);
    expect(attributeCommands('"$t"', { mode: 0o600, owner: 'hacluster', group: 'haclient' })).toEqual([
      'chmod 0600 "$t" || exit 1',
      'chown hacluster:haclient "$t" || exit 1',
    ]);
    expect(attributeCommands('"$t"', { owner: 'hacluster' })).toEqual(['chown hacluster "$t" || exit 1']);
    expect(describeAttributeChanges('/p', { mode: 0o4755, group: 'g' })).toBe('chmod 4755 /p; chgrp g /p');
  });
});
