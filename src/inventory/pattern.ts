// Host patterns, as in Ansible: the `hosts:` of a play and --limit.
//
//   all, *            every host
//   directors         a group (its hosts and those of its child groups) or a host name
//   web*, lvs-?       shell wildcards, matched against group and host names
//   ~web[12]$         a regular expression, matched against group and host names
//   a:b  a,b          union            a:&b   intersection            a:!b   exclusion
//
// Like Ansible, the terms are applied unions first, then intersections, then exclusions, each
// kind left to right; a pattern with no union term starts from all hosts ('!lvs-backup' is every
// host but lvs-backup). The result is in inventory order, whatever the order of the terms.
//
// Stricter than Ansible, on purpose: a term that matches no host or group is an error, not a
// warning, because a misspelt exclusion ('directors:!lvs-bakup') would otherwise silently run on
// the host it was meant to spare.
import { UserError, type ErrorLocation } from '../core/errors.ts';
import type { Inventory } from './model.ts';
import { didYouMean } from './suggest.ts';

type Operator = 'union' | 'intersection' | 'exclusion';

interface Term {
  operator: Operator;
  name: string;
  text: string;
}

const ORDER: readonly Operator[] = ['union', 'intersection', 'exclusion'];

/**
 * The names of the hosts `pattern` selects, in inventory order. `where` locates the pattern in
 * errors (e.g. the play's `hosts:` line); a pattern that selects nothing is a UserError.
 */
export function selectHosts(inventory: Pick<Inventory, 'hosts' | 'groups'>, pattern: string, where: ErrorLocation = {}): string[] {
  const terms = parsePattern(pattern, where);
  const ordered = ORDER.flatMap((operator) => terms.filter((term) => term.operator === operator));
  const selected = new Set<string>(terms.some((term) => term.operator === 'union') ? [] : inventory.hosts.keys());
  for (const term of ordered) {
    const matched = matchTerm(inventory, term, pattern, where);
    if (term.operator === 'union') {
      for (const host of matched) selected.add(host);
    } else if (term.operator === 'intersection') {
      for (const host of [...selected]) if (!matched.has(host)) selected.delete(host);
    } else {
      for (const host of matched) selected.delete(host);
    }
  }
  const result = [...inventory.hosts.keys()].filter((host) => selected.has(host));
  if (result.length === 0) {
    throw new UserError(
      `host pattern '${pattern}' selects no hosts`,
      where,
      terms.length > 1 ? 'each part names hosts, but the & and ! parts leave none: check them' : 'the group has no hosts: add some to it in the inventory',
    );
  }
  return result;
}

function parsePattern(pattern: string, where: ErrorLocation): Term[] {
  const texts = pattern.split(/[:,]/).map((text) => text.trim());
  if (pattern.trim() === '' || texts.some((text) => text === '' || text === '!' || text === '&')) {
    throw new UserError(
      `host pattern '${pattern}' has an empty part`,
      where,
      "write names separated by ':' or ',', each optionally prefixed by ! (except) or & (and also in), e.g. directors:!lvs-backup",
    );
  }
  return texts.map((text) => {
    if (text.startsWith('!')) return { operator: 'exclusion', name: text.slice(1).trim(), text };
    if (text.startsWith('&')) return { operator: 'intersection', name: text.slice(1).trim(), text };
    return { operator: 'union', name: text, text };
  });
}

/** The hosts one term names; a term that names nothing is an error. */
function matchTerm(inventory: Pick<Inventory, 'hosts' | 'groups'>, term: Term, pattern: string, where: ErrorLocation): Set<string> {
  const { name } = term;
  if (name === 'all' || name === '*') return new Set(inventory.hosts.keys());
  const group = inventory.groups.get(name);
  if (group !== undefined) return new Set(group.hosts);
  if (inventory.hosts.has(name)) return new Set([name]);

  const matcher = nameMatcher(name, pattern, where);
  if (matcher !== undefined) {
    const hosts = new Set<string>();
    for (const candidate of inventory.groups.values()) if (matcher(candidate.name)) for (const host of candidate.hosts) hosts.add(host);
    for (const host of inventory.hosts.keys()) if (matcher(host)) hosts.add(host);
    if (hosts.size > 0) return hosts;
    throw new UserError(`host pattern '${pattern}': '${term.text}' matches no host or group`, where, listNames(inventory));
  }
  const names = [...inventory.groups.keys(), ...inventory.hosts.keys()];
  throw new UserError(`host pattern '${pattern}': no host or group is named '${name}'${didYouMean(name, names)}`, where, listNames(inventory));
}

/** A test for `~regex` and wildcard terms; undefined for a plain name. */
function nameMatcher(name: string, pattern: string, where: ErrorLocation): ((candidate: string) => boolean) | undefined {
  if (name.startsWith('~')) {
    let regex: RegExp;
    try {
      regex = new RegExp(name.slice(1));
    } catch (error) {
      throw new UserError(`host pattern '${pattern}': '${name}' is not a valid regular expression: ${(error as Error).message}`, where, 'fix the expression after ~');
    }
    return (candidate) => regex.test(candidate);
  }
  if (!/[*?[]/.test(name)) return undefined;
  const glob = globToRegExp(name);
  return (candidate) => glob.test(candidate);
}

/** Shell wildcards, as Python's fnmatch (which Ansible uses): * ? [abc] [!abc]. */
function globToRegExp(glob: string): RegExp {
  let source = '';
  for (let i = 0; i < glob.length; i++) {
    const char = glob.charAt(i);
    const close = char === '[' ? glob.indexOf(']', i + 2) : -1;
    if (char === '*') source += '.*';
    else if (char === '?') source += '.';
    else if (close > 0) {
      const set = glob.slice(i + 1, close);
      source += `[${set.startsWith('!') ? `^${escapeInSet(set.slice(1))}` : escapeInSet(set)}]`;
      i = close;
    } else source += char.replace(/[\\^$.|+()[\]{}]/, (c) => `\\${c}`);
  }
  return new RegExp(`^${source}$`);
}

function escapeInSet(set: string): string {
  return set.replace(/[\\\]^]/g, (c) => `\\${c}`);
}

function listNames(inventory: Pick<Inventory, 'hosts' | 'groups'>): string {
  return `groups: ${[...inventory.groups.keys()].join(', ')}; hosts: ${[...inventory.hosts.keys()].join(', ')}`;
}
