// Source builds on the lab network, from the upstream tarballs Debian's source archive serves
// (fetched once from the machine's Debian mirror, pinned by SHA-256), served by this test over HTTP
// on the lab bridge and built by the source-builds role, in one lab:
// - ipvsadm 1.31 on a VM director, then used by the director role (manager none: the tutorials'
//   lvs script) to program IPVS in the VM's kernel;
// - cluster-glue 1.0.12 on a namespace host (native speed: under TCG the build would take far too
//   long), the director of a heartbeat cluster of its own, with the haclient group and hacluster
//   user the tutorial creates before building glue. Only the source-builds role runs there: the
//   heartbeat role would install Debian's heartbeat, whose package brings Debian's cluster-glue.
// A tampered archive is refused and nothing is installed; a second run builds nothing.
import { execFile } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync } from 'node:fs';
import { mkdir, readFile, rename, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import path from 'node:path';
import { promisify } from 'node:util';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { labDown, labUp } from '../../../src/lab/lab.ts';
import { labPaths } from '../../../src/lab/paths.ts';
import { makeProject, runCli, type Project } from '../../support/project.ts';
import { assertNoLabRunning, FIRST_BUILD_TIMEOUT_MS, skipReason, ssh, sshOk } from '../lab/support.ts';
import { expectEveryHost, LAB_ADDRESSES, recapRows, sitePlaybook } from './support.ts';

const execFileAsync = promisify(execFile);

interface DebianSource {
  /** the binary package whose pool directory holds the source archive */
  package: string;
  archive: string;
  sha256: string;
}

/** Debian's ipvsadm 1.31 source archive (bookworm's ipvsadm 1:1.31-1). */
const IPVSADM: DebianSource = { package: 'ipvsadm', archive: 'ipvsadm_1.31.orig.tar.gz', sha256: '7276bcf214f31051188b2e44f11029e57303f37e54126e517000c1b2123a6d4e' };
/** Debian's cluster-glue 1.0.12 upstream tarball (bookworm's cluster-glue 1.0.12-21; the SHA-256 its .dsc lists). */
const GLUE: DebianSource = { package: 'cluster-glue', archive: 'cluster-glue_1.0.12.orig.tar.bz2', sha256: '23dc0854e6adaf61ba18930018a769a38530543683a39960f245e9ee6f13b4e5' };
const BRIDGE_ADDRESS = LAB_ADDRESSES.bridge;
const SERVER_PORT = 8214;
const builder = LAB_ADDRESSES.master;
const glueHost = LAB_ADDRESSES.web1;
const RUN_TIMEOUT_MS = 900_000;
/** heartbeat's authkeys secret of the glue cluster (lint wants it from the environment); no heartbeat runs with it. */
const GLUE_ENV = { GLUE_AUTH_KEY: 'glue-lab-key-3c9e1d' };

/**
 * A Debian source archive, downloaded once into the lab cache from the mirror this machine's apt
 * uses (the source archive sits beside the binary package in the pool).
 */
async function debianSource(source: DebianSource): Promise<Buffer> {
  const file = path.join(labPaths().cache, 'sources', source.archive);
  if (!existsSync(file)) {
    const { stdout } = await execFileAsync('apt-get', ['download', '--print-uris', '-q', source.package], { timeout: 30_000 });
    const pool = new RegExp(`^'([^']+/pool/main/[^/]+/${source.package}/)[^']+'`, 'm').exec(stdout)?.[1];
    if (pool === undefined) throw new Error(`apt-get download --print-uris ${source.package} printed no pool URL: ${stdout}`);
    const response = await fetch(`${pool}${source.archive}`, { signal: AbortSignal.timeout(60_000) });
    if (!response.ok) throw new Error(`${pool}${source.archive}: HTTP ${response.status}`);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(`${file}.part`, Buffer.from(await response.arrayBuffer()));
    await rename(`${file}.part`, file);
  }
  const archive = await readFile(file);
  expect(createHash('sha256').update(archive).digest('hex'), source.archive).toBe(source.sha256);
  return archive;
}

/** Where the lab hosts download `source` from: this test's server on the lab bridge. */
const servedUrl = (source: DebianSource) => `http://${BRIDGE_ADDRESS}:${SERVER_PORT}/${source.archive}`;

/** The same archive with one byte changed, as from a tampered mirror. */
function tampered(archive: Buffer): Buffer {
  const copy = Buffer.from(archive);
  copy[copy.length - 100] = copy[copy.length - 100]! ^ 0xff;
  return copy;
}

function inventory(): string {
  return `all:
  # The lab's Debian minbase hosts have no ifupdown: the real server keeps its VIP with an init script.
  vars: { boot_method: init-script }
  hosts:
    builder: { address: ${builder}, lab: { kind: vm } }
    web: { address: ${LAB_ADDRESSES.web1}, lab: { kind: namespace } }

cluster:
  name: built
  manager: none
  directors: [builder]
  network: { interface: eth0, prefix: 24 }
  virtual_services:
    - { vip: ${LAB_ADDRESSES.vip}, port: 80, scheduler: wrr, forwarding: dr, realservers: [{ host: web, weight: 3 }] }
  install:
    ipvsadm: { from: source, version: "1.31", url: "${servedUrl(IPVSADM)}", sha256: ${IPVSADM.sha256} }
  realserver: { arp: sysctl }
  firewall: { manage: false }
`;
}

/**
 * The namespace host of the ipvsadm cluster as the single director of a heartbeat cluster that
 * builds cluster-glue from source (the role builds the heartbeat stack on a heartbeat cluster's
 * directors only). Lint warns that one director has nothing to fail over to: no heartbeat runs.
 */
function glueInventory(): string {
  return `all:
  hosts:
    web: { address: ${glueHost}, lab: { kind: namespace } }

cluster:
  name: glue
  manager: heartbeat
  directors: [web]
  network: { interface: eth0, prefix: 24 }
  virtual_services:
    - { vip: ${LAB_ADDRESSES.vip}, port: 80, scheduler: wrr, forwarding: dr, realservers: [{ host: web }] }
  heartbeat: { ucast: [{ interface: eth0 }], authkeys: { method: sha1, key: !env GLUE_AUTH_KEY } }
  install:
    cluster_glue: { from: source, version: "1.0.12", url: "${servedUrl(GLUE)}", sha256: ${GLUE.sha256} }
  firewall: { manage: false }
`;
}

/** The site playbook's source-builds play alone (see the top of this file for why). */
const GLUE_PLAYBOOK = `- name: Software built from source
  hosts: all
  roles: [source-builds]
`;

describe.skipIf(skipReason)('source builds on the lab network (ipvsadm 1.31 and cluster-glue 1.0.12 from Debian’s source archive)', () => {
  let project: Project;
  let server: Server | undefined;
  /** what the server answers for each archive's path */
  const served = new Map<string, Buffer>();
  const requests: string[] = [];
  const provision = () => runCli(project, ['--inventory', 'inventory.yaml', sitePlaybook]);
  const provisionGlue = () => runCli(project, ['--inventory', 'glue.yaml', 'glue.yml'], { env: GLUE_ENV });

  beforeAll(async () => {
    assertNoLabRunning();
    for (const source of [IPVSADM, GLUE]) served.set(`/${source.archive}`, await debianSource(source));
    project = await makeProject({ 'inventory.yaml': inventory(), 'glue.yaml': glueInventory(), 'glue.yml': GLUE_PLAYBOOK });
    await labUp({ inventoryFile: path.join(project.dir, 'inventory.yaml') });
    // The lab's VM image has Debian's ipvsadm (for the lab's own checks); this director has none.
    await sshOk(builder, 'dpkg --purge ipvsadm >/dev/null && ! test -e /sbin/ipvsadm', 120_000);
    // The archives, on the lab bridge only: lab hosts reach this machine there and nowhere else.
    server = createServer((request, response) => {
      requests.push(request.url ?? '');
      const archive = served.get(request.url ?? '');
      if (archive === undefined) return void response.writeHead(404).end();
      response.writeHead(200, { 'content-length': archive.length }).end(archive);
    });
    await new Promise<void>((resolve, reject) => server!.once('error', reject).listen(SERVER_PORT, BRIDGE_ADDRESS, resolve));
  }, FIRST_BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await labDown();
    await project?.remove();
  }, 120_000);

  it('refuses archives that are not the pinned ones, and installs nothing', async () => {
    const genuine = new Map(served);
    for (const [url, archive] of genuine) served.set(url, tampered(archive));
    try {
      // Each host installs its build tools first (the glue host's also gets the haclient/hacluster
      // account), then refuses the download.
      const cases = [
        { run: provision, host: 'builder', source: IPVSADM },
        { run: provisionGlue, host: 'web', source: GLUE },
      ];
      for (const { run, host, source } of cases) {
        const result = await run();
        expect(result.exitCode, result.stdout.slice(-3000)).toBe(2);
        expect(recapRows(result)).toContainEqual(expect.objectContaining({ host, failed: 1 }));
        expect(result.stdout).toMatch(/sha-?256/i);
        expect(result.stdout).toContain(source.sha256);
        expect(requests).toContain(`/${source.archive}`);
      }
    } finally {
      for (const [url, archive] of genuine) served.set(url, archive);
    }
    expect((await ssh(builder, 'test -e /sbin/ipvsadm')).code).toBe(1);
    expect((await ssh(glueHost, 'test -e /usr/sbin/lrmadmin')).code).toBe(1);
    // Nothing was unpacked or left behind.
    for (const host of [builder, glueHost]) expect((await sshOk(host, 'ls /var/tmp')).trim(), host).toBe('');
  }, RUN_TIMEOUT_MS);

  it('builds ipvsadm on the VM director, whose lvs script then programs IPVS with it', async () => {
    const result = await provision();
    expectEveryHost(result, { failed: 0, unreachable: 0 });
    expect(await sshOk(builder, '/sbin/ipvsadm --version')).toMatch(/^ipvsadm v1\.31 /);
    // The build, not Debian's package.
    expect((await ssh(builder, 'dpkg-query -W ipvsadm')).code).not.toBe(0);
    expect((await sshOk(builder, '/sbin/ipvsadm -Sn')).trim().split('\n')).toEqual(['-A -t 10.213.2.254:80 -s wrr', '-a -t 10.213.2.254:80 -r 10.213.2.252:80 -g -w 3']);
  }, RUN_TIMEOUT_MS);

  it('builds cluster-glue on a namespace host, as the tutorial’s haclient group and hacluster user', async () => {
    const result = await provisionGlue();
    expectEveryHost(result, { failed: 0, unreachable: 0 });
    // The tutorial: groupadd haclient; useradd -g haclient hacluster.
    expect((await sshOk(glueHost, 'getent group haclient')).trim()).toMatch(/^haclient:/);
    expect((await sshOk(glueHost, 'id -gn hacluster')).trim()).toBe('haclient');
    // configure took the account: make install gives hacluster its core directory.
    expect((await sshOk(glueHost, 'stat -c %U /var/lib/heartbeat/cores/hacluster')).trim()).toBe('hacluster');
    // The build, not Debian's package.
    expect((await ssh(glueHost, 'dpkg-query -W cluster-glue')).code).not.toBe(0);
    expect((await ssh(glueHost, 'test -x /usr/sbin/lrmadmin')).code).toBe(0);
    // The glue's programs find their libraries (liblrm, libplumb, libpils, built here) ...
    const ldd = await sshOk(glueHost, 'ldd /usr/sbin/lrmadmin /usr/sbin/stonith /usr/lib/heartbeat/lrmd');
    expect(ldd).toContain('liblrm.so.2 => ');
    expect(ldd).not.toContain('not found');
    // ... and the plugin loader works: stonith loads its null plugin and asks it for its parameters.
    expect((await sshOk(glueHost, 'stonith -t null -n')).trim()).toBe('hostlist');
    // The man pages were made too (hb_report's with asciidoc's a2x).
    expect((await ssh(glueHost, 'test -s /usr/share/man/man8/hb_report.8')).code).toBe(0);
  }, RUN_TIMEOUT_MS);

  it('builds nothing and changes nothing on a second run', async () => {
    const before = requests.length;
    for (const result of [await provision(), await provisionGlue()]) {
      expectEveryHost(result, { changed: 0, failed: 0 });
    }
    expect(requests.length).toBe(before);
  }, RUN_TIMEOUT_MS);
});
