// Where provision's own files are, whether this code runs from its sources (src/, through tsx) or
// compiled (dist/src/, built by scripts/build.js): the project directory is the one that holds
// package.json, roles/ and src/ either way.
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));

/** true when this is the compiled copy of the code in dist/ */
export const runningCompiled = import.meta.url.endsWith('.js');

/** the project's directory (the repository, or the installed package) */
export const projectDir = path.resolve(here, runningCompiled ? '../../..' : '../..');

/** the directory of the code running: dist/ when compiled, else the project directory */
export const codeDir = path.resolve(here, '../..');
