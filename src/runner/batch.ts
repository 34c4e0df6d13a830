// The scripts the runner sends: one that gathers facts and probes every task, one that applies every
// planned change. Pure builders and parsers; the connector runs them.
//
// Both scripts are wrapped in a function that is called on the last line, so a script cut off in
// transit (a dropped connection) is a syntax error and runs nothing, instead of a truncated command.
// Sections of output are separated by marker lines that carry a random per-run token, so no file
// content or command output can forge one.
import { createHash, randomBytes } from 'node:crypto';
import { quote } from '../core/shell.ts';
import { posixCksum } from './cksum.ts';
import { REGISTER_STEPS_SH } from './step-registry.ts';

export function newMarkerToken(): string {
  return `@@provision-${randomBytes(8).toString('hex')}`;
}

// sudo on EL5 and some su setups leave the sbin directories out of PATH; every tool we call is there.
const PRELUDE = 'LC_ALL=C; PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin:$PATH; export LC_ALL PATH; cd / || exit 1';

function marker(token: string, text: string): string {
  // The leading newline guarantees the marker starts a line; parse() removes it again.
  return `printf '\\n%s\\n' ${quote(`${token} ${text}`)}`;
}

function wrap(body: string[]): string {
  return ['__provision_main() {', PRELUDE, ...body, '}', '__provision_main'].join('\n') + '\n';
}

export interface ProbeRequest {
  id: string;
  probe: string;
}

/** The first execution on a host: facts (when wanted) and every task's probe, in one script. */
export function buildProbeScript(token: string, factsScript: string | null, probes: ProbeRequest[]): string {
  const body: string[] = [];
  if (factsScript !== null) {
    body.push(marker(token, 'facts'), `( ${factsScript}\n) </dev/null 2>/dev/null`);
  }
  body.push(...probeSections(token, probes), marker(token, 'done'));
  return wrap(body);
}

function probeSections(token: string, probes: ProbeRequest[]): string[] {
  const body: string[] = [];
  for (const { id, probe } of probes) {
    if (probe.trim() === '') continue;
    body.push(marker(token, `probe ${id}`), `( ${probe}\n) </dev/null 2>/dev/null`, `__rc=$?`, `printf '\\n%s %s\\n' ${quote(`${token} rc ${id}`)} "$__rc"`);
  }
  return body;
}

interface Section {
  head: string[];
  content: string;
}

function sections(token: string, stdout: string): Section[] {
  const parts = stdout.split(new RegExp(`\\n${token} ([^\\n]*)\\n`));
  const out: Section[] = [];
  // parts: [before, head1, content1, head2, content2, ...]
  for (let i = 1; i < parts.length; i += 2) out.push({ head: (parts[i] ?? '').split(' '), content: parts[i + 1] ?? '' });
  return out;
}

export interface ProbeResults {
  facts: string | null;
  probes: Map<string, { stdout: string; exitCode: number }>;
  complete: boolean;
}

export function parseProbeOutput(token: string, stdout: string): ProbeResults {
  const result: ProbeResults = { facts: null, probes: new Map(), complete: false };
  const probes = probeCollector(result.probes);
  for (const section of sections(token, stdout)) {
    const [kind] = section.head;
    if (kind === 'facts') result.facts = section.content;
    else if (kind === 'done') result.complete = true;
    else probes(section);
  }
  return result;
}

/** Collects probe sections (`probe ID`, then `rc ID CODE`) into `into`. */
function probeCollector(into: Map<string, { stdout: string; exitCode: number }>): (section: Section) => void {
  let current: string | null = null;
  return ({ head, content }) => {
    const [kind, id, rc] = head;
    if (kind === 'probe' && id) {
      current = id;
      into.set(id, { stdout: content, exitCode: -1 });
    } else if (kind === 'rc' && id && id === current) {
      into.get(id)!.exitCode = Number(rc);
    }
  };
}

/**
 * What the apply script compares before a change: the digest of the probe's output and status, as
 * the target's `cksum` prints it, or its `md5sum` where there is no cksum (busybox builds without
 * the applet). Both are computed here; the script accepts the one its tool prints.
 */
export function probeDigest(probed: { stdout: string; exitCode: number }): ProbeDigest {
  const text = `${probed.stdout}rc=${probed.exitCode}\n`;
  return { cksum: posixCksum(text), md5: `${createHash('md5').update(text, 'utf8').digest('hex')}  -` };
}

export interface ProbeDigest {
  cksum: string;
  md5: string;
}

const DIGEST_TOOL = 'if command -v cksum >/dev/null 2>&1; then cksum; else md5sum; fi';

export interface ApplyStep {
  id: string;
  script: string;
  /**
   * When set, the step runs only if re-running this probe still gives `digest`. Otherwise the script
   * stops there and runs the `reprobe` probes (the state the next round plans on), so that round
   * needs no probe execution of its own.
   */
  guard?: { probe: string; digest: ProbeDigest; reprobe?: ProbeRequest[] };
}

/**
 * The second execution: every change in order. It stops at the first failure, and at the first step
 * whose state is no longer what was probed (an earlier step changed it): the runner then probes
 * again from that step and sends the rest. Each step's output is held in a file until the step ends
 * (step-registry.ts): a dropped connection then stops the script between two steps, never inside one.
 * When every step succeeded, `thenProbe` runs last: the state after the changes, for the tasks still
 * to plan (later plays'), so they need no probe execution of their own. A stale step ends the script
 * the same way, with its guard's `reprobe` probes.
 *
 * Each distinct probe is written once, as a shell function, however many of these lists name it.
 */
export function buildApplyScript(token: string, steps: ApplyStep[], thenProbe: ProbeRequest[] = []): string {
  const probes = new Map<string, ProbeRequest>();
  for (const request of [...thenProbe, ...steps.flatMap((s) => s.guard?.reprobe ?? [])]) {
    if (request.probe.trim() !== '') probes.set(request.id, request);
  }
  const functionOf = new Map([...probes.keys()].map((id, i) => [id, `__provision_probe_${i}`]));
  const callAll = (requests: ProbeRequest[]) => requests.flatMap((r) => (functionOf.has(r.id) ? [functionOf.get(r.id)!] : []));
  const body: string[] = [REGISTER_STEPS_SH];
  for (const request of probes.values()) body.push(`${functionOf.get(request.id)!}() {`, ...probeSections(token, [request]), '}');
  for (const { id, script, guard } of steps) {
    body.push(marker(token, `begin ${id}`));
    if (guard) {
      const onStale = [marker(token, `stale ${id}`), ...callAll(guard.reprobe ?? []), ...(guard.reprobe ? [marker(token, 'done')] : [])];
      body.push(
        `__d=$( { ( ${guard.probe}\n) </dev/null 2>/dev/null; echo "rc=$?"; } | { ${DIGEST_TOOL}; } )`,
        `if [ "$__d" != ${quote(guard.digest.cksum)} ] && [ "$__d" != ${quote(guard.digest.md5)} ]; then`,
        ...onStale,
        'return 0',
        'fi',
      );
    }
    body.push(
      `( set -e\n${script}\n) </dev/null >"$__provision_sink" 2>&1`,
      `__rc=$?`,
      `[ "$__provision_sink" = /dev/stdout ] || cat "$__provision_sink"`,
      `printf '\\n%s %s\\n' ${quote(`${token} end ${id}`)} "$__rc"`,
      `[ "$__rc" -eq 0 ] || return 0`,
    );
  }
  body.push(...callAll(thenProbe), marker(token, 'done'));
  return wrap(body);
}

export type StepOutcome =
  | { id: string; status: 'done'; exitCode: number; output: string }
  | { id: string; status: 'stale' }
  | { id: string; status: 'cut-off'; output: string };

/**
 * Outcomes of the steps that started, in order (a step that began but never ended is 'cut-off'), and
 * the probes that ran after them.
 */
export function parseApplyOutput(token: string, stdout: string): { steps: StepOutcome[]; probes: ProbeResults['probes']; complete: boolean } {
  const steps: StepOutcome[] = [];
  const probes: ProbeResults['probes'] = new Map();
  const collectProbe = probeCollector(probes);
  let open: { id: string; output: string } | null = null;
  let complete = false;
  for (const section of sections(token, stdout)) {
    const { head, content } = section;
    const [kind, id, rc] = head;
    collectProbe(section);
    if (kind === 'begin' && id) {
      open = { id, output: content };
    } else if (kind === 'stale' && id) {
      steps.push({ id, status: 'stale' });
      open = null;
    } else if (kind === 'end' && id && open?.id === id) {
      steps.push({ id, status: 'done', exitCode: Number(rc), output: open.output });
      open = null;
    } else if (kind === 'done') complete = true;
  }
  if (open) steps.push({ id: open.id, status: 'cut-off', output: open.output });
  return { steps, probes, complete };
}
