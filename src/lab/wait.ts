// The lab's one polling loop: bounded in count and in time.
import { setTimeout as sleep } from 'node:timers/promises';

export interface WaitOptions {
  /** give up after this long */
  timeoutMs: number;
  /** pause between attempts */
  intervalMs: number;
}

/**
 * Calls `attempt` until it returns something other than undefined; resolves with that, or with
 * undefined once the time is up (at most timeoutMs / intervalMs + 1 attempts).
 */
export async function poll<T>(attempt: () => Promise<T | undefined>, { timeoutMs, intervalMs }: WaitOptions): Promise<T | undefined> {
  const deadline = Date.now() + timeoutMs;
  const maxAttempts = Math.floor(timeoutMs / intervalMs) + 1;
  for (let attempts = 0; attempts < maxAttempts; attempts++) {
    const result = await attempt();
    if (result !== undefined) return result;
    const left = deadline - Date.now();
    if (left <= 0) break;
    await sleep(Math.min(intervalMs, left));
  }
  return undefined;
}
