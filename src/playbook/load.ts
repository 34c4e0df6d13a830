// Loading a playbook file into the model of model.ts, with file:line:column for every mistake.
import { UserError } from '../core/errors.ts';
import type { SourceLocation } from '../inventory/model.ts';
import { compileChecker } from '../inventory/validate.ts';
import { originsInFile } from '../inventory/var-origin.ts';
import { readYamlFile, type ParseOptions, type PathSegment, type YamlFile } from '../inventory/yaml-file.ts';
import type { Play, Playbook, RoleReference } from './model.ts';
import { PlaybookFile } from './schema.ts';

export type LoadPlaybookOptions = ParseOptions;

const checkPlaybook = compileChecker(PlaybookFile);

export async function loadPlaybook(file: string, options: LoadPlaybookOptions = {}): Promise<Playbook> {
  const yaml = await readYamlFile(file, 'playbook', options);
  if (yaml.data === undefined || yaml.data === null) {
    throw new UserError(`the playbook ${file} is empty`, { file }, 'list plays in it, e.g.\n  - hosts: directors\n    roles: [director]');
  }
  const data = expandShorthands(structuredClone(yaml.data));
  const plays = checkPlaybook(data, { yaml, describe: (at) => describePlaybookPath(at, data) });
  const location = (at: readonly PathSegment[], part: 'key' | 'value' = 'value'): SourceLocation => ({ file, ...yaml.locate(at, part) });

  return {
    file,
    secrets: yaml.secrets,
    plays: plays.map((play, index): Play => {
      const vars = play.vars ?? {};
      const name = play.name ?? play.hosts;
      return {
        name,
        hosts: play.hosts,
        hostsSource: location([index, 'hosts']),
        vars,
        varOrigin: originsInFile(yaml, [index, 'vars'], vars, `play "${name}" vars`),
        tags: play.tags ?? [],
        anyErrorsFatal: play.any_errors_fatal ?? false,
        roles: play.roles.map((entry, roleIndex): RoleReference => roleReference(yaml, entry, [index, 'roles', roleIndex])),
        source: location([index]),
      };
    }),
  };
}

function roleReference(yaml: YamlFile, entry: PlaybookFile[number]['roles'][number], at: PathSegment[]): RoleReference {
  const vars = entry.vars ?? {};
  return {
    name: entry.role,
    vars,
    varOrigin: originsInFile(yaml, [...at, 'vars'], vars, `role ${entry.role} parameters`),
    tags: entry.tags ?? [],
    source: { file: yaml.file, ...yaml.locate(at) },
  };
}

/**
 * The short forms Ansible users write, turned into the one long form the schema checks:
 * `- base` for `- { role: base }`, `tags: lvs` or `tags: a,b` for a list, `hosts: [a, b]` for
 * `a,b`, and an empty `vars:` for {}. Anything else is left for the schema to report.
 */
function expandShorthands(data: unknown): unknown {
  if (!Array.isArray(data)) return data;
  for (const play of data) {
    if (!isObject(play)) continue;
    if (Array.isArray(play.hosts) && play.hosts.every((item) => typeof item === 'string')) play.hosts = play.hosts.join(',');
    expandTagsAndVars(play);
    if (!Array.isArray(play.roles)) continue;
    play.roles = play.roles.map((entry: unknown) => {
      if (typeof entry === 'string') return { role: entry };
      expandTagsAndVars(entry);
      return entry;
    });
  }
  return data;
}

function expandTagsAndVars(entry: unknown): void {
  if (!isObject(entry)) return;
  if (typeof entry.tags === 'string') entry.tags = entry.tags.split(',').map((tag) => tag.trim());
  if (entry.vars === null) entry.vars = {};
}

/** "play 2 (\"Directors\")", "role reference 1 of play 2 (\"Directors\")", ... */
function describePlaybookPath(at: readonly PathSegment[], data: unknown): string {
  const [playIndex, section, roleIndex] = at;
  if (typeof playIndex !== 'number') return 'the playbook';
  const play = Array.isArray(data) ? (data[playIndex] as unknown) : undefined;
  const name = isObject(play) && typeof play.name === 'string' ? ` ("${play.name}")` : '';
  const playWords = `play ${playIndex + 1}${name}`;
  if (section === undefined) return playWords;
  if (section === 'roles' && typeof roleIndex === 'number') {
    const roleWords = `role reference ${roleIndex + 1} of ${playWords}`;
    return at.length > 3 ? `the ${String(at[3])} of ${roleWords}` : roleWords;
  }
  return `the ${String(section)} of ${playWords}`;
}

function isObject(value: unknown): value is Record<string, unknown> {
  return value !== null && typeof value === 'object' && !Array.isArray(value);
}
