// The top-level Vagrantfile, checked with Debian's vagrant (no provider, no box: neither can run
// here): `vagrant validate` for every supported box, and the configuration Vagrant itself loads
// from it (test/support/vagrant-config.rb) against inventory/vagrant.yaml, the inventory its
// provisioning trigger runs.
import { existsSync } from 'node:fs';
import { copyFile, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../../src/inventory/load.ts';
import { repoRoot } from '../../support/project.ts';

interface LoadedTrigger {
  command: string;
  name: string;
  only_on: string[];
  argv: string[];
  ruby: boolean;
}

interface LoadedMachine {
  name: string;
  box: string;
  hostname: string;
  private_networks: Array<{ ip: string; virtualbox__intnet?: string }>;
  synced_folders: Record<string, { disabled: boolean }>;
  before_triggers: LoadedTrigger[];
  after_triggers: LoadedTrigger[];
  libvirt: {
    management_network_name: string;
    management_network_address: string;
    management_network_mode: string;
    private_networks: Array<Record<string, unknown>>;
  };
}

const SUPPORTED_BOXES = {
  'centos/7': ['centos7', 'el7'],
  'rockylinux/8': ['rocky8', 'rockylinux8'],
  'rockylinux/9': ['rocky9', 'rockylinux9'],
  'almalinux/9': ['alma9', 'almalinux9'],
  'debian/bookworm64': ['debian12', 'bookworm'],
} as const;
// Built on this machine (provision vagrant box), so it is validated only once it is there.
const LOCAL_BOX = 'provision/debian12-lab';

describe('the Vagrantfile', () => {
  let home: string;

  beforeAll(async () => {
    home = await mkdtemp(path.join(tmpdir(), 'provision-vagrant-home-'));
  });
  afterAll(async () => {
    if (home) await rm(home, { recursive: true, force: true });
  });

  /** Vagrant with its state (VAGRANT_HOME, .vagrant) in a temp dir: nothing is written to the repository or ~. */
  const vagrant = (args: string[], options: { box?: string; cwd?: string; env?: Record<string, string> } = {}) =>
    execa(args[0] === 'ruby' ? 'ruby' : 'vagrant', args[0] === 'ruby' ? args.slice(1) : args, {
      cwd: options.cwd ?? repoRoot,
      env: { VAGRANT_HOME: path.join(home, 'home'), VAGRANT_DOTFILE_PATH: path.join(home, 'dot'), VAGRANT_CHECKPOINT_DISABLE: '1', PROVISION_BOX: options.box ?? '', ...options.env },
      reject: false,
      timeout: 60_000,
      stdin: 'ignore',
    });
  type LoadedConfig = { machines: LoadedMachine[]; no_parallel: string | null; provision_command: string[] };
  /** The configuration Vagrant loads, for each PROVISION_BOX value (default: unset). */
  const loadConfigs = async (boxes: string[] = [''], env: Record<string, string> = {}): Promise<Record<string, LoadedConfig>> => {
    const result = await vagrant(['ruby', path.join(repoRoot, 'test/support/vagrant-config.rb'), repoRoot, ...boxes], { env });
    expect(result.stderr).toBe('');
    return JSON.parse(result.stdout) as Record<string, LoadedConfig>;
  };
  const loadConfig = async (env: Record<string, string> = {}): Promise<LoadedConfig> => (await loadConfigs([''], env))['']!;

  it('passes vagrant validate with PROVISION_BOX unset and set to every supported box (no box download needed)', async () => {
    const boxes = ['', ...Object.keys(SUPPORTED_BOXES)];
    const results = await Promise.all(boxes.map((box) => vagrant(['validate', '--ignore-provider'], { box })));
    for (const [index, result] of results.entries()) {
      expect(result.stderr, boxes[index]).toBe('');
      expect(result.stdout, boxes[index]).toContain('Vagrantfile validated successfully.');
      expect(result.exitCode, boxes[index]).toBe(0);
    }
    expect(existsSync(path.join(repoRoot, '.vagrant'))).toBe(false);
  });

  it('fails vagrant validate for a mistake (the check is real): a misspelled setting', async () => {
    const copy = await mkdtemp(path.join(tmpdir(), 'provision-vagrantfile-'));
    try {
      const text = await readFile(path.join(repoRoot, 'Vagrantfile'), 'utf8');
      expect(text).toContain('node.vm.hostname =');
      await writeFile(path.join(copy, 'Vagrantfile'), text.replace('node.vm.hostname =', 'node.vm.hostnme ='));
      const result = await vagrant(['validate', '--ignore-provider'], { cwd: copy });
      expect(result.exitCode).not.toBe(0);
      expect(result.stderr).toContain("The following settings shouldn't exist: hostnme");
      // The original passes in the same place.
      await copyFile(path.join(repoRoot, 'Vagrantfile'), path.join(copy, 'Vagrantfile'));
      expect((await vagrant(['validate', '--ignore-provider'], { cwd: copy })).exitCode).toBe(0);
    } finally {
      await rm(copy, { recursive: true, force: true });
    }
  });

  it('refuses an unsupported PROVISION_BOX, listing the supported ones', async () => {
    const result = await vagrant(['validate', '--ignore-provider'], { box: 'ubuntu/jammy64' });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain('PROVISION_BOX=ubuntu/jammy64 is not a box this lab supports. Use one of: ');
    for (const box of Object.keys(SUPPORTED_BOXES)) expect(result.stderr).toContain(box);
  });

  it('uses CentOS 7 by default and the box PROVISION_BOX names, by full or short name', async () => {
    // Each box by its full name and its first short name; case does not matter.
    const names = Object.entries(SUPPORTED_BOXES).flatMap(([box, aliases]) => [box, aliases[0]]);
    const configs = await loadConfigs(['', 'Rocky9', ...names]);
    const boxesOf = (name: string) => new Set(configs[name]?.machines.map((machine) => machine.box));
    expect(boxesOf('')).toEqual(new Set(['centos/7']));
    expect(boxesOf('Rocky9')).toEqual(new Set(['rockylinux/9']));
    for (const [box, aliases] of Object.entries(SUPPORTED_BOXES)) {
      for (const name of [box, aliases[0]]) expect(boxesOf(name), name).toEqual(new Set([box]));
    }
  });

  it("is the tutorials' lab: the hosts, addresses and heartbeat link of inventory/vagrant.yaml", async () => {
    const { machines } = await loadConfig();
    const inventory = await loadInventory(path.join(repoRoot, 'inventory/vagrant.yaml'), { env: { HA_AUTH_KEY: 'vagrant-test-key' } });
    // The heartbeat link's addresses are those of the inventory's cluster description.
    const heartbeatAddresses: Record<string, string> = inventory.cluster?.heartbeat?.ucast?.[0]?.addresses ?? {};
    expect(machines.map((machine) => machine.name)).toEqual([...inventory.hosts.keys()]);
    expect(machines.map((machine) => machine.name)).toEqual(['lvs-master', 'lvs-backup', 'web1', 'web2', 'client']);
    for (const machine of machines) {
      const host = inventory.hosts.get(machine.name)!;
      expect(machine.hostname).toBe(machine.name); // heartbeat matches node names against uname -n
      // Reached through Vagrant, the machine of the same name in this Vagrantfile, root by sudo.
      expect(host).toMatchObject({ transport: 'vagrant', vagrant: { dir: repoRoot, machine: machine.name }, become: { sudo: true } });
      const heartbeat = heartbeatAddresses[machine.name];
      expect(machine.private_networks).toEqual([
        { ip: host.address },
        ...(heartbeat === undefined ? [] : [{ ip: heartbeat, virtualbox__intnet: 'provision-heartbeat' }]),
      ]);
      expect(host.address).toMatch(/^192\.168\.2\./);
      if (heartbeat !== undefined) expect(heartbeat).toMatch(/^192\.168\.1\./);
      expect(machine.synced_folders['/vagrant']).toEqual({ disabled: true });
    }
    expect(machines.filter((machine) => machine.private_networks.length === 2).map((machine) => machine.name)).toEqual(['lvs-master', 'lvs-backup']);
    // NICs in Vagrant's order: the management NIC (eth0), then the private networks as listed above.
    expect(inventory.cluster?.network?.interface).toBe('eth1');
    expect(inventory.cluster?.heartbeat?.ucast?.map((ucast) => ucast.interface)).toEqual(['eth2']);
  });

  it('provisions from this machine once every machine is up, and again after vagrant provision: npx provision with the vagrant inventory', async () => {
    const { machines, no_parallel, provision_command } = await loadConfig();
    // libvirt brings the machines up in parallel: the trigger after `up` is Ruby, run by each
    // machine, and only the last one up starts the run (once); `vagrant provision` goes through
    // the machines one after the other, so the last machine's trigger runs the same command.
    expect(no_parallel).toBeNull();
    const argv = ['npx', '--prefix', repoRoot, 'provision', path.join(repoRoot, 'playbooks/site.yml'), '--inventory', path.join(repoRoot, 'inventory/vagrant.yaml')];
    expect(provision_command).toEqual(argv);
    for (const machine of machines) {
      expect(machine.after_triggers.filter((trigger) => trigger.name === 'provision')).toEqual([
        { command: 'up', name: 'provision', only_on: [], argv: [], ruby: true },
        { command: 'provision', name: 'provision', only_on: ['client'], argv, ruby: false },
      ]);
    }
    expect(machines.at(-1)?.name).toBe('client');
    for (const file of ['playbooks/site.yml', 'inventory/vagrant.yaml', 'bin/provision.js']) expect(existsSync(path.join(repoRoot, file)), file).toBe(true);
    // The command itself works from anywhere (Vagrant may run it from a subdirectory).
    const help = await execa('npx', ['--prefix', repoRoot, 'provision', '--help'], { cwd: tmpdir(), reject: false, timeout: 60_000 });
    expect(help.exitCode).toBe(0);
    expect(help.stdout).toContain('Usage: provision');
  });

  it('with libvirt, every network is isolated (the management one too) and libvirt-up / libvirt-down run around the machines', async () => {
    for (const network of ['', 'lab']) {
      const { machines } = await loadConfig({ PROVISION_NETWORK: network });
      for (const machine of machines) {
        expect(machine.libvirt.management_network_mode, network).toBe('none');
        expect(machine.libvirt.management_network_name).toBe('provision-mgmt');
        for (const options of machine.libvirt.private_networks) expect(options).toMatchObject({ libvirt__forward_mode: 'none', libvirt__always_destroy: false });
        expect(machine.before_triggers.map(({ command, name, ruby }) => ({ command, name, ruby }))).toEqual([{ command: 'up', name: 'libvirt networks', ruby: true }]);
        expect(machine.after_triggers.filter((trigger) => trigger.ruby).map(({ command, name }) => ({ command, name }))).toEqual([
          { command: 'destroy', name: 'libvirt cleanup' },
          { command: 'up', name: 'provision' },
        ]);
      }
    }
    expect((await loadConfig({ PROVISION_NETWORK: 'lab' })).machines[0]?.libvirt.management_network_address).toBe('10.213.30.0/24');
  });

  it("PROVISION_NETWORK=lab: the lab's subnets and inventory/vagrant-lab.yaml, whose addresses they are", async () => {
    const { machines } = await loadConfig({ PROVISION_NETWORK: 'lab' });
    const inventory = await loadInventory(path.join(repoRoot, 'inventory/vagrant-lab.yaml'), { env: { HA_AUTH_KEY: 'vagrant-test-key' } });
    const heartbeatAddresses: Record<string, string> = inventory.cluster?.heartbeat?.ucast?.[0]?.addresses ?? {};
    expect(machines.map((machine) => machine.name)).toEqual([...inventory.hosts.keys()]);
    for (const machine of machines) {
      const heartbeat = heartbeatAddresses[machine.name];
      expect(machine.private_networks).toEqual([{ ip: inventory.hosts.get(machine.name)!.address }, ...(heartbeat === undefined ? [] : [{ ip: heartbeat, virtualbox__intnet: 'provision-heartbeat' }])]);
      expect(machine.private_networks[0]?.ip).toMatch(/^10\.213\.32\./);
    }
    expect((await loadConfig({ PROVISION_NETWORK: 'lab' })).provision_command).toEqual(
      ['npx', '--prefix', repoRoot, 'provision', path.join(repoRoot, 'playbooks/site.yml'), '--inventory', path.join(repoRoot, 'inventory/vagrant-lab.yaml')],
    );
    const bad = await vagrant(['validate', '--ignore-provider'], { env: { PROVISION_NETWORK: 'office' } });
    expect(bad.exitCode).not.toBe(0);
    expect(bad.stderr).toContain('PROVISION_NETWORK=office is not one of: tutorial, lab');
  });

  it('PROVISION_MACHINES brings up fewer machines and limits the run to them; PROVISION_JSON keeps its events', async () => {
    const { machines, provision_command } = await loadConfig({ PROVISION_MACHINES: 'lvs-master,web1,client', PROVISION_JSON: '/tmp/run.jsonl' });
    expect(machines.map((machine) => machine.name)).toEqual(['lvs-master', 'web1', 'client']);
    expect(provision_command.slice(-4)).toEqual(['--limit', 'lvs-master,web1,client', '--json', '/tmp/run.jsonl']);
    expect(machines[0]?.after_triggers.find((trigger) => trigger.command === 'provision')?.argv.slice(-4)).toEqual(['--limit', 'lvs-master,web1,client', '--json', '/tmp/run.jsonl']);
    const bad = await vagrant(['validate', '--ignore-provider'], { env: { PROVISION_MACHINES: 'lvs-master,web9' } });
    expect(bad.stderr).toContain('PROVISION_MACHINES names machines this lab does not have: web9');
  });

  it('PROVISION_BOX=lab asks for `npx provision vagrant box` until the box is built here (it is never downloaded)', async () => {
    const result = await vagrant(['validate', '--ignore-provider'], { box: 'lab' });
    expect(result.exitCode).not.toBe(0);
    expect(result.stderr).toContain(`the box ${LOCAL_BOX} is built on this machine and is not there yet`);
    expect(result.stderr).toContain('Run `npx provision vagrant box` first');
  });
});
