// {{ name }} and {{ name.key }} in variable values, resolved against the other variables of the
// same host after every layer has been merged (so a group variable can use a host variable, and a
// role default can use an inventory variable).
//
// Deliberately small: a reference is a variable name followed by keys or list indexes; there are
// no filters or expressions, so a template cannot fail in surprising ways. A string that is exactly
// one reference takes the referenced value with its type ('{{ realservers }}' stays a list); a
// reference inside a longer string must be a string, number or boolean.
import { UserError, type ErrorLocation } from '../core/errors.ts';
import type { VarOrigin } from './precedence.ts';
import { didYouMean } from './suggest.ts';
import { formatPath, type PathSegment } from './yaml-file.ts';

export interface InterpolateOptions {
  /**
   * Strings taken as they are, never as templates: the values read with !env (a password may
   * well contain "{{").
   */
  literal?: ReadonlySet<string>;
}

const TEMPLATE = /\{\{([\s\S]*?)\}\}/g;
const REFERENCE = /^[A-Za-z_][A-Za-z0-9_]*(\.[A-Za-z0-9_-]+)*$/;

/** Where a template string is: which variable it belongs to and the key path inside it. */
interface Usage {
  variable: string;
  path: PathSegment[];
}

/** Resolve every template in `vars`; throws a UserError naming the variable and file:line at fault. */
export function interpolateVars(
  vars: Record<string, unknown>,
  origin: Record<string, VarOrigin> = {},
  options: InterpolateOptions = {},
): Record<string, unknown> {
  const literal = options.literal ?? new Set<string>();
  const resolved = new Map<string, unknown>();
  /** variables being resolved, outermost first: meeting one of them again is a cycle */
  const inProgress: string[] = [];

  const locate = (usage: Usage): ErrorLocation => {
    const from = origin[usage.variable];
    if (from?.file === undefined) return {};
    const nested = from.nested?.[formatPath(usage.path)];
    if (nested !== undefined) return { file: from.file, ...nested };
    return { file: from.file, ...(from.line === undefined ? {} : { line: from.line }), ...(from.column === undefined ? {} : { column: from.column }) };
  };
  /** "in 'x.y' (set in role heartbeat defaults)" when there is no file to point at */
  const usedIn = (usage: Usage): string => {
    const from = origin[usage.variable];
    return `'${formatPath(usage.path)}'${from !== undefined && from.file === undefined ? ` (set in ${from.layer})` : ''}`;
  };

  const resolveVariable = (name: string, usage: Usage): unknown => {
    if (resolved.has(name)) return resolved.get(name);
    const cycleStart = inProgress.indexOf(name);
    if (cycleStart >= 0) {
      const chain = [...inProgress.slice(cycleStart), name].join(' -> ');
      throw new UserError(`variables refer to each other in a cycle: ${chain} (in ${usedIn(usage)})`, locate(usage), 'break the cycle: one of these variables must have a value that does not use the others');
    }
    if (!Object.hasOwn(vars, name)) {
      throw new UserError(
        `undefined variable '${name}' used in ${usedIn(usage)}${didYouMean(name, Object.keys(vars))}`,
        locate(usage),
        `define ${name} (inventory vars, group_vars/, host_vars/, the play's vars or -e ${name}=...), or correct the name`,
      );
    }
    inProgress.push(name);
    const value = resolveValue(vars[name], { variable: name, path: [name] });
    inProgress.pop();
    resolved.set(name, value);
    return value;
  };

  const lookUp = (reference: string, usage: Usage): unknown => {
    const [name = '', ...keys] = reference.split('.');
    let value = resolveVariable(name, usage);
    let walked = name;
    for (const key of keys) {
      const next = childOf(value, key);
      if (next === undefined) {
        const keysHere = value !== null && typeof value === 'object' && !Array.isArray(value) ? Object.keys(value) : [];
        throw new UserError(
          `'${walked}' has no key '${key}' (used in ${usedIn(usage)})${didYouMean(key, keysHere)}`,
          locate(usage),
          keysHere.length > 0 ? `'${walked}' has the keys: ${keysHere.join(', ')}` : `'${walked}' is ${describe(value)}`,
        );
      }
      value = next.value;
      walked += `.${key}`;
    }
    return value;
  };

  const render = (template: string, usage: Usage): unknown => {
    if (literal.has(template) || !template.includes('{{')) return template;
    const unclosed = template.lastIndexOf('{{') > template.lastIndexOf('}}');
    if (unclosed) throw new UserError(`'{{' without a closing '}}' in ${usedIn(usage)}`, locate(usage), 'close the reference: {{ name }}');
    const references = [...template.matchAll(TEMPLATE)].map((match) => ({ text: match[0], reference: (match[1] ?? '').trim() }));
    for (const { text, reference } of references) {
      if (!REFERENCE.test(reference)) {
        throw new UserError(
          `unsupported template ${text} in ${usedIn(usage)}: only a variable name and keys are allowed, like {{ name }} or {{ name.key }}`,
          locate(usage),
          'compute the value in a role, or give it as a plain variable',
        );
      }
    }
    const only = references[0];
    if (references.length === 1 && only !== undefined && only.text === template) return lookUp(only.reference, usage);
    return template.replace(TEMPLATE, (_text, inner: string) => {
      const reference = inner.trim();
      const value = lookUp(reference, usage);
      if (typeof value === 'string' || typeof value === 'number' || typeof value === 'boolean') return String(value);
      throw new UserError(
        `{{ ${reference} }} is ${describe(value)} and cannot be part of a longer string (in ${usedIn(usage)})`,
        locate(usage),
        `use it alone as the whole value ("{{ ${reference} }}") or refer to one of its items`,
      );
    });
  };

  const resolveValue = (value: unknown, usage: Usage): unknown => {
    if (typeof value === 'string') return render(value, usage);
    if (Array.isArray(value)) return value.map((item, index) => resolveValue(item, { ...usage, path: [...usage.path, index] }));
    if (isPlainObject(value)) {
      const out: Record<string, unknown> = {};
      for (const [key, item] of Object.entries(value)) out[key] = resolveValue(item, { ...usage, path: [...usage.path, key] });
      return out;
    }
    return value;
  };

  const out: Record<string, unknown> = {};
  for (const name of Object.keys(vars)) out[name] = resolveVariable(name, { variable: name, path: [name] });
  return out;
}

function childOf(value: unknown, key: string): { value: unknown } | undefined {
  if (Array.isArray(value)) {
    if (!/^\d+$/.test(key)) return undefined;
    const index = Number(key);
    return index < value.length ? { value: value[index] } : undefined;
  }
  if (isPlainObject(value) && Object.hasOwn(value, key)) return { value: value[key] };
  return undefined;
}

function isPlainObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}

function describe(value: unknown): string {
  if (value === null || value === undefined) return 'empty';
  if (Array.isArray(value)) return 'a list';
  if (typeof value === 'object') return 'a mapping';
  return `a ${typeof value}`;
}
