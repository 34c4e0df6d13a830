// Everything the runner reports goes through these events: the renderers (progress, plain, JSON)
// and the recap are built from them alone, and every event passes the secret redactor first.
import type { FileDiff } from '../core/operation.ts';
import type { CheckResult } from '../verify/result.ts';
import type { DrillTimeline } from '../verify/timeline.ts';

export type TaskStatus = 'ok' | 'changed' | 'failed' | 'skipped' | 'unreachable';

export interface TaskResultEvent {
  type: 'task';
  host: string;
  play: string;
  role: string | null;
  task: string;
  /** 'handler' for a notified handler */
  kind: 'task' | 'handler';
  status: TaskStatus;
  changed: boolean;
  /** what changed, or would change under --check */
  summary?: string;
  /** failure message: what went wrong, the exit code, the tail of the output, what to do */
  message?: string;
  diff?: FileDiff[];
  /** with -v: the change script and its output */
  script?: string;
  output?: string;
  durationMs: number;
  /** remote executions on this host so far in this run */
  remoteExecutions: number;
}

export type RunEvent =
  | { type: 'run-start'; check: boolean; playbook: string; inventory: string }
  | { type: 'play-start'; play: string; hosts: string[] }
  | { type: 'host-unreachable'; host: string; play: string; message: string; remoteExecutions: number }
  | TaskResultEvent
  /** what a host starts doing now: taking its lock, probing, or a task or handler that begins */
  | { type: 'host-step'; host: string; play: string; step: string }
  | { type: 'host-done'; host: string; play: string; failed: boolean }
  | { type: 'warning'; host?: string; message: string }
  | { type: 'recap'; hosts: RecapRow[]; interrupted: boolean; exitCode: number; durationMs: number }
  /** provision verify: one check of the live cluster, with its evidence */
  | ({ type: 'check' } & CheckResult)
  | { type: 'check-summary'; cluster: string; passed: number; failed: number; exitCode: number; durationMs: number }
  /** provision drill: what it saw over time (the HTML report's timeline), before its summary */
  | ({ type: 'drill-timeline' } & DrillTimeline);

export interface RecapRow {
  host: string;
  ok: number;
  changed: number;
  unreachable: number;
  failed: number;
  skipped: number;
  remoteExecutions: number;
}

export interface Reporter {
  emit(event: RunEvent): void;
  /** flush and release the output (files, terminal) */
  close(): Promise<void>;
}
