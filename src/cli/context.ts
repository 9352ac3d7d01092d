import path from 'node:path';
import { TspodError } from '../util/errors.js';
import { LOG_LEVELS, type LogLevel, setLogLevel } from '../util/log.js';
import { defaultStorageRoot, runtimeDir } from '../util/paths.js';

/** What the global options decide, shared by every command. */
export interface GlobalContext {
  storageRoot: string;
  runRoot: string;
  storageDriver?: string;
  logLevel: LogLevel;
}

export const STORAGE_DRIVERS = ['overlay', 'vfs'] as const;

export function resolveGlobals(opts: {
  logLevel?: string;
  root?: string;
  runroot?: string;
  storageDriver?: string;
}): GlobalContext {
  const level = (opts.logLevel ?? 'warn').toLowerCase();
  if (!LOG_LEVELS.includes(level as LogLevel)) {
    throw new TspodError(`invalid --log-level "${opts.logLevel}": use one of ${LOG_LEVELS.join(', ')}`);
  }
  setLogLevel(level as LogLevel);
  if (opts.storageDriver !== undefined && !(STORAGE_DRIVERS as readonly string[]).includes(opts.storageDriver)) {
    throw new TspodError(
      `unknown --storage-driver "${opts.storageDriver}": use one of ${STORAGE_DRIVERS.join(', ')} (overlay uses fuse-overlayfs where the kernel's cannot be mounted)`,
    );
  }
  return {
    storageRoot: path.resolve(opts.root ?? defaultStorageRoot()),
    runRoot: path.resolve(opts.runroot ?? runtimeDir()),
    storageDriver: opts.storageDriver,
    logLevel: level as LogLevel,
  };
}
