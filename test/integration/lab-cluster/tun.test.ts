// The lab twin of inventory/tun-keepalived.yaml (LVS-TUN, IP tunnelling: the setup the tutorials
// name beside DR and NAT): two VM directors running keepalived, two real servers that are VMs too
// (this machine's kernel has no ipip; theirs has), and a namespace client. playbooks/site.yml
// provisions them; the real servers hold the VIP on tunl0 with rp_filter off and ARP hidden;
// provision verify finds the VIP on the MASTER only, the table as described (tunnelling), and both
// real servers answering through the VIP. The packets do travel as the method says: they reach the
// real servers through tunl0, and the replies go straight to the client (the director sends but
// never receives them). A second run changes nothing, and when the MASTER's keepalived stops the
// BACKUP takes the VIP and the service goes on; preempt brings it back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliResult } from '../../support/project.ts';
import { FIRST_BUILD_TIMEOUT_MS, skipReason, sshOk } from '../lab/support.ts';
import { answersThrough, checksOf, expectEveryHost, expectNotPrinted, failedChecks, holdsVip, LAB_ADDRESSES, tearDownLab, twinLab, type Twin } from './support.ts';

const { master, backup, web1, web2, client, vip } = LAB_ADDRESSES;
/** The VRRP password (PASS authentication takes at most 8 characters). */
const VRRP_PASS = 'Tun-8chr';
// The first run installs keepalived and nginx in four emulated VMs.
const FIRST_RUN_TIMEOUT_MS = 900_000;
const RUN_TIMEOUT_MS = 300_000;

// The example's shape on the lab's addresses: every host on one network (the example's real
// servers are in another one, reached through the routers; the lab has no router), the checks'
// shorter timings, nginx for httpd.
const inventory = `all:
  # The lab's Debian minbase hosts have no ifupdown: the real servers keep tunl0 with an init script.
  vars: { boot_method: init-script }
  children:
    directors:
      hosts:
        lvs-master: { address: ${master}, lab: { kind: vm } }
        lvs-backup: { address: ${backup}, lab: { kind: vm } }
    webservers:
      hosts:
        web1: { address: ${web1}, lab: { kind: vm } }
        web2: { address: ${web2}, lab: { kind: vm } }
    clients:
      hosts:
        client: { address: ${client}, lab: { kind: namespace } }

cluster:
  name: tunlab
  manager: keepalived
  directors: [lvs-master, lvs-backup]
  network: { interface: eth0, prefix: 24 }
  virtual_services:
    - vip: ${vip}
      port: 80
      protocol: tcp
      scheduler: wrr
      forwarding: tun
      realservers: [{ host: web1, weight: 1 }, { host: web2, weight: 1 }]
      check: { type: TCP_CHECK, connect_timeout: 2, retry: 2, delay_before_retry: 1, delay_loop: 2 }
  keepalived:
    instance: VI_1
    interface: eth0
    virtual_router_id: 61
    priority: { lvs-master: 100, lvs-backup: 50 }
    advert_int: 1
    auth: { type: PASS, pass: !env VRRP_PASS }
    router_id: LVS_TUN
  realserver: { arp: sysctl, services: [nginx] }
  firewall: { manage: true, kind: auto }
`;

/** The real server names that answered `count` requests from the client through the VIP. */
const answeringServers = (count: number) => answersThrough(client, vip, count);

/** A counter of /proc/net/dev for `device` on the host at `address`: rx or tx packets. */
async function packets(address: string, device: string, direction: 'rx' | 'tx'): Promise<number> {
  const line = (await sshOk(address, `grep -E '^ *${device}:' /proc/net/dev`)).trim();
  const fields = line.split(':')[1]!.trim().split(/\s+/).map(Number);
  return direction === 'rx' ? fields[1]! : fields[9]!;
}

describe.skipIf(skipReason)('an LVS-TUN keepalived cluster on the lab (inventory/tun-keepalived.yaml)', () => {
  let twin: Twin | undefined;
  let first: CliResult;
  const provision = () => twin!.provision();
  const command = (args: string[]) => twin!.command(args);

  beforeAll(async () => {
    twin = await twinLab(inventory, { VRRP_PASS });
    first = await provision();
  }, FIRST_BUILD_TIMEOUT_MS + FIRST_RUN_TIMEOUT_MS);

  afterAll(() => tearDownLab(twin?.project), 120_000);

  it('provisions the directors and the tunnelling real servers without a failure, and prints no VRRP password', async () => {
    expectEveryHost(first, { failed: 0, unreachable: 0 });
    expectNotPrinted(first, VRRP_PASS);
    for (const web of [web1, web2]) {
      expect(await sshOk(web, 'ip -o -4 addr show dev tunl0')).toContain(` ${vip}/32 `);
      // Decapsulated packets come out of tunl0 with the client's source, which a reverse-path
      // filter would drop (their route back is eth0).
      expect((await sshOk(web, 'sysctl -n net.ipv4.conf.all.rp_filter net.ipv4.conf.tunl0.rp_filter')).split('\n').filter(Boolean)).toEqual(['0', '0']);
    }
  });

  it('proves the cluster with provision verify: the VIP on the MASTER only, a tunnelling table, both real servers answering', async () => {
    const verified = await command(['verify', '--settle', '120']);
    expect(verified.exitCode, verified.stdout + verified.stderr).toBe(0);
    const checks = checksOf(verified);
    expect(checks.get(`VIP holder ${vip}`)).toMatchObject({ status: 'pass', detail: 'held by lvs-master only' });
    for (const director of ['lvs-master', 'lvs-backup']) expect(checks.get(`IPVS table ${director}`)).toMatchObject({ status: 'pass', detail: 'as described (3 rules)' });
    for (const web of ['web1', 'web2']) {
      expect(checks.get(`real server VIP ${web}`)).toMatchObject({ status: 'pass', detail: `${vip} on tunl0` });
      expect(checks.get(`real server ARP ${web}`)).toMatchObject({ status: 'pass' });
    }
    expect(checks.get(`through the VIP tcp_${vip}_80`)?.detail).toMatch(/^4 requests from client: web1 2, web2 2 /);
  }, 240_000);

  it('tunnels: requests reach the real servers through tunl0, replies go straight to the client', async () => {
    const before = await Promise.all([packets(web1, 'tunl0', 'rx'), packets(web2, 'tunl0', 'rx')]);
    const answers = await answeringServers(20);
    expect(answers.filter((a) => a === 'web1').length, answers.join(',')).toBe(10);
    expect(answers.filter((a) => a === 'web2').length, answers.join(',')).toBe(10);
    const after = await Promise.all([packets(web1, 'tunl0', 'rx'), packets(web2, 'tunl0', 'rx')]);
    // Each request is at least SYN, ACK, data, FIN through the tunnel.
    expect(after[0]! - before[0]!).toBeGreaterThanOrEqual(40);
    expect(after[1]! - before[1]!).toBeGreaterThanOrEqual(40);
    // The director forwarded the client's packets but never saw a reply: they left the real
    // servers for the client directly.
    const stats = await sshOk(master, `ipvsadm -Ln --stats -t ${vip}:80`);
    const service = /TCP\s+\S+\s+(\d+)\s+(\d+)\s+(\d+)/.exec(stats);
    expect(service, stats).not.toBeNull();
    expect(Number(service![3]), `OutPkts of ${stats}`).toBe(0);
  }, 120_000);

  it('changes nothing on a second run', async () => {
    const second = await provision();
    expectEveryHost(second, { changed: 0, failed: 0, unreachable: 0 });
  }, RUN_TIMEOUT_MS);

  it("moves the VIP to the BACKUP when the MASTER's keepalived stops; the service goes on; preempt brings it back", async () => {
    const drill = await command(['drill', '--cluster', 'tunlab', '--faults', 'manager']);
    console.log(drill.stdout);
    expect(failedChecks(drill), drill.stdout + drill.stderr).toEqual([]);
    expect(checksOf(drill).get('drill failover (manager stops) lvs-master')?.detail).toMatch(/^keepalived stopped on lvs-master; detection: lvs-backup took the master's part after [0-9.]+ s; lvs-backup held the VIP after [0-9.]+ s; /);
    expect(checksOf(drill).get('drill failback lvs-master')?.detail).toContain('it took the VIP back after');
    expect(failedChecks(await command(['verify']))).toEqual([]);
    expect(await holdsVip(master)).toBe(true);
    expect(await holdsVip(backup)).toBe(false);
  }, 600_000);
});
