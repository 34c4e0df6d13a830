// What a drill saw over time, as its report draws it: every request the client sent through the VIP
// (and which real server answered), every reading of which director held the VIP, and each fault's
// moments. Times are the controller's clock, in ms since the epoch. Pure data: the drill fills it,
// the HTML report (report-html.ts) and the JSON events carry it.
import type { CheckResult } from './result.ts';

export interface TimelineRequest {
  at: number;
  ok: boolean;
  /** the real server that answered (by its own index page), when the pages tell them apart */
  server?: string;
}

export interface TimelineDirectors {
  at: number;
  /** the directors that held the VIP at this reading */
  holders: string[];
  /** the directors that could not be read (down, rebooting) */
  unreachable: string[];
}

export interface TimelineFault {
  /** a drill fault name: realserver, manager, crash, link */
  name: string;
  /** the host the fault was done to */
  subject: string;
  /** what was done, in words */
  what: string;
  /** when the fault was sent */
  sentAt: number;
  /** when the backup (or the manager, for a real server) noticed: end of the detection window */
  detectedAt?: number;
  /** when the VIP (or the table change) was in place: end of the takeover window */
  tookOverAt?: number;
  /** when the fault was undone (service started, host back, link up) */
  undoneAt?: number;
  /** when the cluster was as the description says again after the undo */
  settledAt?: number;
}

export interface DrillTimeline {
  cluster: string;
  vip: string;
  url: string;
  /** the host that sent the requests; none when the inventory has no client */
  client?: string;
  directors: string[];
  realServers: string[];
  startedAt: number;
  endedAt: number;
  requests: TimelineRequest[];
  directorReadings: TimelineDirectors[];
  faults: TimelineFault[];
  checks: CheckResult[];
}
