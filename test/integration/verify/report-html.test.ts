// The drill's HTML report as a user opens it: written by writeDrillReport, rendered by Debian's
// Chromium (headless, a fresh profile, from a file:// URL). What Chromium parsed (--dump-dom) holds
// the timeline with its lanes and the failover window; its screenshot is a drawn page, not a blank
// one; and the page fetches nothing: a local HTTP server counts what a page asks of it, and the
// report's Content-Security-Policy is shown to block what a page without it would fetch.
import { existsSync } from 'node:fs';
import { mkdtemp, readFile, rm, stat, writeFile } from 'node:fs/promises';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { renderDrillReport, writeDrillReport } from '../../../src/verify/report-html.ts';
import { CHROMIUM, chromium } from '../../support/chromium.ts';
import { fixtureTimeline } from '../../support/drill-timeline.ts';

/** Width and height from a PNG's IHDR chunk. */
function pngSize(png: Buffer): { width: number; height: number } {
  expect(png.subarray(0, 8).equals(Buffer.from([0x89, 0x50, 0x4e, 0x47, 0x0d, 0x0a, 0x1a, 0x0a])), 'PNG signature').toBe(true);
  expect(png.subarray(12, 16).toString('latin1')).toBe('IHDR');
  return { width: png.readUInt32BE(16), height: png.readUInt32BE(20) };
}

// Under CI the test command's pretest has installed it: its absence is a failure there, not a skip.
const skipReason = existsSync(CHROMIUM) || process.env.CI === 'true' ? undefined : `no ${CHROMIUM} (npm test installs Debian's chromium package)`;

describe.skipIf(skipReason !== undefined)(`the drill's HTML report in headless Chromium${skipReason ? ` (skipped: ${skipReason})` : ''}`, () => {
  let dir: string;
  let report: string;
  let server: Server;
  let port: number;
  const hits: string[] = [];

  beforeAll(async () => {
    expect(existsSync(CHROMIUM), `${CHROMIUM} is missing: npm test's pretest installs it`).toBe(true);
    dir = await mkdtemp(path.join(tmpdir(), 'drill-report-chromium-'));
    report = path.join(dir, 'drill.html');
    await writeDrillReport(report, fixtureTimeline());
    server = createServer((request, response) => {
      hits.push(request.url ?? '');
      response.writeHead(200, { 'content-type': 'image/png' }).end();
    });
    await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
    port = (server.address() as AddressInfo).port;
  });
  afterAll(async () => {
    await new Promise((resolve) => server?.close(resolve));
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('shows the summary, the real server and director lanes and the failover window', async () => {
    const dom = await chromium(dir, report, ['--dump-dom']);
    // What Chromium parsed and serialised again: the document and the SVG are elements, not text.
    expect(dom).toContain('<h1>Drill of cluster lab, VIP 10.213.2.254</h1>');
    expect(dom).toContain('2 passed, 1 failed. 120 requests from client1 to http://10.213.2.254/: 102 answered, 18 failed.');
    expect(dom).toMatch(/<svg id="timeline"[^>]*>/);
    for (const lane of ['realserver web1', 'realserver web2', 'director lvs-master', 'director lvs-backup', 'failed', 'faults']) expect(dom).toContain(`data-lane="${lane}"`);
    expect(dom).toMatch(/<rect class="fault-window detection" id="fault-1-detection"[^>]*data-seconds="9.0"[^>]*width="147"/);
    expect(dom).toMatch(/<rect class="fault-window takeover" id="fault-1-takeover"[^>]*data-seconds="25.0"[^>]*width="408.33"/);
    expect(dom).toContain('class="director-state split-brain"');
    expect(dom).toMatch(/<tr class="fault" data-fault="1"><td>1\. manager<\/td><td>lvs-master<\/td><td>heartbeat stopped on lvs-master<\/td><td class="num">9\.0<\/td><td class="num">25\.0<\/td><td class="num">16<\/td><td class="num">18<\/td><td class="num">7\.0<\/td><\/tr>/);
    expect(dom).not.toContain('<script');
  });

  it('draws a page: a 1400 x 1000 screenshot far from a blank one', async () => {
    const shot = path.join(dir, 'drill.png');
    await chromium(dir, report, [`--screenshot=${shot}`, '--window-size=1400,1000']);
    const blankPage = path.join(dir, 'blank.html');
    await writeFile(blankPage, '<!DOCTYPE html><html><head><title>blank</title></head><body></body></html>\n');
    const blankShot = path.join(dir, 'blank.png');
    await chromium(dir, blankPage, [`--screenshot=${blankShot}`, '--window-size=1400,1000']);
    expect(pngSize(await readFile(shot))).toEqual({ width: 1400, height: 1000 });
    expect(pngSize(await readFile(blankShot))).toEqual({ width: 1400, height: 1000 });
    // A one-colour page compresses to a few kB; the report's text, bars and windows do not.
    const [drawn, blank] = [(await stat(shot)).size, (await stat(blankShot)).size];
    expect(drawn).toBeGreaterThan(10 * blank);
    expect(drawn).toBeGreaterThan(50_000);
  });

  it('fetches nothing: the page has no reference, and its policy blocks one injected', async () => {
    const base = `http://127.0.0.1:${port}`;
    // The drill's URL and a hostile detail name the server: as escaped text they fetch nothing.
    const timeline = { ...fixtureTimeline(), url: `${base}/drill-url` };
    timeline.checks = [...timeline.checks, { check: 'hostile', subject: 'x', status: 'fail', detail: `<img src="${base}/escaped-img">`, evidence: [] }];
    const page = path.join(dir, 'served.html');
    await writeDrillReport(page, timeline);
    await chromium(dir, page, ['--dump-dom']);
    // The same page with fetching markup injected past the escaping: the policy refuses it.
    const injected = `<img src="${base}/injected-img"><link rel="stylesheet" href="${base}/injected-css"><iframe src="${base}/injected-frame"></iframe>`;
    const withPolicy = path.join(dir, 'injected.html');
    await writeFile(withPolicy, renderDrillReport(timeline).replace('</body>', `${injected}</body>`));
    await chromium(dir, withPolicy, ['--dump-dom']);
    expect(hits).toEqual([]);
    // Without the policy the same markup is fetched: the server is reachable, so the empty list means something.
    const withoutPolicy = path.join(dir, 'no-policy.html');
    await writeFile(withoutPolicy, renderDrillReport(timeline).replace(/<meta http-equiv="Content-Security-Policy"[^>]*>/, '').replace('</body>', `${injected}</body>`));
    await chromium(dir, withoutPolicy, ['--dump-dom']);
    expect(hits).toContain('/injected-img');
  });
});
