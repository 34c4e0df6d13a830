#!/usr/bin/env node
// @ts-check
// The provision command. It runs the compiled CLI (dist/, built by `npm ci` through npm's prepare
// step: scripts/build.js) when dist/ was built from the sources as they are now, else the sources
// themselves through tsx: an edited source is never shadowed by a stale compiled copy, and a
// checkout without dist/ (npm ci --ignore-scripts) still works, only slower to start.
import path from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { DIST_DIR, staleReason } from './compiled.js';

const root = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '..');
/** @type {{ main(argv: string[]): Promise<number> }} */
let cli;
if (staleReason(root) === undefined) {
  cli = await import(pathToFileURL(path.join(root, DIST_DIR, 'src/cli/main.js')).href);
} else {
  const { register } = await import('tsx/esm/api');
  register();
  cli = await import('../src/cli/main.ts');
}
process.exitCode = await cli.main(process.argv.slice(2));
