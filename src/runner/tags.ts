// --tags / --skip-tags, as in Ansible: a task's tags are its own plus those of its role reference
// and play; 'always' runs unless skipped by name; 'never' runs only when asked for by name.
import { UserError } from '../core/errors.ts';
import { suggest } from '../core/suggest.ts';
import type { Task } from '../core/task.ts';

export interface TagFilter {
  only: string[];
  skip: string[];
}

export function selectByTags(tasks: Task[], inherited: string[], filter: TagFilter): Task[] {
  return tasks.filter((task) => wanted(new Set([...inherited, ...(task.tags ?? [])]), filter));
}

export function wanted(tags: Set<string>, filter: TagFilter): boolean {
  if (filter.skip.some((t) => tags.has(t)) || (filter.skip.includes('all') && !tags.has('always'))) return false;
  if (tags.has('always')) return true;
  if (filter.only.length === 0 || filter.only.includes('all')) return !tags.has('never');
  if (filter.only.includes('tagged') && tags.size > 0) return true;
  if (filter.only.includes('untagged') && tags.size === 0) return true;
  return filter.only.some((t) => tags.has(t));
}

/** Words --tags and --skip-tags understand whatever the playbook says. */
export const SPECIAL_TAGS = ['all', 'always', 'never', 'tagged', 'untagged'] as const;

/**
 * A tag in --tags or --skip-tags that no play, role reference or task of the run has: a typo there
 * would select nothing (or skip nothing) without a word. `known` is every tag of every task the run
 * could select, with what the tasks inherit.
 */
export function unknownTagProblems(filter: TagFilter, known: ReadonlySet<string>, playbook: string): UserError[] {
  const problems: UserError[] = [];
  for (const [option, tags] of [['--tags', filter.only], ['--skip-tags', filter.skip]] as const) {
    for (const tag of new Set(tags)) {
      if (known.has(tag) || (SPECIAL_TAGS as readonly string[]).includes(tag)) continue;
      const named = [...known].filter((t) => !(SPECIAL_TAGS as readonly string[]).includes(t)).sort();
      const close = suggest(tag, named);
      const list = named.join(', ');
      problems.push(
        new UserError(
          `unknown tag '${tag}' in ${option}: no play, role or task of ${playbook} has it (nothing was run)`,
          {},
          `${close ? `did you mean '${close}'? ` : ''}${list ? `known tags: ${list}` : 'the playbook tags nothing'}; ${option} also takes ${SPECIAL_TAGS.join(', ')}`,
        ),
      );
    }
  }
  return problems;
}
