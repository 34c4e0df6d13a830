// Variable precedence: which definition of a variable wins. Lowest first; each layer replaces a
// variable of the layers before it WHOLE (a mapping is not merged key by key: Ansible's default
// hash_behaviour=replace, so a host that redefines `ldirectord` restates all of it):
//
//   1. role defaults                      (roles/<role>: defaults)
//   2. group vars of 'all'                (inventory file, then group_vars/all.yml)
//   3. group vars of parent groups        (each: inventory file, then group_vars/<group>.yml)
//   4. group vars of child groups         deeper groups win; groups at the same depth apply in
//                                         name order, so the later name wins (as Ansible does)
//   5. host vars                          (inventory file, then host_vars/<host>.yml)
//   6. play vars                          (vars: of the play)
//   7. role parameters                    (vars: of the role reference in the play)
//   8. extra vars                         (-e on the command line)
//
// One difference from Ansible, on purpose: Ansible ranks every group_vars/ file above every group
// variable written in the inventory file, so group_vars/all.yml beats a child group's vars in the
// inventory. Here a group's two sources stay together at that group's rank: the more specific
// group always wins, wherever it is written.
//
// Layers 2-5 are merged by loadInventory into InventoryHost.vars; runVarLayers() puts them
// between the others for the runner.
import type { Position } from './yaml-file.ts';

/** Where a variable's winning value was set. */
export interface VarOrigin {
  /** which layer, e.g. "group directors (inventory)", "host_vars/lvs-master.yml", "extra vars (-e)" */
  layer: string;
  file?: string;
  line?: number;
  column?: number;
  /**
   * Positions of string values nested inside this variable that use {{ }}, by key path
   * ("ldirectord.virtuals[0].vip"), so interpolation errors can point at the exact line.
   */
  nested?: Record<string, Position>;
}

export interface VarLayer {
  /** names the layer in VarOrigin when `origin` has no entry for a variable */
  name: string;
  vars: Record<string, unknown>;
  /** the file the layer came from, when it has no per-variable origin */
  file?: string;
  /** where each variable was set, when known */
  origin?: Record<string, VarOrigin>;
}

export interface MergedVars {
  vars: Record<string, unknown>;
  origin: Record<string, VarOrigin>;
}

/** Merge layers given lowest precedence first; a later layer replaces a variable whole. */
export function mergeVars(layers: readonly VarLayer[]): MergedVars {
  const vars: Record<string, unknown> = {};
  const origin: Record<string, VarOrigin> = {};
  for (const layer of layers) {
    for (const [name, value] of Object.entries(layer.vars)) {
      vars[name] = value;
      origin[name] = layer.origin?.[name] ?? (layer.file === undefined ? { layer: layer.name } : { layer: layer.name, file: layer.file });
    }
  }
  return { vars, origin };
}

/** Groups in the order their variables apply (rules 2-4): by depth, then by name. */
export function inPrecedenceOrder<G extends { name: string; depth: number }>(groups: Iterable<G>): G[] {
  return [...groups].sort((a, b) => a.depth - b.depth || (a.name < b.name ? -1 : a.name > b.name ? 1 : 0));
}

export interface RunVarSources {
  role?: { name: string; defaults: Record<string, unknown> };
  /** the inventory's merged variables of the host (layers 2-5) */
  host: { name: string; vars: Record<string, unknown>; varOrigin: Record<string, VarOrigin> };
  play?: { name: string; vars: Record<string, unknown>; varOrigin?: Record<string, VarOrigin> };
  roleParams?: { vars: Record<string, unknown>; varOrigin?: Record<string, VarOrigin> };
  extraVars?: VarLayer;
}

/**
 * The layers of one host and role in precedence order, lowest first: what the runner passes to
 * mergeVars (and then interpolateVars). This function is the one place where the order is written.
 */
export function runVarLayers(sources: RunVarSources): VarLayer[] {
  const layers: VarLayer[] = [];
  if (sources.role) layers.push({ name: `role ${sources.role.name} defaults`, vars: sources.role.defaults });
  layers.push({ name: `inventory (host ${sources.host.name})`, vars: sources.host.vars, origin: sources.host.varOrigin });
  if (sources.play) layers.push({ name: `play "${sources.play.name}" vars`, vars: sources.play.vars, origin: sources.play.varOrigin });
  if (sources.roleParams) layers.push({ name: 'role parameters', vars: sources.roleParams.vars, origin: sources.roleParams.varOrigin });
  if (sources.extraVars) layers.push(sources.extraVars);
  return layers;
}
