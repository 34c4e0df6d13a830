// The keepalived cluster on the lab's hosts (the VRRP tutorial's layout on the addresses of
// inventory/lab.yaml): playbooks/site.yml installs and configures keepalived on the two VM
// directors, VRRP puts the VIP on the MASTER, keepalived's HTTP_GET checks program the IPVS table
// exactly as the description says, requests through the VIP reach both real servers with their
// weights, the VIP moves to the BACKUP when the MASTER's keepalived stops and comes back (preempt)
// when it returns; a second run changes nothing, and the VRRP password is printed nowhere. The
// directors' firewalls are closed first: the firewall role must open VRRP and the service port.
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../../src/inventory/load.ts';
import { labDown, labUp } from '../../../src/lab/lab.ts';
import { ipvsadmRules, ipvsServices } from '../../../src/cluster/ipvs.ts';
import { makeProject, runCli, type CliResult, type Project } from '../../support/project.ts';
import { assertNoLabRunning, FIRST_BUILD_TIMEOUT_MS, skipReason, sshOk } from '../lab/support.ts';
import { fetchFromHere, holdsVip, ipvsTable, LAB_ADDRESSES, recapRows, sitePlaybook, waitFor } from './support.ts';

const { master, backup, web1, web2, vip } = LAB_ADDRESSES;
const RUN_TIMEOUT_MS = 600_000;
/** The VRRP password (PASS authentication takes at most 8 characters). */
const VRRP_PASS = 'Lab-8chr';

const inventory = `all:
  # The lab's Debian minbase hosts have no ifupdown: the real servers keep their VIP with an init script.
  vars: { boot_method: init-script }
  children:
    directors:
      hosts:
        lvs-master: { address: ${master}, lab: { kind: vm } }
        lvs-backup: { address: ${backup}, lab: { kind: vm } }
    realservers:
      hosts:
        web1: { address: ${web1}, lab: { kind: namespace } }
        web2: { address: ${web2}, lab: { kind: namespace } }

cluster:
  name: kalab
  manager: keepalived
  directors: [lvs-master, lvs-backup]
  network: { interface: eth0, prefix: 24 }
  virtual_services:
    - vip: ${vip}
      port: 80
      scheduler: wrr
      forwarding: dr
      realservers: [{ host: web1, weight: 3 }, { host: web2 }]
      check: { type: HTTP_GET, url: { path: /health.html, status_code: 200 }, connect_timeout: 2, retry: 2, delay_before_retry: 1, delay_loop: 2 }
  keepalived:
    virtual_router_id: 51
    priority: { lvs-master: 100, lvs-backup: 50 }
    state: { lvs-master: MASTER, lvs-backup: BACKUP }
    advert_int: 1
    auth: { type: PASS, pass: !env VRRP_PASS }
  realserver: { arp: sysctl, services: [nginx] }
  firewall: { manage: true, kind: iptables }
`;

/**
 * The directors' firewall before the first run: closed to everything but ssh and replies (apt's
 * downloads from the mirror). keepalived's VRRP and the clients' port 80 get through only if the
 * firewall role opens them.
 */
const CLOSE_FIREWALL = [
  '{ apt-get update -q && DEBIAN_FRONTEND=noninteractive apt-get install -y -q iptables; } >/dev/null 2>&1',
  'iptables -A INPUT -i lo -j ACCEPT',
  'iptables -A INPUT -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT',
  'iptables -A INPUT -p tcp --dport 22 -j ACCEPT',
  'iptables -P INPUT DROP',
].join(' && ');

describe.skipIf(skipReason)('a keepalived cluster on the lab (VRRP + virtual_server, LVS-DR)', () => {
  const env = { VRRP_PASS };
  let project: Project;
  let described: string[];
  let first: CliResult;
  const provision = () => runCli(project, ['--inventory', 'inventory.yaml', sitePlaybook], { env });

  beforeAll(async () => {
    assertNoLabRunning();
    project = await makeProject({ 'inventory.yaml': inventory });
    const file = path.join(project.dir, 'inventory.yaml');
    described = ipvsadmRules(ipvsServices((await loadInventory(file, { env })).cluster!)).map((args) => args.join(' '));
    await labUp({ inventoryFile: file, env: { ...process.env, ...env } });
    await Promise.all([master, backup].map((address) => sshOk(address, CLOSE_FIREWALL, 120_000)));
    first = await provision();
  }, FIRST_BUILD_TIMEOUT_MS + RUN_TIMEOUT_MS);

  afterAll(async () => {
    await labDown();
    await project?.remove();
  }, 120_000);

  it('provisions the directors and real servers without a failure, and prints no VRRP password', async () => {
    for (const row of recapRows(first)) expect(row, first.stdout.slice(-3000)).toMatchObject({ failed: 0, unreachable: 0 });
    expect(`${first.stdout}${first.stderr}${JSON.stringify(first.events)}`).not.toContain(VRRP_PASS);
    // The file that holds it is root's only.
    expect((await sshOk(master, 'stat -c %a /etc/keepalived/keepalived.conf')).trim()).toBe('600');
    // The firewall role opened VRRP and port 80 on the VIP, now and in the rules restored at boot.
    for (const address of [master, backup]) {
      const live = await sshOk(address, 'iptables -S INPUT');
      expect(live).toContain('-P INPUT DROP');
      expect(live).toMatch(/-A INPUT -i eth0 -p (vrrp|112) .*-j ACCEPT/);
      expect(live).toMatch(new RegExp(`-A INPUT -d ${vip.replace(/\./g, '\\.')}/32 -p tcp -m tcp --dport 80 .*-j ACCEPT`));
      expect(await sshOk(address, 'cat /etc/iptables/rules.v4')).toMatch(/--dport 80/);
    }
  });

  it('puts the VIP on the MASTER and programs IPVS as the description says on both directors', async () => {
    await waitFor('lvs-master to hold the VIP', 60, async () => ((await holdsVip(master)) ? true : undefined));
    expect(await holdsVip(backup)).toBe(false);
    expect(described).toEqual(['-A -t 10.213.2.254:80 -s wrr', '-a -t 10.213.2.254:80 -r 10.213.2.252:80 -g -w 3', '-a -t 10.213.2.254:80 -r 10.213.2.253:80 -g -w 1']);
    for (const address of [master, backup]) {
      const table = await waitFor(`the checks to add both real servers on ${address}`, 60, async () => {
        const rows = await ipvsTable(address);
        return rows.length === described.length ? rows : undefined;
      });
      expect(table.sort()).toEqual([...described].sort());
    }
  }, 180_000);

  it('balances by weight: 3 of every 4 requests go to web1', async () => {
    for (const [address, name] of [[web1, 'web1'], [web2, 'web2']] as const) await sshOk(address, `echo ${name} > /var/www/html/who.txt`);
    const answers: string[] = [];
    for (let i = 0; i < 8; i++) answers.push(await fetchFromHere(`http://${vip}/who.txt`));
    expect(answers.filter((a) => a === 'web1')).toHaveLength(6);
    expect(answers.filter((a) => a === 'web2')).toHaveLength(2);
  }, 60_000);

  it('changes nothing on a second run', async () => {
    const second = await provision();
    for (const row of recapRows(second)) expect(row, second.stdout.slice(-3000)).toMatchObject({ changed: 0, failed: 0, unreachable: 0 });
  }, RUN_TIMEOUT_MS);

  it('moves the VIP to the BACKUP when the MASTER’s keepalived stops, and back when it returns', async () => {
    await sshOk(master, 'service keepalived stop >/dev/null 2>&1', 60_000);
    await waitFor('lvs-backup to take the VIP', 30, async () => ((await holdsVip(backup)) && !(await holdsVip(master)) ? true : undefined));
    expect(['web1', 'web2']).toContain(await waitFor('an answer through lvs-backup', 20, async () => (await fetchFromHere(`http://${vip}/who.txt`)) || undefined));
    await sshOk(master, 'service keepalived start >/dev/null 2>&1', 60_000);
    await waitFor('lvs-master to take the VIP back', 60, async () => ((await holdsVip(master)) && !(await holdsVip(backup)) ? true : undefined));
    expect(['web1', 'web2']).toContain(await waitFor('an answer through lvs-master', 30, async () => (await fetchFromHere(`http://${vip}/who.txt`)) || undefined));
  }, 240_000);
});
