// Secrets (heartbeat's authkeys key, the VRRP password) are read from the environment: the loader
// knows which settings are secret (their types say so) and which of them are written in clear.
import { formatPath } from '../../inventory/yaml-file.ts';
import type { LintRule } from './rule.ts';

export const SECRET_RULES: readonly LintRule[] = [
  {
    id: 'secret-in-clear',
    severity: 'warning',
    summary: 'secrets are read from the environment, not written in the inventory',
    reason: 'An inventory is committed and copied around; a key written in it is no longer a secret. Values read with !env are also masked in every output.',
    check: ({ source }) =>
      (source?.clearTextSecrets ?? []).map((path) => ({ message: `cluster.${formatPath(path)} is written in clear: read it with !env (e.g. !env HA_AUTH_KEY)`, at: path })),
  },
];
