// Turns the output of the facts script into Facts, section by section, with the parsers beside it.
import type { Facts } from '../core/facts.ts';
import { detectInit } from './init.ts';
import { interfacesFromIp, parseIfconfig } from './interfaces.ts';
import { detectOs } from './os.ts';
import { choosePackageManager } from './package-manager.ts';
import { alwaysPrintedSections, factMarker, factSections, type FactSection } from './script.ts';

/** The facts in the output of `factsScript()`. Throws when the output is not (all of) it. */
export function parseFacts(stdout: string): Facts {
  const sections = splitSections(stdout);
  const missing = alwaysPrintedSections.filter((name) => !sections.has(name));
  if (missing.length > 0) {
    throw new Error(
      `the facts output lacks the section(s) ${missing.join(', ')}: the facts script did not run to the end ` +
        `(a dropped connection, or a /bin/sh that is not a POSIX shell)`,
    );
  }
  const section = (name: FactSection): string => sections.get(name) ?? '';
  const firstLine = (name: FactSection): string => lines(section(name))[0] ?? '';

  const os = detectOs({
    osRelease: section(factSections.osRelease),
    redhatRelease: section(factSections.redhatRelease),
    debianVersion: section(factSections.debianVersion),
  });
  // `command -v` prints paths (or, for a shell builtin or function, the bare name).
  const commands = new Set(lines(section(factSections.commands)).map((path) => path.slice(path.lastIndexOf('/') + 1)));
  const init = detectInit({
    systemdBooted: firstLine(factSections.systemdBooted) === 'yes',
    upstartVersion: section(factSections.upstartVersion),
    openrc: commands.has('openrc'),
    initScriptDirs: lines(section(factSections.initScriptDirs)),
  });
  const interfaces = sections.has(factSections.ipLink)
    ? interfacesFromIp(section(factSections.ipLink), section(factSections.ipAddr))
    : parseIfconfig(section(factSections.ifconfig));

  return {
    os,
    init,
    packageManager: choosePackageManager(os, commands),
    nodename: firstLine(factSections.nodename),
    arch: firstLine(factSections.arch),
    kernel: firstLine(factSections.kernel),
    interfaces,
    user: firstLine(factSections.user),
  };
}

/** Section name -> the text between its marker line and the next one. */
export function splitSections(stdout: string): Map<string, string> {
  const bodies = new Map<string, string[]>();
  let current: string[] | undefined;
  for (const line of stdout.split('\n')) {
    if (line.startsWith(`${factMarker} `)) {
      current = [];
      bodies.set(line.slice(factMarker.length + 1).trim(), current);
    } else {
      current?.push(line);
    }
  }
  return new Map([...bodies].map(([name, body]) => [name, body.join('\n')]));
}

function lines(text: string): string[] {
  return text
    .split('\n')
    .map((line) => line.trim())
    .filter((line) => line !== '');
}
