// The Ansible twin the bench runs against our playbook (scripts/bench/): written task for task
// from what our roles do on each host, with builtin modules, its strings never read as templates,
// secrets only in the files it copies; its inventory and ansible.cfg from ours; and the bench's
// parsing of what Ansible prints and of the ssh invocations it counts.
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import type { Facts } from '../../../src/core/facts.ts';
import { loadInventory } from '../../../src/inventory/load.ts';
import type { Inventory } from '../../../src/inventory/model.ts';
import { planLab } from '../../../src/lab/settings.ts';
import { loadPlaybook } from '../../../src/playbook/load.ts';
import { ansibleTwin, mergeSlots, pythonRegex, translateOp, UNCHANGED_MARKER, yamlDocument, type AnsibleStep, type TwinOptions } from '../../../scripts/bench/ansible-twin.ts';
import { scaleInventory } from '../../../scripts/bench/scale/inventory.ts';
import { countInvocations, parseAnsibleRecap } from '../../../scripts/bench/tools.ts';
import { planTwin, type ResolvedOp, type TwinPlan } from '../../../scripts/bench/twin-plan.ts';
import { repoRoot } from '../../support/project.ts';
import { factsFor } from '../../support/facts.ts';

/** Parses the twin's YAML as Ansible reads it: !unsafe is a string that is never templated. */
function parseTwinYaml(text: string): unknown {
  return parse(text, { customTags: [{ tag: '!unsafe', resolve: (value: string) => ({ unsafe: value }) }] });
}

/** Every !unsafe string back to a plain one, to compare with what was written. */
function plain(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(plain);
  if (value !== null && typeof value === 'object') {
    if ('unsafe' in value && Object.keys(value).length === 1) return (value as { unsafe: string }).unsafe;
    return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, plain(v)]));
  }
  return value;
}

const SECRET = 'twin-test-secret-0123';
const labFacts = (name: string): Facts => factsFor('debian12', { init: 'sysv', nodename: name });

describe('the Ansible twin of playbooks/site.yml on inventory/lab.yaml', () => {
  let inventory: Inventory;
  let plan: TwinPlan;
  let twin: Map<string, string>;
  let previousKey: string | undefined;
  const options = (hosts: Inventory['hosts']): TwinOptions => ({
    hosts: [...hosts.values()].map((host) => ({ name: host.name, address: host.address, port: host.port, user: host.user, key: '/lab/key', knownHosts: '/lab/known_hosts', hostKeyChecking: 'strict' })),
    groups: new Map([...inventory.groups.values()].map((group) => [group.name, group.hosts])),
    forks: 20,
    strategy: 'linear',
    controlPathDir: '/work/cp',
    executables: { ssh: '/work/bin/ssh', sftp: '/work/bin/sftp', scp: '/work/bin/scp' },
    python: '/usr/bin/python3',
  });

  beforeAll(async () => {
    previousKey = process.env.HA_AUTH_KEY;
    process.env.HA_AUTH_KEY = SECRET;
    inventory = await loadInventory(path.join(repoRoot, 'inventory/lab.yaml'));
    const playbook = await loadPlaybook(path.join(repoRoot, 'playbooks/site.yml'));
    plan = await planTwin(inventory, playbook, new Map([...inventory.hosts.keys()].map((name) => [name, labFacts(name)])));
    twin = ansibleTwin(plan, options(inventory.hosts)).files;
  });
  afterAll(() => {
    if (previousKey === undefined) delete process.env.HA_AUTH_KEY;
    else process.env.HA_AUTH_KEY = previousKey;
  });

  it('has one play per play of ours, each without fact gathering, on the same hosts', () => {
    const plays = plain(parseTwinYaml(twin.get('site.yml')!)) as Array<Record<string, unknown>>;
    expect(plays.map((play) => play.name)).toEqual(plan.plays.map((play) => play.name));
    for (const play of plays) {
      expect(play.gather_facts).toBe(false);
      expect(play.hosts).toBe('all');
    }
  });

  it('gives every host exactly the tasks our roles give it, in order', () => {
    const plays = plain(parseTwinYaml(twin.get('site.yml')!)) as Array<{ tasks: Array<Record<string, unknown>> }>;
    for (const host of inventory.hosts.keys()) {
      const ours = plan.plays.flatMap((play) => (play.perHost[host]?.tasks ?? []).map((task) => `${task.role} : ${task.name}`));
      const theirs = plays
        .flatMap((play) => play.tasks)
        .filter((task) => {
          const when = task.when as string[] | undefined;
          const condition = when?.find((part) => part.startsWith('inventory_hostname in '));
          return condition === undefined || (JSON.parse(condition.slice('inventory_hostname in '.length)) as string[]).includes(host);
        })
        .map((task) => String(task.name).replace(/ \(\d+\/\d+\)$/, ''))
        .filter((name, i, list) => name !== list[i - 1])
        .filter((name) => !name.startsWith('provision-twin:'));
      expect(theirs, host).toEqual(ours);
      expect(ours.length, host).toBeGreaterThan(2);
    }
  });

  it('uses builtin modules only', () => {
    const modules = new Set([...twin.get('site.yml')!.matchAll(/^\s+(?:- )?(ansible\.\w+\.\w+):/gm)].map((match) => match[1]!));
    expect([...modules].every((module) => module.startsWith('ansible.builtin.'))).toBe(true);
    expect(modules).toContain('ansible.builtin.copy');
    expect(modules).toContain('ansible.builtin.apt');
    expect(modules).toContain('ansible.builtin.service');
  });

  it('keeps the heartbeat key out of the playbook and inventory, in a copied file only, and the task no_log', () => {
    expect(twin.get('site.yml')).not.toContain(SECRET);
    expect(twin.get('inventory.yml')).not.toContain(SECRET);
    const holders = [...twin].filter(([name, content]) => name.startsWith('files/') && content.includes(SECRET)).map(([name]) => name);
    expect(holders).toHaveLength(1);
    const plays = plain(parseTwinYaml(twin.get('site.yml')!)) as Array<{ tasks: Array<Record<string, unknown>> }>;
    const authkeys = plays.flatMap((play) => play.tasks).find((task) => String(task.name).includes('authkeys'));
    expect(authkeys?.no_log).toBe(true);
  });

  it('writes per-host values (the hostname file) in the inventory, the task reading them', () => {
    const inventoryYaml = plain(parseTwinYaml(twin.get('inventory.yml')!)) as { all: { hosts: Record<string, Record<string, unknown>>; children: Record<string, unknown> } };
    const web1 = inventoryYaml.all.hosts.web1!;
    expect(web1).toMatchObject({ ansible_host: '10.213.2.252', ansible_port: 22, ansible_user: 'root', ansible_ssh_private_key_file: '/lab/key' });
    expect(web1.ansible_ssh_common_args).toContain('UserKnownHostsFile=/lab/known_hosts');
    expect(web1.ansible_ssh_common_args).toContain('StrictHostKeyChecking=yes');
    expect(Object.keys(inventoryYaml.all.children)).toEqual(expect.arrayContaining(['directors', 'realservers', 'clients']));
    const plays = plain(parseTwinYaml(twin.get('site.yml')!)) as Array<{ tasks: Array<Record<string, Record<string, unknown>>> }>;
    const hostname = plays[0]!.tasks.find((task) => String(task.name) === 'base : hostname in /etc/hostname')!;
    const src = String(hostname['ansible.builtin.copy']!.src);
    const slot = /pv\.(\w+)\[0\]\.src/.exec(src)![1]!;
    const web1Src = ((web1.pv as Record<string, Array<{ src: string }>>)[slot]![0]!).src;
    expect(twin.get(`files/${web1Src}`)).toBe('web1\n');
  });

  it('sets the fastest fair settings in ansible.cfg', () => {
    const cfg = twin.get('ansible.cfg')!;
    for (const line of ['forks = 20', 'gathering = explicit', 'pipelining = True', 'interpreter_python = /usr/bin/python3', 'ssh_executable = /work/bin/ssh', 'control_path_dir = /work/cp']) expect(cfg).toContain(line);
    expect(cfg).toMatch(/ssh_args = .*ControlPersist=60s/);
  });

  it('lists, at the start of the directors play, which services run, for the handlers that restart only those', () => {
    const plays = plain(parseTwinYaml(twin.get('site.yml')!)) as Array<{ name: string; tasks: Array<Record<string, unknown>>; handlers?: Array<Record<string, unknown>> }>;
    const directors = plays.find((play) => play.name.startsWith('Directors'))!;
    expect(String(directors.tasks[0]!.name)).toContain('services running at the start of the play');
    const restart = directors.handlers!.find((handler) => handler.listen === 'restart heartbeat')!;
    expect((restart.when as string[]).join(' ')).toContain('provision_twin_running_at_start.stdout_lines');
  });
});

describe('translateOp', () => {
  const files = new Map<string, string>();
  const contentFile = (content: string) => {
    files.set('f', content);
    return 'f';
  };
  const one = (op: ResolvedOp): AnsibleStep[] => translateOp(op, 'r_t1', contentFile);

  it('copies a file with the content our role rendered', () => {
    expect(one({ kind: 'file', path: '/etc/x', content: 'a {{ b }}\n', mode: '0600', backup: false, secret: true })).toEqual([
      { module: 'ansible.builtin.copy', args: { src: 'f', dest: '/etc/x', mode: '0600' }, extra: { no_log: true } },
    ]);
    expect(files.get('f')).toBe('a {{ b }}\n');
  });

  it('runs a guarded command in one shell task that says when its guard held', () => {
    const [step] = one({ kind: 'command', run: 'hostname web1', unless: 'test "$(uname -n)" = web1', creates: '/etc/stamp' }) as Array<Extract<AnsibleStep, { module: string }>>;
    expect(step!.module).toBe('ansible.builtin.shell');
    expect(step!.args).toMatchObject({ executable: '/bin/sh', chdir: '/', creates: '/etc/stamp' });
    expect(String(step!.args.cmd)).toContain(`then echo '${UNCHANGED_MARKER}'; exit 0; fi\nset -e\nhostname web1`);
    expect(JSON.stringify(step!.extra)).toContain('r_t1.changed | default(true)');
  });

  it('sets a sysctl at run time and persists it with lineinfile (ansible-core has no sysctl module)', () => {
    const steps = one({ kind: 'sysctl', name: 'net.ipv4.conf.all.arp_ignore', value: '1', persistFile: '/etc/sysctl.d/90-provision.conf' }) as Array<Extract<AnsibleStep, { module: string }>>;
    expect(steps.map((step) => step.module)).toEqual(['ansible.builtin.shell', 'ansible.builtin.lineinfile']);
    expect(String(steps[0]!.args.cmd)).toContain('/proc/sys/net/ipv4/conf/all/arp_ignore');
    expect(steps[1]!.args).toEqual({ path: '/etc/sysctl.d/90-provision.conf', regexp: '^\\s*-?\\s*net\\.ipv4\\.conf\\.all\\.arp_ignore\\s*=', line: 'net.ipv4.conf.all.arp_ignore = 1', create: true });
  });

  it('installs with apt, and on failure refreshes the lists and installs again, as ours does', () => {
    expect(one({ kind: 'packages', manager: 'apt', names: ['nginx'], state: 'present', updateCache: false })).toEqual([
      { block: [{ module: 'ansible.builtin.apt', args: { name: ['nginx'], state: 'present' } }], rescue: [{ module: 'ansible.builtin.apt', args: { name: ['nginx'], state: 'present', update_cache: true } }] },
    ]);
  });

  it('edits lines and blocks with lineinfile and blockinfile, the patterns in Python syntax', () => {
    expect(one({ kind: 'line', path: '/etc/default/x', line: 'A=1', regexp: { source: '^\\s*(?:export\\s+)?A=', flags: '' }, create: true, backup: false })).toEqual([
      { module: 'ansible.builtin.lineinfile', args: { path: '/etc/default/x', line: 'A=1', regexp: '^\\s*(?:export\\s+)?A=', create: true } },
    ]);
    expect(pythonRegex({ source: 'abc', flags: 'im' })).toBe('(?im)abc');
    expect(one({ kind: 'block', path: '/etc/hosts', block: '1.2.3.4 a\n', marker: '# {mark} x', create: false, backup: false })).toEqual([
      { module: 'ansible.builtin.blockinfile', args: { path: '/etc/hosts', block: '1.2.3.4 a\n', marker: '# {mark} x' } },
    ]);
  });

  it('names the service manager from the facts (no setup call to find it)', () => {
    expect(one({ kind: 'service', name: 'nginx', enabled: true, state: 'started', ifRunning: false, systemd: false })).toEqual([
      { module: 'ansible.builtin.service', args: { name: 'nginx', enabled: true, state: 'started', use: 'service' } },
    ]);
  });
});

describe('the twin YAML', () => {
  it('marks every string of ours !unsafe, so Jinja never reads it', () => {
    const text = yamlDocument({ a: 'x {{ y }} {# z', b: ['{% if %}', 1, true], c: null });
    expect(text).toContain('!unsafe "x {{ y }} {# z"');
    expect(plain(parseTwinYaml(text))).toEqual({ a: 'x {{ y }} {# z', b: ['{% if %}', 1, true], c: null });
  });

  it('merges the hosts\' task lists in their order, a task shared by the hosts that have it', () => {
    const op: ResolvedOp = { kind: 'absent', path: '/x' };
    const t = (name: string) => ({ role: 'r', name, op });
    const slots = mergeSlots([
      ['a', [t('1'), t('2'), t('4')]],
      ['b', [t('1'), t('3'), t('4')]],
    ]);
    // Each host's order holds (2 and 3 belong to different hosts: either order would do).
    expect(slots.map((slot) => [slot.label, [...slot.perHost.keys()]])).toEqual([
      ['r : 1', ['a', 'b']],
      ['r : 3', ['b']],
      ['r : 2', ['a']],
      ['r : 4', ['a', 'b']],
    ]);
  });
});

describe('what the bench reads from Ansible', () => {
  it('parses the PLAY RECAP', () => {
    const out = 'TASK [x]\nok: [web1]\n\nPLAY RECAP ****\nweb1                       : ok=20   changed=3    unreachable=0    failed=0    skipped=15   rescued=1    ignored=0   \nlvs-master : ok=1 changed=0 unreachable=1 failed=0 skipped=0 rescued=0 ignored=0\n';
    expect(parseAnsibleRecap(out)).toEqual({
      web1: { ok: 20, changed: 3, unreachable: 0, failed: 0, skipped: 15, rescued: 1 },
      'lvs-master': { ok: 1, changed: 0, unreachable: 1, failed: 0, skipped: 0, rescued: 0 },
    });
  });

  it('counts ssh, sftp and scp invocations per host, not ssh -O control commands', () => {
    const log = [
      'ssh\t-C\t-o\tControlMaster=auto\t10.213.2.252\t/bin/sh -c python3',
      'ssh\t-C\t10.213.2.252\t/bin/sh -c python3',
      'sftp\t-b\t-\t-C\t[10.213.2.252]',
      'ssh\t-O\texit\t10.213.2.252',
      'ssh\t-C\t10.213.2.10\tx',
      '',
    ].join('\n');
    expect(countInvocations(log, new Map([['web1', '10.213.2.252'], ['client', '10.213.2.10'], ['web2', '10.213.2.253']]))).toEqual({ web1: 3, client: 1, web2: 0 });
  });
});

describe('the scale lab', () => {
  let dir: string;
  beforeAll(async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'provision-scale-test-'));
  });
  afterAll(async () => {
    await rm(dir, { recursive: true, force: true });
  });

  it('plans 100 namespace hosts on one bridge, every link name fitting Linux and its own', async () => {
    const file = path.join(dir, 'scale.yaml');
    await writeFile(file, scaleInventory(100, [1, 10, 50, 100]));
    const inventory = await loadInventory(file);
    expect(inventory.groups.get('n10')?.hosts).toHaveLength(10);
    const lab = planLab(inventory);
    expect(lab.hosts).toHaveLength(100);
    expect(lab.bridges).toHaveLength(1);
    expect(new Set(lab.hosts.map((host) => host.interfaces[0]!.address)).size).toBe(100);
    expect(lab.hosts.at(-1)).toMatchObject({ name: 's100', index: 99, interfaces: [{ address: '10.213.8.110' }] });
  });
});
