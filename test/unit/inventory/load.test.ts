import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { knownSecrets, MIN_SECRET_LENGTH, secretsPattern, unsetEnvVariable } from '../../../src/core/secret.ts';
import { interpolateVars } from '../../../src/inventory/interpolate.ts';
import { loadInventory } from '../../../src/inventory/load.ts';
import type { UnsetEnv } from '../../../src/inventory/yaml-file.ts';
import { fixture, problems, repoRoot, tempTree, userError } from './files.ts';

const writeTree = tempTree();

/** Writes an inventory (and optional group_vars/host_vars files) and returns the error loading it throws. */
async function loadError(inventory: string, extra: Record<string, string> = {}, env: NodeJS.ProcessEnv = {}) {
  const dir = await writeTree({ 'hosts.yaml': inventory, ...extra });
  const file = path.join(dir, 'hosts.yaml');
  return { error: await userError(loadInventory(file, { env })), dir, file };
}

describe('loadInventory: a complete inventory', () => {
  const file = fixture('inventory/complete/hosts.yaml');
  const dir = path.dirname(file);
  const env = { FIXTURE_AUTH_KEY: 'fixture-k3y', FIXTURE_SSH_PASSWORD: 'ssh-pw' };

  it('resolves every host setting, with defaults for what is not given', async () => {
    const inventory = await loadInventory(file, { env });
    expect(inventory.file).toBe(file);
    expect(inventory.dir).toBe(dir);
    expect([...inventory.hosts.keys()]).toEqual(['client1', 'lvs-master', 'lvs-backup', 'web1', 'web2']);

    const master = inventory.hosts.get('lvs-master');
    expect(master).toMatchObject({
      name: 'lvs-master',
      address: '192.168.2.250',
      port: 2222,
      user: 'root',
      key: path.join(repoRoot, 'test/fixtures/inventory/keys/lab'),
      transport: 'ssh',
      ssh: {
        hostKeyChecking: 'off',
        knownHosts: path.join(os.homedir(), '.ssh/lab_known_hosts'),
        connectTimeout: 5,
        commandTimeout: 1200,
        jump: 'client1',
      },
      become: { sudo: true, passwordEnv: 'FIXTURE_SUDO_PASSWORD' },
      lab: { image: 'bookworm', vm: true },
      groups: ['all', 'lvs', 'monitoring', 'directors'],
      source: { file, line: 18, column: 13 },
    });

    // A host with nothing but an address: every default.
    const { vars: _vars, varOrigin: _origin, ...client } = inventory.hosts.get('client1') ?? {};
    expect(client).toEqual({
      name: 'client1',
      address: '192.168.2.10',
      port: 22,
      user: 'root',
      transport: 'local',
      ssh: { hostKeyChecking: 'accept-new', connectTimeout: 10, commandTimeout: 600 },
      groups: ['all', 'monitoring'],
      source: { file, line: 8, column: 5 },
    });

    // Anchors and merge keys: web1 takes its ssh settings from lvs-backup's anchor, web2 all of web1's entry.
    expect(inventory.hosts.get('lvs-backup')).toMatchObject({ user: 'admin', passwordEnv: 'FIXTURE_SSH_PASSWORD', ssh: { legacy: 'centos5', hostKeyChecking: 'strict' } });
    expect(inventory.hosts.get('web1')).toMatchObject({ address: '192.168.2.252', become: { sudo: true }, ssh: { legacy: 'centos5' }, transport: 'ssh' });
    expect(inventory.hosts.get('web2')).toMatchObject({ address: '192.168.2.253', become: { sudo: true }, ssh: { legacy: 'centos5' }, transport: 'docker' });
  });

  it('merges variables from the inventory, group_vars/ (files and directories) and host_vars/', async () => {
    const inventory = await loadInventory(file, { env });
    expect(inventory.hosts.get('lvs-master')?.vars).toEqual({
      ntp: 'pool.ntp.org',
      vip: '192.168.2.254',
      dns: '192.168.2.1', // group_vars/all.yaml
      cluster: 'lab',
      role_weight: 2, // group_vars/directors.yml beats the directors group's vars in the inventory
      auth_key: 'fixture-k3y', // !env
      ldirectord: { virtual: '{{ vip }}:80', checktype: 'negotiate' }, // not interpolated yet
      priority: 150, // host_vars/lvs-master.yml beats the host's vars in the inventory
    });
    expect(inventory.hosts.get('lvs-backup')?.vars.priority).toBe(50);
    expect(inventory.hosts.get('web1')?.vars).toEqual({
      ntp: 'pool.ntp.org',
      vip: '192.168.2.254',
      dns: '192.168.2.1',
      cluster: 'lab',
      http_port: 80, // group_vars/realservers/10-ports.yml
      arp_ignore: 1, // group_vars/realservers/20-sysctl.yml
      arp_announce: 2,
    });
  });

  it('records where each variable was set', async () => {
    const inventory = await loadInventory(file, { env });
    const origin = inventory.hosts.get('lvs-master')?.varOrigin;
    expect(origin?.ntp).toEqual({ layer: 'group all (inventory)', file, line: 5, column: 5 });
    expect(origin?.priority).toEqual({ layer: 'host_vars/lvs-master.yml', file: path.join(dir, 'host_vars/lvs-master.yml'), line: 1, column: 1 });
    expect(origin?.ldirectord).toEqual({
      layer: 'group_vars/directors.yml',
      file: path.join(dir, 'group_vars/directors.yml'),
      line: 3,
      column: 1,
      nested: { 'ldirectord.virtual': { line: 4, column: 12 } },
    });
    expect(inventory.hosts.get('lvs-backup')?.varOrigin.priority).toEqual({ layer: 'host lvs-backup (inventory)', file, line: 38, column: 23 });
  });

  it('builds the groups: parents, children, every member host in inventory order, depth', async () => {
    const inventory = await loadInventory(file, { env });
    const summary = [...inventory.groups.values()].map(({ name, parents, children, hosts, depth }) => ({ name, parents, children, hosts, depth }));
    expect(summary).toEqual([
      { name: 'all', parents: [], children: ['lvs', 'monitoring'], hosts: ['client1', 'lvs-master', 'lvs-backup', 'web1', 'web2'], depth: 0 },
      { name: 'lvs', parents: ['all'], children: ['directors', 'realservers'], hosts: ['lvs-master', 'lvs-backup', 'web1', 'web2'], depth: 1 },
      { name: 'directors', parents: ['lvs'], children: [], hosts: ['lvs-master', 'lvs-backup'], depth: 2 },
      { name: 'realservers', parents: ['lvs'], children: [], hosts: ['web1', 'web2'], depth: 2 },
      { name: 'monitoring', parents: ['all'], children: [], hosts: ['client1', 'lvs-master'], depth: 1 },
    ]);
    expect(inventory.groups.get('directors')?.vars).toEqual({ role_weight: 2, auth_key: 'fixture-k3y', ldirectord: { virtual: '{{ vip }}:80', checktype: 'negotiate' } });
    expect(inventory.groups.get('directors')?.source).toEqual({ file, line: 13, column: 9 });
  });

  it('collects the secrets: !env values and the passwords named by password_env that are set', async () => {
    const inventory = await loadInventory(file, { env: { ...env, FIXTURE_SUDO_PASSWORD: 'sudo-pw' } });
    expect(inventory.secrets).toEqual(new Set(['fixture-k3y', 'ssh-pw', 'sudo-pw']));
    const withoutPasswords = await loadInventory(file, { env: { FIXTURE_AUTH_KEY: 'fixture-k3y' } });
    expect(withoutPasswords.secrets).toEqual(new Set(['fixture-k3y']));
  });
});

describe('loadInventory: the example inventory of the docs', () => {
  it('loads, and its templates resolve', async () => {
    const inventory = await loadInventory(path.join(repoRoot, 'inventory/example.yaml'), { env: { HA_AUTH_KEY: 'example-key' } });
    expect([...inventory.hosts.values()].map((host) => [host.name, host.address])).toEqual([
      ['lvs-master', '192.168.2.250'],
      ['lvs-backup', '192.168.2.251'],
      ['web1', '192.168.2.252'],
      ['web2', '192.168.2.253'],
    ]);
    expect(inventory.groups.get('directors')?.hosts).toEqual(['lvs-master', 'lvs-backup']);
    expect(inventory.groups.get('realservers')?.hosts).toEqual(['lvs-master', 'lvs-backup', 'web1', 'web2']);
    expect(inventory.secrets).toEqual(new Set(['example-key']));

    const master = inventory.hosts.get('lvs-master');
    expect(master?.ssh.legacy).toBe('centos5');
    const vars = interpolateVars(master?.vars ?? {}, master?.varOrigin, { literal: inventory.secrets });
    expect(vars).toEqual({ vip: '192.168.2.254', http_port: 80, gateway: '192.168.2.1', ha_auth_key: 'example-key' });

    // The cluster description uses the variables of group all (test/unit/cluster covers it in depth).
    expect(inventory.cluster?.virtual_services[0]).toMatchObject({ vip: '192.168.2.254', port: 80, scheduler: 'lc' });
    expect(inventory.cluster?.heartbeat?.authkeys).toEqual({ method: 'sha1', key: 'example-key', allow_crc: false });
  });

  it('says which environment variable to export when the secret is missing', async () => {
    const error = await userError(loadInventory(path.join(repoRoot, 'inventory/example.yaml'), { env: {} }));
    expect(error.message).toBe('environment variable HA_AUTH_KEY is not set (all.vars.ha_auth_key)');
    expect(error.hint).toContain('export HA_AUTH_KEY');
  });
});

describe('loadInventory: mistakes in the inventory file', () => {
  it('an unknown key: its position, the key path, and the closest allowed key', async () => {
    const { error, file } = await loadError(
      ['all:', '  children:', '    directors:', '      hosts:', '        lvs-master: { adress: 192.168.2.250 }', ''].join('\n'),
    );
    expect(error.message).toBe("all.children.directors.hosts.lvs-master.adress: unknown key 'adress' in host lvs-master; did you mean 'address'?");
    expect(error.where).toEqual({ file, line: 5, column: 23 });
    expect(error.hint).toBe('allowed keys: address, port, user, key, password_env, transport, ssh, docker, vagrant, become, lab, vars');
  });

  it('an unknown key with no close match: where such a thing belongs', async () => {
    const { error } = await loadError(['all:', '  hosts:', '    web1:', '      priority: 100', ''].join('\n'));
    expect(problems(error)).toEqual(["4:7 all.hosts.web1.priority: unknown key 'priority' in host web1"]);
    expect(error.hint).toMatch(/^host variables go under 'vars:'; allowed keys: address, /);
  });

  it('unknown keys of groups and of nested settings', async () => {
    const { error } = await loadError(
      ['all:', '  host:', '    web1:', '  children:', '    directors:', '      hosts:', '        lvs-master:', '          ssh: { conect_timeout: 5 }', ''].join('\n'),
    );
    expect(problems(error)).toEqual([
      "2:3 all.host: unknown key 'host' in group all; did you mean 'hosts'?",
      "8:18 all.children.directors.hosts.lvs-master.ssh.conect_timeout: unknown key 'conect_timeout' in the ssh settings of host lvs-master; did you mean 'connect_timeout'?",
    ]);
  });

  it('a value of the wrong type', async () => {
    const { error, file } = await loadError(['all:', '  hosts:', '    web1:', '      become: { sudo: yes }', '      vars: [a, b]', ''].join('\n'));
    expect(problems(error)).toEqual([
      '4:23 all.hosts.web1.become.sudo: expected true or false, got "yes"',
      '5:13 all.hosts.web1.vars: expected a mapping of variable names to values, got a list',
    ]);
    expect(error.where.file).toBe(file);
    expect(error.hint).toBe("write true or false: in YAML 1.2, which this tool reads, 'yes' is a string");
  });

  it.each([
    ['70000', '70000'],
    ['0', '0'],
    ['22.5', '22.5'],
    ['"22"', '"22"'],
  ])('a bad port (%s)', async (port, shown) => {
    const { error } = await loadError(['all:', '  hosts:', `    web1: { port: ${port} }`, ''].join('\n'));
    expect(problems(error)).toEqual([`3:19 all.hosts.web1.port: expected an integer 1-65535, got ${shown}`]);
  });

  it('a bad transport, with the closest valid one', async () => {
    const { error } = await loadError(['all:', '  hosts:', '    web1:', '      transport: shh', ''].join('\n'));
    expect(problems(error)).toEqual(['4:18 all.hosts.web1.transport: expected one of "local", "ssh", "docker", "vagrant", got "shh"; did you mean \'ssh\'?']);
  });

  it('reports every problem of the file at once, in file order', async () => {
    const { error } = await loadError(['all:', '  hosts:', '    web2: { port: 0 }', '    web1: { transport: rsh, user: "" }', ''].join('\n'));
    expect(problems(error)).toEqual([
      '3:19 all.hosts.web2.port: expected an integer 1-65535, got 0',
      '4:24 all.hosts.web1.transport: expected one of "local", "ssh", "docker", "vagrant", got "rsh"; did you mean \'ssh\'?',
      '4:35 all.hosts.web1.user: expected a user name: letters, digits, _ . - (not starting with a digit, - or .), got ""',
    ]);
    expect(error.message).toBe('all.hosts.web2.port: expected an integer 1-65535, got 0 (and 2 more problems)');
    expect(error.format().split('\n')).toHaveLength(3);
  });

  it('a YAML syntax error: position, message and a hint', async () => {
    const { error, file } = await loadError(['all:', '  hosts:', '    web1: { port: 22', '    web2:', ''].join('\n'));
    expect(error.where).toEqual({ file, line: 4, column: 5 });
    expect(error.message).toMatch(/^YAML syntax error: /);
    expect(error.hint).toMatch(/indentation/);
  });

  it('a repeated key is a syntax error, not a silent override', async () => {
    const { error } = await loadError(['all:', '  hosts:', '    web1: {}', '    web1: {}', ''].join('\n'));
    expect(problems(error)).toEqual(['4:5 YAML syntax error: Map keys must be unique']);
  });

  it('a tag other than !env', async () => {
    const { error } = await loadError(['all:', '  vars:', '    key: !vault abc', ''].join('\n'));
    expect(problems(error)).toEqual(['3:10 YAML syntax error: Unresolved tag: !vault']);
  });

  it('a top level other than all:', async () => {
    const { error } = await loadError(['directors:', '  hosts: {}', ''].join('\n'));
    expect(problems(error)).toEqual([
      "1:1 (top level): the inventory has no 'all'",
      "1:1 directors: unknown key 'directors' in the inventory",
    ]);
  });

  it('names that would break host patterns', async () => {
    const { error } = await loadError(['all:', '  hosts:', '    "web:1": {}', '  children:', '    "!x": {}', ''].join('\n'));
    expect(problems(error)).toEqual([
      "3:5 all.hosts.web:1: 'web:1' is not a valid name in the hosts of group all: expected a host name as `hostname` accepts it (RFC 1123): letters, digits and '-', in dot-separated labels that neither start nor end with '-', at most 64 characters, e.g. lvs-master",
      "5:5 all.children.!x: '!x' is not a valid name in the children of group all: expected a group name without spaces, control characters or any of : , ! & * ? [ ] ~ (they have a meaning in host patterns)",
    ]);
  });

  it('an empty file', async () => {
    const { error, file } = await loadError('# nothing yet\n');
    expect(error.message).toBe(`the inventory ${file} is empty`);
  });

  it('a file that does not exist', async () => {
    const error = await userError(loadInventory('/nonexistent/hosts.yaml'));
    expect(error.message).toBe('cannot read inventory /nonexistent/hosts.yaml: no such file');
  });
});

describe('loadInventory: consistency across the file', () => {
  it('a host listed in two groups with two different settings', async () => {
    const { error } = await loadError(
      ['all:', '  children:', '    a:', '      hosts:', '        web1: { port: 22 }', '    b:', '      hosts:', '        web1: { port: 2222 }', ''].join('\n'),
    );
    expect(problems(error)).toEqual([`8:23 all.children.b.hosts.web1.port: 'port' of host web1 is also set, to a different value, at ${error.where.file}:5:23`]);
  });

  it('a host listed in several groups, its settings given once: fine', async () => {
    const dir = await writeTree({ 'hosts.yaml': ['all:', '  children:', '    a:', '      hosts:', '        web1: { port: 2222 }', '    b:', '      hosts:', '        web1:', ''].join('\n') });
    const inventory = await loadInventory(path.join(dir, 'hosts.yaml'));
    expect(inventory.hosts.get('web1')).toMatchObject({ port: 2222, groups: ['all', 'a', 'b'] });
  });

  it('a name used for a host and for a group', async () => {
    const { error } = await loadError(['all:', '  hosts:', '    web: {}', '  children:', '    web: {}', ''].join('\n'));
    expect(problems(error)).toEqual(["3:5 all.hosts.web: 'web' is both a host and a group"]);
  });

  it('groups that contain each other', async () => {
    const { error } = await loadError(['all:', '  children:', '    a:', '      children: { b: {} }', '    b:', '      children: { a: {} }', ''].join('\n'));
    expect(problems(error)).toEqual(['3:5 groups contain each other: a -> b -> a']);
  });

  it('a jump host that is not in the inventory, with a suggestion', async () => {
    const { error } = await loadError(['all:', '  hosts:', '    bastion: {}', '    web1: { ssh: { jump: bastoin } }', ''].join('\n'));
    expect(problems(error)).toEqual(["4:26 all.hosts.web1.ssh.jump: jump host 'bastoin' is not in the inventory; did you mean 'bastion'?"]);
  });

  it('jump hosts that loop', async () => {
    const { error } = await loadError(['all:', '  hosts:', '    a: { ssh: { jump: b } }', '    b: { ssh: { jump: a } }', ''].join('\n'));
    expect(problems(error)).toEqual(['3:23 all.hosts.a.ssh.jump: jump hosts form a loop: a -> b -> a', '4:23 all.hosts.b.ssh.jump: jump hosts form a loop: b -> a -> b']);
  });
});

describe('loadInventory: group_vars/ and host_vars/', () => {
  const inventory = ['all:', '  children:', '    directors:', '      hosts:', '        lvs-master:', '    realservers:', '      hosts:', '        web1:', ''].join('\n');

  it('a group_vars file named after no group: an error with the closest group', async () => {
    const { error, dir } = await loadError(inventory, { 'group_vars/director.yml': 'x: 1\n' });
    expect(error.message).toBe("group_vars/director.yml: the inventory has no group 'director'; did you mean 'directors'?");
    expect(error.where).toEqual({ file: path.join(dir, 'group_vars/director.yml') });
    expect(error.hint).toBe("rename it after one of the inventory's groups (all, directors, realservers), or add the group to the inventory");
  });

  it('a group_vars directory named after no group', async () => {
    const { error } = await loadError(inventory, { 'group_vars/realserver/ports.yml': 'x: 1\n' });
    expect(error.message).toBe("group_vars/realserver: the inventory has no group 'realserver'; did you mean 'realservers'?");
  });

  it('a group_vars file named after a host, and a host_vars file named after a group', async () => {
    const groupVars = await loadError(inventory, { 'group_vars/web1.yml': 'x: 1\n' });
    expect(groupVars.error.message).toBe("group_vars/web1.yml: the inventory has no group 'web1'");
    expect(groupVars.error.hint).toBe("'web1' is a host: move this to host_vars/");
    const hostVars = await loadError(inventory, { 'host_vars/directors.yaml': 'x: 1\n' });
    expect(hostVars.error.message).toBe("host_vars/directors.yaml: the inventory has no host 'directors'");
    expect(hostVars.error.hint).toBe("'directors' is a group: move this to group_vars/");
  });

  it('mistakes inside a vars file are located in that file', async () => {
    const { error, dir } = await loadError(inventory, { 'host_vars/web1.yml': 'ok: 1\nbad-name: 2\n' });
    expect(error.where).toEqual({ file: path.join(dir, 'host_vars/web1.yml'), line: 2, column: 1 });
    expect(error.message).toBe("bad-name: 'bad-name' is not a valid name in host_vars file of host web1: expected a variable name: letters, digits and _, not starting with a digit");
  });

  it('a vars file that is not a mapping', async () => {
    const { error } = await loadError(inventory, { 'group_vars/all.yml': '- a\n- b\n' });
    expect(problems(error)).toEqual(['1:1 (top level): expected a mapping of variable names to values, got a list']);
  });

  it('empty vars files and unrelated files are fine', async () => {
    const dir = await writeTree({ 'hosts.yaml': inventory, 'group_vars/all.yml': '# later\n', 'group_vars/notes.txt': 'x', 'host_vars/.web1.yml.swp': 'x' });
    const loaded = await loadInventory(path.join(dir, 'hosts.yaml'));
    expect(loaded.hosts.get('web1')?.vars).toEqual({});
  });
});

describe('loadInventory: !env', () => {
  const inventory = ['all:', '  hosts:', '    web1:', '      port: !env WEB1_PORT', '  vars:', '    authkeys_key: !env HA_AUTH_KEY', ''].join('\n');

  it('reads the value from the environment and records it as a secret', async () => {
    const dir = await writeTree({ 'hosts.yaml': ['all:', '  vars:', '    authkeys_key: !env HA_AUTH_KEY', ''].join('\n') });
    const loaded = await loadInventory(path.join(dir, 'hosts.yaml'), { env: { HA_AUTH_KEY: 'Zm9vYmFy' } });
    expect(loaded.hosts.size).toBe(0);
    expect(loaded.groups.get('all')?.vars).toEqual({ authkeys_key: 'Zm9vYmFy' });
    expect(loaded.secrets).toEqual(new Set(['Zm9vYmFy']));
  });

  it('a variable that is not set: where, which variable, and what to do', async () => {
    const { error, file } = await loadError(['all:', '  vars:', '    authkeys_key: !env HA_AUTH_KEY', ''].join('\n'));
    expect(error.message).toBe('environment variable HA_AUTH_KEY is not set (all.vars.authkeys_key)');
    expect(error.where).toEqual({ file, line: 3, column: 24 });
    expect(error.hint).toBe(`export HA_AUTH_KEY before running, or replace '!env HA_AUTH_KEY' in ${file} with a value`);
  });

  it('a secret is never quoted back in an error', async () => {
    const { error } = await loadError(inventory, {}, { WEB1_PORT: 'hunter2', HA_AUTH_KEY: 'hb-secret-key' });
    expect(problems(error)).toEqual(['4:18 all.hosts.web1.port: expected an integer 1-65535, got a value read with !env (not shown)']);
    expect(error.format()).not.toContain('hunter2');
  });

  it('refuses an ssh or sudo password shorter than the secret minimum, once per variable, at the host (problem 7)', async () => {
    const doc = ['all:', '  hosts:', '    web1: { password_env: WEB_PW }', '    web2:', '      become: { sudo: true, password_env: WEB_PW }', ''].join('\n');
    const { error } = await loadError(doc, {}, { WEB_PW: 'abc' });
    expect(problems(error)).toEqual([
      `3:27 the value of environment variable WEB_PW (the password of host web1) has 3 characters; a secret needs at least ${MIN_SECRET_LENGTH}, because every output is masked by searching for it, and a shorter one would mask ordinary text and give itself away`,
    ]);
    expect(error.format()).not.toContain('abc');
  });

  it('!env in group_vars files counts as a secret too', async () => {
    const dir = await writeTree({ 'hosts.yaml': 'all:\n  hosts: { web1: }\n', 'group_vars/all.yml': 'db_password: !env DB_PASSWORD\n' });
    const loaded = await loadInventory(path.join(dir, 'hosts.yaml'), { env: { DB_PASSWORD: 'db-p4ssword' } });
    expect(loaded.secrets).toEqual(new Set(['db-p4ssword']));
    expect(loaded.hosts.get('web1')?.vars.db_password).toBe('db-p4ssword');
  });
});

describe('loadInventory for lint (onUnsetEnv): !env variables that are not set', () => {
  const keepalived = (extra: string[] = []) =>
    [
      'all:',
      '  hosts:',
      '    lvs1: { address: 10.0.0.1 }',
      '    lvs2: { address: 10.0.0.2 }',
      '    web1: { address: 10.0.0.3 }',
      ...extra,
      'cluster:',
      '  name: web',
      '  manager: keepalived',
      '  directors: [lvs1, lvs2]',
      '  virtual_services:',
      '    - { vip: 10.0.0.100, port: 80, realservers: [{ host: web1 }], check: { type: TCP_CHECK } }',
      '  keepalived: { virtual_router_id: 51, priority: { lvs1: 100, lvs2: 50 }, auth: { type: PASS, pass: !env VRRP_PASS } }',
      '',
    ].join('\n');

  /** Loads as `provision lint` does: returns the inventory and the unset variables reported. */
  async function lintLoad(files: Record<string, string>, env: NodeJS.ProcessEnv = {}) {
    const dir = await writeTree(files);
    const file = path.join(dir, 'hosts.yaml');
    const unset: UnsetEnv[] = [];
    const inventory = await loadInventory(file, { env, onUnsetEnv: (u) => unset.push(u) });
    return { inventory, unset, dir, file };
  }

  it('an unset secret of the cluster is reported where it is written, and loads as an unknown secret read with !env', async () => {
    const { inventory, unset, file } = await lintLoad({ 'hosts.yaml': keepalived() });
    expect(unset).toEqual([{ variable: 'VRRP_PASS', where: { file, line: 12, column: 106 }, path: 'cluster.keepalived.auth.pass' }]);
    expect(unsetEnvVariable(inventory.cluster?.keepalived?.auth?.pass)).toBe('VRRP_PASS');
    // Read with !env, so not "written in clear" for lint's secret-in-clear rule.
    expect(inventory.clusterSource?.clearTextSecrets).toEqual([]);
    // The unknown value holds no secret text: it is never masked (masking could not even search for it).
    expect([...knownSecrets()].filter((secret) => unsetEnvVariable(secret) !== undefined)).toEqual([]);
    expect(() => secretsPattern(inventory.secrets)).not.toThrow();
  });

  it('through a variable of group all and a template, as inventory/example.yaml writes it', async () => {
    const unset: UnsetEnv[] = [];
    const file = path.join(repoRoot, 'inventory/example.yaml');
    const inventory = await loadInventory(file, { env: {}, onUnsetEnv: (u) => unset.push(u) });
    expect(unset).toEqual([{ variable: 'HA_AUTH_KEY', where: { file, line: expect.any(Number), column: expect.any(Number) }, path: 'all.vars.ha_auth_key' }]);
    expect(unsetEnvVariable(inventory.cluster?.heartbeat?.authkeys.key)).toBe('HA_AUTH_KEY');
  });

  it('in group_vars files too', async () => {
    const { unset, dir } = await lintLoad({ 'hosts.yaml': 'all:\n  hosts: { web1: }\n', 'group_vars/all.yml': 'x: 1\ndb_password: !env DB_PASSWORD\n' });
    expect(unset).toEqual([{ variable: 'DB_PASSWORD', where: { file: path.join(dir, 'group_vars/all.yml'), line: 2, column: 19 }, path: 'db_password' }]);
  });

  it('where a secret does not go, lint needs the value: an error naming the variable and what to export', async () => {
    const doc = ['all:', '  hosts:', '    web1:', '      port: !env WEB1_PORT', '  vars:', '    manage_hostname: !env MANAGE_HOSTNAME', ''].join('\n');
    const dir = await writeTree({ 'hosts.yaml': doc });
    const error = await userError(loadInventory(path.join(dir, 'hosts.yaml'), { env: {}, onUnsetEnv: () => undefined }));
    expect(problems(error)).toEqual(['4:18 all.hosts.web1.port: expected an integer 1-65535, got !env WEB1_PORT, which is not set']);
    expect(error.hint).toBe('export WEB1_PORT (a run needs it too): without its value, lint can check an !env value only where a secret goes');
    // The built-in roles' typed variables likewise.
    const role = await userError(loadInventory(path.join(await writeTree({ 'hosts.yaml': doc.replace('port: !env WEB1_PORT', 'port: 22') }), 'hosts.yaml'), { env: {}, onUnsetEnv: () => undefined }));
    expect(role.message).toBe('variable manage_hostname of role base: expected true or false, got !env MANAGE_HOSTNAME, which is not set');
  });

  it('a value that is set is checked as in a run: lint and a run refuse the same values', async () => {
    for (const pass of ['abc', 'two words', 'br{ace}s']) {
      const dir = await writeTree({ 'hosts.yaml': keepalived() });
      const file = path.join(dir, 'hosts.yaml');
      const asLint = await userError(loadInventory(file, { env: { VRRP_PASS: pass }, onUnsetEnv: () => undefined }));
      const asRun = await userError(loadInventory(file, { env: { VRRP_PASS: pass } }));
      expect(problems(asLint), pass).toEqual(problems(asRun));
      expect(asLint.format(), pass).not.toContain(pass);
    }
  });

  it('a file cannot pass a value off as unknown: only the loader makes one (lint or run)', async () => {
    const forged = keepalived().replace('pass: !env VRRP_PASS', 'pass: "\\0!env VRRP_PASS\\0"');
    const dir = await writeTree({ 'hosts.yaml': forged });
    for (const onUnsetEnv of [() => undefined, undefined]) {
      const error = await userError(loadInventory(path.join(dir, 'hosts.yaml'), { env: {}, onUnsetEnv }));
      expect(problems(error)).toEqual([expect.stringMatching(/^12:101 cluster\.keepalived\.auth\.pass: expected the VRRP password/)]);
    }
  });

  it('other mistakes of the file are errors as in a run, with the unset secret unknown', async () => {
    const misspelt = keepalived(['    web2: { addres: 10.0.0.4 }']);
    const dir = await writeTree({ 'hosts.yaml': misspelt });
    const asLint = await userError(loadInventory(path.join(dir, 'hosts.yaml'), { env: {}, onUnsetEnv: () => undefined }));
    expect(problems(asLint)).toEqual([expect.stringMatching(/^6:13 all\.hosts\.web2\.addres: unknown key 'addres' in host web2/)]);
    const asRun = await userError(loadInventory(path.join(dir, 'hosts.yaml'), { env: { VRRP_PASS: 'vrrp-pw1' } }));
    expect(problems(asRun)).toEqual(problems(asLint));
    // Without the variable, a run stops at it, as the file is read.
    const { error } = await loadError(misspelt);
    expect(error.message).toBe('environment variable VRRP_PASS is not set (cluster.keepalived.auth.pass)');
  });
});

describe('loadInventory: common shapes that are not valid', () => {
  it('a host given as a bare address, a group given as a list', async () => {
    const { error } = await loadError(['all:', '  hosts:', '    web1: 192.168.2.252', '  children:', '    directors: [lvs-master]', ''].join('\n'));
    expect(problems(error)).toEqual([
      '3:11 all.hosts.web1: expected the host\'s settings as a mapping, e.g. { address: 192.168.2.250 } (or nothing), got "192.168.2.252"',
      '5:16 all.children.directors: expected a group: a mapping with hosts:, children: and/or vars: (or nothing), got a list',
    ]);
  });
});
