// The lab twin of inventory/ultramonkey-active-active.yaml (tutorial 002, "How to install Ultra
// Monkey LVS"): two nodes that are both real servers, whichever holds the VIP also the director
// (heartbeat moves the VIP and ldirectord with it), on the lab's addresses: the nodes are the VM
// directors of inventory/lab.yaml (IPVS needs their kernels), and two namespace clients send the
// requests. playbooks/site.yml provisions them; heartbeat starts (node names are what `uname -n`
// prints: the example's fix), verify passes, each node serves through the VIP (locally on the
// active node, forwarded to the other), a second run changes nothing, and when the active node's
// heartbeat stops the other takes the VIP and still sends requests to both: the node that gave the
// VIP up keeps serving as a real server.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliResult } from '../../support/project.ts';
import { FIRST_BUILD_TIMEOUT_MS, skipReason, sshOk } from '../lab/support.ts';
import { answersThrough, checksOf, expectEveryHost, expectNotPrinted, failedChecks, holdsVip, ipvsTable, LAB_ADDRESSES, tearDownLab, twinLab, waitFor, type Twin } from './support.ts';

const { master: lvs1, backup: lvs2, client, vip } = LAB_ADDRESSES;
const client2 = '10.213.2.11';
const HA_AUTH_KEY = 'ultramonkey-lab-key-5f0c2a';
// The first run installs heartbeat, ldirectord and nginx in emulated VMs: about 4 minutes here.
const FIRST_RUN_TIMEOUT_MS = 900_000;
const RUN_TIMEOUT_MS = 300_000;

// The example's shape on the lab: no network gateway (the lab has no router: its .1 is this
// machine, which must never route lab traffic), the ping node is this machine's bridge address,
// heartbeat's and ldirectord's timings are the lab's (shorter), and nginx is the web server.
const inventory = `all:
  # The lab's Debian minbase hosts have no ifupdown: the VIP on lo is kept by an init script.
  vars: { boot_method: init-script }
  children:
    webservers:
      hosts:
        lvs1: { address: ${lvs1}, lab: { kind: vm } }
        lvs2: { address: ${lvs2}, lab: { kind: vm } }
    clients:
      hosts:
        client: { address: ${client}, lab: { kind: namespace } }
        client2: { address: ${client2}, lab: { kind: namespace } }

cluster:
  name: ultramonkey
  manager: heartbeat
  directors: [lvs1, lvs2]
  network: { interface: eth0, prefix: 24 }
  ip_forward: true
  virtual_services:
    - vip: ${vip}
      port: 80
      scheduler: rr
      persistence: { timeout: 600 }
      forwarding: dr
      realservers:
        - { host: lvs1 }
        - { host: lvs2 }
      fallback: { address: 127.0.0.1, port: 80 }
      check:
        checktype: negotiate
        service: http
        request: ldirectord.html
        receive: It worked
        # ldirectord's first HTTP check loads its HTTP modules; on emulated VMs that can outlast 3 s,
        # and a check that times out while loading them fails every later check until ldirectord
        # restarts (README, "ldirectord's first check"). 10 s leaves them the time.
        negotiatetimeout: 10
  heartbeat:
    mcast: [{ interface: eth0, group: 225.0.0.1, port: 694, ttl: 1, loop: false }]
    keepalive: 1
    deadtime: 10
    warntime: 5
    initdead: 20
    udpport: 694
    auto_failback: "off"
    ping: [${LAB_ADDRESSES.bridge}]
    ipfail: true
    logging: { logfacility: local0 }
    authkeys: { method: sha1, key: !env HA_AUTH_KEY }
    resource_agent: IPaddr2
    lvs_sync_daemon: false
  ldirectord:
    checktimeout: 3
    checkinterval: 1
    autoreload: false
    quiescent: false
    logfile: /var/log/ldirectord.log
  realserver:
    arp: sysctl
    arp_interfaces: [eth0]
    services: [nginx]
  firewall: { manage: false }
`;

/** The node names that answered `count` requests from `from` through the VIP. */
const answeringNodes = (from: string, count: number) => answersThrough(from, vip, count);

describe.skipIf(skipReason)('the Ultra Monkey active-active layout on the lab (inventory/ultramonkey-active-active.yaml)', () => {
  let twin: Twin | undefined;
  let first: CliResult;
  const provision = () => twin!.provision();
  const command = (args: string[]) => twin!.command(args);

  beforeAll(async () => {
    twin = await twinLab(inventory, { HA_AUTH_KEY });
    first = await provision();
  }, FIRST_BUILD_TIMEOUT_MS + FIRST_RUN_TIMEOUT_MS);

  afterAll(() => tearDownLab(twin?.project), 120_000);

  it('provisions both nodes and the clients without a failure; heartbeat starts on both nodes', async () => {
    expectEveryHost(first, { failed: 0, unreachable: 0 });
    expectNotPrinted(first, HA_AUTH_KEY);
    // heartbeat finds itself among ha.cf's nodes by `uname -n`: the names the base role gave.
    for (const [address, name] of [[lvs1, 'lvs1'], [lvs2, 'lvs2']] as const) {
      expect((await sshOk(address, 'uname -n')).trim()).toBe(name);
      expect(await sshOk(address, 'grep -E "^node " /etc/ha.d/ha.cf')).toBe('node lvs1\nnode lvs2\n');
    }
  });

  it('proves the cluster with provision verify: lvs1 directs, both nodes are its real servers', async () => {
    const verified = await command(['verify', '--settle', '240']);
    expect(verified.exitCode, verified.stdout + verified.stderr).toBe(0);
    const checks = checksOf(verified);
    expect(checks.get(`VIP holder ${vip}`)).toMatchObject({ status: 'pass', detail: 'held by lvs1 only' });
    expect(checks.get('IPVS table lvs1')?.detail).toMatch(/^as described/);
    expect(checks.get('IPVS table lvs2')).toMatchObject({ status: 'pass', detail: 'empty, as on a standby director' });
    // The standby node is a real server like any other: the VIP on lo, hidden from ARP.
    expect(checks.get('real server VIP lvs2')).toMatchObject({ status: 'pass', detail: `${vip} on lo` });
    expect(checks.get('real server ARP lvs2')).toMatchObject({ status: 'pass' });
    // Persistence (600 s): one client stays on one node.
    expect(checks.get(`through the VIP tcp_${vip}_80`)?.detail).toMatch(/\(persistence: one client sticks to one real server\)$/);
  }, 360_000);

  it('serves through the VIP from both nodes: locally on the active one, forwarded to the other', async () => {
    // Round robin hands each new client (persistence template) the next node: two clients, two nodes.
    const [first, second] = await Promise.all([answeringNodes(client, 4), answeringNodes(client2, 4)]);
    expect(new Set(first).size, first.join(',')).toBe(1);
    expect(new Set(second).size, second.join(',')).toBe(1);
    expect([first[0], second[0]].sort()).toEqual(['lvs1', 'lvs2']);
  }, 120_000);

  it('changes nothing on a second run', async () => {
    const second = await provision();
    expectEveryHost(second, { changed: 0, failed: 0, unreachable: 0 });
  }, RUN_TIMEOUT_MS);

  it("moves the VIP to lvs2 when lvs1's heartbeat stops; lvs1 keeps serving as a real server", async () => {
    await sshOk(lvs1, 'service heartbeat stop', 120_000);
    const table = await waitFor('lvs2 to hold the VIP with both nodes in its table', 180, async () => {
      if (!(await holdsVip(lvs2))) return undefined;
      const rules = await ipvsTable(lvs2);
      return rules.filter((rule) => rule.startsWith('-a ')).length === 2 ? rules : undefined;
    });
    expect(table.join('\n')).toContain(`-r ${lvs1}:80`);
    expect(await holdsVip(lvs1)).toBe(false);
    // lvs1 still accepts the VIP's packets that lvs2 forwards to it: the VIP is back on its lo.
    expect(await sshOk(lvs1, 'ip -o -4 addr show dev lo')).toContain(` ${vip}/32 `);
    // Two fresh clients (their persistence templates were on lvs1's table): one per node again.
    const [first, second] = await Promise.all([answeringNodes(client, 4), answeringNodes(client2, 4)]);
    expect([...new Set([...first, ...second])].sort(), `${first.join(',')} ${second.join(',')}`).toEqual(['lvs1', 'lvs2']);
    // auto_failback off: lvs1's heartbeat back, the VIP stays on lvs2.
    await sshOk(lvs1, 'service heartbeat start', 120_000);
    const verified = await command(['verify', '--settle', '240']);
    expect(failedChecks(verified), verified.stdout).toEqual([]);
    expect(checksOf(verified).get(`VIP holder ${vip}`)?.detail).toBe('held by lvs2 only');
  }, 600_000);
});
