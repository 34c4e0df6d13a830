// The lab twin of inventory/nat-heartbeat.yaml (tutorials 001 and 004: LVS-NAT behind a heartbeat
// pair): the two VM directors have their outside side on the lab's first network (eth0, the VIP,
// the client) and their inside side on a second one (eth1), where the two namespace real servers
// live with no other way out than the directors' floating inside address (the NAT gateway, which
// heartbeat moves with the VIP). playbooks/site.yml provisions them; provision verify finds the VIP
// on the active director only, the table as described (masquerading to port 8080, where the
// realserver role makes nginx listen), the real servers' default route through the NAT gateway and
// every real server answering through the VIP. The real servers' own connections leave through the
// active director, masqueraded as it (the tutorial's `ipchains -P forward MASQ`, as today's
// iptables), now and, from the saved rules file alone, at boot. The directors' firewalls start
// closed, forwarding included: the firewall role must open what the cluster needs. A second run
// changes nothing; when the active director's heartbeat stops, the other takes the VIP and the NAT
// gateway and the service goes on, and auto_failback brings both back.
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { CliResult } from '../../support/project.ts';
import { FIRST_BUILD_TIMEOUT_MS, skipReason, sshOk } from '../lab/support.ts';
import { answersThrough, checksOf, CLOSE_FIREWALL, expectEveryHost, expectNotPrinted, failedChecks, holdsVip, ipvsTable, LAB_ADDRESSES, tearDownLab, twinLab, waitFor, type Twin } from './support.ts';

const { master, backup, client, vip } = LAB_ADDRESSES;
/** The inside network: the directors' eth1, the real servers, and the NAT gateway the active director holds. */
const INSIDE = { master: '10.213.1.250', backup: '10.213.1.251', web1: '10.213.1.252', web2: '10.213.1.253', gateway: '10.213.1.254' } as const;
const HA_AUTH_KEY = 'nat-lab-key-8d41e7';
const FIRST_RUN_TIMEOUT_MS = 900_000;
const RUN_TIMEOUT_MS = 300_000;
/** Where the client listens for the real servers' own connections, and tells each its source address. */
const ECHO_PORT = 8999;

// The example's shape on the lab's addresses. What differs, because the lab has two networks per
// director, not three: heartbeat's multicast runs on the inside network (eth1, the NAT side), and
// there is no serial link; no network gateway (the lab has no router); nginx for httpd; the lab's
// shorter initdead.
const inventory = `all:
  # The lab's Debian minbase hosts have no ifupdown: addresses and routes are kept by init scripts.
  vars: { boot_method: init-script }
  children:
    directors:
      hosts:
        lvs-master: { address: ${master}, lab: { kind: vm, eth1: ${INSIDE.master}/24 } }
        lvs-backup: { address: ${backup}, lab: { kind: vm, eth1: ${INSIDE.backup}/24 } }
    webservers:
      hosts:
        web1: { address: ${INSIDE.web1}, lab: { kind: namespace } }
        web2: { address: ${INSIDE.web2}, lab: { kind: namespace } }
    clients:
      hosts:
        client: { address: ${client}, lab: { kind: namespace } }

cluster:
  name: natlab
  manager: heartbeat
  directors: [lvs-master, lvs-backup]
  network: { interface: eth0, prefix: 24 }
  nat: { interface: eth1, gateway: ${INSIDE.gateway}, prefix: 24 }
  ip_forward: true
  virtual_services:
    - vip: ${vip}
      port: 80
      scheduler: rr
      forwarding: nat
      realservers:
        - { host: web1, port: 8080 }
        - { host: web2, port: 8080 }
      check:
        checktype: negotiate
        service: http
        request: check.html
        receive: OK
        # ldirectord's first HTTP check loads its HTTP modules; on emulated VMs that can outlast 3 s,
        # and a check that times out while loading them fails every later check until ldirectord
        # restarts (README, "ldirectord's first check"). 10 s leaves them the time.
        negotiatetimeout: 10
  heartbeat:
    mcast: [{ interface: eth1, group: 225.0.0.1, port: 694, ttl: 1, loop: false }]
    keepalive: 2
    deadtime: 10
    warntime: 5
    initdead: 20
    udpport: 694
    auto_failback: "on"
    logging: { debugfile: /var/log/ha-debug, logfile: /var/log/ha-log, logfacility: local0 }
    authkeys: { method: sha1, key: !env HA_AUTH_KEY }
  ldirectord:
    checktimeout: 3
    checkinterval: 1
  realserver:
    services: [nginx]
  firewall: { manage: true, kind: auto }
`;

/** The directors' firewall before the first run: closed, forwarding included (NAT replies and the real servers' own connections). */
const CLOSE_FIREWALL_AND_FORWARDING = [...CLOSE_FIREWALL, 'iptables -P FORWARD DROP'].join(' && ');

/**
 * A listener on the client that answers each connection with the address it came from, for at most
 * 16 connections, or until 30 minutes pass without one. The client has no route to the inside
 * network: a real server's connection gets an answer only when a director masquerades it.
 */
const ECHO_SERVER = [
  'import socket',
  'server = socket.socket()',
  'server.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)',
  `server.bind(("0.0.0.0", ${ECHO_PORT}))`,
  'server.listen(8)',
  'server.settimeout(1800)',
  'for _ in range(16):',
  '    connection, peer = server.accept()',
  '    connection.sendall((peer[0] + "\\n").encode())',
  '    connection.close()',
].join('\n');

/** The source address the client saw for a connection from `realServer` ('' when none got through in 5 s). */
async function sourceSeenByClient(realServer: string): Promise<string> {
  const script = `import socket\ntry:\n    print(socket.create_connection(("${client}", ${ECHO_PORT}), 5).recv(64).decode().strip())\nexcept OSError:\n    print("")`;
  return (await sshOk(realServer, `python3 -c '${script}'`, 30_000)).trim();
}

/** The real servers that answered `count` requests from the client through the VIP. */
const answeringServers = (count: number) => answersThrough(client, vip, count);

/** Whether the director at `address` holds the NAT gateway on its eth1. */
async function holdsGateway(address: string): Promise<boolean> {
  return (await sshOk(address, 'ip -o -4 addr show dev eth1')).includes(` ${INSIDE.gateway}/`);
}

describe.skipIf(skipReason)('an LVS-NAT heartbeat cluster on the lab (inventory/nat-heartbeat.yaml)', () => {
  let twin: Twin | undefined;
  let first: CliResult;
  const provision = () => twin!.provision();
  const command = (args: string[]) => twin!.command(args);

  beforeAll(async () => {
    twin = await twinLab(inventory, { HA_AUTH_KEY });
    await Promise.all([master, backup].map((address) => sshOk(address, CLOSE_FIREWALL_AND_FORWARDING, 120_000)));
    await sshOk(client, `nohup python3 -c '${ECHO_SERVER}' >/dev/null 2>&1 </dev/null &`);
    first = await provision();
  }, FIRST_BUILD_TIMEOUT_MS + FIRST_RUN_TIMEOUT_MS);

  afterAll(() => tearDownLab(twin?.project), 120_000);

  it('provisions the directors and real servers without a failure, and prints no heartbeat key', async () => {
    expectEveryHost(first, { failed: 0, unreachable: 0 });
    expectNotPrinted(first, HA_AUTH_KEY);
    for (const address of [master, backup]) {
      expect((await sshOk(address, 'cat /proc/sys/net/ipv4/ip_forward')).trim()).toBe('1');
      // Masquerading for the inside network's own connections, now and in the rules restored at boot.
      expect(await sshOk(address, 'iptables -t nat -S POSTROUTING')).toContain('-A POSTROUTING -s 10.213.1.0/24 -o eth0 -j MASQUERADE');
      expect(await sshOk(address, 'cat /etc/iptables/rules.v4')).toMatch(/^\*nat$[\s\S]*^-A POSTROUTING -s 10\.213\.1\.0\/24 -o eth0 -j MASQUERADE$/m);
    }
    // The real servers' only way out is the NAT gateway.
    for (const web of [INSIDE.web1, INSIDE.web2]) expect(await sshOk(web, 'ip -4 route show default')).toMatch(new RegExp(`^default via ${INSIDE.gateway.replace(/\./g, '\\.')} `));
  });

  it('proves the cluster with provision verify: the VIP on lvs-master only, masquerading to port 8080, every real server answering', async () => {
    const verified = await command(['verify', '--settle', '240']);
    expect(verified.exitCode, verified.stdout + verified.stderr).toBe(0);
    const checks = checksOf(verified);
    expect(checks.get(`VIP holder ${vip}`)).toMatchObject({ status: 'pass', detail: 'held by lvs-master only' });
    expect(checks.get('IPVS table lvs-master')?.detail).toMatch(/^as described/);
    expect(await ipvsTable(master)).toEqual(
      expect.arrayContaining([`-a -t ${vip}:80 -r ${INSIDE.web1}:8080 -m -w 1`, `-a -t ${vip}:80 -r ${INSIDE.web2}:8080 -m -w 1`]),
    );
    expect(await holdsGateway(master)).toBe(true);
    expect(await holdsGateway(backup)).toBe(false);
    expect(await answeringServers(4)).toEqual(expect.arrayContaining(['web1', 'web2']));
  }, 360_000);

  it("masquerades the real servers' own connections as the active director", async () => {
    for (const web of [INSIDE.web1, INSIDE.web2]) expect(await sourceSeenByClient(web)).toBe(master);
  }, 120_000);

  it('changes nothing on a second run', async () => {
    const second = await provision();
    expectEveryHost(second, { changed: 0, failed: 0, unreachable: 0 });
  }, RUN_TIMEOUT_MS);

  it("moves the VIP and the NAT gateway to lvs-backup when lvs-master's heartbeat stops; auto_failback brings them back", async () => {
    await sshOk(master, 'service heartbeat stop', 120_000);
    await waitFor('lvs-backup to hold the VIP and the NAT gateway with both real servers in its table', 180, async () => {
      if (!(await holdsVip(backup)) || !(await holdsGateway(backup))) return undefined;
      return (await ipvsTable(backup)).filter((rule) => rule.startsWith('-a ')).length === 2 ? true : undefined;
    });
    expect(await holdsVip(master)).toBe(false);
    expect(await holdsGateway(master)).toBe(false);
    expect(await answeringServers(4)).toEqual(expect.arrayContaining(['web1', 'web2']));
    expect(await sourceSeenByClient(INSIDE.web1)).toBe(backup);

    // auto_failback on: once lvs-master's heartbeat has joined again, lvs-backup hands both back.
    await sshOk(master, 'service heartbeat start', 120_000);
    await waitFor('lvs-master to take the VIP and the NAT gateway back', 240, async () => ((await holdsVip(master)) && (await holdsGateway(master)) ? true : undefined));
    const verified = await command(['verify', '--settle', '240']);
    expect(failedChecks(verified), verified.stdout).toEqual([]);
    expect(checksOf(verified).get(`VIP holder ${vip}`)?.detail).toBe('held by lvs-master only');
    expect(await holdsGateway(backup)).toBe(false);
    expect(await sourceSeenByClient(INSIDE.web2)).toBe(master);
  }, 600_000);

  it('keeps the masquerading for boot: the saved rules alone bring it back', async () => {
    // Without the live rules (and forwarding closed), the real servers' connections go nowhere.
    await sshOk(master, 'iptables -t nat -F POSTROUTING && iptables -F FORWARD && iptables -P FORWARD DROP');
    expect(await sourceSeenByClient(INSIDE.web1)).toBe('');
    // What netfilter-persistent does at boot; --test first: the file must restore as a whole.
    await sshOk(master, 'iptables-restore --test /etc/iptables/rules.v4 && iptables-restore /etc/iptables/rules.v4');
    expect(await sourceSeenByClient(INSIDE.web1)).toBe(master);
    expect(await answeringServers(4)).toEqual(expect.arrayContaining(['web1', 'web2']));
  }, 120_000);
});
