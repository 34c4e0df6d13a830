// The drill's HTML report (src/verify/report-html.ts) as text: one self-contained page that fetches
// nothing, escapes every string of the timeline, and draws the fixture's drill (a manager failover
// with detection 9 s and takeover 25 s, a split brain, failed requests) to scale.
import { mkdtemp, readdir, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { PLOT_LEFT, PLOT_WIDTH, renderDrillReport, writeDrillReport } from '../../../src/verify/report-html.ts';
import type { DrillTimeline } from '../../../src/verify/timeline.ts';
import { FIXTURE_FAILED_IN_WINDOW, FIXTURE_START, fixtureTimeline } from '../../support/drill-timeline.ts';

type Attributes = Record<string, string>;

/** The opening tags of the page, with their attributes (values as written, still escaped). */
function elements(html: string): { tag: string; attrs: Attributes; at: number }[] {
  return [...html.matchAll(/<([a-zA-Z][\w-]*)((?:\s+[\w:-]+(?:="[^"]*")?)*)\s*\/?>/g)].map((m) => ({
    tag: m[1]!,
    attrs: Object.fromEntries([...m[2]!.matchAll(/([\w:-]+)(?:="([^"]*)")?/g)].map((a) => [a[1]!, a[2] ?? ''])),
    at: m.index,
  }));
}
const withClass = (html: string, cls: string) => elements(html).filter((el) => el.attrs.class === cls);
/** The text of a lane's group: from its opening tag to the next lane's. */
function lane(html: string, id: string): string {
  const start = html.indexOf(`data-lane="${id}"`);
  expect(start, `lane ${id}`).toBeGreaterThan(0);
  const next = html.indexOf('data-lane=', start + 1);
  return html.slice(start, next < 0 ? html.indexOf('</svg>', start) : next);
}
const cells = (row: string) => [...row.matchAll(/<td[^>]*>(.*?)<\/td>/gs)].map((m) => m[1]);
/** The timeline figure alone (the legend draws swatches of the same classes). */
const figure = (html: string) => html.slice(html.indexOf('<svg id="timeline"'), html.indexOf('</svg>', html.indexOf('<svg id="timeline"')));

const PX_PER_SECOND = PLOT_WIDTH / 60;
const close = (actual: string | undefined, expected: number) => expect(Number(actual)).toBeCloseTo(expected, 1);

describe('renderDrillReport', () => {
  const html = renderDrillReport(fixtureTimeline());

  it('is one complete document that can fetch nothing', () => {
    expect(html.startsWith('<!DOCTYPE html>')).toBe(true);
    expect(html.trimEnd().endsWith('</html>')).toBe(true);
    expect(html).toContain(`<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">`);
    expect(html).not.toMatch(/<script|<link|<img|<iframe|<object|<embed|@import/i);
    // No attribute that loads anything, and the only url() is the figure's own hatch pattern.
    for (const el of elements(html)) for (const name of ['src', 'href', 'xlink:href', 'action', 'srcset']) expect(el.attrs[name], `${el.tag} ${name}`).toBeUndefined();
    expect([...html.matchAll(/url\(([^)]*)\)/g)].map((m) => m[1])).toEqual(['#hatch']);
    // The only http:// is the drill's own URL, as text (the SVG needs no namespace inside HTML).
    const urls = [...html.matchAll(/https?:\/\/[^\s<"]*/g)].map((m) => m[0]);
    expect(urls).toEqual(['http://10.213.2.254/:']);
    expect(html).toContain('120 requests from client1 to http://10.213.2.254/: 102 answered, 18 failed.');
  });

  it('says which drill it was: cluster, VIP, client, start and duration', () => {
    expect(html).toContain('<title>Drill of lab, VIP 10.213.2.254</title>');
    expect(html).toContain('<h1>Drill of cluster lab, VIP 10.213.2.254</h1>');
    expect(html).toContain('client client1 · started 2026-12-04 12:00:00 UTC · duration 60.0 s');
  });

  it('lists the checks with their verdict and detail', () => {
    expect(html).toContain('2 passed, 1 failed.');
    const rows = [...html.matchAll(/<tr class="check" data-status="(\w+)">(.*?)<\/tr>/gs)];
    expect(rows.map((r) => [r[1], ...cells(r[2]!).slice(0, 3)])).toEqual([
      ['pass', 'drill failover (manager stops)', 'lvs-master', 'PASS'],
      ['fail', 'drill failback', 'lvs-master', 'FAIL'],
      ['pass', 'drill restored', 'lab', 'PASS'],
    ]);
    expect(rows[0]![2]).toContain('lvs-backup held the VIP after 9.0 s');
    expect(rows[0]![2]).toContain('<summary>evidence (1)</summary><div>lvs-backup: <code>ipvsadm -Sn</code>');
  });

  it('has a lane per real server, director, failed and unknown answers, and one for the faults', () => {
    const lanes = elements(html).filter((el) => el.attrs['data-lane'] !== undefined).map((el) => el.attrs['data-lane']);
    expect(lanes).toEqual(['faults', 'director lvs-master', 'director lvs-backup', 'realserver web1', 'realserver web2', 'unknown server', 'failed']);
    // Answers per 1 s bucket: every answer is in its server's bars.
    const answered = (id: string) => withClass(lane(html, id), 'answers').reduce((sum, el) => sum + Number(el.attrs['data-count']), 0);
    expect(answered('realserver web1')).toBe(fixtureTimeline().requests.filter((r) => r.server === 'web1').length);
    expect(answered('realserver web2')).toBe(fixtureTimeline().requests.filter((r) => r.server === 'web2').length);
    expect(withClass(lane(html, 'unknown server'), 'answers unknown')).toHaveLength(1);
    // No answer from 11 s to 18.5 s: no bar in those buckets.
    const seconds = withClass(lane(html, 'realserver web1'), 'answers').map((el) => Number(el.attrs['data-second']));
    expect(seconds.filter((s) => s >= 11 && s <= 18)).toEqual([]);
    const failed = withClass(lane(html, 'failed'), 'failed-request');
    expect(failed).toHaveLength(18);
    close(failed[0]!.attrs.x1, PLOT_LEFT + 11 * PX_PER_SECOND);
  });

  it('draws who held the VIP as a step function: split brain and unreachable apart', () => {
    const master = lane(html, 'director lvs-master');
    const backup = lane(html, 'director lvs-backup');
    // Whole pixels: [x, width] of each interval.
    const box = (el: { attrs: Attributes }) => [Number(el.attrs.x), Number(el.attrs.width)].map(Math.round);
    const at = (s: number) => PLOT_LEFT + s * PX_PER_SECOND;
    expect(withClass(master, 'director-state holds').map(box)).toEqual([[at(0), 11 * PX_PER_SECOND].map(Math.round), [at(53), 7 * PX_PER_SECOND].map(Math.round)]);
    expect(withClass(master, 'director-state unreachable').map(box)).toEqual([[at(30), 4 * PX_PER_SECOND].map(Math.round)]);
    expect(withClass(backup, 'director-state holds').map(box)).toEqual([[at(19), 31 * PX_PER_SECOND].map(Math.round)]);
    for (const l of [master, backup]) expect(withClass(l, 'director-state split-brain').map(box)).toEqual([[at(50), 3 * PX_PER_SECOND].map(Math.round)]);
    expect(html).toContain('Split brain, two directors held the VIP at once: 50.0–53.0 s (lvs-backup, lvs-master).');
    // Readings in a row that all see two holders (in either order) are one split brain.
    const fixture = fixtureTimeline();
    const twice = renderDrillReport({
      ...fixture,
      directorReadings: [...fixture.directorReadings.slice(0, -1), { at: FIXTURE_START + 51_000, holders: ['lvs-backup', 'lvs-master'], unreachable: [] }, fixture.directorReadings.at(-1)!],
    });
    expect(twice).toContain('Split brain, two directors held the VIP at once: 50.0–53.0 s (lvs-backup, lvs-master).');
  });

  it('draws the failover window to scale: detection and takeover, each labelled and with a tooltip', () => {
    const [detection, ...moreDetections] = withClass(figure(html), 'fault-window detection');
    const [takeover, ...moreTakeovers] = withClass(figure(html), 'fault-window takeover');
    expect([moreDetections, moreTakeovers]).toEqual([[], []]);
    expect(detection!.attrs.id).toBe('fault-1-detection');
    expect(takeover!.attrs.id).toBe('fault-1-takeover');
    close(detection!.attrs.x, PLOT_LEFT + 10 * PX_PER_SECOND);
    close(detection!.attrs.width, 9 * PX_PER_SECOND); // 147 px
    close(takeover!.attrs.x, PLOT_LEFT + 19 * PX_PER_SECOND);
    close(takeover!.attrs.width, 25 * PX_PER_SECOND); // 408.33 px
    expect(Number(takeover!.attrs.width) / Number(detection!.attrs.width)).toBeCloseTo(25 / 9, 2);
    expect(detection!.attrs['data-seconds']).toBe('9.0');
    expect(takeover!.attrs['data-seconds']).toBe('25.0');
    expect(html).toMatch(/<rect class="fault-window detection"[^>]*><title>fault 1, manager \(lvs-master\): manager: detection 9\.0 s<\/title><\/rect>/);
    expect(html).toMatch(/<rect class="fault-window takeover"[^>]*><title>fault 1, manager \(lvs-master\): takeover 25\.0 s<\/title><\/rect>/);
    expect(html).toContain('>manager: detection 9.0 s</text>');
    expect(html).toContain('>takeover 25.0 s</text>');
    // The undo and the settled moment are marked across the lanes.
    close(withClass(figure(html), 'fault-mark undone')[0]!.attrs.x1, PLOT_LEFT + 48 * PX_PER_SECOND);
    close(withClass(figure(html), 'fault-mark settled')[0]!.attrs.x1, PLOT_LEFT + 55 * PX_PER_SECOND);
  });

  it('labels a shared time axis in seconds from the start', () => {
    expect(elements(html).filter((el) => el.attrs.class === 'tick').map((el) => el.attrs['data-second'])).toEqual(['0', '5', '10', '15', '20', '25', '30', '35', '40', '45', '50', '55', '60']);
    expect(html).toContain('>60 s</text>');
    expect(html).toContain('id="legend"');
  });

  it('gives the figures per fault as a table', () => {
    const row = html.match(/<tr class="fault" data-fault="1">(.*?)<\/tr>/)![1]!;
    expect(cells(row)).toEqual(['1. manager', 'lvs-master', 'heartbeat stopped on lvs-master', '9.0', '25.0', String(FIXTURE_FAILED_IN_WINDOW), '18', '7.0']);
    // 18 in all: the failover's 16 and the 2 of the split brain during the failback, before the end.
  });

  it('escapes every string of the timeline', () => {
    const hostile: DrillTimeline = {
      ...fixtureTimeline(),
      cluster: 'lab</title><script>alert(1)</script>',
      url: 'http://10.213.2.254/"><script src="https://evil.example/x.js"></script>',
      client: "client'1",
      directors: ['lvs-<b>master</b>', 'lvs-backup'],
      realServers: ['<script>alert("web")</script>', 'web2'],
      requests: [{ at: FIXTURE_START + 1000, ok: true, server: '<script>alert("web")</script>' }],
      directorReadings: [{ at: FIXTURE_START, holders: ['lvs-<b>master</b>'], unreachable: [] }],
      faults: [{ name: 'manager<i>', subject: 'lvs-<b>master</b>', what: '"quoted" & <tag>', sentAt: FIXTURE_START + 10_000, detectedAt: FIXTURE_START + 19_000 }],
      checks: [{ check: 'c<script>', subject: 's&', status: 'fail', detail: '<img src=x onerror=alert(1)>', evidence: [{ host: 'h<', command: 'echo </code>', output: '</pre><script>alert(2)</script>' }] }],
    };
    const page = renderDrillReport(hostile);
    expect(page).not.toMatch(/<(script|img|b|i|tag)[\s>]/i);
    for (const el of elements(page)) for (const name of ['src', 'href', 'onerror']) expect(el.attrs[name]).toBeUndefined();
    expect(page).toContain('Drill of cluster lab&lt;/title&gt;&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(page).toContain('data-lane="realserver &lt;script&gt;alert(&quot;web&quot;)&lt;/script&gt;"');
    expect(page).toContain('data-lane="director lvs-&lt;b&gt;master&lt;/b&gt;"');
    expect(page).toContain('client client&#39;1');
    expect(page).toContain('&lt;img src=x onerror=alert(1)&gt;');
    expect(page).toContain('&quot;quoted&quot; &amp; &lt;tag&gt;');
    expect(page).toContain('<pre>&lt;/pre&gt;&lt;script&gt;alert(2)&lt;/script&gt;</pre>');
    expect(page).toContain('to http://10.213.2.254/&quot;&gt;&lt;script src=&quot;https://evil.example/x.js&quot;&gt;&lt;/script&gt;:');
  });
});

describe('renderDrillReport, edge cases', () => {
  const base = fixtureTimeline();

  it('without a client: no requests, and says so', () => {
    const page = renderDrillReport({ ...base, client: undefined, requests: [] });
    expect(page).toContain('No client in the inventory: no requests were sent through the VIP.');
    expect(page).toContain('no client: no requests were sent through the VIP');
    expect(page).toContain('client <span class="note">none</span>');
    expect(page).not.toContain('data-lane="failed"');
    expect(page).not.toContain('data-lane="realserver');
    expect(cells(page.match(/<tr class="fault" data-fault="1">(.*?)<\/tr>/)![1]!)[5]).toBe('no client');
  });

  it('without faults', () => {
    const page = renderDrillReport({ ...base, faults: [] });
    expect(page).toContain('no faults were caused');
    expect(page).toContain('>no faults</text>');
    expect(figure(page)).not.toMatch(/class="fault-(window|band|mark) /);
  });

  it('a fault not detected, and one detected without a takeover', () => {
    const page = renderDrillReport({
      ...base,
      faults: [
        { name: 'realserver', subject: 'web1', what: 'nginx stopped on web1', sentAt: base.startedAt + 5000, undoneAt: base.startedAt + 20_000 },
        { name: 'manager', subject: 'lvs-master', what: 'heartbeat stopped', sentAt: base.startedAt + 30_000, detectedAt: base.startedAt + 39_000 },
      ],
    });
    const rows = [...page.matchAll(/<tr class="fault" data-fault="\d">(.*?)<\/tr>/g)].map((m) => cells(m[1]!));
    // Failed requests counted up to the undo (not detected), or to the end (no takeover, never undone).
    // In all: every failure until the next fault is sent (or the end).
    expect(rows[0]!.slice(3)).toEqual(['not detected', '—', '16', '16', 'not settled']);
    expect(rows[1]!.slice(3)).toEqual(['9.0', 'no takeover', '2', '2', 'not undone']);
    const [undetected] = withClass(figure(page), 'fault-window undetected');
    close(undetected!.attrs.width, 15 * PX_PER_SECOND);
    expect(page).toContain('>realserver: not detected</text>');
    expect(page).toContain('>no takeover</text>');
    expect(withClass(figure(page), 'fault-window takeover')).toEqual([]);
  });

  it('a zero-length timeline', () => {
    const page = renderDrillReport({ ...base, endedAt: base.startedAt, requests: [], directorReadings: [], faults: [], checks: [] });
    expect(page).not.toMatch(/NaN|Infinity/);
    expect(page).toContain('duration 0.0 s');
    expect(page).toContain('no requests recorded from client1');
    expect(page).toContain('no checks were reported');
    expect(page).toContain('>no readings</text>');
    expect(elements(page).filter((el) => el.attrs.class === 'tick').map((el) => el.attrs['data-second'])).toEqual(['0', '1']);
  });
});

describe('writeDrillReport', () => {
  let dir: string | undefined;
  afterEach(async () => {
    if (dir) await rm(dir, { recursive: true, force: true });
  });

  it('writes the page atomically, leaving no temporary file', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'drill-report-'));
    const file = path.join(dir, 'drill.html');
    await writeDrillReport(file, fixtureTimeline());
    expect(await readFile(file, 'utf8')).toBe(renderDrillReport(fixtureTimeline()));
    await writeDrillReport(file, { ...fixtureTimeline(), cluster: 'second' });
    expect(await readFile(file, 'utf8')).toContain('Drill of cluster second');
    expect(await readdir(dir)).toEqual(['drill.html']);
  });

  it('fails where the directory does not exist', async () => {
    dir = await mkdtemp(path.join(tmpdir(), 'drill-report-'));
    await expect(writeDrillReport(path.join(dir, 'missing', 'drill.html'), fixtureTimeline())).rejects.toThrow(/ENOENT/);
    expect(await readdir(dir)).toEqual([]);
  });
});
