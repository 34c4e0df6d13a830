// `vagrant up` for real, as a user on this machine runs it, with the Vagrantfile's whole cluster:
// the libvirt provider (vagrant-libvirt, qemu under TCG: no KVM here), the box built here from the
// lab's VM image (provision vagrant box), the lab's subnets (PROVISION_NETWORK=lab), all five
// machines (two directors, two real servers, a client). The Vagrantfile's triggers do the rest:
// libvirt and its isolated networks before the machines come up (in parallel), the provisioning
// run (site.yml with inventory/vagrant-lab.yaml, through the vagrant transport) once all of them
// are up, and the cleanup after `vagrant destroy`. Then the user's own commands prove the cluster on the Vagrant
// machines: `provision verify` (VIP holder, IPVS table, heartbeat, ARP, health pages, round robin
// through the VIP between web1 and web2); `vagrant provision` runs the playbook again and changes
// nothing; `provision drill` stops lvs-master's heartbeat (lvs-backup takes the VIP) and starts it
// again (auto_failback brings it back). `vagrant destroy -f` then leaves nothing behind: libvirt
// domains, networks, pools and volumes, bridges, firewall rules and processes are compared before
// and after. One test for all of it: five TCG guests take about 11 minutes on two cores, and CI
// runs them once.
import { readFile } from 'node:fs/promises';
import { execa } from 'execa';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { DESTROY_TIMEOUT_MS, recapRows, removeVagrantLab, skipReason, snapshot, vagrantLab, type MachineSnapshot, type Run, type VagrantLab } from './support.ts';

const MACHINES = ['lvs-master', 'lvs-backup', 'web1', 'web2', 'client'];
const UP_TIMEOUT_MS = 2_400_000;
const CHECK_TIMEOUT_MS = 900_000;
const PROVISION_TIMEOUT_MS = 600_000;
const INVENTORY = 'inventory/vagrant-lab.yaml';

interface CheckEvent {
  type: string;
  check: string;
  subject: string;
  status: 'pass' | 'fail';
  detail: string;
}

describe.skipIf(skipReason)('vagrant up with the libvirt provider (PROVISION_BOX=lab, PROVISION_NETWORK=lab): the five machines provisioned, verified, provisioned again, drilled, destroyed', () => {
  let lab: VagrantLab | undefined;
  let before: MachineSnapshot;
  const runs: Record<string, Run> = {};
  /** `provision COMMAND -i inventory/vagrant-lab.yaml --json FILE ARGS`, and its check events. */
  const checked = async (name: string, args: string[]) => {
    const file = lab!.file(`${name}.jsonl`);
    runs[name] = await lab!.provision([...args, '-i', INVENTORY, '--json', file], CHECK_TIMEOUT_MS);
    const events = (await readFile(file, 'utf8').catch(() => '')).split('\n').filter(Boolean).map((line) => JSON.parse(line) as CheckEvent);
    const checks = new Map(events.filter((event) => event.type === 'check').map((event) => [`${event.check} ${event.subject}`, event]));
    const failed = [...checks.values()].filter((check) => check.status === 'fail').map((check) => `${check.check} ${check.subject}: ${check.detail}`);
    return { run: runs[name], checks, failed };
  };

  beforeAll(async () => {
    before = await snapshot();
    lab = await vagrantLab(MACHINES);
    lab.env.PROVISION_JSON = lab.file('up.jsonl');
    runs.up = await lab.vagrant(['up', '--provider', 'libvirt'], UP_TIMEOUT_MS);
  }, 600_000 + UP_TIMEOUT_MS);

  afterAll(() => removeVagrantLab(lab), DESTROY_TIMEOUT_MS + 180_000);

  it('vagrant up brings the five machines up and provisions them without a failure', async () => {
    expect(runs.up?.exitCode, runs.up?.output.slice(-4000)).toBe(0);
    const rows = await recapRows(lab!.file('up.jsonl'), runs.up!.output);
    expect(rows.map((row) => row.host).sort()).toEqual([...MACHINES].sort());
    for (const row of rows) expect(row, runs.up?.output.slice(-3000)).toMatchObject({ failed: 0, unreachable: 0 });
    // libvirt brought them up in parallel; the provisioning ran once, after every machine was up.
    const output = runs.up!.output;
    expect(output.match(/^(\s*\S+: )?PLAY RECAP /gm)).toHaveLength(1);
    const provisioning = output.indexOf('Provisioning the lab from this machine');
    for (const machine of MACHINES) {
      const booted = output.indexOf(`==> ${machine}: Machine booted and ready!`);
      expect(booted, machine).toBeGreaterThanOrEqual(0);
      expect(booted, machine).toBeLessThan(provisioning);
    }
    console.log(`vagrant up (five machines in parallel, provisioning included): ${runs.up?.seconds.toFixed(0)} s`);
  });

  it('provision verify passes: lvs-master holds the VIP, its IPVS table is the description, the client gets web1 and web2 in turn', async () => {
    // --settle: heartbeat's initdead and ldirectord's first checks, on emulated CPUs.
    const { run, checks, failed } = await checked('verify', ['verify', '--settle', '300']);
    expect(failed, run?.output.slice(-4000)).toEqual([]);
    expect(run?.exitCode).toBe(0);
    expect([...checks.keys()].some((key) => key.startsWith('through the VIP'))).toBe(true);
    console.log(`provision verify: ${run?.seconds.toFixed(0)} s`);
  }, CHECK_TIMEOUT_MS + 10_000);

  it('vagrant provision runs the playbook again: it changes nothing', async () => {
    lab!.env.PROVISION_JSON = lab!.file('provision.jsonl');
    runs.provision = await lab!.vagrant(['provision'], PROVISION_TIMEOUT_MS);
    expect(runs.provision.exitCode, runs.provision.output.slice(-4000)).toBe(0);
    const rows = await recapRows(lab!.file('provision.jsonl'), runs.provision.output);
    expect(rows.map((row) => row.host).sort()).toEqual([...MACHINES].sort());
    for (const row of rows) expect(row, runs.provision.output.slice(-3000)).toMatchObject({ changed: 0, failed: 0, unreachable: 0 });
    console.log(`vagrant provision (no change): ${runs.provision.seconds.toFixed(0)} s`);
  }, PROVISION_TIMEOUT_MS + 10_000);

  it("provision drill: lvs-master's heartbeat stops, lvs-backup takes the VIP, and lvs-master takes it back", async () => {
    // The real server drill is lab-cluster/cluster.test.ts's; here the failover of the Vagrant machines.
    const { run, checks, failed } = await checked('drill', ['drill', '--cluster', 'vagrant-lab', '--faults', 'manager']);
    console.log(run?.output);
    expect(failed, run?.output.slice(-4000)).toEqual([]);
    expect(run?.exitCode).toBe(0);
    expect(checks.get('drill failover (manager stops) lvs-master')?.detail).toContain('lvs-backup held the VIP after');
    expect(checks.get('drill failback lvs-master')?.detail).toContain('it took the VIP back after');
  }, CHECK_TIMEOUT_MS + 10_000);

  it('vagrant destroy -f (and its cleanup trigger) leaves nothing behind: domains, networks, volumes, bridges, firewall rules, processes', async () => {
    runs.destroy = await lab!.vagrant(['destroy', '-f'], DESTROY_TIMEOUT_MS);
    expect(runs.destroy.exitCode, runs.destroy.output.slice(-4000)).toBe(0);
    expect(runs.destroy.output).toContain('libvirt is down');
    // libvirtd is gone, and with it every domain, network, pool and volume it knew (its state
    // directory is removed): nothing answers on its socket.
    const virsh = await execa('virsh', ['-c', 'qemu:///system', 'list', '--all'], { reject: false, timeout: 30_000 });
    expect(virsh.exitCode).not.toBe(0);
    expect(await snapshot()).toEqual(before);
    console.log(`vagrant destroy -f with the cleanup: ${runs.destroy.seconds.toFixed(0)} s`);
  }, DESTROY_TIMEOUT_MS + 30_000);
});
