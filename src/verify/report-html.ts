// The drill's report as one self-contained HTML page (`provision drill --html FILE`): inline CSS and
// inline SVG, no script, and a Content-Security-Policy that forbids every fetch, so it opens offline
// and shows the same thing anywhere. A summary of the checks, then one figure on a shared time axis
// (seconds from the drill's start): the requests each real server answered (per time bucket), the
// failed requests, which director held the VIP (a split brain and unreachable directors drawn
// apart), each fault's detection and takeover windows, its undo and the moment the cluster settled;
// then the same figures per fault as a table. Every string of the timeline is escaped.
import { randomBytes } from 'node:crypto';
import { rename, unlink, writeFile } from 'node:fs/promises';
import path from 'node:path';
import type { DrillTimeline, TimelineFault } from './timeline.ts';

/** The figure's geometry: the plot starts at PLOT_LEFT and is PLOT_WIDTH pixels wide. */
export const PLOT_LEFT = 190;
export const PLOT_WIDTH = 980;
const SVG_WIDTH = PLOT_LEFT + PLOT_WIDTH + 30;
const LANE_HEIGHT = 26;
const FAULT_LANE_HEIGHT = 50;
const LANE_GAP = 6;
const AXIS_HEIGHT = 40;

const CSS = `
body { font: 14px/1.4 system-ui, sans-serif; margin: 24px; color: #222; background: #fff; }
h1 { font-size: 22px; margin: 0 0 4px; } h2 { font-size: 17px; margin: 24px 0 8px; }
.meta { color: #555; margin: 0 0 16px; }
table { border-collapse: collapse; margin: 4px 0; }
th, td { border: 1px solid #ccc; padding: 3px 8px; text-align: left; vertical-align: top; }
th { background: #f3f3f3; } td.num { text-align: right; font-variant-numeric: tabular-nums; }
.pass { color: #176b2c; font-weight: 600; } .fail { color: #b3161b; font-weight: 600; }
pre { margin: 4px 0; white-space: pre-wrap; font-size: 12px; background: #f7f7f7; padding: 4px; }
.note { color: #555; font-style: italic; }
svg text { font: 12px system-ui, sans-serif; fill: #222; }
svg .tick text { fill: #555; } svg .grid { stroke: #e4e4e4; } svg .lane-bg { fill: #000; fill-opacity: 0.03; }
.answers { fill: #3b7dd8; } .answers.unknown { fill: #8a8a8a; }
.failed-request { stroke: #d01c1c; stroke-width: 2; }
.director-state.holds { fill: #2e9d4a; } .director-state.split-brain { fill: #f08c00; stroke: #b3161b; stroke-width: 2; }
.director-state.unreachable { fill: url(#hatch); stroke: #888; }
.fault-window.detection { fill: #f2c84b; } .fault-window.takeover { fill: #9b6bd6; }
.fault-window.undetected { fill: #e7a3a3; }
.fault-band.detection { fill: #f2c84b; opacity: 0.18; } .fault-band.takeover { fill: #9b6bd6; opacity: 0.15; }
.fault-mark { stroke-width: 2; stroke-dasharray: 5 3; } .fault-mark.sent { stroke: #b3161b; }
.fault-mark.undone { stroke: #1f5fbf; } .fault-mark.settled { stroke: #176b2c; }
.legend { display: flex; flex-wrap: wrap; gap: 6px 18px; margin: 8px 0; padding: 0; list-style: none; }
.legend li { display: flex; align-items: center; gap: 6px; }
`;

/** Escapes text for HTML content and attribute values. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ({ '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' })[c]!);
}
const e = escapeHtml;
/** A pixel figure, at most two decimals. */
const px = (n: number): string => String(Math.round(n * 100) / 100);
const secs = (ms: number): string => (ms / 1000).toFixed(1);

/** The drill's time scale: seconds shown (at least one), pixels per second, x of a moment. */
export function timeScale(timeline: DrillTimeline): { seconds: number; pxPerSecond: number; x: (at: number) => number } {
  const seconds = Math.max(1, (timeline.endedAt - timeline.startedAt) / 1000);
  const pxPerSecond = PLOT_WIDTH / seconds;
  const x = (at: number) => PLOT_LEFT + Math.min(Math.max((at - timeline.startedAt) / 1000, 0), seconds) * pxPerSecond;
  return { seconds, pxPerSecond, x };
}

/** When the fault after this one was sent, or the end of the drill. */
function nextFaultAt(fault: TimelineFault, timeline: DrillTimeline): number {
  return Math.min(timeline.endedAt + 1, ...timeline.faults.filter((f) => f.sentAt > fault.sentAt).map((f) => f.sentAt));
}

/** Where a fault's failover window ends for counting failed requests: takeover, else undo, else the end. */
function faultWindowEnd(fault: TimelineFault, timeline: DrillTimeline): number {
  return fault.tookOverAt ?? fault.undoneAt ?? timeline.endedAt;
}

/** A fault's figures, as the per-fault table shows them (undefined: did not happen). */
export function faultFigures(fault: TimelineFault, timeline: DrillTimeline) {
  const end = faultWindowEnd(fault, timeline);
  return {
    detectionMs: fault.detectedAt === undefined ? undefined : fault.detectedAt - fault.sentAt,
    takeoverMs: fault.detectedAt === undefined || fault.tookOverAt === undefined ? undefined : fault.tookOverAt - fault.detectedAt,
    failed: timeline.requests.filter((r) => !r.ok && r.at >= fault.sentAt && r.at <= end).length,
    // Failures go on after a takeover or an undo (clients' ARP caches, a manager restarting): all
    // of them until the next fault is sent, as the drill's own check counts them.
    failedInAll: timeline.requests.filter((r) => !r.ok && r.at >= fault.sentAt && r.at < nextFaultAt(fault, timeline)).length,
    backMs: fault.undoneAt === undefined || fault.settledAt === undefined ? undefined : fault.settledAt - fault.undoneAt,
  };
}

/** Tick spacing in seconds: the smallest of 1, 2, 5, 10... that gives at most 12 ticks. */
function tickStep(seconds: number): number {
  for (let unit = 1; ; unit *= 10) for (const step of [1, 2, 5].map((m) => m * unit)) if (seconds / step <= 12) return step;
}

interface Lane {
  id: string;
  label: string;
  height: number;
  draw: (top: number, height: number) => string;
}

function requestLanes(t: DrillTimeline, x: (at: number) => number, pxPerSecond: number): Lane[] {
  if (t.client === undefined || t.requests.length === 0) {
    const why = t.client === undefined ? 'no client: no requests were sent through the VIP' : `no requests recorded from ${t.client}`;
    return [{ id: 'requests none', label: 'requests', height: LANE_HEIGHT, draw: (top, h) => `<text class="note" x="${PLOT_LEFT + 6}" y="${top + h / 2 + 4}">${e(why)}</text>` }];
  }
  const bucketSeconds = Math.max(1, Math.ceil((t.endedAt - t.startedAt) / 1000 / 300));
  const servers = [...new Set([...t.realServers, ...t.requests.flatMap((r) => (r.ok && r.server !== undefined ? [r.server] : []))])];
  const counts = new Map<string, Map<number, number>>();
  for (const r of t.requests) {
    if (!r.ok) continue;
    const key = r.server ?? '';
    const bucket = Math.floor(Math.max(0, r.at - t.startedAt) / 1000 / bucketSeconds);
    const lane = counts.get(key) ?? new Map<number, number>();
    lane.set(bucket, (lane.get(bucket) ?? 0) + 1);
    counts.set(key, lane);
  }
  const max = Math.max(1, ...[...counts.values()].flatMap((m) => [...m.values()]));
  const bars = (key: string, name: string, unknown: boolean) => (top: number, h: number) =>
    [...(counts.get(key) ?? new Map<number, number>())]
      .map(([bucket, n]) => {
        const from = bucket * bucketSeconds;
        const barH = Math.max(2, ((h - 4) * n) / max);
        const w = Math.max(1, bucketSeconds * pxPerSecond - (bucketSeconds * pxPerSecond > 3 ? 1 : 0));
        return `<rect class="answers${unknown ? ' unknown' : ''}" data-second="${from}" data-count="${n}" x="${px(x(t.startedAt + from * 1000))}" y="${px(top + h - barH)}" width="${px(w)}" height="${px(barH)}"><title>${e(name)}: ${n} answer${n === 1 ? '' : 's'} at ${from}–${from + bucketSeconds} s</title></rect>`;
      })
      .join('');
  const lanes: Lane[] = servers.map((s) => ({ id: `realserver ${s}`, label: s, height: LANE_HEIGHT, draw: bars(s, s, false) }));
  if (counts.has('')) lanes.push({ id: 'unknown server', label: 'answered (server unknown)', height: LANE_HEIGHT, draw: bars('', 'server unknown', true) });
  const failed = t.requests.filter((r) => !r.ok);
  lanes.push({
    id: 'failed',
    label: `failed requests (${failed.length})`,
    height: LANE_HEIGHT,
    draw: (top, h) =>
      failed.length === 0
        ? `<text class="note" x="${PLOT_LEFT + 6}" y="${top + h / 2 + 4}">no failed requests</text>`
        : failed.map((r) => `<line class="failed-request" x1="${px(x(r.at))}" x2="${px(x(r.at))}" y1="${top + 3}" y2="${top + h - 3}"><title>failed at ${secs(r.at - t.startedAt)} s</title></line>`).join(''),
  });
  return lanes;
}

type DirectorState = 'holds' | 'split-brain' | 'unreachable' | 'standby';

/** Each director's states as intervals: a reading holds until the next one (the last until the end). */
export function directorIntervals(t: DrillTimeline): Map<string, { state: DirectorState; from: number; to: number }[]> {
  const readings = [...t.directorReadings].sort((a, b) => a.at - b.at);
  const result = new Map<string, { state: DirectorState; from: number; to: number }[]>();
  const directors = [...new Set([...t.directors, ...readings.flatMap((r) => [...r.holders, ...r.unreachable])])];
  for (const d of directors) {
    const intervals: { state: DirectorState; from: number; to: number }[] = [];
    readings.forEach((r, i) => {
      const state: DirectorState = r.unreachable.includes(d) ? 'unreachable' : r.holders.includes(d) ? (r.holders.length > 1 ? 'split-brain' : 'holds') : 'standby';
      const to = Math.max(r.at, readings[i + 1]?.at ?? t.endedAt);
      const last = intervals.at(-1);
      if (last?.state === state) last.to = to;
      else intervals.push({ state, from: r.at, to });
    });
    result.set(d, intervals);
  }
  return result;
}

const STATE_WORDS: Record<DirectorState, string> = { holds: 'held the VIP', 'split-brain': 'held the VIP with another director (split brain)', unreachable: 'could not be read', standby: 'did not hold the VIP' };

function directorLanes(t: DrillTimeline, x: (at: number) => number): Lane[] {
  const intervals = directorIntervals(t);
  return [...intervals].map(([d, list]) => ({
    id: `director ${d}`,
    label: d,
    height: LANE_HEIGHT,
    draw: (top: number, h: number) =>
      list.length === 0
        ? `<text class="note" x="${PLOT_LEFT + 6}" y="${top + h / 2 + 4}">no readings</text>`
        : list
            .filter((i) => i.state !== 'standby')
            .map((i) => `<rect class="director-state ${i.state}" x="${px(x(i.from))}" y="${top + 3}" width="${px(Math.max(1, x(i.to) - x(i.from)))}" height="${h - 6}"><title>${e(d)} ${STATE_WORDS[i.state]}: ${secs(i.from - t.startedAt)}–${secs(i.to - t.startedAt)} s</title></rect>`)
            .join(''),
  }));
}

function faultLane(t: DrillTimeline, x: (at: number) => number): Lane {
  return {
    id: 'faults',
    label: 'faults',
    height: FAULT_LANE_HEIGHT,
    draw: (top, h) => {
      if (t.faults.length === 0) return `<text class="note" x="${PLOT_LEFT + 6}" y="${top + h / 2 + 4}">no faults</text>`;
      return t.faults
        .map((f, index) => {
          const n = index + 1;
          const name = `${f.name} (${f.subject})`;
          const win = (kind: string, from: number, to: number, row: number, label: string) => {
            const x0 = x(from);
            const w = x(to) - x0;
            return (
              `<rect class="fault-window ${kind}" id="fault-${n}-${kind}" data-fault="${n}" data-seconds="${secs(to - from)}" x="${px(x0)}" y="${top + 28}" width="${px(w)}" height="${h - 30}"><title>fault ${n}, ${e(name)}: ${e(label)}</title></rect>` +
              `<text class="fault-label ${kind}" x="${px(x0 + w / 2)}" y="${top + 11 + row * 13}" text-anchor="middle">${e(label)}</text>`
            );
          };
          const parts = [`<line class="fault-mark sent" data-fault="${n}" x1="${px(x(f.sentAt))}" x2="${px(x(f.sentAt))}" y1="${top}" y2="${top + h}"><title>fault ${n} sent: ${e(f.what)}</title></line>`];
          if (f.detectedAt === undefined) parts.push(win('undetected', f.sentAt, f.undoneAt ?? t.endedAt, 0, `${f.name}: not detected`));
          else {
            parts.push(win('detection', f.sentAt, f.detectedAt, 0, `${f.name}: detection ${secs(f.detectedAt - f.sentAt)} s`));
            if (f.tookOverAt === undefined) parts.push(`<text class="fault-label no-takeover" x="${px(x(f.detectedAt) + 4)}" y="${top + 24}">no takeover</text>`);
            else parts.push(win('takeover', f.detectedAt, f.tookOverAt, 1, `takeover ${secs(f.tookOverAt - f.detectedAt)} s`));
          }
          return parts.join('');
        })
        .join('');
    },
  };
}

/** The bands and marks of each fault across every lane, behind (bands; lane backgrounds are translucent) and over (marks) the lanes. */
function faultOverlays(t: DrillTimeline, x: (at: number) => number, top: number, bottom: number): { bands: string; marks: string } {
  let bands = '';
  let marks = '';
  t.faults.forEach((f, index) => {
    const n = index + 1;
    const band = (kind: string, from: number, to: number) => `<rect class="fault-band ${kind}" data-fault="${n}" x="${px(x(from))}" y="${top}" width="${px(x(to) - x(from))}" height="${bottom - top}"/>`;
    if (f.detectedAt !== undefined) bands += band('detection', f.sentAt, f.detectedAt);
    if (f.detectedAt !== undefined && f.tookOverAt !== undefined) bands += band('takeover', f.detectedAt, f.tookOverAt);
    const mark = (kind: string, at: number | undefined, words: string) =>
      at === undefined
        ? ''
        : `<line class="fault-mark ${kind}" data-fault="${n}" x1="${px(x(at))}" x2="${px(x(at))}" y1="${top}" y2="${bottom}"><title>fault ${n} (${e(f.name)}) ${words} at ${secs(at - t.startedAt)} s</title></line>` +
          `<text class="fault-mark-label ${kind}" x="${px(x(at))}" y="${bottom + (kind === 'undone' ? 12 : 24)}" text-anchor="middle">${kind === 'undone' ? 'undo' : 'settled'} ${n}</text>`;
    marks += mark('undone', f.undoneAt, 'undone') + mark('settled', f.settledAt, 'settled');
  });
  return { bands, marks };
}

function figure(t: DrillTimeline): string {
  const { seconds, pxPerSecond, x } = timeScale(t);
  const lanes = [faultLane(t, x), ...directorLanes(t, x), ...requestLanes(t, x, pxPerSecond)];
  const top = 10;
  let y = top;
  const drawn = lanes.map((lane) => {
    const g =
      `<g class="lane" data-lane="${e(lane.id)}"><rect class="lane-bg" x="${PLOT_LEFT}" y="${y}" width="${PLOT_WIDTH}" height="${lane.height}"/>` +
      `<text class="lane-label" x="${PLOT_LEFT - 8}" y="${y + lane.height / 2 + 4}" text-anchor="end">${e(lane.label)}</text>${lane.draw(y, lane.height)}</g>`;
    y += lane.height + LANE_GAP;
    return g;
  });
  const bottom = y - LANE_GAP;
  const step = tickStep(seconds);
  const ticks: string[] = [];
  for (let s = 0; s <= seconds + 1e-9; s += step) {
    const tx = px(PLOT_LEFT + s * pxPerSecond);
    ticks.push(`<g class="tick" data-second="${s}"><line class="grid" x1="${tx}" x2="${tx}" y1="${top}" y2="${bottom}"/><line x1="${tx}" x2="${tx}" y1="${bottom}" y2="${bottom + 5}" stroke="#555"/><text x="${tx}" y="${bottom + 36}" text-anchor="middle">${s} s</text></g>`);
  }
  const { bands, marks } = faultOverlays(t, x, top, bottom);
  const height = bottom + AXIS_HEIGHT;
  return (
    `<svg id="timeline" role="img" aria-label="drill timeline" width="${SVG_WIDTH}" height="${height}" viewBox="0 0 ${SVG_WIDTH} ${height}" data-seconds="${px(seconds)}" data-px-per-second="${px(pxPerSecond)}">` +
    `<defs><pattern id="hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><rect width="6" height="6" fill="#ddd"/><line x1="0" y1="0" x2="0" y2="6" stroke="#888" stroke-width="2"/></pattern></defs>` +
    `<g class="axis">${ticks.join('')}<line x1="${PLOT_LEFT}" x2="${PLOT_LEFT + PLOT_WIDTH}" y1="${bottom}" y2="${bottom}" stroke="#555"/></g>` +
    `<g class="fault-bands">${bands}</g>${drawn.join('')}<g class="fault-marks">${marks}</g></svg>`
  );
}

const LEGEND: [string, string][] = [
  ['<rect class="answers" width="14" height="12"/>', 'answers per real server (bar height: requests per second bucket)'],
  ['<line class="failed-request" x1="7" x2="7" y1="0" y2="12"/>', 'failed request'],
  ['<rect class="director-state holds" width="14" height="12"/>', 'director holds the VIP'],
  ['<rect class="director-state split-brain" width="14" height="12"/>', 'two directors hold the VIP (split brain)'],
  ['<rect class="director-state unreachable" width="14" height="12"/>', 'director unreachable'],
  ['<rect class="fault-window detection" width="14" height="12"/>', 'detection (fault sent → noticed)'],
  ['<rect class="fault-window takeover" width="14" height="12"/>', 'takeover (noticed → in place)'],
  ['<line class="fault-mark undone" x1="7" x2="7" y1="0" y2="12"/>', 'fault undone'],
  ['<line class="fault-mark settled" x1="7" x2="7" y1="0" y2="12"/>', 'cluster settled again'],
];

function legend(): string {
  // The unreachable swatch's hatch is the figure's pattern: an inline SVG's ids are the document's.
  const items = LEGEND.map(([swatch, words]) => `<li><svg width="14" height="12">${swatch}</svg>${words}</li>`);
  return `<ul class="legend" id="legend">${items.join('')}</ul>`;
}

function checksTable(t: DrillTimeline): string {
  if (t.checks.length === 0) return '<p class="note">no checks were reported</p>';
  const rows = t.checks.map((c) => {
    const evidence = c.evidence.length === 0 ? '' : `<details><summary>evidence (${c.evidence.length})</summary>${c.evidence.map((ev) => `<div>${e(ev.host)}: <code>${e(ev.command)}</code><pre>${e(ev.output)}</pre></div>`).join('')}</details>`;
    return `<tr class="check" data-status="${c.status}"><td>${e(c.check)}</td><td>${e(c.subject)}</td><td class="${c.status}">${c.status === 'pass' ? 'PASS' : 'FAIL'}</td><td>${e(c.detail)}${evidence}</td></tr>`;
  });
  return `<table id="checks"><thead><tr><th>check</th><th>subject</th><th>result</th><th>detail</th></tr></thead><tbody>${rows.join('')}</tbody></table>`;
}

function faultsTable(t: DrillTimeline): string {
  if (t.faults.length === 0) return '<p class="note" id="faults-none">no faults were caused</p>';
  const rows = t.faults.map((f, index) => {
    const fig = faultFigures(f, t);
    const failed = t.client === undefined ? 'no client' : String(fig.failed);
    const failedInAll = t.client === undefined ? 'no client' : String(fig.failedInAll);
    const cells = [
      `${index + 1}. ${e(f.name)}`,
      e(f.subject),
      e(f.what),
      fig.detectionMs === undefined ? 'not detected' : secs(fig.detectionMs),
      fig.detectionMs === undefined ? '—' : fig.takeoverMs === undefined ? 'no takeover' : secs(fig.takeoverMs),
      failed,
      failedInAll,
      f.undoneAt === undefined ? 'not undone' : fig.backMs === undefined ? 'not settled' : secs(fig.backMs),
    ];
    return `<tr class="fault" data-fault="${index + 1}">${cells.map((c, i) => `<td${i >= 3 ? ' class="num"' : ''}>${c}</td>`).join('')}</tr>`;
  });
  return (
    `<table id="faults"><thead><tr><th>fault</th><th>subject</th><th>what</th><th>detection s</th><th>takeover s</th><th>failed requests (sent → takeover)</th><th>failed in all (until the next fault)</th><th>back after s (undo → settled)</th></tr></thead><tbody>${rows.join('')}</tbody></table>` +
    '<p class="note">Seconds: detection from the fault sent until it was noticed; takeover from then until the VIP (or the table change) was in place; back after, from the undo until the cluster was as described again.</p>'
  );
}

function splitBrains(t: DrillTimeline): string {
  const readings = [...t.directorReadings].sort((a, b) => a.at - b.at);
  const spans: string[] = [];
  // Consecutive readings with two holders are one split brain.
  let open: { from: number; to: number; holders: Set<string> } | undefined;
  const close = () => {
    if (open) spans.push(`${secs(open.from - t.startedAt)}–${secs(open.to - t.startedAt)} s (${[...open.holders].sort().map(e).join(', ')})`);
    open = undefined;
  };
  readings.forEach((r, i) => {
    if (r.holders.length < 2) return close();
    const to = readings[i + 1]?.at ?? t.endedAt;
    if (open === undefined) open = { from: r.at, to, holders: new Set(r.holders) };
    else {
      open.to = to;
      for (const h of r.holders) open.holders.add(h);
    }
  });
  close();
  return spans.length === 0 ? '' : `<p id="split-brain">Split brain, two directors held the VIP at once: ${spans.join('; ')}.</p>`;
}

/** The drill's report: one complete HTML document that fetches nothing. */
export function renderDrillReport(t: DrillTimeline): string {
  const started = new Date(t.startedAt);
  const startText = Number.isNaN(started.getTime()) ? String(t.startedAt) : started.toISOString().replace('T', ' ').replace(/\.\d+Z$/, ' UTC');
  const duration = secs(Math.max(0, t.endedAt - t.startedAt));
  const failed = t.checks.filter((c) => c.status === 'fail').length;
  const answered = t.requests.filter((r) => r.ok).length;
  const requestsLine =
    t.client === undefined
      ? 'No client in the inventory: no requests were sent through the VIP.'
      : `${t.requests.length} requests from ${e(t.client)} to ${e(t.url)}: ${answered} answered, ${t.requests.length - answered} failed.`;
  return `<!DOCTYPE html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta http-equiv="Content-Security-Policy" content="default-src 'none'; style-src 'unsafe-inline'; img-src data:">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Drill of ${e(t.cluster)}, VIP ${e(t.vip)}</title>
<style>${CSS}</style>
</head>
<body>
<h1>Drill of cluster ${e(t.cluster)}, VIP ${e(t.vip)}</h1>
<p class="meta" id="meta">client ${t.client === undefined ? '<span class="note">none</span>' : e(t.client)} · started ${e(startText)} · duration ${duration} s · directors ${t.directors.map(e).join(', ') || 'none'} · real servers ${t.realServers.map(e).join(', ') || 'none'}</p>
<h2>Checks</h2>
<p id="summary">${t.checks.length - failed} passed, ${failed} failed. ${requestsLine}</p>
${checksTable(t)}
<h2>Timeline</h2>
${legend()}
${figure(t)}
${splitBrains(t)}
<h2>Faults</h2>
${faultsTable(t)}
</body>
</html>
`;
}

/** Writes the report to `file` atomically: a temporary file in the same directory, then a rename. */
export async function writeDrillReport(file: string, timeline: DrillTimeline): Promise<void> {
  const temp = path.join(path.dirname(file), `.${path.basename(file)}.${process.pid}.${randomBytes(4).toString('hex')}.tmp`);
  try {
    await writeFile(temp, renderDrillReport(timeline), { encoding: 'utf8', mode: 0o644 });
    await rename(temp, file);
  } catch (error) {
    await unlink(temp).catch(() => undefined); // never written, or renamed already: nothing to remove
    throw error;
  }
}
