// The roles a playbook's plays use, loaded once before anything runs, and what the inventory must
// describe for them. A run (run-playbook.ts) and `provision lint [playbook]` (cluster/cli.ts) both
// decide with these functions, so lint refuses a playbook and inventory exactly when a run would.
import { UserError } from '../core/errors.ts';
import type { Role } from '../core/task.ts';
import type { Inventory } from '../inventory/model.ts';
import type { Playbook } from '../playbook/model.ts';
import { loadRole, roleSearchPath } from './roles.ts';

/** Every role the plays name, by name; an unknown or broken role is a UserError at its reference. */
export async function loadPlayRoles(playbook: Pick<Playbook, 'file' | 'plays'>): Promise<Map<string, Role>> {
  const roles = new Map<string, Role>();
  const searchPath = roleSearchPath(playbook.file);
  for (const play of playbook.plays) {
    for (const ref of play.roles) {
      if (!roles.has(ref.name)) roles.set(ref.name, await loadRole(ref.name, searchPath, ref.source));
    }
  }
  return roles;
}

/**
 * A role that configures the cluster needs the inventory's description of it (see Role.needsCluster):
 * without one, the error at the playbook line of the first such role, else undefined.
 */
export function missingClusterProblem(
  inventory: Pick<Inventory, 'cluster' | 'file'>,
  playbook: Pick<Playbook, 'plays'>,
  roles: ReadonlyMap<string, Pick<Role, 'needsCluster'>>,
): UserError | undefined {
  if (inventory.cluster !== undefined) return undefined;
  for (const play of playbook.plays) {
    for (const ref of play.roles) {
      if (!roles.get(ref.name)?.needsCluster) continue;
      return new UserError(
        `the ${ref.name} role configures a cluster, but the inventory ${inventory.file} has no cluster: section`,
        ref.source,
        'describe the cluster under cluster: in the inventory (examples in inventory/*.yaml), or leave the cluster roles out of the playbook; no host was contacted',
      );
    }
  }
  return undefined;
}
