// The inventory file as the user writes it: the one definition of its JSON Schema (checked by ajv)
// and of its TypeScript types (Static<>). The resolved model the runner uses is in model.ts.
import { Type, type Static } from '@sinclair/typebox';
import { NamedMap, StringEnum, Vars } from './validate.ts';
import { ConnectAddress, ControllerPath, HostName, SimpleName, UserName } from './value-types.ts';

export const TRANSPORTS = ['local', 'ssh', 'docker', 'vagrant'] as const;
export const HOST_KEY_CHECKING = ['strict', 'accept-new', 'off'] as const;
/** Old targets whose sshd needs legacy algorithms (CentOS 5: diffie-hellman-group1-sha1, ssh-rsa, CBC ciphers). */
export const LEGACY_PROFILES = ['centos5'] as const;

// A host's inventory name becomes its hostname (the base role) and heartbeat's node name, so it is
// a host name as RFC 1123 defines it (HostName, value-types.ts). Group names never reach a target,
// but they appear in host patterns, where these characters are operators or wildcards.
export const GroupName = Type.String({
  pattern: '^[^\\s\\x00-\\x1f\\x7f:,!&*?\\[\\]~]+$',
  maxLength: 255,
  expected: 'a group name without spaces, control characters or any of : , ! & * ? [ ] ~ (they have a meaning in host patterns)',
});

const EnvName = Type.String({
  pattern: '^[A-Za-z_][A-Za-z0-9_]*$',
  expected: 'the name of an environment variable (letters, digits and _)',
});
const Seconds = (max: number) => Type.Number({ exclusiveMinimum: 0, maximum: max, expected: `a number of seconds above 0, at most ${max}` });

export const SshSettings = Type.Object(
  {
    host_key_checking: Type.Optional(StringEnum(HOST_KEY_CHECKING)),
    known_hosts: Type.Optional(ControllerPath('the path of a known_hosts file')),
    connect_timeout: Type.Optional(Seconds(3600)),
    command_timeout: Type.Optional(Seconds(7 * 24 * 3600)),
    legacy: Type.Optional(StringEnum(LEGACY_PROFILES)),
    jump: Type.Optional(Type.String({ pattern: HostName.pattern, maxLength: HostName.maxLength, expected: 'the name of another host of this inventory' })),
  },
  { additionalProperties: false },
);

/** transport docker: the Docker engine that runs the container (the host's address is the container's name or id). */
export const DockerSettings = Type.Object(
  {
    host: Type.Optional(
      Type.String({
        pattern: '^(unix:///[^\\x00-\\x1f\\x7f]+|tcp://[A-Za-z0-9_.:\\[\\]-]+:[0-9]+/?)$',
        expected: 'the address of the Docker engine: unix:///path/to/docker.sock or tcp://HOST:PORT',
      }),
    ),
  },
  { additionalProperties: false },
);

/** transport vagrant: which machine of which Vagrantfile. */
export const VagrantSettings = Type.Object(
  {
    dir: Type.Optional(ControllerPath('the directory of the Vagrantfile (relative to the inventory file)')),
    machine: Type.Optional(SimpleName('the name of the machine in the Vagrantfile: letters, digits, _ . -')),
  },
  { additionalProperties: false },
);

export const BecomeSettings = Type.Object(
  {
    sudo: Type.Optional(Type.Boolean()),
    password_env: Type.Optional(EnvName),
  },
  { additionalProperties: false },
);

export const HostEntry = Type.Object(
  {
    address: Type.Optional(ConnectAddress),
    port: Type.Optional(Type.Integer({ minimum: 1, maximum: 65535, expected: 'an integer 1-65535' })),
    user: Type.Optional(UserName),
    key: Type.Optional(ControllerPath('the path of a private key file')),
    password_env: Type.Optional(EnvName),
    transport: Type.Optional(StringEnum(TRANSPORTS)),
    ssh: Type.Optional(SshSettings),
    docker: Type.Optional(DockerSettings),
    vagrant: Type.Optional(VagrantSettings),
    become: Type.Optional(BecomeSettings),
    lab: Type.Optional(Type.Record(Type.String(), Type.Unknown(), { expected: 'a mapping of lab settings' })),
    vars: Type.Optional(Vars),
  },
  {
    additionalProperties: false,
    unknownKeyHint: "host variables go under 'vars:'",
    expected: "the host's settings as a mapping, e.g. { address: 192.168.2.250 } (or nothing)",
  },
);
export type HostEntry = Static<typeof HostEntry>;

export const GroupEntry = Type.Recursive(
  (Group) =>
    Type.Object(
      {
        hosts: Type.Optional(NamedMap(HostName, HostEntry)),
        children: Type.Optional(NamedMap(GroupName, Group)),
        vars: Type.Optional(Vars),
      },
      {
        additionalProperties: false,
        unknownKeyHint: "hosts go under 'hosts:', groups under 'children:', variables under 'vars:'",
        expected: 'a group: a mapping with hosts:, children: and/or vars: (or nothing)',
      },
    ),
  { $id: 'InventoryGroup' },
);
export type GroupEntry = Static<typeof GroupEntry>;

export const InventoryFile = Type.Object(
  {
    all: GroupEntry,
    // The cluster description has its own schema and checks (src/cluster/load.ts), which need the
    // hosts of the inventory: it is checked once they are known.
    cluster: Type.Optional(Type.Unknown()),
  },
  {
    additionalProperties: false,
    unknownKeyHint: "every group goes below 'all:' (under all.children); the cluster description under 'cluster:'",
    expected: "a mapping with the key 'all' (and 'cluster' for a cluster description)",
  },
);
export type InventoryFile = Static<typeof InventoryFile>;

/** A group_vars/ or host_vars/ file: variables only. */
export const VarsFile = Vars;
