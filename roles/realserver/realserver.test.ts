// The realserver role on every platform, for every real server of every example cluster: golden
// files (test/fixtures/golden/realserver/<cluster>/<host>/<file>) and golden command plans
// (.../plan.txt) on a fresh host; then the rules the goldens cannot show at a glance.
import { spawnSync } from 'node:child_process';
import { beforeAll, describe, expect, it } from 'vitest';
import { realServerHosts, resolveCluster, type Cluster } from '../../src/cluster/model.ts';
import { unservedWebPorts } from '../../src/cluster/web-ports.ts';
import type { ClusterFile } from '../../src/cluster/schema.ts';
import type { Facts } from '../../src/core/facts.ts';
import { factsFor, platforms } from '../../test/support/facts.ts';
import type { HostState } from '../../test/support/fresh-host.ts';
import { loadExampleClusters, type ExampleCluster } from '../../test/support/example-clusters.ts';
import { expectRoleGoldens } from '../../test/support/goldens.ts';
import { planRole, type RolePlan } from '../../test/support/plan-role.ts';
import { posixShells } from '../../test/support/posix-shells.ts';
import realserver, { bootLayout } from './index.ts';
import { initScriptPath, renderInitScript } from './render.ts';
import { realServerView } from './view.ts';

// The lab's Debian 12 hosts run without systemd.
const variants: Array<[name: string, facts: Facts]> = [
  ...platforms.map((p): [string, Facts] => [p, factsFor(p)]),
  ['debian12-sysv', factsFor('debian12', { init: 'sysv' })],
];

// Debian's stock /etc/network/interfaces (ifupdown), which already reads interfaces.d.
const debianInterfaces = [
  '# This file describes the network interfaces available on your system',
  '# and how to activate them. For more information, see interfaces(5).',
  '',
  'source /etc/network/interfaces.d/*',
  '',
  '# The loopback network interface',
  'auto lo',
  'iface lo inet loopback',
  '',
].join('\n');

const stateFor = (facts: Facts): HostState => (facts.os.family === 'debian' ? { files: { '/etc/network/interfaces': debianInterfaces } } : {});

function plan(example: Pick<ExampleCluster, 'cluster' | 'hosts'>, host: string, facts: Facts, vars: Record<string, unknown> = {}): RolePlan {
  return planRole(realserver, { host, inventory: example.hosts, cluster: example.cluster, facts, state: stateFor(facts), vars });
}

/**
 * The real servers whose files differ by more than their addresses: every director that is also a
 * real server, and the first of the others (the rest are the same with another address).
 */
function representativeHosts(c: Cluster): string[] {
  const hosts = realServerHosts(c);
  const plain = hosts.filter((host) => !c.directors.includes(host));
  return [...hosts.filter((host) => c.directors.includes(host)), ...plain.slice(0, 1)];
}

let examples: ExampleCluster[] = [];
beforeAll(async () => {
  examples = await loadExampleClusters();
});

describe('realserver golden files and plans', () => {
  it('covers examples with real servers', () => {
    expect(examples.filter((e) => realServerHosts(e.cluster).length > 0).length).toBeGreaterThan(0);
  });

  it('on every platform, for the representative real servers of every example', () => {
    for (const example of examples) {
      for (const host of representativeHosts(example.cluster)) {
        const dir = `realserver/${example.name}/${host}`;
        const plans = variants.map(([variant, facts]) => [variant, plan(example, host, facts)] as const);
        for (const [variant, planned] of plans) {
          for (const task of planned.tasks) expect(task.status, `${dir} ${variant}: ${task.task}: ${task.error ?? ''}`).not.toBe('error');
        }
        expectRoleGoldens(dir, plans);
      }
    }
  });

  // The tutorials' own method: /etc/init.d/realserver for everything, on every family.
  it('on every platform, with boot_method init-script', () => {
    const example = examples.find((e) => e.name === 'dr-heartbeat-ldirectord');
    if (example === undefined) throw new Error('the dr-heartbeat-ldirectord example is missing');
    const plans = variants.map(([variant, facts]) => [variant, plan(example, 'web1', facts, { boot_method: 'init-script' })] as const);
    expectRoleGoldens('realserver/init-script/web1', plans);
  });
});

// A cluster of the tutorial shapes, varied by each test.
function cluster(overrides: Partial<ClusterFile> = {}): Cluster {
  const addresses: Record<string, string> = { d1: '10.0.0.1', d2: '10.0.0.2', web1: '10.0.0.11', web2: '10.0.0.12' };
  const file: ClusterFile = {
    name: 'web',
    manager: 'keepalived',
    directors: ['d1', 'd2'],
    network: { interface: 'eth0', prefix: 24, gateway: '10.0.0.254' },
    keepalived: { virtual_router_id: 51 },
    virtual_services: [{ vip: '10.0.0.100', port: 80, forwarding: 'dr', realservers: [{ host: 'web1' }, { host: 'web2' }] }],
    ...overrides,
  };
  return resolveCluster(file, (host) => addresses[host] ?? '10.0.0.99');
}

const hostsOf = (c: Cluster) => ['d1', 'd2', 'web1', 'web2'].map((name) => ({ name, address: c.addresses[name] ?? name, groups: ['all'] }));
const taskNames = (p: RolePlan, status?: string) => p.tasks.filter((t) => status === undefined || t.status === status).map((t) => t.task);

describe('realserver rules', () => {
  it.each(variants)('sets the ARP parameters before any VIP comes up (%s)', (_name, facts) => {
    for (const arp of ['sysctl', 'arptables'] as const) {
      const c = cluster({ realserver: { arp } });
      const names = taskNames(plan({ cluster: c, hosts: hostsOf(c) }, 'web1', facts), 'changed');
      const firstVip = names.findIndex((n) => /VIP .* now|addresses up now/.test(n));
      const lastArp = names.findLastIndex((n) => /ARP/.test(n));
      expect(firstVip, names.join('\n')).toBeGreaterThan(-1);
      expect(lastArp, names.join('\n')).toBeGreaterThan(-1);
      expect(lastArp).toBeLessThan(firstVip);
    }
  });

  it('uses the tutorial chain names IN/OUT with arptables_jf (EL5, EL6), INPUT/OUTPUT elsewhere, and arptables-nft by name on Debian', () => {
    const c = cluster({ realserver: { arp: 'arptables' } });
    const scriptOn = (facts: Facts) => plan({ cluster: c, hosts: hostsOf(c) }, 'web1', facts).tasks.find((t) => t.task.startsWith('ARP requests') && t.status === 'changed')?.script ?? '';
    expect(scriptOn(factsFor('el6'))).toContain('arptables -A IN -d 10.0.0.100 -j DROP');
    expect(scriptOn(factsFor('el6'))).toContain('arptables -A OUT -s 10.0.0.100 -j mangle --mangle-ip-s 10.0.0.11');
    expect(scriptOn(factsFor('el6'))).toContain('service arptables_jf save');
    expect(scriptOn(factsFor('el9'))).toContain('arptables -A INPUT -d 10.0.0.100 -j DROP');
    // Debian: the nft tool by its own name, whatever the `arptables` alternative points at.
    expect(scriptOn(factsFor('debian12'))).toContain('arptables-nft -A INPUT -d 10.0.0.100 -j DROP');
    expect(scriptOn(factsFor('debian12'))).not.toContain('arptables-nft-save');
    expect(scriptOn(factsFor('debian12'))).not.toMatch(/(^|[^-])arptables -/m);
  });

  it('refuses arptables on a director that is also a real server (it would drop ARP for its own VIP)', () => {
    const c = cluster({ realserver: { arp: 'arptables' }, virtual_services: [{ vip: '10.0.0.100', port: 80, realservers: [{ host: 'd1' }, { host: 'web1' }] }] });
    expect(() => realServerView(c, 'd1')).toThrow(/director and a real server.*arp: sysctl/);
    expect(realServerView(c, 'web1')?.arpRules).toEqual([{ vip: '10.0.0.100', realAddress: '10.0.0.11' }]);
  });

  it('never adds the VIP to lo on a director that holds it on another interface', () => {
    const c = cluster({ virtual_services: [{ vip: '10.0.0.100', port: 80, realservers: [{ host: 'd1' }, { host: 'web1' }] }] });
    const ctx = (host: string) => ({ vars: { ...realserver.defaults, boot_method: 'native' as const }, host: { name: host, address: '', groups: [] }, inventory: { hosts: [] }, cluster: c });
    const guard = (host: string) => realserver.tasks(ctx(host)).find((t) => t.name.endsWith('now (ifup)'))?.op.probe() ?? '';
    // Anywhere on the director (heartbeat moved it to eth0 on purpose), on lo on a plain real server.
    expect(guard('d1')).toContain("ip -o -4 addr show | grep -qF 'inet 10.0.0.100/'");
    expect(guard('web1')).toContain("ip -o -4 addr show dev lo | grep -qF 'inet 10.0.0.100/'");
    const view = realServerView(c, 'd1')!;
    const script = renderInitScript(view, bootLayout(view, factsFor('el9'), 'native').script);
    expect(script).toContain('\thas_address "$1" || ip addr add "$1/32" dev lo label "$2"');
  });

  it('points NAT real servers at the floating NAT address and DR ones at the router, never a director at itself', () => {
    const c = cluster({
      nat: { interface: 'eth1', gateway: '192.168.10.1' },
      virtual_services: [
        { vip: '10.0.0.100', port: 80, forwarding: 'nat', realservers: [{ host: 'web1' }, { host: 'd2' }] },
        { vip: '10.0.0.101', port: 80, forwarding: 'dr', realservers: [{ host: 'web2' }] },
      ],
    });
    expect(realServerView(c, 'web1')?.gateway).toEqual({ address: '192.168.10.1', reason: 'nat' });
    expect(realServerView(c, 'web2')?.gateway).toEqual({ address: '10.0.0.254', reason: 'router' });
    expect(realServerView(c, 'd2')?.gateway).toBeUndefined();
    const el5 = plan({ cluster: c, hosts: hostsOf(c) }, 'web1', factsFor('el5'));
    expect(el5.tasks.find((t) => t.task.includes('(/etc/sysconfig/network)'))?.files?.['/etc/sysconfig/network']).toContain('GATEWAY=192.168.10.1\n');
    // NAT real servers have no VIP and no ARP settings.
    expect(taskNames(el5).filter((n) => /ARP|VIP/.test(n))).toEqual([]);
  });

  it('puts TUN VIPs on tunl0 through the script, with reverse-path filtering off', () => {
    const c = cluster({ virtual_services: [{ vip: '10.0.0.100', port: 80, forwarding: 'tun', realservers: [{ host: 'web1' }] }] });
    const el5 = plan({ cluster: c, hosts: hostsOf(c) }, 'web1', factsFor('el5'));
    const script = el5.tasks.find((t) => t.task === initScriptPath)?.files?.[initScriptPath] ?? '';
    expect(script).toContain('has_address 10.0.0.100 tunl0 || ip addr add 10.0.0.100/32 dev tunl0');
    expect(script).toContain('set_kernel_parameter net/ipv4/conf/tunl0/rp_filter 0');
    expect(taskNames(el5, 'changed')).toContain('no reverse-path filtering of tunnelled packets (all)');
    expect(taskNames(el5)).not.toContain('VIP 10.0.0.100 on lo:0 at boot (ifcfg)');
  });

  it('writes the page each check fetches with the text it expects, and none for a digest check', () => {
    const c = cluster({
      virtual_services: [
        { vip: '10.0.0.100', port: 80, realservers: [{ host: 'web1' }], check: { url: { path: '/check/lvs.html', status_code: 200 } } },
        { vip: '10.0.0.101', port: 80, realservers: [{ host: 'web1' }], check: { url: { path: '/own.html', digest: '0123456789abcdef0123456789abcdef' } } },
      ],
    });
    expect(realServerView(c, 'web1')?.pages).toEqual([{ path: '/var/www/html/check/lvs.html', content: 'OK\n', services: ['tcp 10.0.0.100:80'] }]);
    const names = taskNames(plan({ cluster: c, hosts: hostsOf(c) }, 'web1', factsFor('debian12')));
    expect(names).toEqual(expect.arrayContaining(['directory /var/www/html', 'directory /var/www/html/check']));
  });

  it('writes an index page naming the real server before its web server is installed, or the text index_page gives', () => {
    const c = cluster({ realserver: { services: ['nginx'] } });
    const indexTask = (p: RolePlan) => p.tasks.find((t) => t.task.startsWith('index page '));
    const planned = plan({ cluster: c, hosts: hostsOf(c) }, 'web2', factsFor('debian12'));
    expect(indexTask(planned)).toMatchObject({ task: 'index page /var/www/html/index.html, naming the real server', status: 'changed', files: { '/var/www/html/index.html': 'web2\n' } });
    const names = taskNames(planned);
    expect(names.indexOf('index page /var/www/html/index.html, naming the real server')).toBeLessThan(names.indexOf('nginx installed'));
    expect(indexTask(plan({ cluster: c, hosts: hostsOf(c) }, 'web2', factsFor('el9'), { index_page: 'Real Server 2' }))?.files).toEqual({ '/var/www/html/index.html': 'Real Server 2\n' });
    expect(indexTask(plan({ cluster: c, hosts: hostsOf(c) }, 'web2', factsFor('el9'), { manage_index_page: false }))).toBeUndefined();
  });

  it.each([
    ['keepalived, url /', { url: { path: '/', status_code: 200 } }],
    ['keepalived, url /index.html', { url: { path: '/index.html', status_code: 200 } }],
  ])('leaves the index page to a health check that reads it (%s)', (_name, check) => {
    const c = cluster({ virtual_services: [{ vip: '10.0.0.100', port: 80, realservers: [{ host: 'web1' }], check }] });
    const writes = plan({ cluster: c, hosts: hostsOf(c) }, 'web1', factsFor('debian12')).tasks.filter((t) => t.files?.['/var/www/html/index.html'] !== undefined);
    // The check's own page ("OK") where it requests index.html, nothing where it requests /.
    expect(writes.map((t) => t.task)).toEqual(check.url.path === '/' ? [] : ['health-check page /var/www/html/index.html (tcp 10.0.0.100:80)']);
  });

  it.each(variants)('writes an init script that dash and busybox sh parse (%s)', (_name, facts) => {
    const c = cluster({
      nat: { interface: 'eth1', gateway: '192.168.10.1' },
      virtual_services: [
        { vip: '10.0.0.100', port: 80, forwarding: 'dr', realservers: [{ host: 'web1' }] },
        { vip: '10.0.0.101', port: 80, forwarding: 'tun', realservers: [{ host: 'web1' }] },
      ],
    });
    const view = realServerView(c, 'web1')!;
    const script = renderInitScript(view, bootLayout(view, facts, 'init-script').script);
    for (const shell of posixShells()) {
      const [program, ...args] = shell.command;
      const checked = spawnSync(program, [...args.filter((a) => a !== '-s'), '-n'], { input: script, encoding: 'utf8' });
      expect(checked.status, `${shell.name}: ${checked.stderr}`).toBe(0);
    }
  });
});

// The web servers listen on every port other than 80 the directors send the real server web
// requests to (nat-heartbeat.yaml maps port 80 to 8080 on web1 and web2): listen.ts, webPorts.
describe('realserver web servers on mapped ports', () => {
  const natHeartbeat = () => {
    const example = examples.find((e) => e.name === 'nat-heartbeat');
    if (example === undefined) throw new Error('the nat-heartbeat example is missing');
    return example;
  };
  const withServices = (example: ExampleCluster, services: string[]): ExampleCluster => ({ ...example, cluster: { ...example.cluster, realserver: { ...example.cluster.realserver, services } } });
  const header = [
    '# The ports other than 80 on which the LVS directors of cluster www send web1 web requests:',
    '#   8080  tcp 10.0.0.10:80',
    '# served from /var/www/html, where provision writes the health-check and index pages.',
    '# Written by provision from the cluster description; changes here are overwritten.',
  ];
  const apacheFile = (grant: string[]) =>
    [...header, 'Listen 8080', '', '<VirtualHost *:8080>', '\tDocumentRoot "/var/www/html"', '</VirtualHost>', '', '<Directory "/var/www/html">', ...grant, '</Directory>', ''].join('\n');
  const nginxFile = [...header, 'server {', '\tlisten 8080;', '\troot "/var/www/html";', '\tindex index.html;', '}', ''].join('\n');
  const el = ['el5', 'el6', 'el7', 'el8', 'el9'] as const;
  const debianFamily = ['debian11', 'debian12', 'ubuntu2204', 'ubuntu2404'] as const;
  const names = (p: RolePlan) => p.tasks.map((t) => t.task);

  it.each(el)('httpd (EL): Listen 8080 and a virtual host on the document root in conf.d, before httpd starts, reloaded when it changes (%s)', (platform) => {
    const planned = plan(natHeartbeat(), 'web1', factsFor(platform));
    const task = planned.tasks.find((t) => t.task === 'httpd listens on port 8080 (/etc/httpd/conf.d/lvs-realserver.conf)');
    const grant = platform === 'el5' || platform === 'el6' ? ['\tOrder allow,deny', '\tAllow from all'] : ['\tRequire all granted'];
    expect(task).toMatchObject({ status: 'changed', files: { '/etc/httpd/conf.d/lvs-realserver.conf': apacheFile(grant) }, notify: ['reload httpd'] });
    const order = names(planned);
    expect(order.indexOf('httpd installed')).toBeLessThan(order.indexOf(task!.task));
    expect(order.indexOf(task!.task)).toBeLessThan(order.indexOf('httpd running and started at boot'));
    expect(planned.handlers.map((h) => h.handler)).toEqual(['reload httpd']);
    // Nothing for a web server that is not listed; Debian's drop-in of Apache is skipped here.
    expect(planned.tasks.filter((t) => t.task.includes('nginx'))).toEqual([]);
    expect(planned.tasks.filter((t) => t.task.includes('apache2')).map((t) => t.status)).toEqual(['skipped', 'skipped']);
    expect(planned.tasks.find((t) => t.task === 'httpd installed')?.script).toMatch(/install httpd$/m);
  });

  it.each(debianFamily)('httpd on %s is Apache under its name there: apache2 installed, listening from conf-available, started', (platform) => {
    // The tutorials are EL's and say httpd; Debian has no package of that name.
    const planned = plan(natHeartbeat(), 'web1', factsFor(platform));
    expect(planned.tasks.find((t) => t.task === 'httpd installed')?.script).toMatch(/ apache2 \|\|/);
    expect(planned.tasks.find((t) => t.task.startsWith('httpd listens'))?.status).toBe('skipped');
    expect(planned.tasks.find((t) => t.task === 'apache2 listens on port 8080 (/etc/apache2/conf-available/lvs-realserver.conf)')).toMatchObject({
      status: 'changed',
      files: { '/etc/apache2/conf-available/lvs-realserver.conf': apacheFile(['\tRequire all granted']) },
    });
    const started = planned.tasks.find((t) => t.task === 'httpd running and started at boot')?.script ?? '';
    expect(started).toContain('apache2');
    expect(started).not.toContain('httpd');
    expect(planned.handlers.map((h) => h.handler)).toEqual(['reload apache2']);
  });

  it('Apache listed under both names is one web server: its tasks once, named after the first', () => {
    const planned = plan(withServices(natHeartbeat(), ['httpd', 'nginx', 'apache2']), 'web1', factsFor('debian12'));
    expect(names(planned).filter((name) => /installed$/.test(name))).toEqual(['httpd installed', 'nginx installed']);
    expect(names(planned).filter((name) => name.startsWith('apache2 listens'))).toHaveLength(1);
  });

  it.each([...el, ...debianFamily])('nginx: a server block on 8080 with the document root in conf.d, which EL and Debian include, reloaded when it changes (%s)', (platform) => {
    const planned = plan(withServices(natHeartbeat(), ['nginx']), 'web1', factsFor(platform));
    const task = planned.tasks.find((t) => t.task === 'nginx listens on port 8080 (/etc/nginx/conf.d/lvs-realserver.conf)');
    expect(task).toMatchObject({ status: 'changed', files: { '/etc/nginx/conf.d/lvs-realserver.conf': nginxFile }, notify: ['reload nginx'] });
    const order = names(planned);
    expect(order.indexOf('nginx installed')).toBeLessThan(order.indexOf(task!.task));
    expect(order.indexOf(task!.task)).toBeLessThan(order.indexOf('nginx running and started at boot'));
    expect(planned.handlers.map((h) => [h.handler, h.status])).toEqual([['reload nginx', 'changed']]);
  });

  it.each(debianFamily)('apache2 (Debian, Ubuntu): the same in conf-available, enabled with a2enconf, reloaded when either changes (%s)', (platform) => {
    const planned = plan(withServices(natHeartbeat(), ['apache2']), 'web1', factsFor(platform));
    const file = planned.tasks.find((t) => t.task === 'apache2 listens on port 8080 (/etc/apache2/conf-available/lvs-realserver.conf)');
    expect(file).toMatchObject({ status: 'changed', files: { '/etc/apache2/conf-available/lvs-realserver.conf': apacheFile(['\tRequire all granted']) }, notify: ['reload apache2'] });
    const enable = planned.tasks.find((t) => t.task === 'apache2 reads /etc/apache2/conf-available/lvs-realserver.conf (a2enconf)');
    expect(enable).toMatchObject({ status: 'changed', notify: ['reload apache2'] });
    expect(enable?.script).toContain('a2enconf -q lvs-realserver');
    const order = names(planned);
    expect(order.indexOf('apache2 installed')).toBeLessThan(order.indexOf(file!.task));
    expect(order.indexOf(enable!.task)).toBeLessThan(order.indexOf('apache2 running and started at boot'));
    expect(planned.handlers.map((h) => h.handler)).toEqual(['reload apache2']);
    // Enabled already: a2enconf's link is there.
    const again = planRole(realserver, {
      host: 'web1',
      inventory: natHeartbeat().hosts,
      cluster: withServices(natHeartbeat(), ['apache2']).cluster,
      facts: factsFor(platform),
      state: { files: { ...stateFor(factsFor(platform)).files, '/etc/apache2/conf-enabled/lvs-realserver.conf': apacheFile(['\tRequire all granted']) } },
    });
    expect(again.tasks.find((t) => t.task === enable!.task)?.status).toBe('ok');
  });

  it('apache2 on EL is Apache under its name there: httpd installed, listening from conf.d', () => {
    const planned = plan(withServices(natHeartbeat(), ['apache2']), 'web1', factsFor('el9'));
    expect(planned.tasks.filter((t) => t.task.startsWith('apache2 listens') || t.task.startsWith('apache2 reads')).map((t) => t.status)).toEqual(['skipped', 'skipped']);
    expect(planned.tasks.find((t) => t.task === 'httpd listens on port 8080 (/etc/httpd/conf.d/lvs-realserver.conf)')?.status).toBe('changed');
    expect(planned.tasks.find((t) => t.task === 'apache2 installed')?.script).toMatch(/install httpd$/m);
    expect(planned.handlers.map((h) => h.handler)).toEqual(['reload httpd']);
  });

  it('writes nothing for real servers whose requests all arrive on port 80 (every DR example), whatever web server they run', () => {
    for (const example of examples.filter((e) => e.cluster.virtual_services.every((s) => s.forwarding !== 'nat'))) {
      for (const host of realServerHosts(example.cluster)) {
        expect(realServerView(example.cluster, host)?.webPorts, `${example.name} ${host}`).toEqual([]);
        for (const services of [['nginx'], ['httpd'], ['apache2']]) {
          const planned = plan(withServices(example, services), host, factsFor('debian12'));
          expect(planned.tasks.filter((t) => /listens on port|a2enconf/.test(t.task)), `${example.name} ${host}`).toEqual([]);
        }
      }
    }
  });

  it('takes the ports from the real server entries and the HTTP check, never 80, HTTPS or UDP', () => {
    const nat = { interface: 'eth1', gateway: '10.0.0.254' };
    const keepalived = cluster({
      nat,
      virtual_services: [
        { vip: '10.0.0.100', port: 80, forwarding: 'nat', realservers: [{ host: 'web1', port: 8080 }, { host: 'web2' }], check: { url: { path: '/health', status_code: 200 }, connect_port: 8081 } },
        { vip: '10.0.0.100', port: 443, forwarding: 'nat', realservers: [{ host: 'web1', port: 8443 }], check: { type: 'SSL_GET', url: { path: '/', status_code: 200 } } },
        { vip: '10.0.0.100', port: 53, protocol: 'udp', forwarding: 'nat', realservers: [{ host: 'web1', port: 5353 }] },
        { vip: '10.0.0.101', port: 8000, forwarding: 'nat', realservers: [{ host: 'web1' }], check: { type: 'TCP_CHECK' } },
      ],
    });
    expect(realServerView(keepalived, 'web1')?.webPorts).toEqual([
      { port: 8080, services: ['tcp 10.0.0.100:80'], at: ['virtual_services', 0, 'realservers', 0, 'port'] },
      { port: 8081, services: ['tcp 10.0.0.100:80'], at: ['virtual_services', 0, 'check', 'connect_port'] },
    ]);
    // web2 gets port 80 from the service, and the check's own port.
    expect(realServerView(keepalived, 'web2')?.webPorts.map((p) => p.port)).toEqual([8081]);
    const heartbeat = resolveCluster(
      {
        name: 'web',
        manager: 'heartbeat',
        directors: ['d1', 'd2'],
        nat,
        heartbeat: { ucast: [{ interface: 'eth1' }], authkeys: { method: 'sha1', key: 'k' } },
        virtual_services: [
          { vip: '10.0.0.100', port: 8888, forwarding: 'nat', realservers: [{ host: 'web1' }], check: { checktype: 'negotiate', service: 'http', request: 'check.html', receive: 'OK' } },
          { vip: '10.0.0.100', port: 443, forwarding: 'nat', realservers: [{ host: 'web1', port: 4443 }], check: { checktype: 'negotiate', request: 'check.html', receive: 'OK' } },
        ],
      },
      () => '10.0.0.11',
    );
    expect(realServerView(heartbeat, 'web1')?.webPorts.map((p) => p.port)).toEqual([8888]);
  });

  it('configures no other service, and the run fails on none: lint warns instead (the same function)', () => {
    const example = withServices(natHeartbeat(), ['myapp']);
    const planned = plan(example, 'web1', factsFor('el9'));
    expect(planned.tasks.filter((t) => t.status === 'error')).toEqual([]);
    expect(planned.tasks.filter((t) => t.task.includes('listens'))).toEqual([]);
    expect(unservedWebPorts(example.cluster, 'web1').map((p) => p.port)).toEqual([8080]);
    expect(unservedWebPorts(withServices(natHeartbeat(), ['myapp', 'nginx']).cluster, 'web1')).toEqual([]);
  });
});
