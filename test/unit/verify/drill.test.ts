// drill's pure part: the bounds and failback it reads from a description, the outage it reads from
// the client's stream, and the stream itself, run by /bin/sh against a local HTTP server.
import { execFileSync, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Cluster } from '../../../src/cluster/model.ts';
import { loadInventory } from '../../../src/inventory/load.ts';
import {
  detectionBound,
  drillService,
  failsBack,
  heartbeatOnlyLinks,
  outageOf,
  realServerRemovalBound,
  firstLineOf,
  sampleCollector,
  serversByFirstLine,
  serviceScript,
  settleBound,
  streamScript,
  type Sample,
} from '../../../src/verify/drill.ts';
import { exampleSecrets } from '../../support/example-clusters.ts';
import { repoRoot } from '../../support/project.ts';

const load = async (file: string): Promise<Cluster> => (await loadInventory(path.join(repoRoot, 'inventory', file), { env: exampleSecrets })).cluster!;

describe('drill: the pure part', () => {
  it('reads the bounds and the failback from the description', async () => {
    const lab = await load('lab.yaml');
    // ldirectord: checkinterval 1 + the negotiate check's negotiatetimeout 10; heartbeat deadtime 10,
    // auto_failback on; eth1 is heartbeat's own link.
    expect(realServerRemovalBound(lab, drillService(lab)!)).toBe(11);
    expect(detectionBound(lab)).toBe(10);
    expect(failsBack(lab)).toBe(true);
    expect(heartbeatOnlyLinks(lab)).toEqual(['eth1']);
    // Started: initdead 20 before heartbeat takes the VIP, then ldirectord's first checks (11 s).
    expect(settleBound(lab)).toBe(31);
    // Without negotiatetimeout a negotiate check times out after checktimeout (3 s), as ldirectord
    // reads it; a connect check always does, whatever negotiatetimeout says.
    const service = drillService(lab)!;
    const { negotiatetimeout: _unused, ...withoutNegotiateTimeout } = service.check;
    expect(realServerRemovalBound(lab, { ...service, check: withoutNegotiateTimeout })).toBe(4);
    expect(realServerRemovalBound(lab, { ...service, check: { ...service.check, checktype: 'connect' } })).toBe(4);
    const keepalived = await load('keepalived-dr-arptables.yaml');
    expect(detectionBound(keepalived)).toBe(3 * keepalived.keepalived!.advert_int + 1);
  });

  it('measures an outage from the samples: failed requests and how long answers stopped', () => {
    const samples: Sample[] = [
      { at: 1000, ok: true },
      { at: 1100, ok: true },
      { at: 1200, ok: false },
      { at: 2200, ok: false },
      { at: 3200, ok: true },
      { at: 3300, ok: true },
    ];
    expect(outageOf(samples, 1000, 4000)).toEqual({ requests: 6, failed: 2, durationMs: 3200 - 1100 });
    expect(outageOf(samples, 3200, 4000)).toEqual({ requests: 2, failed: 0, durationMs: 0 });
    const lines: Sample[] = [];
    const collect = sampleCollector(() => 7, lines);
    collect('req 200 web1\nreq 0');
    collect('00 \nnoise\nreq 200 \n');
    expect(lines).toEqual([{ at: 7, ok: true, firstLine: 'web1' }, { at: 7, ok: false }, { at: 7, ok: true }]);
  });

  it('tells the real servers apart by the first line of their index pages, only when those differ', () => {
    expect(serversByFirstLine([{ server: 'web1', page: '\n  web1 \r\nmore' }, { server: 'web2', page: 'web2\n' }])).toEqual(new Map([['web1', 'web1'], ['web2', 'web2']]));
    expect(serversByFirstLine([{ server: 'web1', page: 'Welcome\nweb1' }, { server: 'web2', page: 'Welcome\nweb2' }]).size).toBe(0);
    expect(serversByFirstLine([{ server: 'web1', page: 'web1' }, { server: 'web2', page: undefined }]).size).toBe(0);
    expect(firstLineOf('x'.repeat(200))).toHaveLength(120);
  });

  describe('the client stream', () => {
    let server: Server;
    let up = true;
    beforeAll(async () => {
      server = createServer((_, res) => {
        if (!up) return res.socket?.destroy();
        res.end('web1\n');
      });
      await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    });
    afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

    it("sends a request every 0.1 s until its stdin ends, and prints each one's status", async () => {
      const url = `http://127.0.0.1:${(server.address() as AddressInfo).port}/`;
      const child = spawn('/bin/sh', ['-s'], { stdio: ['pipe', 'pipe', 'inherit'] });
      let out = '';
      child.stdout.on('data', (c: Buffer) => (out += c.toString()));
      child.stdin.write(streamScript(url, 60));
      await new Promise((resolve) => setTimeout(resolve, 1500));
      up = false;
      await new Promise((resolve) => setTimeout(resolve, 1000));
      child.stdin.end();
      const code = await new Promise((resolve) => child.on('close', resolve));
      expect(code).toBe(0);
      const statuses = out.trim().split('\n');
      // Each line: the status, and the first line of the page (what tells the real servers apart).
      expect(statuses.every((l) => /^req (200 web1|000 ?)$/.test(l)), out).toBe(true);
      expect(statuses.filter((l) => l === 'req 200 web1').length).toBeGreaterThanOrEqual(4);
      expect(statuses.at(-1)).toBe('req 000');
    });
  });
});

describe('drill: stopping and starting a real server\'s service', () => {
  /** The script run by /bin/sh with only a `service` that prints its arguments (no systemctl on PATH). */
  const runWithStubService = (script: string): string => {
    const bin = mkdtempSync(path.join(tmpdir(), 'provision-drill-stub-'));
    try {
      writeFileSync(path.join(bin, 'service'), '#!/bin/sh\necho "$@"\n');
      chmodSync(path.join(bin, 'service'), 0o755);
      return execFileSync('/bin/sh', ['-c', script], { env: { PATH: bin }, encoding: 'utf8' }).trim();
    } finally {
      rmSync(bin, { recursive: true, force: true });
    }
  };

  it('uses the init script by its name', () => {
    expect(runWithStubService(serviceScript('nginx', 'stop'))).toBe('nginx stop');
  });

  it("takes Apache, by either name, under the host's own: apache2 on Debian and Ubuntu, httpd on EL", () => {
    const own = existsSync('/etc/debian_version') ? 'apache2' : 'httpd';
    for (const name of ['httpd', 'apache2']) {
      expect(runWithStubService(serviceScript(name, 'stop')), name).toBe(`${own} stop`);
      expect(runWithStubService(serviceScript(name, 'start')), name).toBe(`${own} start`);
    }
  });
});
