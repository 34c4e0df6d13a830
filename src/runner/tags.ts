// --tags / --skip-tags, as in Ansible: a task's tags are its own plus those of its role reference
// and play; 'always' runs unless skipped by name; 'never' runs only when asked for by name.
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
