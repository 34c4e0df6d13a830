// Test helpers: small YAML trees written to a temporary directory, and the errors they produce.
import { mkdir, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterEach, expect } from 'vitest';
import { UserError } from '../../../src/core/errors.ts';
import { InputProblems } from '../../../src/inventory/problems.ts';

export const repoRoot = path.resolve(path.dirname(fileURLToPath(import.meta.url)), '../../..');
export const fixture = (...parts: string[]): string => path.join(repoRoot, 'test/fixtures', ...parts);

/** Returns a function writing `{ 'relative/path': 'content' }` into a fresh directory, removed after each test. */
export function tempTree(): (files: Record<string, string>) => Promise<string> {
  const dirs: string[] = [];
  afterEach(async () => {
    await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
  });
  return async (files) => {
    const dir = await mkdtemp(path.join(tmpdir(), 'provision-test-'));
    dirs.push(dir);
    for (const [name, content] of Object.entries(files)) {
      await mkdir(path.dirname(path.join(dir, name)), { recursive: true });
      await writeFile(path.join(dir, name), content);
    }
    return dir;
  };
}

/** The UserError a promise rejects with (failing the test if it resolves or throws something else). */
export async function userError(promise: Promise<unknown>): Promise<UserError> {
  const error: unknown = await promise.then(
    () => undefined,
    (reason: unknown) => reason,
  );
  expect(error).toBeInstanceOf(UserError);
  return error as UserError;
}

/** The same for a synchronous call. */
export function userErrorOf(call: () => unknown): UserError {
  try {
    call();
  } catch (error) {
    expect(error).toBeInstanceOf(UserError);
    return error as UserError;
  }
  throw new Error('expected a UserError, but nothing was thrown');
}

/** Each problem as "line:column message" (several problems are reported together). */
export function problems(error: UserError): string[] {
  const list = error instanceof InputProblems ? error.problems : [error];
  return list.map((problem) => `${problem.where.line}:${problem.where.column} ${problem.message}`);
}
