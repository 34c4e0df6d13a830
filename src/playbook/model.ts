// A playbook as the runner uses it: plays in order, each a host pattern and the roles to apply.
// Role names are only references here; the runner finds and checks the roles.
import type { SourceLocation } from '../inventory/model.ts';
import type { VarOrigin } from '../inventory/precedence.ts';

export interface RoleReference {
  /** the role's directory name under roles/ */
  name: string;
  /** role parameters: above play vars, below extra vars */
  vars: Record<string, unknown>;
  varOrigin: Record<string, VarOrigin>;
  tags: string[];
  /** where the reference is written, for "no role named ..." errors */
  source: SourceLocation;
}

export interface Play {
  /** the play's name; its host pattern when it has none (as in Ansible) */
  name: string;
  /** a host pattern (see inventory/pattern.ts) */
  hosts: string;
  /** where the pattern is written, for "pattern selects no hosts" errors */
  hostsSource: SourceLocation;
  vars: Record<string, unknown>;
  varOrigin: Record<string, VarOrigin>;
  tags: string[];
  /** one host's failure stops every host */
  anyErrorsFatal: boolean;
  roles: RoleReference[];
  source: SourceLocation;
}

export interface Playbook {
  /** the playbook file, as given */
  file: string;
  plays: Play[];
  /** values read with !env: mask them in every output */
  secrets: Set<string>;
}
