// What the lab asks this machine's apt: which packages a list needs (with every dependency), and
// downloading them. The mirror, the VM image and the VM kernel all come from here.
import { UserError } from '../core/errors.ts';
import { CommandError, run } from './command.ts';

const RESOLVE_TIMEOUT_MS = 60_000;
const DOWNLOAD_TIMEOUT_MS = 10 * 60_000;
const APT_HINT = 'run apt-get update (the lab needs a Debian 12 machine whose apt can reach a Debian mirror)';

/**
 * The real package names in `apt-cache depends --recurse` output: package names start the lines;
 * indented lines are dependencies, <name> are virtual packages, name:arch are other architectures'
 * packages (multiarch machines).
 */
export function dependencyClosure(aptCacheDependsOutput: string): string[] {
  const names = new Set(aptCacheDependsOutput.split('\n').filter((line) => /^[a-z0-9][a-z0-9+.-]*$/.test(line)));
  return [...names].sort();
}

/** The packages and everything they depend on (not recommends), as the machine's apt resolves them. */
export async function withDependencies(packages: readonly string[]): Promise<string[]> {
  const args = ['depends', '--recurse', '--no-recommends', '--no-suggests', '--no-conflicts', '--no-breaks', '--no-replaces', '--no-enhances', ...packages];
  try {
    return dependencyClosure((await run('apt-cache', args, { timeoutMs: RESOLVE_TIMEOUT_MS })).stdout);
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    throw new UserError(`this machine's apt does not know every package the lab needs (${packages.join(' ')}): ${error.message}`, {}, APT_HINT);
  }
}

/** Downloads the .deb files of `names` into `dir` (nothing is installed on this machine). */
export async function aptDownload(names: readonly string[], dir: string): Promise<void> {
  try {
    // As root, apt would hand the download to its unprivileged _apt user, who cannot write to a
    // root-owned directory.
    await run('apt-get', ['download', '-q', '-o', 'APT::Sandbox::User=root', ...names], { cwd: dir, timeoutMs: DOWNLOAD_TIMEOUT_MS });
  } catch (error) {
    if (!(error instanceof CommandError)) throw error;
    throw new UserError(`apt-get could not download ${names.length === 1 ? names[0] : `${names.length} packages`} for the lab: ${error.message}`, {}, APT_HINT);
  }
}
