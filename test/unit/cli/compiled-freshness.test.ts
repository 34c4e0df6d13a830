// The rule that keeps the compiled CLI honest (bin/compiled.js): dist/ runs only while every file it
// was built from is as it was, judged by content, so a checkout or `touch` does not count as a change
// and an edit of the same size does.
import { mkdtemp, mkdir, rm, utimes, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { BUILD_CONFIG, buildInputs, DIST_DIR, MANIFEST_FILE, staleReason, stampFiles } from '../../../bin/compiled.js';

describe('the compiled CLI is fresh only while its sources are as built', () => {
  let root: string;
  const write = async (file: string, text: string) => {
    await mkdir(path.dirname(path.join(root, file)), { recursive: true });
    await writeFile(path.join(root, file), text);
  };
  const build = async () => {
    const manifest = stampFiles(root, buildInputs(root));
    await write(`${DIST_DIR}/${MANIFEST_FILE}`, JSON.stringify(manifest));
  };

  beforeEach(async () => {
    root = await mkdtemp(path.join(tmpdir(), 'provision-fresh-'));
    for (const file of BUILD_CONFIG) await write(file, `// ${file}\n`);
    await write('src/cli/main.ts', "export const a = 'one';\n");
    await write('src/lab/server.mjs', 'export {};\n');
    await write('roles/base/index.ts', "export default 'base';\n");
    await write('src/cli/main.test.ts', 'test\n');
    await write('src/cli/.main.ts.swp', 'editor\n');
  });
  afterEach(() => rm(root, { recursive: true, force: true }));

  it('lists the sources, the other files of src/ and roles/ and the build configuration, not tests or editor files', () => {
    expect(buildInputs(root)).toEqual([...BUILD_CONFIG, 'roles/base/index.ts', 'src/cli/main.ts', 'src/lab/server.mjs'].sort());
  });

  it('is fresh right after the build', async () => {
    await build();
    expect(staleReason(root)).toBeUndefined();
  });

  it('is not built without a manifest (no dist/, or a build that did not finish)', () => {
    expect(staleReason(root)).toMatch(/not built/);
  });

  it('stays fresh when a file is touched but not changed (a checkout, touch)', async () => {
    await build();
    const later = new Date(Date.now() + 60_000);
    await utimes(path.join(root, 'src/cli/main.ts'), later, later);
    expect(staleReason(root)).toBeUndefined();
  });

  it('is stale when a source changed, even to the same size and with its old mtime', async () => {
    await build();
    const file = path.join(root, 'src/cli/main.ts');
    await write('src/cli/main.ts', "export const a = 'two';\n");
    const old = new Date(Date.now() - 60_000);
    await utimes(file, old, old);
    expect(staleReason(root)).toBe('src/cli/main.ts changed since the build');
  });

  it('is stale when a role, a copied file or the build configuration changed', async () => {
    for (const file of ['roles/base/index.ts', 'src/lab/server.mjs', 'tsconfig.build.json']) {
      await build();
      await write(file, 'changed\n');
      expect(staleReason(root), file).toBe(`${file} changed since the build`);
    }
  });

  it('is stale when a source was removed', async () => {
    await build();
    await rm(path.join(root, 'roles/base/index.ts'));
    expect(staleReason(root)).toBe('roles/base/index.ts was removed since the build');
  });

  it('ignores a test file that changed (tests are not compiled)', async () => {
    await build();
    await write('src/cli/main.test.ts', 'another test\n');
    expect(staleReason(root)).toBeUndefined();
  });
});
