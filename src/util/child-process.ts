import { createRequire } from 'node:module';

type ChildProcessModule = typeof import('node:child_process');
let loaded: ChildProcessModule | undefined;

/**
 * node:child_process, loaded on first use. Loading it pulls in net and dgram:
 * about 10 ms of every command, `run` included, that never spawns through it
 * (the monitor is spawned by the addon, src/runtime/monitor-client.ts).
 */
export function childProcess(): ChildProcessModule {
  return (loaded ??= createRequire(import.meta.url)('node:child_process') as ChildProcessModule);
}
