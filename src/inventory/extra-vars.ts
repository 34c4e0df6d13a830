// -e / --extra-vars, as Ansible takes them. Each argument is one of:
//   key=value [key2=value2 ...]   values stay strings; a value may be quoted: msg="two words"
//   @vars.yml                     a YAML (or JSON) file holding a mapping
//   {"key": 1} / {key: [1, 2]}    a JSON or YAML mapping, values keep their types
// Later arguments override earlier ones, variable by variable.
import path from 'node:path';
import { UserError } from '../core/errors.ts';
import { mergeVars, type VarLayer } from './precedence.ts';
import { compileChecker, Vars } from './validate.ts';
import { originsInFile } from './var-origin.ts';
import { parseYaml, readYamlFile, type ParseOptions, type YamlFile } from './yaml-file.ts';

export interface ExtraVars extends VarLayer {
  /** values read with !env in @files */
  secrets: Set<string>;
}

const LAYER = 'extra vars (-e)';
const NAME = /^[A-Za-z_][A-Za-z0-9_]*$/;
const checkVars = compileChecker(Vars);

/** Parse every -e argument; `cwd` resolves @file paths (the current directory by default). */
export async function parseExtraVars(args: readonly string[], options: ParseOptions & { cwd?: string } = {}): Promise<ExtraVars> {
  const layers: VarLayer[] = [];
  const secrets = new Set<string>();
  for (const arg of args) {
    const text = arg.trim();
    if (text.startsWith('@')) {
      const file = text.slice(1);
      if (file === '') throw new UserError(`-e '${arg}': no file name after '@'`, {}, 'write -e @vars.yml');
      const yaml = await readYamlFile(options.cwd === undefined ? file : path.resolve(options.cwd, file), 'extra vars file', options);
      layers.push(mappingLayer(yaml, `-e @${file}`));
      for (const secret of yaml.secrets) secrets.add(secret);
    } else if (text.startsWith('{')) {
      const yaml = parseYaml(text, '-e argument', options);
      layers.push(mappingLayer(yaml, undefined));
      for (const secret of yaml.secrets) secrets.add(secret);
    } else {
      layers.push({ name: LAYER, vars: parseAssignments(arg) });
    }
  }
  const { vars, origin } = mergeVars(layers);
  return { name: LAYER, vars, origin, secrets };
}

function mappingLayer(yaml: YamlFile, fileLabel: string | undefined): VarLayer {
  const data = yaml.data ?? {};
  const vars = checkVars(data, { yaml, describe: () => 'the extra variables' });
  // Positions inside a one-line command-line argument would mean nothing to the user.
  if (fileLabel === undefined) return { name: LAYER, vars };
  return { name: LAYER, vars, origin: originsInFile(yaml, [], vars, `${LAYER} ${fileLabel}`) };
}

/** "a=1 b='two words'" -> { a: '1', b: 'two words' }: split on unquoted spaces, then on the first '='. */
function parseAssignments(arg: string): Record<string, string> {
  const vars: Record<string, string> = {};
  for (const word of splitWords(arg)) {
    const equals = word.indexOf('=');
    const name = equals < 0 ? word : word.slice(0, equals);
    if (equals < 0 || !NAME.test(name)) {
      throw new UserError(
        equals < 0 ? `-e '${arg}': '${word}' is not key=value` : `-e '${arg}': '${name}' is not a variable name`,
        {},
        'write -e name=value (names: letters, digits and _), -e @file.yml, or -e \'{"name": value}\'',
      );
    }
    vars[name] = word.slice(equals + 1);
  }
  return vars;
}

/** Shell-like word splitting: single and double quotes group words and are removed; \ escapes in double quotes. */
function splitWords(text: string): string[] {
  const words: string[] = [];
  let word = '';
  let inWord = false;
  let quote: "'" | '"' | undefined;
  for (let i = 0; i < text.length; i++) {
    const char = text.charAt(i);
    if (quote !== undefined) {
      if (char === quote) quote = undefined;
      else if (char === '\\' && quote === '"' && i + 1 < text.length) word += text.charAt(++i);
      else word += char;
    } else if (char === "'" || char === '"') {
      quote = char;
      inWord = true;
    } else if (/\s/.test(char)) {
      if (inWord) words.push(word);
      word = '';
      inWord = false;
    } else {
      word += char;
      inWord = true;
    }
  }
  if (quote !== undefined) throw new UserError(`-e '${text}': unclosed ${quote} quote`, {}, 'close the quote');
  if (inWord) words.push(word);
  return words;
}
