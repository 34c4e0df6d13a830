// The Debian mirror the lab builds its root filesystem from is the one this machine's apt already
// uses (read from its sources), so no mirror host name is written into the project.
import { readdir, readFile } from 'node:fs/promises';
import path from 'node:path';

export interface AptSource {
  uri: string;
  suites: string[];
  components: string[];
}

/** The `deb` entries of a one-line-style file (sources.list, *.list). */
export function parseOneLineSources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const rawLine of text.split('\n')) {
    const line = rawLine.replace(/#.*$/, '').trim();
    // deb [ option=value ... ] uri suite [component ...]
    const match = /^deb(?:\s+\[[^\]]*\])?\s+(\S+)\s+(\S+)((?:\s+\S+)*)$/.exec(line);
    if (!match) continue;
    sources.push({ uri: match[1]!, suites: [match[2]!], components: match[3]!.trim().split(/\s+/).filter(Boolean) });
  }
  return sources;
}

/** The enabled `deb` stanzas of a deb822-style file (*.sources). */
export function parseDeb822Sources(text: string): AptSource[] {
  const sources: AptSource[] = [];
  for (const stanza of text.split(/\n\s*\n/)) {
    const fields = new Map<string, string>();
    let current: string | undefined;
    for (const line of stanza.split('\n')) {
      if (line.startsWith('#') || line.trim() === '') continue;
      if (/^\s/.test(line) && current !== undefined) {
        fields.set(current, `${fields.get(current) ?? ''} ${line.trim()}`);
        continue;
      }
      const colon = line.indexOf(':');
      if (colon <= 0) continue;
      current = line.slice(0, colon).trim().toLowerCase();
      fields.set(current, line.slice(colon + 1).trim());
    }
    const words = (name: string) => (fields.get(name) ?? '').split(/\s+/).filter(Boolean);
    if (!words('types').includes('deb') || (fields.get('enabled') ?? 'yes').toLowerCase() === 'no') continue;
    for (const uri of words('uris')) sources.push({ uri, suites: words('suites'), components: words('components') });
  }
  return sources;
}

/** The first source that serves `suite` itself (not suite-updates or suite-security) with `main`, over http(s). */
export function findDebianMirror(sources: readonly AptSource[], suite: string): string | undefined {
  const found = sources.find((source) => /^https?:\/\//.test(source.uri) && source.suites.includes(suite) && source.components.includes('main'));
  return found?.uri;
}

/** Every `deb` source of the machine: /etc/apt/sources.list and sources.list.d/*.list, *.sources. */
export async function readMachineSources(aptDir = '/etc/apt'): Promise<AptSource[]> {
  const sources: AptSource[] = [];
  const read = async (file: string) => readFile(file, 'utf8').catch(() => '');
  sources.push(...parseOneLineSources(await read(path.join(aptDir, 'sources.list'))));
  const dir = path.join(aptDir, 'sources.list.d');
  const entries = (await readdir(dir).catch(() => [] as string[])).sort();
  for (const entry of entries) {
    if (entry.endsWith('.list')) sources.push(...parseOneLineSources(await read(path.join(dir, entry))));
    else if (entry.endsWith('.sources')) sources.push(...parseDeb822Sources(await read(path.join(dir, entry))));
  }
  return sources;
}
