import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { findDebianMirror, parseDeb822Sources, parseOneLineSources, readMachineSources } from '../../../src/lab/apt-sources.ts';

describe("the machine's apt sources", () => {
  it('reads one-line entries, with options and comments, skipping deb-src', () => {
    const sources = parseOneLineSources(
      ['# deb http://commented.example/debian bookworm main', 'deb-src http://src.example/debian bookworm main', 'deb [arch=amd64 signed-by=/k.gpg] http://one.example/debian bookworm main contrib # trailing', ''].join('\n'),
    );
    expect(sources).toEqual([{ uri: 'http://one.example/debian', suites: ['bookworm'], components: ['main', 'contrib'] }]);
  });

  it('reads deb822 stanzas, skipping disabled ones and deb-src', () => {
    const sources = parseDeb822Sources(
      [
        'Types: deb',
        '# a comment inside the stanza',
        'URIs: http://a.example/debian http://b.example/debian',
        'Suites: bookworm bookworm-updates',
        'Components: main',
        '',
        'Types: deb',
        'URIs: http://off.example/debian',
        'Suites: bookworm',
        'Components: main',
        'Enabled: no',
        '',
        'Types: deb-src',
        'URIs: http://src.example/debian',
        'Suites: bookworm',
        'Components: main',
      ].join('\n'),
    );
    expect(sources).toEqual([
      { uri: 'http://a.example/debian', suites: ['bookworm', 'bookworm-updates'], components: ['main'] },
      { uri: 'http://b.example/debian', suites: ['bookworm', 'bookworm-updates'], components: ['main'] },
    ]);
  });

  it('picks the first http(s) source of the suite itself with main', () => {
    const sources = [
      { uri: 'http://security.example/debian-security', suites: ['bookworm-security'], components: ['main'] },
      { uri: 'file:/media/cdrom', suites: ['bookworm'], components: ['main'] },
      { uri: 'http://contrib-only.example/debian', suites: ['bookworm'], components: ['contrib'] },
      { uri: 'https://mirror.example/debian', suites: ['bookworm'], components: ['main'] },
    ];
    expect(findDebianMirror(sources, 'bookworm')).toBe('https://mirror.example/debian');
    expect(findDebianMirror(sources, 'trixie')).toBeUndefined();
  });

  it('reads sources.list and sources.list.d/*.list and *.sources, ignoring other files', async () => {
    const dir = await mkdtemp(path.join(tmpdir(), 'provision-apt-'));
    try {
      await mkdir(path.join(dir, 'sources.list.d'));
      await writeFile(path.join(dir, 'sources.list'), 'deb http://list.example/debian bookworm main\n');
      await writeFile(path.join(dir, 'sources.list.d', 'b.sources'), 'Types: deb\nURIs: http://deb822.example/debian\nSuites: bookworm\nComponents: main\n');
      await writeFile(path.join(dir, 'sources.list.d', 'a.list.disabled'), 'deb http://disabled.example/debian bookworm main\n');
      const sources = await readMachineSources(dir);
      expect(sources.map((source) => source.uri)).toEqual(['http://list.example/debian', 'http://deb822.example/debian']);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});
