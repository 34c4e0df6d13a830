// The inventory as the runner uses it: every host with its connection settings resolved (defaults
// applied, paths absolute) and its variables merged, every group with its members.
import type { HOST_KEY_CHECKING, LEGACY_PROFILES, TRANSPORTS } from './schema.ts';
import type { Cluster } from '../cluster/model.ts';
import type { VarOrigin } from './precedence.ts';
import type { PathSegment } from './yaml-file.ts';

export type Transport = (typeof TRANSPORTS)[number];
export type HostKeyChecking = (typeof HOST_KEY_CHECKING)[number];
export type LegacyProfile = (typeof LEGACY_PROFILES)[number];

export interface SourceLocation {
  file: string;
  line: number;
  column?: number;
}

// Defined here rather than beside the cluster loader that builds it: the inventory holds one, and
// the cluster modules already depend on the inventory's (the reverse import made a cycle).
/** Where the cluster's settings are written, for messages that point at file:line:column. */
export interface ClusterSource {
  file: string;
  /** position of the value (or key) at `path` inside `cluster:`; a default points at its enclosing mapping */
  locate(path: readonly PathSegment[], part?: 'key' | 'value'): SourceLocation;
  /** where a finding about the setting at `path` points: its key, or for a default the key of the closest setting written */
  pointAt(path: readonly PathSegment[]): SourceLocation;
  /** whether the file writes the setting at `path` (rather than leaving it to a default) */
  written(path: readonly PathSegment[]): boolean;
  /** paths of secret values (authkeys key, VRRP password) written in clear rather than with !env */
  clearTextSecrets: PathSegment[][];
}

export interface SshOptions {
  /** default accept-new: unknown hosts are recorded, changed keys refused */
  hostKeyChecking: HostKeyChecking;
  /** absolute; unset means the connector's default file */
  knownHosts?: string;
  /** seconds; default 10 */
  connectTimeout: number;
  /** seconds one remote execution may take; default 600 */
  commandTimeout: number;
  legacy?: LegacyProfile;
  /** the inventory name of the host to connect through */
  jump?: string;
}

export interface DockerOptions {
  /** the Docker engine's address (unix:///... or tcp://HOST:PORT); unset: $DOCKER_HOST, else the default socket */
  host?: string;
}

export interface VagrantOptions {
  /** absolute directory of the Vagrantfile; default the inventory's directory */
  dir: string;
  /** the machine's name in the Vagrantfile; default the host's name */
  machine: string;
}

export interface BecomeOptions {
  sudo: boolean;
  /** name of the environment variable holding the sudo password */
  passwordEnv?: string;
}

export interface InventoryHost {
  /** the inventory name */
  name: string;
  /** where to connect; defaults to the name */
  address: string;
  port: number;
  user: string;
  /** absolute path of the private key */
  key?: string;
  /** name of the environment variable holding the ssh password */
  passwordEnv?: string;
  transport: Transport;
  ssh: SshOptions;
  /** transport docker only */
  docker?: DockerOptions;
  /** transport vagrant only (always set for it, with defaults) */
  vagrant?: VagrantOptions;
  become?: BecomeOptions;
  /** free-form settings for the lab that builds test hosts */
  lab?: Record<string, unknown>;
  /** every group the host belongs to, directly or through children, in precedence order ('all' first) */
  groups: string[];
  /**
   * Inventory variables merged in precedence order (see precedence.ts): group vars from 'all' to
   * the most specific group, then the host's own; not yet interpolated ({{ }} is resolved by the
   * runner once role defaults, play vars and extra vars are merged in).
   */
  vars: Record<string, unknown>;
  /** where each variable of `vars` was set */
  varOrigin: Record<string, VarOrigin>;
  /** where the host is first listed */
  source: SourceLocation;
}

export interface Group {
  name: string;
  /** direct parent groups ('all' has none) */
  parents: string[];
  /** direct child groups */
  children: string[];
  /** every member host, including those of child groups, in inventory order */
  hosts: string[];
  /** distance from 'all' along the longest parent chain; orders group vars (deeper wins) */
  depth: number;
  /** the group's own variables: the inventory's, then its group_vars/ files' */
  vars: Record<string, unknown>;
  varOrigin: Record<string, VarOrigin>;
  /** where the group is first defined */
  source: SourceLocation;
}

export interface Inventory {
  /** the inventory file, as given */
  file: string;
  /** its directory (group_vars/, host_vars/ and relative key paths are found there) */
  dir: string;
  /** in inventory order: the order in which hosts first appear in the file */
  hosts: Map<string, InventoryHost>;
  groups: Map<string, Group>;
  /** values read with !env and from password_env variables: mask them in every output */
  secrets: Set<string>;
  /** the `cluster:` section, resolved (src/cluster/model.ts); absent when the inventory has none */
  cluster?: Cluster;
  /** where the cluster's settings are written, for messages that point at file:line */
  clusterSource?: ClusterSource;
}
