// The "; did you mean 'x'?" tail of messages about misspelt keys, names and values.
import { suggest } from '../core/suggest.ts';

/** "; did you mean 'address'?", or "" when no candidate is close to `word`. */
export function didYouMean(word: string, candidates: Iterable<string>): string {
  const match = suggest(word, [...candidates].filter((candidate) => candidate !== word));
  return match === undefined ? '' : `; did you mean '${match}'?`;
}
