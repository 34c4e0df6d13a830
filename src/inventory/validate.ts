// Schema validation for the YAML files users write. Schemas are typebox values (one source for the
// TypeScript types, via Static<>, and for the JSON Schema that ajv checks); this module turns ajv's
// errors into messages a user can act on: file:line:column, the key path, what was expected, what
// was found, and a suggestion for a misspelt key or value.
//
// Schemas may carry two annotations, read only here:
//   expected       - how to say what a valid value is ("an integer 1-65535")
//   unknownKeyHint - said after "unknown key 'x' in ..." when no known key is close to 'x'
//   secret         - the value is a secret (value-types.ts): masked in every output
//
// Compiling a schema takes ajv a while (the inventory's: a few hundred ms), so a schema is compiled
// when it is first used, and the compiled CLI does not compile the schemas it knows: the build
// (scripts/build.js) generates their validators ahead as ajv standalone code,
// precompiled-validators.cjs beside this module, each found by a digest of its schema's JSON (a
// schema that changed has no precompiled validator and is compiled). ajv itself is loaded only to
// compile.
import { Type, type Static, type TSchema, type TString } from '@sinclair/typebox';
import type { Ajv, ErrorObject, Options, ValidateFunction } from 'ajv';
import { createHash } from 'node:crypto';
import { createRequire } from 'node:module';
import { UserError } from '../core/errors.ts';
import { containsSecret, knownSecrets, unsetEnvVariable } from '../core/secret.ts';
import { throwProblems } from './problems.ts';
import { didYouMean } from './suggest.ts';
import { formatPath, type PathSegment, type YamlFile } from './yaml-file.ts';

/** How every schema of this module is compiled (the build's precompiled validators too). */
export const AJV_OPTIONS = { allErrors: true, verbose: true, strict: true } as const satisfies Options;
/** The annotations schemas may carry (read only here, see above). */
export const ANNOTATION_KEYWORDS = ['expected', 'unknownKeyHint', 'secret'] as const;

const require = createRequire(import.meta.url);

export function createAjv(options: Options = {}): Ajv {
  const { Ajv: AjvClass } = require('ajv') as typeof import('ajv');
  const ajv = new AjvClass({ ...AJV_OPTIONS, ...options });
  for (const keyword of ANNOTATION_KEYWORDS) ajv.addKeyword(keyword);
  return ajv;
}

let sharedAjv: Ajv | undefined;
const ajv = (): Ajv => (sharedAjv ??= createAjv());

/** The key of a schema's precompiled validator: a digest of its JSON. */
export function schemaKey(schema: TSchema): string {
  return createHash('sha256').update(JSON.stringify(schema)).digest('hex').slice(0, 32);
}

export const PRECOMPILED_VALIDATORS = 'precompiled-validators.cjs';
let precompiled: Readonly<Record<string, ValidateFunction>> | null | undefined;

function validatorOf(schema: TSchema): ValidateFunction {
  if (precompiled === undefined) {
    try {
      precompiled = require(`./${PRECOMPILED_VALIDATORS}`) as Record<string, ValidateFunction>;
    } catch (error) {
      if ((error as { code?: string }).code !== 'MODULE_NOT_FOUND') throw error;
      precompiled = null;
    }
  }
  return (precompiled && precompiled[schemaKey(schema)]) ?? ajv().compile(schema);
}

const declared: TSchema[] = [];

/** The schemas of the checkers made so far (compileChecker): the build precompiles them. */
export function declaredSchemas(): readonly TSchema[] {
  return declared;
}

/** A string that must be one of `values`; a misspelt value gets a suggestion. */
export function StringEnum<const T extends readonly string[]>(values: T, options: { expected?: string } = {}) {
  return Type.Unsafe<T[number]>({ type: 'string', enum: [...values], ...options });
}

/**
 * A mapping whose keys are names chosen by the user (hosts, groups, variables): every key must
 * match `names`, every value `value`.
 */
export function NamedMap<T extends TSchema>(names: TString, value: T, options: { expected?: string } = {}) {
  return Type.Record(Type.String(), value, { propertyNames: names, ...options });
}

/** Names usable in `{{ name }}`, so every variable defined in a file can be referenced. */
export const VariableName = Type.String({
  pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
  maxLength: 128,
  expected: 'a variable name: letters, digits and _, not starting with a digit',
});

/** A `vars:` mapping: variable name -> any value. */
export const Vars = NamedMap(VariableName, Type.Unknown(), { expected: 'a mapping of variable names to values' });
export type VarsValue = Static<typeof Vars>;

export interface CheckContext {
  /** the file the data came from (for positions) */
  yaml: YamlFile;
  /** names what the object at a path is, for "unknown key 'x' in <description>" */
  describe?: (path: readonly PathSegment[]) => string;
}

export type Checker<T extends TSchema> = (data: unknown, context: CheckContext) => Static<T>;

/** Compile a schema once, when first used; the checker returns the data typed, or throws every problem found. */
export function compileChecker<T extends TSchema>(schema: T): Checker<T> {
  declared.push(schema);
  let compiled: ValidateFunction | undefined;
  return (data, context) => {
    const validate = (compiled ??= validatorOf(schema));
    if (validate(data)) return data as Static<T>;
    const errors = judgeableErrors(validate.errors);
    if (errors.length === 0) return data as Static<T>;
    const problems = schemaProblems(errors, data, context);
    // Every failing keyword maps to a problem; should one ever not, ajv's own words are better than nothing.
    if (problems.length === 0) problems.push(new UserError(ajv().errorsText(validate.errors), { file: context.yaml.file }));
    throwProblems(problems);
    return data as Static<T>;
  };
}

/**
 * Compile the schema of one value (a role variable) once; the checker says what is wrong with a
 * value, in the words of a schema error ("expected an IPv4 address ..., got \"x\""), or returns
 * undefined when it is valid. The caller knows where the value was written.
 */
export function compileValueChecker(schema: TSchema): (value: unknown, secrets: ReadonlySet<string>) => string | undefined {
  const validate = validatorOf(schema);
  return (value, secrets) => {
    if (validate(value)) return undefined;
    const errors = judgeableErrors(validate.errors);
    if (errors.length === 0) return undefined;
    const error = errors[0];
    if (error === undefined) return 'an invalid value';
    const parent = (error.parentSchema ?? {}) as Record<string, unknown>;
    const inside = error.instancePath === '' ? '' : ` at ${error.instancePath.slice(1).replace(/\//g, '.')}`;
    return `expected ${expectedOf(parent, error)}${inside}, got ${showValue(error.data, secrets)}`;
  };
}

/**
 * The errors that say something about the value: not those about an unknown value (an unset `!env`
 * read by lint, unsetEnvValue in core/secret.ts) where a secret goes. That it is a secret string is all lint can know
 * of it and all such a place asks before the run, which reads the value and checks the rest.
 * Anywhere else the error stands: lint needs the value there, and says which variable to set.
 */
function judgeableErrors(errors: readonly ErrorObject[] | null | undefined): ErrorObject[] {
  return (errors ?? []).filter((error) => unsetEnvVariable(error.data) === undefined || (error.parentSchema as { secret?: unknown } | undefined)?.secret !== true);
}

/**
 * Where `data` (already checked against `schema`) holds a secret: the paths of its strings whose
 * type is marked `secret` (value-types.ts). Secrecy is a property of the declaration, so a setting
 * added later with a secret type is masked without more code.
 */
export function secretPaths(schema: TSchema, data: unknown, at: PathSegment[] = []): PathSegment[][] {
  const s = schema as Record<string, unknown>;
  if (s.secret === true) return typeof data === 'string' ? [at] : [];
  if (Array.isArray(data)) return s.items === undefined ? [] : data.flatMap((item, index) => secretPaths(s.items as TSchema, item, [...at, index]));
  if (data === null || typeof data !== 'object') return [];
  const properties = (s.properties ?? {}) as Record<string, TSchema>;
  const [anyKey] = Object.values((s.patternProperties ?? {}) as Record<string, TSchema>);
  return Object.entries(data).flatMap(([key, value]) => {
    const inner = properties[key] ?? anyKey;
    return inner === undefined ? [] : secretPaths(inner, value, [...at, key]);
  });
}

function schemaProblems(errors: readonly ErrorObject[], data: unknown, context: CheckContext): UserError[] {
  const problems: UserError[] = [];
  for (const error of errors) {
    const problem = problemFor(error, data, context);
    if (problem !== undefined) problems.push(problem);
  }
  return problems;
}

function problemFor(error: ErrorObject, root: unknown, { yaml, describe = formatPath }: CheckContext): UserError | undefined {
  const path = pointerToPath(error.instancePath, root);
  const at = (target: readonly PathSegment[], part: 'key' | 'value' = 'value') => ({ file: yaml.file, ...yaml.locate(target, part) });
  const parent = (error.parentSchema ?? {}) as Record<string, unknown>;

  if (error.keyword === 'propertyNames') return undefined; // reported by the inner error, which names the key
  if (error.propertyName !== undefined) {
    const name = error.propertyName;
    const keyPath = [...path, name];
    return new UserError(`${formatPath(keyPath)}: '${name}' is not a valid name in ${describe(path)}: expected ${expectedOf(parent, error)}`, at(keyPath, 'key'));
  }
  if (error.keyword === 'additionalProperties') {
    const key = String((error.params as { additionalProperty: string }).additionalProperty);
    const keyPath = [...path, key];
    const allowed = Object.keys((parent.properties as Record<string, unknown> | undefined) ?? {});
    const suggestion = didYouMean(key, allowed);
    const extra = suggestion === '' && typeof parent.unknownKeyHint === 'string' ? `${parent.unknownKeyHint}; ` : '';
    return new UserError(
      `${formatPath(keyPath)}: unknown key '${key}' in ${describe(path)}${suggestion}`,
      at(keyPath, 'key'),
      `${extra}allowed keys: ${allowed.join(', ')}`,
    );
  }
  if (error.keyword === 'required') {
    const missing = String((error.params as { missingProperty: string }).missingProperty);
    const schema = (parent.properties as Record<string, Record<string, unknown>> | undefined)?.[missing];
    const expected = schema === undefined ? undefined : (schema.expected as string | undefined);
    return new UserError(
      `${formatPath(path)}: ${describe(path)} has no '${missing}'`,
      at(path),
      expected === undefined ? `add '${missing}:'` : `add '${missing}:' with ${expected}`,
    );
  }

  const value = error.data;
  const shown = showValue(value, yaml.secrets);
  let message = `${formatPath(path)}: expected ${expectedOf(parent, error)}, got ${shown}`;
  if (error.keyword === 'enum' && typeof value === 'string') message += didYouMean(value, (parent.enum as string[] | undefined) ?? []);
  return new UserError(message, at(path), hintFor(error, value));
}

/** What a valid value is: the schema's own words, else derived from the failing keyword. */
function expectedOf(schema: Record<string, unknown>, error: ErrorObject): string {
  if (typeof schema.expected === 'string') return schema.expected;
  const params = error.params as Record<string, unknown>;
  switch (error.keyword) {
    case 'type':
      return typeWords(String(params.type));
    case 'enum':
      return `one of ${((params.allowedValues as unknown[] | undefined) ?? []).map((v) => JSON.stringify(v)).join(', ')}`;
    case 'const':
      return JSON.stringify(params.allowedValue);
    case 'minimum':
    case 'maximum':
    case 'exclusiveMinimum':
    case 'exclusiveMaximum':
      return `a number ${String(params.comparison)} ${String(params.limit)}`;
    case 'minLength':
      return params.limit === 1 ? 'a non-empty string' : `a string of at least ${String(params.limit)} characters`;
    case 'minItems':
      return params.limit === 1 ? 'a non-empty list' : `a list of at least ${String(params.limit)} items`;
    case 'pattern':
      return `a string matching ${String(params.pattern)}`;
    default:
      return error.message ?? error.keyword;
  }
}

function typeWords(type: string): string {
  const words: Record<string, string> = {
    integer: 'an integer',
    number: 'a number',
    string: 'a string',
    boolean: 'true or false',
    object: 'a mapping (key: value)',
    array: 'a list',
    null: 'nothing',
  };
  return type
    .split(',')
    .map((t) => words[t] ?? t)
    .join(' or ');
}

// YAML 1.1 (what Ansible reads) took yes/no/on/off as booleans; YAML 1.2 (read here) does not.
const YAML11_BOOLEANS = new Set(['yes', 'no', 'on', 'off', 'y', 'n']);

function hintFor(error: ErrorObject, value: unknown): string | undefined {
  const unset = unsetEnvVariable(value);
  if (unset !== undefined) return `export ${unset} (a run needs it too): without its value, lint can check an !env value only where a secret goes`;
  const type = (error.params as { type?: string }).type;
  if (error.keyword === 'type' && type === 'boolean' && typeof value === 'string' && YAML11_BOOLEANS.has(value.toLowerCase())) {
    return `write true or false: in YAML 1.2, which this tool reads, '${value}' is a string`;
  }
  if (error.keyword === 'type' && (type === 'integer' || type === 'number') && typeof value === 'string' && /^\s*-?\d+(\.\d+)?\s*$/.test(value)) {
    return 'remove the quotes: a quoted number is a string';
  }
  return undefined;
}

/**
 * How a wrong value is quoted back to the user; secrets from !env are never shown, nor is a value
 * that holds one (a template that interpolated it, a longer string around it) in any form.
 */
function showValue(value: unknown, secrets: ReadonlySet<string>): string {
  const unset = unsetEnvVariable(value);
  if (unset !== undefined) return `!env ${unset}, which is not set`;
  if (typeof value === 'string') return containsSecret(value, [...secrets, ...knownSecrets()]) ? 'a value read with !env (not shown)' : JSON.stringify(value);
  if (value === null || value === undefined) return 'nothing';
  if (Array.isArray(value)) return value.length === 0 ? 'an empty list' : 'a list';
  if (typeof value === 'object') return Object.keys(value).length === 0 ? 'an empty mapping' : 'a mapping';
  return String(value);
}

/** ajv's "/all/hosts/0" as path segments, array indexes as numbers (to print them as [0]). */
function pointerToPath(pointer: string, root: unknown): PathSegment[] {
  if (pointer === '') return [];
  const path: PathSegment[] = [];
  let node = root;
  for (const raw of pointer.slice(1).split('/')) {
    const segment = raw.replace(/~1/g, '/').replace(/~0/g, '~');
    if (Array.isArray(node)) {
      const index = Number(segment);
      path.push(index);
      node = node[index];
    } else {
      path.push(segment);
      node = node !== null && typeof node === 'object' ? (node as Record<string, unknown>)[segment] : undefined;
    }
  }
  return path;
}
