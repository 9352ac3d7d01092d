import fs from 'node:fs';
import path from 'node:path';

/** The first executable of that name on PATH, or undefined. */
export function findExecutable(name: string, pathVar = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin'): string | undefined {
  const r = resolveCommand(name, pathVar);
  return 'path' in r ? r.path : undefined;
}

/**
 * Find a command the way a shell reports it: the first PATH entry holding a
 * file of that name wins; `notFound` when none does, `notExecutable` when that
 * file cannot be run. Unreadable PATH entries are skipped, not fatal.
 */
export function resolveCommand(
  name: string,
  pathVar = process.env.PATH ?? '/usr/local/bin:/usr/bin:/bin',
): { path: string } | { error: 'notFound' | 'notExecutable'; path?: string } {
  const candidates = name.includes('/') ? [name] : pathVar.split(':').map((dir) => path.join(dir || '.', name));
  for (const candidate of candidates) {
    let st: fs.Stats;
    try {
      st = fs.statSync(candidate);
    } catch {
      continue;
    }
    if (st.isDirectory()) continue;
    try {
      fs.accessSync(candidate, fs.constants.X_OK);
      return { path: candidate };
    } catch {
      return { error: 'notExecutable', path: candidate };
    }
  }
  return { error: 'notFound' };
}
