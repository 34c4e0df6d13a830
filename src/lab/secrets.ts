// Secrets for the lab's own cluster (the heartbeat authkeys key): made once, kept in the lab's
// cache directory with mode 0600, so repeated lab runs use the same value (and stay idempotent)
// without a credential in the repository.
import { randomBytes } from 'node:crypto';
import { mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import path from 'node:path';
import { labCacheDir } from './paths.ts';

export function labSecret(name: string, env: Readonly<Record<string, string | undefined>> = process.env): string {
  const dir = path.join(labCacheDir(env), 'secrets');
  const file = path.join(dir, name);
  try {
    return readFileSync(file, 'utf8').trim();
  } catch {
    mkdirSync(dir, { recursive: true, mode: 0o700 });
    const value = randomBytes(18).toString('base64url');
    writeFileSync(file, `${value}\n`, { mode: 0o600, flag: 'wx' });
    return value;
  }
}

/** Exports the lab cluster's secrets (as inventory/lab.yaml reads them with !env) unless already set. */
export function exportLabSecrets(env: Record<string, string | undefined> = process.env): void {
  env.HA_AUTH_KEY ??= labSecret('HA_AUTH_KEY', env);
}
