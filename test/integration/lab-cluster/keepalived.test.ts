// The lab twin of inventory/keepalived-dr-arptables.yaml (tutorial 003: keepalived, LVS-DR, the
// real servers hiding the VIPs with arptables), on the addresses of inventory/lab.yaml:
// playbooks/site.yml installs and configures keepalived on the two VM directors, and arptables
// rules instead of the ARP sysctls on the two namespace real servers; the tutorial's second VIP has
// persistence. provision verify finds both VIPs on the MASTER only, keepalived's checks
// programming the IPVS table exactly as described on both directors, requests from the client
// reaching both real servers through the first VIP and sticking to one through the second; arping
// from the client gets the VIPs' answers from the MASTER and never from a real server, and the
// rules come back from the saved file when the real server's boot script runs. provision drill
// stops a real server's nginx (keepalived's check takes it out within its bound), stops the
// MASTER's keepalived and kills its VM (the BACKUP takes the VIPs; preempt brings them back each
// time). A second run changes nothing, and the VRRP password is printed nowhere. The directors'
// firewalls are closed first: the firewall role must open VRRP and the services' ports.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadInventory } from '../../../src/inventory/load.ts';
import { ipvsadmRules, ipvsServices } from '../../../src/cluster/ipvs.ts';
import type { CliResult } from '../../support/project.ts';
import { FIRST_BUILD_TIMEOUT_MS, skipReason, sshOk } from '../lab/support.ts';
import { checksOf, CLOSE_FIREWALL, expectEveryHost, expectNotPrinted, failedChecks, holdsVip, LAB_ADDRESSES, tearDownLab, twinLab, type Twin } from './support.ts';

const { master, backup, web1, web2, client, vip } = LAB_ADDRESSES;
/** The second VIP, with persistence (the tutorial's .200). */
const VIP2 = '10.213.2.200';
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
    clients:
      hosts:
        client: { address: ${client}, lab: { kind: namespace } }

# The example's shape; the checks' timings are shorter, so that the drills take less time.
cluster:
  name: kalab
  manager: keepalived
  directors: [lvs-master, lvs-backup]
  network: { interface: eth0, prefix: 24 }
  virtual_services:
    - vip: ${vip}
      port: 80
      protocol: tcp
      scheduler: rr
      forwarding: dr
      realservers: [{ host: web1, weight: 1 }, { host: web2, weight: 1 }]
      check: { type: TCP_CHECK, connect_timeout: 2, retry: 2, delay_before_retry: 1, delay_loop: 2 }
    - vip: ${VIP2}
      port: 80
      protocol: tcp
      scheduler: rr
      persistence: { timeout: 50 }
      forwarding: dr
      realservers: [{ host: web1, weight: 1 }, { host: web2, weight: 1 }]
      check: { type: TCP_CHECK, connect_timeout: 2, retry: 2, delay_before_retry: 1, delay_loop: 2 }
  keepalived:
    instance: VI_1
    interface: eth0
    virtual_router_id: 51
    priority: { lvs-master: 100, lvs-backup: 50 }
    advert_int: 1
    auth: { type: PASS, pass: !env VRRP_PASS }
    router_id: LVS_DEVEL
  realserver: { arp: arptables, services: [nginx] }
  firewall: { manage: true, kind: iptables }
`;

/** The MAC addresses that answered `arping` for `address` from the client (upper case). */
async function arpRepliers(address: string): Promise<string[]> {
  // arping exits 1 when no reply came; the replies are what matters.
  const out = await sshOk(client, `arping -c 3 -w 5 -I eth0 ${address} || true`, 30_000);
  return [...new Set([...out.matchAll(/reply from [0-9.]+ \[([0-9A-Fa-f:]{17})\]/g)].map((m) => m[1]!.toUpperCase()))];
}

async function macOf(address: string): Promise<string> {
  return (await sshOk(address, 'cat /sys/class/net/eth0/address')).trim().toUpperCase();
}

describe.skipIf(skipReason)('a keepalived cluster on the lab (VRRP + virtual_server, LVS-DR)', () => {
  const env = { VRRP_PASS };
  let twin: Twin | undefined;
  let described: string[];
  let first: CliResult;
  const provision = () => twin!.provision();
  /** provision verify, drill on this inventory */
  const command = (args: string[]) => twin!.command(args);

  beforeAll(async () => {
    twin = await twinLab(inventory, env);
    described = ipvsadmRules(ipvsServices((await loadInventory(twin.file, { env })).cluster!)).map((args) => args.join(' '));
    // The directors' firewall closed: keepalived's VRRP and the clients' port 80 get through only if the firewall role opens them.
    await Promise.all([master, backup].map((address) => sshOk(address, CLOSE_FIREWALL.join(' && '), 120_000)));
    first = await provision();
  }, FIRST_BUILD_TIMEOUT_MS + RUN_TIMEOUT_MS);

  afterAll(() => tearDownLab(twin?.project), 120_000);

  it('provisions the directors and real servers without a failure, and prints no VRRP password', async () => {
    expectEveryHost(first, { failed: 0, unreachable: 0 });
    expectNotPrinted(first, VRRP_PASS);
    // The file that holds it is root's only.
    expect((await sshOk(master, 'stat -c %a /etc/keepalived/keepalived.conf')).trim()).toBe('600');
    // The firewall role opened VRRP and port 80 on the VIP, now and in the rules restored at boot.
    for (const address of [master, backup]) {
      const live = await sshOk(address, 'iptables -S INPUT');
      expect(live).toContain('-P INPUT DROP');
      expect(live).toMatch(/-A INPUT -i eth0 -p (vrrp|112) .*-j ACCEPT/);
      for (const address of [vip, VIP2]) expect(live).toMatch(new RegExp(`-A INPUT -d ${address.replace(/\./g, '\\.')}/32 -p tcp -m tcp --dport 80 .*-j ACCEPT`));
      expect(await sshOk(address, 'cat /etc/iptables/rules.v4')).toMatch(/--dport 80/);
    }
  });

  it('proves the cluster with provision verify: the VIPs on the MASTER only, both tables as described, requests shared and persistent', async () => {
    expect(described).toEqual([
      '-A -t 10.213.2.254:80 -s rr',
      '-a -t 10.213.2.254:80 -r 10.213.2.252:80 -g -w 1',
      '-a -t 10.213.2.254:80 -r 10.213.2.253:80 -g -w 1',
      '-A -t 10.213.2.200:80 -s rr -p 50',
      '-a -t 10.213.2.200:80 -r 10.213.2.252:80 -g -w 1',
      '-a -t 10.213.2.200:80 -r 10.213.2.253:80 -g -w 1',
    ]);
    // keepalived's checks add the real servers once they pass (delay_loop 2 s).
    const verified = await command(['verify', '--settle', '90']);
    expect(verified.exitCode, verified.stdout + verified.stderr).toBe(0);
    const checks = checksOf(verified);
    for (const address of [vip, VIP2]) expect(checks.get(`VIP holder ${address}`)).toMatchObject({ status: 'pass', detail: 'held by lvs-master only' });
    // keepalived programs IPVS on the BACKUP too, so a takeover needs only the VIPs to move.
    for (const director of ['lvs-master', 'lvs-backup']) expect(checks.get(`IPVS table ${director}`)).toMatchObject({ status: 'pass', detail: 'as described (6 rules)' });
    expect(checks.get('failover manager lvs-master')?.detail).toBe('keepalived running, enabled at boot');
    expect(checks.get('config test lvs-master')).toMatchObject({ status: 'pass' });
    for (const web of ['web1', 'web2']) expect(checks.get(`real server ARP ${web}`)).toMatchObject({ status: 'pass', detail: 'arptables rules in force for every VIP' });
    // Round robin: both real servers answer through the first VIP; the second keeps the client on one.
    expect(checks.get(`through the VIP tcp_${vip}_80`)?.detail).toMatch(/^4 requests from client: web1 2, web2 2 /);
    expect(checks.get(`through the VIP tcp_${VIP2}_80`)).toMatchObject({ status: 'pass' });
    expect(checks.get(`through the VIP tcp_${VIP2}_80`)?.detail).toMatch(/^4 requests from client: (web1 4, web2 0|web1 0, web2 4) \(persistence: one client sticks to one real server\)/);
  }, 180_000);

  it('hides the VIPs from ARP with arptables alone: the client hears the MASTER answer for them, never a real server, and the rules come back at boot', async () => {
    const [masterMac, web1Mac, web2Mac] = await Promise.all([master, web1, web2].map(macOf));
    for (const web of [web1, web2]) {
      // The sysctls stay at the kernel's defaults, which answer ARP for any local address: only
      // the rules keep a real server quiet about the VIPs on its lo.
      expect((await sshOk(web, 'sysctl -n net.ipv4.conf.all.arp_ignore net.ipv4.conf.eth0.arp_ignore')).split('\n').filter(Boolean)).toEqual(['0', '0']);
      expect(await sshOk(web, 'ip -o -4 addr show dev lo')).toMatch(new RegExp(` ${VIP2.replace(/\./g, '\\.')}/32 `));
    }
    for (const address of [vip, VIP2]) expect(await arpRepliers(address), address).toEqual([masterMac]);
    expect([web1Mac, web2Mac]).not.toContain(masterMac);

    // The family's way at boot (Debian: the realserver script restores the saved rules before it
    // adds the VIPs): with the rules and VIPs gone, as after a reboot, the script brings both back.
    await sshOk(web1, `arptables -F && ip addr del ${vip}/32 dev lo && ip addr del ${VIP2}/32 dev lo && /etc/init.d/realserver start`);
    const rules = await sshOk(web1, 'arptables -L -n');
    for (const address of [vip, VIP2]) {
      expect(rules).toContain(`-j DROP -d ${address}`);
      expect(rules).toContain(`-j mangle -s ${address} --mangle-ip-s ${web1}`);
    }
    for (const address of [vip, VIP2]) expect(await arpRepliers(address), address).toEqual([masterMac]);
    expect(failedChecks(await command(['verify']))).toEqual([]);
  }, 180_000);

  it('changes nothing on a second run', async () => {
    const second = await provision();
    expectEveryHost(second, { changed: 0, failed: 0, unreachable: 0 });
  }, RUN_TIMEOUT_MS);

  it("drills real faults: a real server's nginx stops, the MASTER's keepalived stops, the MASTER's VM dies; preempt brings the VIP back each time", async () => {
    const drill = await command(['drill', '--cluster', 'kalab', '--faults', 'realserver,manager,crash']);
    // The figures are measurements (printed, not asserted beyond the description's bounds).
    console.log(drill.stdout);
    expect(failedChecks(drill), drill.stdout + drill.stderr).toEqual([]);
    const checks = checksOf(drill);
    // TCP_CHECK: delay_loop 2 + (retry 2 + 1) x (connect_timeout 2 + delay_before_retry 1) = 11 s.
    expect(checks.get('drill realserver web1')?.detail).toMatch(/^nginx stopped: out of lvs-master's table after [0-9.]+ s \(bound 11 s\); started again: back after [0-9.]+ s; /);
    // A VRRP BACKUP's takeover is its decision to be MASTER: it adds the VIP at that moment.
    expect(checks.get('drill failover (manager stops) lvs-master')?.detail).toMatch(/^keepalived stopped on lvs-master; detection: lvs-backup took the master's part after [0-9.]+ s; lvs-backup held the VIP after [0-9.]+ s; its IPVS table was complete after [0-9.]+ s; /);
    expect(checks.get('drill failover (director dies) lvs-master')?.detail).toMatch(/^lvs-master's VM killed; detection: lvs-backup took the master's part after [0-9.]+ s; /);
    // Priority 100 over 50, no nopreempt: lvs-master takes the VIP back when it returns.
    expect(checks.get('drill failback lvs-master')?.detail).toContain('it took the VIP back after');
    expect(failedChecks(await command(['verify']))).toEqual([]);
    for (const address of [vip, VIP2]) {
      expect(await holdsVip(master, address)).toBe(true);
      expect(await holdsVip(backup, address)).toBe(false);
    }
  }, 900_000);
});
