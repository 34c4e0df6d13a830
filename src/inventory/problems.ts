// A file can have several mistakes at once; reporting all of them saves the user one run per typo.
import { UserError } from '../core/errors.ts';

/**
 * Several user errors found in one pass. `where` and `hint` are those of the first problem (in
 * file order), so code that only looks at one error still points at the right place; format()
 * prints every problem.
 */
export class InputProblems extends UserError {
  override name = 'InputProblems';
  constructor(readonly problems: readonly UserError[]) {
    const first = problems[0];
    if (first === undefined) throw new Error('InputProblems needs at least one problem');
    const more = problems.length - 1;
    super(more === 0 ? first.message : `${first.message} (and ${more} more ${more === 1 ? 'problem' : 'problems'})`, first.where, first.hint);
  }

  override format(): string {
    return this.problems.map((problem) => problem.format()).join('\n');
  }
}

/** Sort by file position, drop exact repeats, and throw: one problem as itself, several together. */
export function throwProblems(problems: readonly UserError[]): void {
  if (problems.length === 0) return;
  const seen = new Set<string>();
  const unique = problems.filter((problem) => {
    const key = problem.format();
    if (seen.has(key)) return false;
    seen.add(key);
    return true;
  });
  // Files keep the order in which they were read (the inventory before its group_vars files).
  const fileRank = new Map<string | undefined, number>();
  for (const problem of unique) if (!fileRank.has(problem.where.file)) fileRank.set(problem.where.file, fileRank.size);
  const sorted = [...unique].sort(
    (a, b) =>
      (fileRank.get(a.where.file) ?? 0) - (fileRank.get(b.where.file) ?? 0) ||
      (a.where.line ?? 0) - (b.where.line ?? 0) ||
      (a.where.column ?? 0) - (b.where.column ?? 0),
  );
  const [only] = sorted;
  if (sorted.length === 1 && only !== undefined) throw only;
  throw new InputProblems(sorted);
}
