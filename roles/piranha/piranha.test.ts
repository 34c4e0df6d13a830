// The piranha role: lvs.cf and the command plan of both LVS routers of every example cluster managed
// by piranha, on a fresh host of every platform (test/fixtures/golden/piranha/); lvs.cf read back
// the way piranha's parser (lvsconfig.c) reads it; what piranha cannot do refused with a message.
import { describe, expect, it } from 'vitest';
import type { Facts } from '../../src/core/facts.ts';
import type { Cluster, VirtualService } from '../../src/cluster/model.ts';
import { loadExampleClusters, type ExampleCluster } from '../../test/support/example-clusters.ts';
import { factsFor, platforms } from '../../test/support/facts.ts';
import { expectRoleGoldens } from '../../test/support/goldens.ts';
import { planRole } from '../../test/support/plan-role.ts';
import piranha, { lvsCf, lvsCfPath } from './index.ts';

const examples = await loadExampleClusters();
const managed = examples.filter((e) => e.cluster.manager === 'piranha');
const variants: Array<[name: string, facts: Facts]> = [...platforms.map((p): [string, Facts] => [p, factsFor(p)]), ['debian12-sysv', factsFor('debian12', { init: 'sysv' })]];
const cases = managed.flatMap((example) => example.cluster.directors.map((host) => ({ example, host })));

function example(name: string): ExampleCluster {
  const found = examples.find((e) => e.name === name);
  if (found === undefined) throw new Error(`no example cluster ${name}`);
  return found;
}

function withService(cluster: Cluster, change: Partial<VirtualService>): Cluster {
  return { ...cluster, virtual_services: cluster.virtual_services.map((s, i) => (i === 0 ? { ...s, ...change } : s)) };
}

// --- lvs.cf as piranha reads it ----------------------------------------------------------------
// A port of lvsconfig.c's tokenizer and of the checks its parser makes before anything else:
// "keyword = value" with the number of values each keyword takes, blocks opened by
// "virtual NAME {" / "server NAME {" and closed by "}", a quoted value ending at its closing quote.

type Settings = Record<string, string[]>;
interface ParsedLvsCf {
  global: Settings;
  virtuals: Array<{ name: string; settings: Settings; servers: Array<{ name: string; settings: Settings }> }>;
}

const GLOBAL_KEYWORDS = ['serial_no', 'primary', 'primary_private', 'primary_shared', 'backup', 'backup_active', 'backup_private', 'backup_shared', 'reservation_conflict_action', 'nat_nmask', 'nat_router', 'active_cmd', 'inactive_cmd', 'monitor_links', 'debug_level', 'hard_shutdown', 'ipvsadm', 'keepalive', 'deadtime', 'rsh_command', 'syncdaemon', 'syncd_iface', 'syncd_id', 'tcp_timeout', 'tcpfin_timeout', 'udp_timeout', 'heartbeat', 'heartbeat_port', 'sync', 'network', 'service'];
const VIRTUAL_KEYWORDS = ['active', 'address', 'sorry_server', 'vip_nmask', 'fwmark', 'protocol', 'port', 'scheduler', 'persistent', 'pmask', 'client_monitor', 'send_program', 'send', 'expect', 'use_regex', 'timeout', 'reentry', 'load_monitor', 'quiesce_server'];
const SERVER_KEYWORDS = ['address', 'active', 'weight', 'port'];
/** keywords with two values (an address and a device); every other takes one */
const TWO_VALUES = new Set(['nat_router', 'address@virtual']);

function tokenize(line: string): string[] {
  const tokens: string[] = [];
  let rest = line;
  while (rest !== '') {
    const quote = rest[0] === '"' || rest[0] === "'" ? rest[0] : undefined;
    let end: number;
    if (quote !== undefined) {
      end = rest.indexOf(quote, 1);
      if (end === -1) throw new Error(`bad quoting: ${line}`);
      tokens.push(rest.slice(1, end));
      end += 1;
    } else {
      end = rest.search(/[ \t]|$/);
      tokens.push(rest.slice(0, end));
    }
    if (end < rest.length && !/[ \t]/.test(rest[end] as string)) throw new Error(`bad quoting: ${line}`);
    rest = rest.slice(end).replace(/^[ \t]+/, '');
  }
  return tokens;
}

function parseLvsCf(text: string): ParsedLvsCf {
  // lvsconfig.c ends a line at \r as well as \n, and skips lines whose first non-blank is #.
  const lines = text.split(/\r|\n/).map((l) => l.replace(/^[ \t]+/, '')).filter((l) => l !== '' && !l.startsWith('#'));
  const parsed: ParsedLvsCf = { global: {}, virtuals: [] };
  let virtual: ParsedLvsCf['virtuals'][number] | undefined;
  let server: { name: string; settings: Settings } | undefined;
  for (const line of lines) {
    const tokens = tokenize(line);
    const [keyword = ''] = tokens;
    if (keyword === '}') {
      if (tokens.length !== 1) throw new Error(`extra arguments after }: ${line}`);
      if (server) server = undefined;
      else if (virtual) virtual = undefined;
      else throw new Error('} outside a block');
      continue;
    }
    if (keyword === 'virtual' || (keyword === 'server' && virtual && !server)) {
      if (tokens.length !== 3 || tokens[2] !== '{') throw new Error(`a block opens with "${keyword} NAME {": ${line}`);
      if (keyword === 'virtual') {
        if (virtual) throw new Error(`virtual inside virtual: ${line}`);
        virtual = { name: tokens[1] as string, settings: {}, servers: [] };
        parsed.virtuals.push(virtual);
      } else {
        server = { name: tokens[1] as string, settings: {} };
        virtual?.servers.push(server);
      }
      continue;
    }
    const level = server ? 'server' : virtual ? 'virtual' : 'global';
    const known = level === 'server' ? SERVER_KEYWORDS : level === 'virtual' ? VIRTUAL_KEYWORDS : GLOBAL_KEYWORDS;
    if (!known.includes(keyword)) throw new Error(`unknown ${level} keyword (LVS_ERROR_BADCOMMAND): ${line}`);
    if (tokens[1] !== '=') throw new Error(`= expected: ${line}`);
    const values = tokens.slice(2);
    const wanted = TWO_VALUES.has(keyword) || TWO_VALUES.has(`${keyword}@${level}`) ? 2 : 1;
    if (values.length !== wanted) throw new Error(`${keyword} takes ${wanted} value(s), got ${values.length}: ${line}`);
    (server?.settings ?? virtual?.settings ?? parsed.global)[keyword] = values;
  }
  if (virtual || server) throw new Error('a block is not closed');
  return parsed;
}

describe('piranha role on a fresh LVS router', () => {
  it('has example clusters to render', () => {
    expect(managed.map((e) => e.name)).toContain('piranha-nat');
  });

  it.each(cases.map((c) => [`${c.example.name} ${c.host}`, c] as const))('%s', (_, { example, host }) => {
    const plans = variants.map(([variant, facts]) => [variant, planRole(piranha, { host, inventory: example.hosts, cluster: example.cluster, facts })] as const);
    expectRoleGoldens(`piranha/${example.name}/${host}`, plans);
  });
});

describe('lvs.cf', () => {
  const nat = example('piranha-nat');
  const el6 = factsFor('el6');

  it('reads back as piranha reads it, with the cluster’s settings', () => {
    const parsed = parseLvsCf(lvsCf(nat.cluster, el6));
    expect(parsed.global).toMatchObject({
      primary: ['202.39.145.156'],
      backup: ['202.39.145.151'],
      backup_active: ['1'],
      service: ['lvs'],
      heartbeat: ['1'],
      heartbeat_port: ['539'],
      keepalive: ['2'],
      deadtime: ['5'],
      network: ['nat'],
      nat_router: ['192.168.10.1', 'eth1:0'],
      nat_nmask: ['255.255.255.0'],
    });
    expect(parsed.virtuals).toHaveLength(1);
    const [http] = parsed.virtuals;
    expect(http?.settings).toMatchObject({
      address: ['202.39.145.146', 'eth0:0'],
      vip_nmask: ['255.255.255.192'],
      port: ['80'],
      protocol: ['tcp'],
      scheduler: ['wlc'],
      // the example's CR LF, written as nanny's escapes
      send: ['GET / HTTP/1.0\\r\\n\\r\\n'],
      expect: ['HTTP'],
      timeout: ['10'],
      reentry: ['180'],
    });
    expect(http?.servers.map((s) => [s.name, s.settings.address?.[0], s.settings.weight?.[0]])).toEqual([
      ['web1', '192.168.10.18', '1'],
      ['web2', '192.168.10.28', '1'],
    ]);
  });

  it('is the same file on both routers and on EL5 and EL6', () => {
    const planned = (host: string, facts: Facts) =>
      planRole(piranha, { host, inventory: nat.hosts, cluster: nat.cluster, facts }).tasks.find((t) => t.task === 'lvs.cf')?.files?.[lvsCfPath];
    const primary = planned('lvs-primary', el6);
    expect(primary).toBeTypeOf('string');
    expect(planned('lvs-backup', el6)).toBe(primary);
    expect(planned('lvs-backup', factsFor('el5'))).toBe(primary);
  });

  it('changes its serial number with its content, and only then', () => {
    const serial = (cluster: Cluster) => /^serial_no = (\d+)$/m.exec(lvsCf(cluster, el6))?.[1];
    expect(serial(nat.cluster)).toMatch(/^\d+$/);
    expect(serial(structuredClone(nat.cluster))).toBe(serial(nat.cluster));
    expect(serial(withService(nat.cluster, { scheduler: 'rr' }))).not.toBe(serial(nat.cluster));
  });

  it('writes persistence with its netmask, but never the 255.255.255.255 piranha refuses', () => {
    const perClient = parseLvsCf(lvsCf(withService(nat.cluster, { persistence: { timeout: 600, netmask: '255.255.255.255' } }), el6));
    expect(perClient.virtuals[0]?.settings).toMatchObject({ persistent: ['600'] });
    expect(perClient.virtuals[0]?.settings.pmask).toBeUndefined();
    const perNetwork = parseLvsCf(lvsCf(withService(nat.cluster, { persistence: { timeout: 600, netmask: '255.255.255.0' } }), el6));
    expect(perNetwork.virtuals[0]?.settings).toMatchObject({ persistent: ['600'], pmask: ['255.255.255.0'] });
  });

  it('quotes what nanny sends with the quote it does not contain', () => {
    const withCheck = (send: string) => withService(nat.cluster, { check: { ...nat.cluster.virtual_services[0]?.check, send } });
    expect(parseLvsCf(lvsCf(withCheck('GET /"x" HTTP/1.0'), el6)).virtuals[0]?.settings.send).toEqual(['GET /"x" HTTP/1.0']);
    expect(lvsCf(withCheck('GET /"x" HTTP/1.0'), el6)).toContain(`send = 'GET /"x" HTTP/1.0'`);
    expect(() => lvsCf(withCheck(`GET /"x'" HTTP/1.0`), el6)).toThrow(/both quote characters/);
  });

  it('writes the fallback as the sorry server, and port-mapped real servers with their port', () => {
    const cluster = withService(nat.cluster, {
      fallback: { address: '127.0.0.1', port: 80 },
      realservers: [{ host: 'web1', address: '192.168.10.18', port: 8080, weight: 2, name: 'web1' }],
    });
    const [virtual] = parseLvsCf(lvsCf(cluster, el6)).virtuals;
    expect(virtual?.settings.sorry_server).toEqual(['127.0.0.1']);
    expect(virtual?.servers[0]?.settings).toMatchObject({ port: ['8080'], weight: ['2'] });
    expect(() => lvsCf(withService(nat.cluster, { fallback: { address: '127.0.0.1', port: 8080 } }), el6)).toThrow(/sorry_server is an address only/);
  });

  it('refuses what piranha cannot do, saying what to do instead', () => {
    expect(() => lvsCf(withService(nat.cluster, { scheduler: 'sed' }), el6)).toThrow(/scheduler sed .* not one piranha's lvs\.cf accepts/);
    const mixed = { ...nat.cluster, virtual_services: [...nat.cluster.virtual_services, { ...(nat.cluster.virtual_services[0] as VirtualService), name: 'dr', port: 443, forwarding: 'dr' as const }] };
    expect(() => lvsCf(mixed, el6)).toThrow(/one forwarding method for all virtual servers/);
    const { nat: _nat, ...withoutNat } = nat.cluster;
    expect(() => lvsCf(withoutNat, el6)).toThrow(/add nat: \{ interface, gateway \}/);
  });
});

describe('the piranha role', () => {
  const nat = example('piranha-nat');

  it.each(['el7', 'el8', 'el9', 'debian11', 'debian12', 'ubuntu2204', 'ubuntu2404'] as const)('stops on %s at lvs.cf, pointing to keepalived', (platform) => {
    const plan = planRole(piranha, { host: 'lvs-primary', inventory: nat.hosts, cluster: nat.cluster, facts: factsFor(platform) });
    expect(plan.tasks.map((t) => [t.task, t.status])).toEqual([
      ['piranha installed', 'skipped'],
      ['lvs.cf', 'error'],
      ['pulse started at boot and running', 'skipped'],
    ]);
    expect(plan.tasks[1]?.error).toMatch(/dropped it after RHEL 6 .* manager to keepalived/);
  });

  it('does nothing on real servers, or for clusters of another manager', () => {
    expect(planRole(piranha, { host: 'web1', inventory: nat.hosts, cluster: nat.cluster, facts: factsFor('el6') }).tasks).toEqual([]);
    for (const other of examples.filter((e) => e.cluster.manager !== 'piranha')) {
      expect(planRole(piranha, { host: other.cluster.directors[0] as string, inventory: other.hosts, cluster: other.cluster, facts: factsFor('el6') }).tasks, other.name).toEqual([]);
    }
  });
});
