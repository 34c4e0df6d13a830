// The result of one check of a live cluster (provision verify, drill): its verdict and the evidence
// it was judged on, as the reporters print it and the JSON events carry it.

export type CheckStatus = 'pass' | 'fail';

/** A command run on a host, and what it printed. */
export interface Evidence {
  host: string;
  command: string;
  output: string;
}

export interface CheckResult {
  /** what is checked, e.g. "VIP holder", "IPVS table" */
  check: string;
  /** what it is checked on: a host, a VIP, a service */
  subject: string;
  status: CheckStatus;
  /** the finding, in a sentence */
  detail: string;
  evidence: Evidence[];
}
