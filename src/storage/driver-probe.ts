import fs from 'node:fs';
import path from 'node:path';
import { spawnSync } from 'node:child_process';
import { MNT_DETACH, native } from '../native/addon.js';
import { readJsonFile, writeJsonAtomic } from './atomic.js';
import { log } from '../util/log.js';
import { TspodError } from '../util/errors.js';
import { cacheDir } from '../util/paths.js';

/**
 * Which graph driver works here, found by really mounting: kernel overlayfs with
 * `userxattr` inside the user namespace, else fuse-overlayfs, else the copying
 * vfs driver. The answer is kept in the runtime directory (it can change only
 * with the kernel, i.e. after a reboot).
 */
export interface DriverProbe {
  driver: 'overlay' | 'vfs';
  /** 'kernel' or 'fuse-overlayfs' for overlay. */
  mountProgram?: string;
  nativeOverlay: boolean;
  kernelError?: string;
  fuseError?: string;
  kernel: string;
}

/**
 * The driver this store uses: what the probe found, or what --storage-driver
 * asked for when that is possible here.
 */
export function chooseGraphDriver(storageRoot: string, runRoot: string, kernel: string, requested?: string): DriverProbe {
  const probe = probeGraphDriver(storageRoot, runRoot, kernel);
  if (requested === undefined || requested === probe.driver) return probe;
  if (requested === 'vfs') return { driver: 'vfs', nativeOverlay: false, kernel };
  throw new TspodError(
    `the overlay storage driver cannot be used here (kernel overlay: ${probe.kernelError ?? 'not tried'}; fuse-overlayfs: ${probe.fuseError ?? 'not tried'}); use --storage-driver vfs or install fuse-overlayfs`,
  );
}

/**
 * Where the user's probe result for the store's file system is kept across boots
 * and run roots: the first unmount in a new mount namespace waits ~180 ms for the
 * kernel (an RCU grace period), and every first command of a boot paid it.
 */
function userCacheFile(storageRoot: string): string {
  return path.join(cacheDir(), `driver-probe-${fs.statSync(storageRoot).dev}.json`);
}

export function probeGraphDriver(storageRoot: string, runRoot: string, kernel: string): DriverProbe {
  const cacheFile = path.join(runRoot, 'driver-probe.json');
  const cached = readJsonFile<DriverProbe | null>(cacheFile, null);
  if (cached && cached.kernel === kernel) return cached;

  fs.mkdirSync(storageRoot, { recursive: true, mode: 0o700 });
  // The same kernel and the same file system give the same answer.
  const userFile = userCacheFile(storageRoot);
  const known = readJsonFile<DriverProbe | null>(userFile, null);
  if (known && known.kernel === kernel) {
    remember(runRoot, cacheFile, known);
    return known;
  }
  const result: DriverProbe = { driver: 'vfs', nativeOverlay: false, kernel };
  const kernelTry = tryOverlay(storageRoot, (dirs) => {
    native().mount('overlay', dirs.merged, 'overlay', 0,
      `lowerdir=${dirs.lower},upperdir=${dirs.upper},workdir=${dirs.work},userxattr`);
  });
  if (kernelTry === undefined) {
    Object.assign(result, { driver: 'overlay', nativeOverlay: true });
  } else {
    result.kernelError = kernelTry;
    const fuseTry = tryOverlay(storageRoot, (dirs) => {
      const r = spawnSync('fuse-overlayfs', ['-o', `lowerdir=${dirs.lower},upperdir=${dirs.upper},workdir=${dirs.work}`, dirs.merged], { encoding: 'utf8' });
      if (r.error) throw r.error;
      if (r.status !== 0) throw new Error(r.stderr.trim() || `fuse-overlayfs exited with ${r.status}`);
    });
    if (fuseTry === undefined) Object.assign(result, { driver: 'overlay', mountProgram: 'fuse-overlayfs' });
    else result.fuseError = fuseTry;
  }
  log.debug(`graph driver probe: ${JSON.stringify(result)}`);
  remember(runRoot, cacheFile, result);
  try {
    fs.mkdirSync(path.dirname(userFile), { recursive: true, mode: 0o700 });
    writeJsonAtomic(userFile, result);
  } catch (err) {
    // Only the next boot's first command probes again.
    log.debug(`cannot keep the driver probe in ${userFile}: ${(err as Error).message}`);
  }
  return result;
}

function remember(runRoot: string, cacheFile: string, result: DriverProbe): void {
  fs.mkdirSync(runRoot, { recursive: true, mode: 0o700 });
  writeJsonAtomic(cacheFile, result);
}

interface ProbeDirs {
  lower: string;
  upper: string;
  work: string;
  merged: string;
}

/**
 * Mount an overlay over a scratch tree and delete a lower file through it (a
 * whiteout: what fails with EIO when the mount lacks userxattr). Returns
 * undefined on success, else why it failed.
 */
function tryOverlay(storageRoot: string, mount: (dirs: ProbeDirs) => void): string | undefined {
  const base = fs.mkdtempSync(path.join(storageRoot, '.probe-'));
  const dirs: ProbeDirs = {
    lower: path.join(base, 'lower'),
    upper: path.join(base, 'upper'),
    work: path.join(base, 'work'),
    merged: path.join(base, 'merged'),
  };
  for (const d of Object.values(dirs)) fs.mkdirSync(d);
  fs.writeFileSync(path.join(dirs.lower, 'gone'), 'x');
  fs.mkdirSync(path.join(dirs.lower, 'dir'));
  let mounted = false;
  try {
    mount(dirs);
    mounted = true;
    fs.rmSync(path.join(dirs.merged, 'gone'));
    fs.writeFileSync(path.join(dirs.merged, 'dir', 'new'), 'y');
    const whiteout = fs.lstatSync(path.join(dirs.upper, 'gone'));
    if (!whiteout.isCharacterDevice() && !fs.existsSync(path.join(dirs.upper, '.wh.gone'))) {
      return 'deleting a lower file left no whiteout';
    }
    return undefined;
  } catch (err) {
    return (err as Error).message;
  } finally {
    if (mounted) {
      try {
        native().umount(dirs.merged, MNT_DETACH);
      } catch (err) {
        log.debug(`probe unmount failed: ${(err as Error).message}`);
      }
    }
    fs.rmSync(base, { recursive: true, force: true });
  }
}
