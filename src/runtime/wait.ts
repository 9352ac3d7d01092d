import { TspodError } from '../util/errors.js';
import type { ContainerRecord, ContainerStore } from './container-store.js';
import { reconcile } from './lifecycle.js';

/** The --condition values Podman accepts (its container states, and a health check's results). */
export const WAIT_CONDITIONS = ['configured', 'created', 'exited', 'healthy', 'initialized', 'paused', 'removing', 'running', 'stopped', 'stopping', 'unhealthy'] as const;
export type WaitCondition = (typeof WAIT_CONDITIONS)[number];

export function parseWaitConditions(values: string[]): WaitCondition[] {
  for (const v of values) {
    if (!(WAIT_CONDITIONS as readonly string[]).includes(v)) throw new TspodError(`unknown container state: ${v}: invalid argument`);
  }
  return (values.length ? values : ['stopped']) as WaitCondition[];
}

/** --interval as Go's time.ParseDuration reads it ("250ms", "1s", "1m30s"); a bare number is milliseconds, as in Podman. */
export function parseInterval(text: string): number {
  if (/^\d+$/.test(text)) return Number(text);
  const units: Record<string, number> = { ns: 1e-6, us: 1e-3, µs: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
  const re = /(\d+(?:\.\d+)?)(ns|us|\u00b5s|ms|s|m|h)/gy;
  let total = 0;
  let m: RegExpExecArray | null;
  let consumed = 0;
  while ((m = re.exec(text))) {
    total += Number(m[1]) * units[m[2]];
    consumed = re.lastIndex;
  }
  if (!text || consumed !== text.length) throw new TspodError(`time: invalid duration "${text}"`);
  return total;
}

/** The health check's last result, as `healthcheck run` records it. */
function healthStatus(rec: ContainerRecord): string | undefined {
  return rec.state.health?.status;
}

function met(rec: ContainerRecord, cond: WaitCondition): boolean {
  const s = rec.state.status;
  switch (cond) {
    // Podman: stopped and exited both wait for the container not to run (a created one does not run either).
    case 'stopped':
    case 'exited':
      return s !== 'running' && s !== 'paused';
    case 'created':
    case 'configured':
      return s === 'created';
    case 'running':
      return s === 'running';
    case 'paused':
      return s === 'paused';
    case 'healthy':
    case 'unhealthy':
      return healthStatus(rec) === cond;
    default:
      // initialized, stopping and removing are moments tspod never rests in.
      return false;
  }
}

/**
 * Poll the container every `intervalMs` until one of the conditions holds.
 * Podman's result: the exit code when the condition met is stopped or exited,
 * else -1. A container removed while we wait (--rm) ends the wait with its exit code.
 */
export async function waitForConditions(store: ContainerStore, nameOrId: string, conditions: WaitCondition[], intervalMs: number): Promise<number> {
  const id = store.get(nameOrId).id;
  let last: ContainerRecord | undefined;
  for (;;) {
    const found = store.find(id);
    if (!found) {
      if (last && conditions.some((c) => c === 'stopped' || c === 'exited')) return last.state.exitCode;
      throw new TspodError(`no container with name or ID "${nameOrId}" found: no such container`);
    }
    const rec = await reconcile(store, found);
    last = rec;
    const hit = conditions.find((c) => met(rec, c));
    if (hit) return hit === 'stopped' || hit === 'exited' ? rec.state.exitCode : -1;
    await new Promise((r) => setTimeout(r, Math.max(intervalMs, 10)));
  }
}
