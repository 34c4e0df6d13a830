// @ts-check
// Whether the compiled CLI in dist/ may run: it must have been built from the sources as they are
// now. scripts/build.js records every file it compiled or copied (size, mtime, SHA-256) in
// dist/build-manifest.json, written last; the check compares them with the files of src/ and roles/.
// Plain JavaScript run by node itself, before anything is compiled or registered.
import { createHash } from 'node:crypto';
import { readdirSync, readFileSync, statSync } from 'node:fs';
import path from 'node:path';

export const DIST_DIR = 'dist';
export const MANIFEST_FILE = 'build-manifest.json';
/** The directories the build compiles (their .ts files) and copies (every other file). */
export const SOURCE_DIRS = ['src', 'roles'];
/** Files outside them that decide what the build makes (the build bundles TypeBox: scripts/build.js). */
export const BUILD_CONFIG = ['tsconfig.json', 'tsconfig.build.json', 'scripts/build.js', 'bin/compiled.js', 'node_modules/@sinclair/typebox/package.json'];

/** @typedef {{ size: number, mtimeMs: number, sha256: string }} FileStamp */
/** @typedef {{ version: 1, files: Record<string, FileStamp> }} Manifest */

/** Tests are not part of the program, nor editors' hidden and backup files. */
export function isBuildInput(/** @type {string} */ relative) {
  const name = path.posix.basename(relative);
  return !name.endsWith('.test.ts') && !name.startsWith('.') && !name.endsWith('~');
}

/**
 * The files the build reads, relative to `root` with `/` separators, sorted.
 * @param {string} root
 * @returns {string[]}
 */
export function buildInputs(root) {
  const files = SOURCE_DIRS.flatMap((dir) =>
    readdirSync(path.join(root, dir), { recursive: true, withFileTypes: true })
      .filter((entry) => entry.isFile())
      .map((entry) => path.relative(root, path.join(entry.parentPath ?? entry.path, entry.name)).split(path.sep).join('/')),
  );
  return [...files.filter(isBuildInput), ...BUILD_CONFIG].sort();
}

/**
 * @param {string} root
 * @param {readonly string[]} files
 * @returns {Manifest}
 */
export function stampFiles(root, files) {
  /** @type {Record<string, FileStamp>} */
  const stamps = {};
  for (const file of files) {
    const absolute = path.join(root, file);
    const { size, mtimeMs } = statSync(absolute);
    stamps[file] = { size, mtimeMs, sha256: sha256(readFileSync(absolute)) };
  }
  return { version: 1, files: stamps };
}

/**
 * Why dist/ under `root` must not run, or undefined when it was built from the files as they are.
 * A file whose size and mtime are those recorded is taken as unchanged (a stat each: a few ms for
 * the whole tree); one whose stat differs is compared by content (a checkout or `touch` that left
 * the content alone does not count as a change). A file added since the build is new to it only if
 * a file it knows was changed to import it, so the files it knows are enough.
 * @param {string} root
 * @returns {string | undefined}
 */
export function staleReason(root) {
  /** @type {Manifest} */
  let manifest;
  try {
    manifest = JSON.parse(readFileSync(path.join(root, DIST_DIR, MANIFEST_FILE), 'utf8'));
  } catch {
    return `${DIST_DIR}/ is not built (npm run build)`;
  }
  if (manifest.version !== 1 || typeof manifest.files !== 'object') return `${DIST_DIR}/${MANIFEST_FILE} is not one this version writes`;
  for (const [file, stamp] of Object.entries(manifest.files)) {
    const absolute = path.join(root, file);
    let stat;
    try {
      stat = statSync(absolute);
    } catch {
      return `${file} was removed since the build`;
    }
    if (stat.size === stamp.size && stat.mtimeMs === stamp.mtimeMs) continue;
    if (stat.size !== stamp.size || sha256(readFileSync(absolute)) !== stamp.sha256) return `${file} changed since the build`;
  }
  return undefined;
}

function sha256(/** @type {Buffer} */ data) {
  return createHash('sha256').update(data).digest('hex');
}
