// A source build on the lab network: ipvsadm 1.31 from Debian's own source archive (fetched once
// from the machine's Debian mirror, pinned by SHA-256), served by this test over HTTP on the lab
// bridge, built by the source-builds role on a VM director, then used by the director role
// (manager none: the tutorials' lvs script) to program IPVS in the VM's kernel. A tampered archive
// is refused and nothing is installed; a second run builds nothing.
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
import { LAB_ADDRESSES, recapRows, sitePlaybook } from './support.ts';

const execFileAsync = promisify(execFile);

const ARCHIVE = 'ipvsadm_1.31.orig.tar.gz';
/** The SHA-256 of Debian's ipvsadm 1.31 source archive (bookworm's ipvsadm 1:1.31-1). */
const ARCHIVE_SHA256 = '7276bcf214f31051188b2e44f11029e57303f37e54126e517000c1b2123a6d4e';
const BRIDGE_ADDRESS = LAB_ADDRESSES.bridge;
const SERVER_PORT = 8214;
const builder = LAB_ADDRESSES.master;
const RUN_TIMEOUT_MS = 900_000;

/**
 * Debian's ipvsadm source archive, downloaded once into the lab cache from the mirror this
 * machine's apt uses (the source archive sits beside the binary package in the pool).
 */
async function debianIpvsadmSource(): Promise<Buffer> {
  const file = path.join(labPaths().cache, 'sources', ARCHIVE);
  if (!existsSync(file)) {
    const { stdout } = await execFileAsync('apt-get', ['download', '--print-uris', '-q', 'ipvsadm'], { timeout: 30_000 });
    const binary = /^'([^']+\/pool\/main\/i\/ipvsadm\/)[^']+'/m.exec(stdout)?.[1];
    if (binary === undefined) throw new Error(`apt-get download --print-uris ipvsadm printed no pool URL: ${stdout}`);
    const response = await fetch(`${binary}${ARCHIVE}`, { signal: AbortSignal.timeout(60_000) });
    if (!response.ok) throw new Error(`${binary}${ARCHIVE}: HTTP ${response.status}`);
    await mkdir(path.dirname(file), { recursive: true });
    await writeFile(`${file}.part`, Buffer.from(await response.arrayBuffer()));
    await rename(`${file}.part`, file);
  }
  const archive = await readFile(file);
  expect(createHash('sha256').update(archive).digest('hex')).toBe(ARCHIVE_SHA256);
  return archive;
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
    ipvsadm: { from: source, version: "1.31", url: "http://${BRIDGE_ADDRESS}:${SERVER_PORT}/${ARCHIVE}", sha256: ${ARCHIVE_SHA256} }
  realserver: { arp: sysctl }
  firewall: { manage: false }
`;
}

describe.skipIf(skipReason)('a source build on the lab network (ipvsadm 1.31 from Debian’s source archive)', () => {
  let project: Project;
  let server: Server | undefined;
  let served: Buffer;
  const requests: string[] = [];
  const provision = () => runCli(project, ['--inventory', 'inventory.yaml', sitePlaybook]);

  beforeAll(async () => {
    assertNoLabRunning();
    const archive = await debianIpvsadmSource();
    served = archive;
    project = await makeProject({ 'inventory.yaml': inventory() });
    await labUp({ inventoryFile: path.join(project.dir, 'inventory.yaml') });
    // The lab's VM image has Debian's ipvsadm (for the lab's own checks); this director has none.
    await sshOk(builder, 'dpkg --purge ipvsadm >/dev/null && ! test -e /sbin/ipvsadm', 120_000);
    // The archive, on the lab bridge only: lab hosts reach this machine there and nowhere else.
    server = createServer((request, response) => {
      requests.push(request.url ?? '');
      if (request.url !== `/${ARCHIVE}`) return void response.writeHead(404).end();
      response.writeHead(200, { 'content-length': served.length }).end(served);
    });
    await new Promise<void>((resolve, reject) => server!.once('error', reject).listen(SERVER_PORT, BRIDGE_ADDRESS, resolve));
  }, FIRST_BUILD_TIMEOUT_MS);

  afterAll(async () => {
    await new Promise((resolve) => (server ? server.close(resolve) : resolve(undefined)));
    await labDown();
    await project?.remove();
  }, 120_000);

  it('refuses an archive that is not the pinned one, and installs nothing', async () => {
    const genuine = served;
    // The same archive with one byte changed, as from a tampered mirror.
    served = Buffer.from(genuine);
    served[served.length - 100] = served[served.length - 100]! ^ 0xff;
    try {
      const result = await provision();
      expect(result.exitCode).toBe(2);
      expect(recapRows(result)).toContainEqual(expect.objectContaining({ host: 'builder', failed: 1 }));
      expect(result.stdout).toMatch(/sha-?256/i);
      expect(result.stdout).toContain(ARCHIVE_SHA256);
    } finally {
      served = genuine;
    }
    expect(requests).toContain(`/${ARCHIVE}`);
    expect((await ssh(builder, 'test -e /sbin/ipvsadm')).code).toBe(1);
    // Nothing was unpacked or left behind.
    expect((await sshOk(builder, 'ls /var/tmp')).trim()).toBe('');
  }, RUN_TIMEOUT_MS);

  it('builds ipvsadm on the VM director, whose lvs script then programs IPVS with it', async () => {
    const result = await provision();
    for (const row of recapRows(result)) expect(row, result.stdout.slice(-3000)).toMatchObject({ failed: 0, unreachable: 0 });
    expect(await sshOk(builder, '/sbin/ipvsadm --version')).toMatch(/^ipvsadm v1\.31 /);
    // The build, not Debian's package.
    expect((await ssh(builder, 'dpkg-query -W ipvsadm')).code).not.toBe(0);
    expect((await sshOk(builder, '/sbin/ipvsadm -Sn')).trim().split('\n')).toEqual(['-A -t 10.213.2.254:80 -s wrr', '-a -t 10.213.2.254:80 -r 10.213.2.252:80 -g -w 3']);
  }, RUN_TIMEOUT_MS);

  it('builds nothing and changes nothing on a second run', async () => {
    const before = requests.length;
    const result = await provision();
    for (const row of recapRows(result)) expect(row, result.stdout.slice(-3000)).toMatchObject({ changed: 0, failed: 0 });
    expect(requests.length).toBe(before);
  }, RUN_TIMEOUT_MS);
});
