// Test helpers for the cluster: a valid inventory per manager (as plain data, to change one thing
// at a time), written as YAML to a temporary file and loaded the way the CLI loads it.
import { writeFile } from 'node:fs/promises';
import path from 'node:path';
import { stringify } from 'yaml';
import { lintCluster, lintSubject, type LintFinding } from '../../../src/cluster/lint.ts';
import type { Inventory } from '../../../src/inventory/model.ts';
import { loadInventory } from '../../../src/inventory/load.ts';
import { tempTree } from '../inventory/files.ts';

export const ENV = { HA_AUTH_KEY: 'hb-secret', VRRP_PASS: 'vrrp-pw' };

export type Doc = { all: Record<string, unknown>; cluster: Record<string, unknown> } & Record<string, unknown>;

const hosts = (entries: Record<string, string>) => Object.fromEntries(Object.entries(entries).map(([name, address]) => [name, { address }]));

/** The first tutorial's layout: two directors that are also real servers, two web servers, heartbeat + ldirectord, DR. */
export function heartbeatDoc(): Doc {
  return {
    all: {
      children: {
        directors: { hosts: hosts({ 'lvs-master': '192.168.2.250', 'lvs-backup': '192.168.2.251' }) },
        webservers: { hosts: hosts({ web1: '192.168.2.252', web2: '192.168.2.253' }) },
      },
    },
    cluster: {
      name: 'web',
      manager: 'heartbeat',
      directors: ['lvs-master', 'lvs-backup'],
      network: { interface: 'eth0', prefix: 24, gateway: '192.168.2.1' },
      virtual_services: [
        {
          vip: '192.168.2.254',
          port: 80,
          scheduler: 'lc',
          forwarding: 'dr',
          realservers: [{ host: 'lvs-master' }, { host: 'lvs-backup' }, { host: 'web1' }, { host: 'web2' }],
          check: { checktype: 'negotiate', service: 'http', request: 'lvs_testpage.html', receive: 'Test Page' },
        },
      ],
      heartbeat: {
        ucast: [{ interface: 'eth1', addresses: { 'lvs-master': '192.168.1.250', 'lvs-backup': '192.168.1.251' } }],
        keepalive: 2,
        deadtime: 30,
        warntime: 10,
        initdead: 120,
        authkeys: { method: 'sha1', key: '${HA_AUTH_KEY}' },
      },
      realserver: { services: ['nginx'] },
    },
  };
}

/** keepalived, DR, two directors and two real servers (the fourth tutorial). */
export function keepalivedDoc(): Doc {
  return {
    all: {
      children: {
        directors: { hosts: hosts({ server1: '172.25.33.1', server2: '172.25.33.2' }) },
        webservers: { hosts: hosts({ server3: '172.25.33.3', server4: '172.25.33.4' }) },
      },
    },
    cluster: {
      name: 'lvs',
      manager: 'keepalived',
      directors: ['server1', 'server2'],
      virtual_services: [{ vip: '172.25.33.100', port: 80, scheduler: 'rr', realservers: [{ host: 'server3' }, { host: 'server4' }], check: { type: 'TCP_CHECK' } }],
      keepalived: { virtual_router_id: 51, priority: { server1: 100, server2: 50 }, auth: { type: 'PASS', pass: '${VRRP_PASS}' } },
      realserver: { arp: 'arptables' },
    },
  };
}

/** piranha with NAT: two directors, real servers on the internal network (the fifth tutorial). */
export function piranhaDoc(): Doc {
  return {
    all: {
      children: {
        directors: { hosts: hosts({ 'lvs-primary': '202.39.145.156', 'lvs-backup': '202.39.145.151' }) },
        webservers: { hosts: hosts({ web1: '192.168.10.18', web2: '192.168.10.28' }) },
      },
    },
    cluster: {
      name: 'web',
      manager: 'piranha',
      directors: ['lvs-primary', 'lvs-backup'],
      network: { interface: 'eth0', prefix: 26 },
      nat: { interface: 'eth1', gateway: '192.168.10.1' },
      virtual_services: [{ vip: '202.39.145.146', port: 80, forwarding: 'nat', realservers: [{ host: 'web1' }, { host: 'web2' }] }],
    },
  };
}

/** Plain ipvsadm rules restored at boot on a single director. */
export function noneDoc(): Doc {
  return {
    all: { hosts: hosts({ director: '10.1.0.10', web1: '10.1.0.11', web2: '10.1.0.12' }) },
    cluster: {
      name: 'plain',
      manager: 'none',
      directors: ['director'],
      network: { prefix: 24 },
      virtual_services: [{ vip: '10.1.0.100', port: 80, scheduler: 'wlc', realservers: [{ host: 'web1' }, { host: 'web2' }] }],
    },
  };
}

export const docs = { heartbeat: heartbeatDoc, keepalived: keepalivedDoc, piranha: piranhaDoc, none: noneDoc };

/**
 * YAML for a doc: strings '${NAME}' become `!env NAME` (so secrets are read the way users write
 * them); everything else is written as it is.
 */
export function toYaml(doc: object): string {
  return stringify(doc, { lineWidth: 0 }).replace(/(['"]?)\$\{([A-Z_]+)\}\1/g, '!env $2');
}

/** Writes YAML files into a fresh temporary directory (removed after each test) and loads the inventory. */
export function inventoryLoader(): { load(doc: object | string, env?: NodeJS.ProcessEnv): Promise<Inventory & { text: string }>; write(doc: object | string): Promise<string> } {
  const writeTree = tempTree();
  const write = async (doc: object | string): Promise<string> => {
    const dir = await writeTree({});
    const file = path.join(dir, 'hosts.yaml');
    await writeFile(file, typeof doc === 'string' ? doc : toYaml(doc));
    return file;
  };
  return {
    write,
    async load(doc, env = ENV) {
      const text = typeof doc === 'string' ? doc : toYaml(doc);
      const inventory = await loadInventory(await write(text), { env });
      return Object.assign(inventory, { text });
    },
  };
}

export function lintOf(inventory: Inventory): LintFinding[] {
  const subject = lintSubject(inventory);
  if (subject === undefined) throw new Error('the inventory has no cluster');
  return lintCluster(subject);
}

/** The text of the line a finding points at. */
export function lineAt(text: string, line: number | undefined): string {
  return text.split('\n')[(line ?? 0) - 1] ?? '';
}
