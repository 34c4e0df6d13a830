import { describe, expect, it } from 'vitest';
import { checkPage, clusterHosts, heartbeatNodes, ipvsOwner, keepalivedCheck, ldirectordCheck, netmaskToPrefix, piranhaCheck, prefixToNetmask, realServerHosts } from '../../../src/cluster/model.ts';
import { loadInventory } from '../../../src/inventory/load.ts';
import { problems, userError } from '../inventory/files.ts';
import { ENV, heartbeatDoc, inventoryLoader, keepalivedDoc, noneDoc, piranhaDoc, toYaml, type Doc } from './support.ts';

const { load, write } = inventoryLoader();

type Cluster = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- free-form edits of test data

async function loadErrors(doc: Doc | string, env: NodeJS.ProcessEnv = ENV): Promise<string[]> {
  const file = await write(doc);
  return problems(await userError(loadInventory(file, { env })));
}

function edited(make: () => Doc, edit: (cluster: Cluster, doc: Doc) => void): Doc {
  const doc = make();
  edit(doc.cluster, doc);
  return doc;
}

describe('the cluster section: resolution', () => {
  it('an inventory without cluster: has no cluster', async () => {
    const { cluster: _cluster, ...rest } = heartbeatDoc();
    const inventory = await load(rest);
    expect(inventory.cluster).toBeUndefined();
    expect(inventory.clusterSource).toBeUndefined();
  });

  it('fills in the defaults and the addresses of the hosts', async () => {
    const { cluster } = await load(heartbeatDoc());
    expect(cluster).toMatchObject({
      name: 'web',
      manager: 'heartbeat',
      directors: ['lvs-master', 'lvs-backup'],
      addresses: { 'lvs-master': '192.168.2.250', 'lvs-backup': '192.168.2.251', web1: '192.168.2.252', web2: '192.168.2.253' },
      network: { interface: 'eth0', prefix: 24, gateway: '192.168.2.1' },
      ip_forward: false,
      ipvs_rules_at_boot: false,
      ldirectord: { enabled: true, checkinterval: 10, checktimeout: 5, quiescent: false, autoreload: false, logfile: '/var/log/ldirectord.log' },
      realserver: { arp: 'sysctl', arp_interfaces: ['eth0'], loopback_alias: 'lo:0', gateway: '192.168.2.1', services: ['nginx'], document_root: '/var/www/html', check_page: true },
      firewall: { manage: true, kind: 'auto' },
    });
    expect(cluster?.virtual_services[0]).toMatchObject({ name: 'tcp_192.168.2.254_80', vip_prefix: 24, interface: 'eth0', protocol: 'tcp', scheduler: 'lc', forwarding: 'dr' });
    expect(cluster?.virtual_services[0]?.realservers[2]).toEqual({ host: 'web1', address: '192.168.2.252', port: 80, weight: 1, name: 'web1' });
    expect(cluster?.heartbeat).toMatchObject({
      ucast: [{ interface: 'eth1', addresses: { 'lvs-master': '192.168.1.250', 'lvs-backup': '192.168.1.251' } }],
      bcast: [],
      keepalive: 2,
      deadtime: 30,
      warntime: 10,
      initdead: 120,
      udpport: 694,
      auto_failback: 'on',
      ipfail: false,
      logging: { logfile: '/var/log/ha-log', logfacility: 'local0' },
      authkeys: { method: 'sha1', key: 'hb-secret', allow_crc: false },
      resource_agent: 'IPaddr2',
      lvs_sync_daemon: false,
      resources: [],
      node_names: { 'lvs-master': 'lvs-master', 'lvs-backup': 'lvs-backup' },
    });
    expect(cluster?.install.heartbeat).toEqual({ from: 'packages' });
    expect(cluster?.keepalived).toBeUndefined();
  });

  it('a cluster address overrides the inventory address; ucast defaults to it', async () => {
    const doc = edited(heartbeatDoc, (c) => {
      c.addresses = { web1: '192.168.2.152' };
      c.heartbeat.ucast = [{ interface: 'eth0' }];
    });
    const { cluster } = await load(doc);
    expect(cluster?.virtual_services[0]?.realservers[2]?.address).toBe('192.168.2.152');
    expect(cluster?.heartbeat?.ucast[0]?.addresses).toEqual({ 'lvs-master': '192.168.2.250', 'lvs-backup': '192.168.2.251' });
  });

  it('keepalived: the primary starts MASTER with the higher priority', async () => {
    const doc = edited(keepalivedDoc, (c) => delete c.keepalived.priority);
    const { cluster } = await load(doc);
    expect(cluster?.keepalived).toEqual({
      instance: 'VI_1',
      interface: 'eth0',
      virtual_router_id: 51,
      priority: { server1: 100, server2: 50 },
      state: { server1: 'MASTER', server2: 'BACKUP' },
      advert_int: 1,
      auth: { type: 'PASS', pass: 'vrrp-pw' },
      unicast: false,
      nopreempt: false,
    });
    expect(ipvsOwner(cluster!)).toBe('keepalived');
  });

  it('piranha and NAT: ip_forward on, the real servers route through the NAT gateway', async () => {
    const { cluster } = await load(piranhaDoc());
    expect(cluster).toMatchObject({
      nat: { interface: 'eth1', gateway: '192.168.10.1', prefix: 24 },
      ip_forward: true,
      piranha: { backup_active: true, heartbeat_port: 539, keepalive: 2, deadtime: 5, debug_level: 'NONE', rsh_command: 'ssh' },
      realserver: { gateway: '192.168.10.1' },
    });
    expect(piranhaCheck(cluster!.virtual_services[0]!)).toEqual({ timeout: 10, reentry: 180, load_monitor: 'none' });
  });

  it('manager none: the rules are restored at boot', async () => {
    const { cluster } = await load(noneDoc());
    expect(cluster?.ipvs_rules_at_boot).toBe(true);
    expect(ipvsOwner(cluster!)).toBe('ipvsadm-at-boot');
    expect(realServerHosts(cluster!)).toEqual(['web1', 'web2']);
    expect(clusterHosts(cluster!)).toEqual(['director', 'web1', 'web2']);
  });

  it('the checks get their program\'s defaults', async () => {
    const heartbeat = (await load(heartbeatDoc())).cluster!;
    const service = heartbeat.virtual_services[0]!;
    expect(ldirectordCheck(heartbeat, service)).toEqual({
      checktype: 'negotiate',
      service: 'http',
      request: 'lvs_testpage.html',
      receive: 'Test Page',
      checkinterval: 10,
      checktimeout: 5,
      quiescent: false,
    });
    expect(checkPage(heartbeat, service)).toEqual({ path: 'lvs_testpage.html', content: 'Test Page' });
    expect(ldirectordCheck(heartbeat, { ...service, port: 3306, check: {} })).toMatchObject({ checktype: 'connect', service: 'mysql' });
    expect(heartbeatNodes(heartbeat)).toEqual(['lvs-master', 'lvs-backup']);

    const keepalived = (await load(keepalivedDoc())).cluster!;
    expect(keepalivedCheck(keepalived.virtual_services[0]!)).toEqual({ type: 'TCP_CHECK', connect_timeout: 3, retry: 3, delay_before_retry: 3, delay_loop: 6 });
    expect(keepalivedCheck({ ...keepalived.virtual_services[0]!, check: { url: { path: '/health', status_code: 200 } } }).type).toBe('HTTP_GET');
  });

  it('netmasks and prefixes', () => {
    expect(prefixToNetmask(24)).toBe('255.255.255.0');
    expect(prefixToNetmask(32)).toBe('255.255.255.255');
    expect(prefixToNetmask(0)).toBe('0.0.0.0');
    expect(netmaskToPrefix('255.255.254.0')).toBe(23);
    expect(netmaskToPrefix('255.0.255.0')).toBeUndefined();
  });
});

describe('the cluster section: {{ }} references and secrets', () => {
  it('uses the variables of group all, with their types', async () => {
    const doc = edited(heartbeatDoc, (c, d) => {
      d.all.vars = { vip: '192.168.2.254', http_port: 80, key: '${HA_AUTH_KEY}', vip_and_port: '{{ vip }}:{{ http_port }}' };
      c.virtual_services[0].vip = '{{ vip }}';
      c.virtual_services[0].port = '{{ http_port }}';
      c.virtual_services[0].name = 'web-{{ http_port }}';
      c.heartbeat.authkeys.key = '{{ key }}';
    });
    const inventory = await load(doc);
    expect(inventory.cluster?.virtual_services[0]).toMatchObject({ vip: '192.168.2.254', port: 80, name: 'web-80' });
    expect(inventory.cluster?.heartbeat?.authkeys.key).toBe('hb-secret');
    expect(inventory.clusterSource?.clearTextSecrets).toEqual([]);
  });

  it('a variable of some hosts only cannot be used, and says why', async () => {
    const doc = edited(heartbeatDoc, (c, d) => {
      (d.all as Cluster).children.directors.vars = { vip: '192.168.2.254' };
      c.virtual_services[0].vip = '{{ vip }}';
    });
    const file = await write(doc);
    const error = await userError(loadInventory(file, { env: ENV }));
    expect(error.message).toBe('cluster.virtual_services[0].vip: {{ vip }} is not a variable of group all');
    expect(error.hint).toMatch(/^'vip' is set for some hosts only; the cluster is shared by every host/);
    expect(error.where.line).toBeGreaterThan(1);
  });

  it('a misspelt variable gets a suggestion', async () => {
    const doc = edited(heartbeatDoc, (c, d) => {
      d.all.vars = { vip: '192.168.2.254' };
      c.virtual_services[0].vip = '{{ vipp }}';
    });
    expect(await loadErrors(doc)).toEqual([expect.stringMatching(/^\d+:\d+ cluster\.virtual_services\[0\]\.vip: \{\{ vipp \}\} is not a variable of group all; did you mean 'vip'\?$/)]);
  });

  it('group all may hold variables that use host variables: only what the cluster uses is resolved', async () => {
    const doc = edited(heartbeatDoc, (c, d) => {
      d.all.vars = { vip: '192.168.2.254', per_host: '{{ heartbeat_address }}' };
      c.virtual_services[0].vip = '{{ vip }}';
    });
    expect((await load(doc)).cluster?.virtual_services[0]?.vip).toBe('192.168.2.254');
  });

  it('the secrets of the cluster are masked, even when written in clear (and lint warns about those)', async () => {
    const doc = edited(keepalivedDoc, (c) => (c.keepalived.auth.pass = 'inclear'));
    const inventory = await load(doc);
    expect(inventory.secrets.has('inclear')).toBe(true);
    expect(inventory.clusterSource?.clearTextSecrets).toEqual([['keepalived', 'auth', 'pass']]);
    const fromEnv = await load(keepalivedDoc());
    expect(fromEnv.secrets).toEqual(new Set(['vrrp-pw']));
    expect(fromEnv.clusterSource?.clearTextSecrets).toEqual([]);
  });

  it('an error never quotes a value that holds a secret, even inside a longer string from a template', async () => {
    const doc = edited(heartbeatDoc, (c, d) => {
      d.all.vars = { hb_key: '${HA_AUTH_KEY}' };
      c.heartbeat.keepalive = 'every {{ hb_key }} seconds';
    });
    const errors = await loadErrors(doc);
    expect(errors.join('\n')).toContain('got a value read with !env (not shown)');
    expect(errors.join('\n')).not.toContain(ENV.HA_AUTH_KEY);
  });

  it('refuses a cluster secret written in clear shorter than the secret minimum (problem 7)', async () => {
    const errors = await loadErrors(edited(keepalivedDoc, (c) => (c.keepalived.auth.pass = 'e')));
    expect(errors).toEqual([expect.stringMatching(/cluster\.keepalived\.auth\.pass: the secret has 1 character; a secret needs at least 6, because every output is masked/)]);
  });

  it('a value read with !env is not a template, even if it looks like one', async () => {
    const inventory = await load(heartbeatDoc(), { HA_AUTH_KEY: 'a{{b}}c' });
    expect(inventory.cluster?.heartbeat?.authkeys.key).toBe('a{{b}}c');
  });
});

describe('the cluster section: mistakes, with file:line:column', () => {
  const text = [
    'all:',
    '  hosts:',
    '    lvs-master: { address: 192.168.2.250 }',
    '    lvs-backup: { address: 192.168.2.251 }',
    '    web1: { address: 192.168.2.252 }',
    'cluster:',
    '  name: web',
    '  manager: heartbeet',
    '  directors: [lvs-mastr, lvs-backup]',
    '  virtual_services:',
    '    - vip: 192.168.2.300',
    '      port: 80',
    '      schedular: rr',
    '      realservers:',
    '        - { host: web2 }',
    '',
  ].join('\n');

  it('schema errors: unknown keys and values with suggestions, at their position', async () => {
    expect(await loadErrors(text)).toEqual([
      "8:12 cluster.manager: expected one of \"heartbeat\", \"keepalived\", \"piranha\", \"none\", got \"heartbeet\"; did you mean 'heartbeat'?",
      '11:12 cluster.virtual_services[0].vip: expected the virtual IP address clients connect to, e.g. 192.168.2.254, got "192.168.2.300"',
      "13:7 cluster.virtual_services[0].schedular: unknown key 'schedular' in virtual service virtual_services[0]; did you mean 'scheduler'?",
    ]);
  });

  it('references to hosts: directors and real servers are inventory hosts', async () => {
    const fixed = text.replace('heartbeet', 'none').replace('192.168.2.300', '192.168.2.254').replace('schedular', 'scheduler');
    expect(await loadErrors(fixed)).toEqual([
      "9:15 cluster.directors[0]: director 'lvs-mastr' is not a host of the inventory; did you mean 'lvs-master'?",
      "15:19 cluster.virtual_services[0].realservers[0].host: real server 'web2' is not a host of the inventory; did you mean 'web1'?",
    ]);
  });

  it('a missing required key says what to add', async () => {
    const doc = edited(heartbeatDoc, (c) => delete c.virtual_services[0].realservers);
    expect(await loadErrors(doc)).toEqual([expect.stringMatching(/^\d+:\d+ cluster\.virtual_services\[0\]: virtual service virtual_services\[0\] has no 'realservers'$/)]);
  });

  it('per-director settings name directors', async () => {
    const doc = edited(keepalivedDoc, (c) => (c.keepalived.priority = { server1: 100, server3: 50, servr2: 20 }));
    expect(await loadErrors(doc)).toEqual([
      expect.stringMatching(/cluster\.keepalived\.priority\.server3: 'server3' is not a director \(the priority is set per director\)$/),
      expect.stringMatching(/cluster\.keepalived\.priority\.servr2: 'servr2' is not a director; did you mean 'server2'\?$/),
    ]);
  });

  it('a check setting of another manager', async () => {
    const doc = edited(keepalivedDoc, (c) => (c.virtual_services[0].check = { checktype: 'negotiate' }));
    expect(await loadErrors(doc)).toEqual([expect.stringMatching(/cluster\.virtual_services\[0\]\.check\.checktype: 'checktype' is read by ldirectord \(manager heartbeat\), not by keepalived$/)]);
  });

  it("a section of another manager, and a manager's missing section", async () => {
    const doc = edited(keepalivedDoc, (c) => {
      c.heartbeat = { authkeys: { key: 'x' } };
      delete c.keepalived;
    });
    expect(await loadErrors(doc)).toEqual([
      expect.stringMatching(/cluster: manager keepalived needs a keepalived: section$/),
      expect.stringMatching(/cluster\.heartbeat: the heartbeat: section is read with manager heartbeat only \(this cluster's manager is keepalived\)$/),
    ]);
  });

  it('NAT without a nat: section', async () => {
    const doc = edited(piranhaDoc, (c) => delete c.nat);
    expect(await loadErrors(doc)).toEqual([expect.stringMatching(/cluster: a service uses forwarding nat, but the cluster has no nat: section$/)]);
  });

  it('protocols: a port for tcp, a mark for fwmark', async () => {
    const doc = edited(noneDoc, (c) => {
      c.virtual_services[0].protocol = 'fwmark';
      c.virtual_services.push({ vip: '10.1.0.101', protocol: 'udp', fwmark: 3, realservers: [{ host: 'web1' }] });
    });
    expect(await loadErrors(doc)).toEqual([
      expect.stringMatching(/cluster\.virtual_services\[0\]: a fwmark service needs its firewall mark$/),
      expect.stringMatching(/cluster\.virtual_services\[1\]: a udp service needs a port$/),
      expect.stringMatching(/cluster\.virtual_services\[1\]\.fwmark: fwmark applies to protocol fwmark only \(this service is udp\)$/),
    ]);
  });

  it('source installs need a URL and a checksum; a netmask must be one', async () => {
    const doc = edited(heartbeatDoc, (c) => {
      c.install = { heartbeat: { from: 'source', url: 'http://mirror.example/heartbeat-3.0.6.tar.bz2' }, ipvsadm: { sha256: 'a'.repeat(64) } };
      c.virtual_services[0].persistence = { timeout: 600, netmask: '255.0.255.0' };
    });
    expect(await loadErrors(doc)).toEqual([
      expect.stringMatching(/cluster\.virtual_services\[0\]\.persistence\.netmask: 255\.0\.255\.0 is not a netmask \(its one bits must be contiguous\)$/),
      expect.stringMatching(/cluster\.install\.heartbeat: installing heartbeat from source needs its sha256$/),
      expect.stringMatching(/cluster\.install\.ipvsadm\.sha256: 'sha256' is used with 'from: source' only$/),
    ]);
  });

  it('an empty cluster section', async () => {
    const { cluster: _cluster, ...rest } = heartbeatDoc();
    expect(await loadErrors(`${toYaml(rest)}cluster:\n`)).toEqual([expect.stringMatching(/cluster: the cluster description is empty$/)]);
  });
});
