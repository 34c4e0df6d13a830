// The README's main job, proven on real hosts: the lab of inventory/lab.yaml (two qemu VM
// directors, two namespace real servers, a client) provisioned with playbooks/site.yml. The real
// programs take what the roles wrote: heartbeat holds the VIP on lvs-master, ldirectord programs
// IPVS there exactly as the cluster description says, requests from the client (with curl from the
// lab's mirror: the client role) to the VIP reach both real servers in turn, each naming itself on
// its index page (the realserver role). provision verify passes on it, drain/undrain take web2 out
// and back, and provision drill causes real faults (nginx stops, heartbeat stops, lvs-master's VM
// is killed, the heartbeat link is cut) and measures them. A second run changes nothing; a run
// killed half-way converges when run again.
import type { ChildProcess } from 'node:child_process';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../../src/inventory/load.ts';
import { labDown, labReset, labUp } from '../../../src/lab/lab.ts';
import { labSecret } from '../../../src/lab/secrets.ts';
import { ipvsadmRules, ipvsServices } from '../../../src/cluster/ipvs.ts';
import { makeProject, repoRoot, runCli, type CliResult, type Project } from '../../support/project.ts';
import { assertNoLabRunning, FIRST_BUILD_TIMEOUT_MS, skipReason, sshOk } from '../lab/support.ts';
import { checksOf, failedChecks, fetchFromHere, holdsVip, ipvsTable, LAB_ADDRESSES, recapRows, sitePlaybook, waitFor } from './support.ts';

const inventory = path.join(repoRoot, 'inventory', 'lab.yaml');
const { master, backup, web1, web2, client, vip } = LAB_ADDRESSES;

// The first run installs heartbeat and ldirectord in emulated VMs: about 4 minutes here.
const FIRST_RUN_TIMEOUT_MS = 900_000;
const RUN_TIMEOUT_MS = 300_000;

describe.skipIf(skipReason)('the lab cluster (inventory/lab.yaml, playbooks/site.yml)', () => {
  const env = { HA_AUTH_KEY: '' };
  const provision = (args: string[] = [], onSpawn?: (child: ChildProcess) => void) =>
    runCli(project, ['--inventory', inventory, sitePlaybook, ...args], { env, ...(onSpawn ? { onSpawn } : {}) });
  /** provision verify, drain, undrain on the lab's inventory */
  const command = (args: string[]) => runCli(project, [...args, '--inventory', inventory], { env });
  let project: Project;
  let described: string[];
  let first: CliResult;

  beforeAll(async () => {
    assertNoLabRunning();
    project = await makeProject({});
    env.HA_AUTH_KEY = labSecret('HA_AUTH_KEY');
    await labUp({ inventoryFile: inventory });
    // What the description says the active director's table is (the director role's own renderer).
    const { cluster } = await loadInventory(inventory, { env });
    described = ipvsadmRules(ipvsServices(cluster!)).map((args) => args.join(' '));
    first = await provision();
  }, FIRST_BUILD_TIMEOUT_MS + FIRST_RUN_TIMEOUT_MS);

  afterAll(async () => {
    await labDown();
    await project?.remove();
  }, 120_000);

  it('provisions every host of the lab without a failure', () => {
    const rows = recapRows(first);
    expect(rows.map((r) => r.host).sort()).toEqual(['client', 'lvs-backup', 'lvs-master', 'web1', 'web2']);
    for (const row of rows) expect(row, first.stdout.slice(-3000)).toMatchObject({ failed: 0, unreachable: 0 });
    expect(first.exitCode).toBe(0);
    // The HA key reached the hosts and nowhere else.
    expect(`${first.stdout}${first.stderr}${JSON.stringify(first.events)}`).not.toContain(env.HA_AUTH_KEY);
  });

  it('runs heartbeat on both directors with the VIP on lvs-master only', async () => {
    for (const address of [master, backup]) await sshOk(address, 'pgrep -f "heartbeat: master control process"');
    await waitFor('lvs-master to hold the VIP', 90, async () => ((await holdsVip(master)) ? true : undefined));
    expect(await holdsVip(backup)).toBe(false);
    // authkeys as heartbeat demands: mode 600, owned by root.
    expect((await sshOk(master, 'stat -c %a:%U /etc/ha.d/authkeys')).trim()).toBe('600:root');
  }, 120_000);

  it('has ldirectord program IPVS on lvs-master exactly as the description says', async () => {
    expect(described).toEqual(['-A -t 10.213.2.254:80 -s rr', '-a -t 10.213.2.254:80 -r 10.213.2.252:80 -g -w 1', '-a -t 10.213.2.254:80 -r 10.213.2.253:80 -g -w 1']);
    // ldirectord adds a real server once its health check (GET /.testpage, "Test Page") passes.
    const table = await waitFor('ldirectord to add both real servers', 60, async () => {
      const rows = await ipvsTable(master);
      return rows.length === described.length ? rows : undefined;
    });
    expect(table.sort()).toEqual([...described].sort());
    await sshOk(master, 'pgrep -f "ldirectord /etc/ha.d/ldirectord.cf"');
    expect(await ipvsTable(backup)).toEqual([]);
  }, 90_000);

  it('balances requests from the client to the VIP over both real servers (LVS-DR)', async () => {
    // Provisioning gave the client curl, from the lab's mirror (its only package source).
    expect(await sshOk(client, "dpkg-query -W -f='${Status}' curl")).toBe('install ok installed');
    // Each real server's index page names it; round robin sends every other request to each.
    const answers = (await sshOk(client, `for i in 1 2 3 4; do curl -s -m 5 http://${vip}/; done`)).trim().split('\n');
    expect(answers.sort()).toEqual(['web1', 'web1', 'web2', 'web2']);
    expect((await sshOk(client, `curl -s -m 5 http://${vip}/.testpage`)).trim()).toContain('Test Page');
    // This machine is on the lab bridge too (the demo tells users to curl the VIP from here).
    expect(['web1', 'web2']).toContain(await fetchFromHere(`http://${vip}/`));
    // Direct routing: the real servers answered from the VIP on lo and hide it from ARP.
    for (const address of [web1, web2]) {
      expect(await sshOk(address, 'ip -o -4 addr show dev lo')).toContain(`${vip}/32`);
      expect((await sshOk(address, 'cat /proc/sys/net/ipv4/conf/all/arp_ignore /proc/sys/net/ipv4/conf/all/arp_announce')).split('\n').slice(0, 2)).toEqual(['1', '2']);
    }
  }, 180_000);

  it('proves the cluster with provision verify: every check passes, each with its evidence', async () => {
    // ldirectord adds the real servers once their checks pass (within a minute of the first run).
    const verified = await waitFor('provision verify to pass', 60, async () => {
      const result = await command(['verify']);
      return result.exitCode === 0 ? result : undefined;
    });
    const checks = checksOf(verified);
    expect(checks.get(`VIP holder ${vip}`)).toMatchObject({ status: 'pass', detail: 'held by lvs-master only' });
    expect(checks.get('IPVS table lvs-master')).toMatchObject({ status: 'pass', detail: 'as described (3 rules)' });
    expect(checks.get('IPVS table lvs-backup')).toMatchObject({ status: 'pass', detail: 'empty, as on a standby director' });
    expect(checks.get('failover manager lvs-master')?.detail).toBe('heartbeat running, enabled at boot; ldirectord running, disabled at boot');
    expect(checks.get('failover manager lvs-backup')?.detail).toBe('heartbeat running, enabled at boot; ldirectord not running, disabled at boot');
    for (const host of ['web1', 'web2']) {
      expect(checks.get(`real server VIP ${host}`)).toMatchObject({ status: 'pass', detail: `${vip} on lo` });
      expect(checks.get(`real server ARP ${host}`)).toMatchObject({ status: 'pass' });
      expect(checks.get(`health page ${host} (tcp_${vip}_80)`)).toMatchObject({ status: 'pass' });
    }
    expect(checks.get(`through the VIP tcp_${vip}_80`)?.detail).toBe('4 requests from client: web1 2, web2 2 (round robin: equal shares)');
    expect(verified.stdout).toContain('VERIFY RECAP');
  }, 180_000);

  it('drains a real server (no new requests reach it; verify tells it from a failed one) and puts it back', async () => {
    const drained = await command(['drain', 'web2', '--wait', '30']);
    expect(drained.exitCode, drained.stdout + drained.stderr).toBe(0);
    expect(checksOf(drained).get('drain web2 on lvs-master')).toMatchObject({ status: 'pass' });
    expect(checksOf(drained).get('drain idle web2')).toMatchObject({ status: 'pass' });
    expect(await ipvsTable(master)).toContain(`-a -t ${vip}:80 -r ${web2}:80 -g -w 0`);
    const whileDrained = await command(['verify']);
    expect(failedChecks(whileDrained)).toEqual([]);
    expect(checksOf(whileDrained).get('IPVS table lvs-master')?.detail).toBe(`as described (3 rules); ${web2}:80 drained (weight 0), its health page answers`);
    expect(checksOf(whileDrained).get(`through the VIP tcp_${vip}_80`)?.detail).toBe('4 requests from client: web1 4, web2 0 (round robin: equal shares)');

    const back = await command(['undrain', 'web2']);
    expect(back.exitCode, back.stdout + back.stderr).toBe(0);
    expect((await ipvsTable(master)).sort()).toEqual([...described].sort());
    expect(failedChecks(await command(['verify']))).toEqual([]);
  }, 180_000);

  it('verify reports a real server whose web server stopped, until it runs again', async () => {
    await sshOk(web2, 'service nginx stop >/dev/null 2>&1');
    try {
      // ldirectord takes it out within checkinterval + checktimeout (1 + 3 s here).
      const failing = await waitFor('ldirectord to remove web2', 30, async () => ((await ipvsTable(master)).length === described.length - 1 ? true : undefined));
      expect(failing).toBe(true);
      const result = await command(['verify']);
      expect(result.exitCode).toBe(2);
      expect(failedChecks(result)).toEqual([
        `health page web2 (tcp_${vip}_80): http://${web2}:80/.testpage: no answer`,
        `IPVS table lvs-master: ${web2}:80 is out of the table: its health check fails`,
      ]);
      // The evidence of a failure is printed: the command and what it showed.
      expect(result.stdout).toContain('lvs-master$ ipvsadm -Sn');
    } finally {
      await sshOk(web2, 'service nginx start >/dev/null 2>&1');
    }
    await waitFor('verify to pass again', 60, async () => ((await command(['verify'])).exitCode === 0 ? true : undefined));
  }, 180_000);

  it('changes nothing on a second run', async () => {
    const second = await provision();
    for (const row of recapRows(second)) expect(row, second.stdout.slice(-3000)).toMatchObject({ changed: 0, failed: 0, unreachable: 0 });
  }, RUN_TIMEOUT_MS);

  it('drills real faults and measures them: a real server stops, heartbeat stops, lvs-master dies, the heartbeat link is cut', async () => {
    // A drill causes outages: without --cluster naming the cluster it refuses, and touches nothing.
    const refused = await command(['drill']);
    expect(refused.exitCode).toBe(1);
    expect(refused.stderr).toContain('provision drill --cluster lab');

    const drill = await command(['drill', '--cluster', 'lab', '--faults', 'realserver,manager,crash,link']);
    // The figures are measurements (printed, not asserted beyond the description's bounds).
    console.log(drill.stdout);
    expect(failedChecks(drill), drill.stdout + drill.stderr).toEqual([]);
    const checks = checksOf(drill);
    // ldirectord (checkinterval 1 + checktimeout 3) takes the stopped nginx out within its bound.
    expect(checks.get('drill realserver web1')?.detail).toMatch(/^nginx stopped: out of lvs-master's table after [0-9.]+ s \(bound 4 s\); started again: back after [0-9.]+ s; /);
    expect(checks.get('drill failover (manager stops) lvs-master')?.detail).toMatch(/^heartbeat stopped on lvs-master; lvs-backup held the VIP after [0-9.]+ s; its IPVS table was complete after [0-9.]+ s; /);
    expect(checks.get('drill failover (director dies) lvs-master')?.detail).toMatch(/^lvs-master's VM killed; lvs-backup held the VIP after [0-9.]+ s; .* requests /);
    // auto_failback on: lvs-master takes the VIP back each time it returns.
    expect(checks.get('drill failback lvs-master')?.detail).toContain('it took the VIP back after');
    expect(checks.get('drill split brain (link cut) lvs-backup')?.detail).toMatch(/eth1 down on lvs-backup; split brain: both directors held the VIP after [0-9.]+ s/);
    // Everything was undone: the cluster passes verify again.
    expect(failedChecks(await command(['verify']))).toEqual([]);
    expect(await holdsVip(master)).toBe(true);
  }, 900_000);

  it('converges when a run killed half-way is run again, leaving no half-written file', async () => {
    await labReset({ host: 'web1' });
    // Killed (SIGKILL: no chance to clean up) once the real server role has begun to change web1,
    // while its packages install; the host goes on with the script it was given, as after a
    // dropped connection.
    const killed = await provision(['--limit', 'web1'], (child) => {
      child.stdout?.on('data', (chunk: Buffer) => {
        if (chunk.toString().includes('changed: [web1] realserver')) child.kill('SIGKILL');
      });
    });
    expect(killed.exitCode).not.toBe(0);
    expect(killed.stdout).toContain('changed: [web1] realserver');
    expect(killed.events.some((e) => e.type === 'recap')).toBe(false);

    const again = await provision(['--limit', 'web1']);
    expect(recapRows(again), again.stdout.slice(-3000)).toEqual([expect.objectContaining({ host: 'web1', failed: 0, unreachable: 0 })]);
    const third = await provision(['--limit', 'web1']);
    expect(recapRows(third)).toEqual([expect.objectContaining({ host: 'web1', changed: 0, failed: 0 })]);
    // No temporary file of an interrupted write is left anywhere the roles write.
    expect((await sshOk(web1, 'find /etc /var/www -name ".*.provision-*"')).trim()).toBe('');
    // web1 serves its page again, and through the VIP.
    expect(await fetchFromHere(`http://${web1}/`)).toBe('web1');
    await waitFor('web1 back in the IPVS table', 60, async () => ((await ipvsTable(master)).length === described.length ? true : undefined));
  }, 3 * RUN_TIMEOUT_MS);
});
