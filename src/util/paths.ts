import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import { TspodError } from './errors.js';

/**
 * The host user behind this process. Inside the rootless user namespace getuid()
 * is 0, so the launcher exports the real ids before joining.
 */
export function hostUid(): number {
  const fromLauncher = process.env._TSPOD_ROOTLESS_UID;
  if (fromLauncher !== undefined && process.getuid?.() === 0 && inRootlessNamespace()) return Number(fromLauncher);
  return process.getuid?.() ?? 0;
}

export function hostGid(): number {
  const fromLauncher = process.env._TSPOD_ROOTLESS_GID;
  if (fromLauncher !== undefined && process.getgid?.() === 0 && inRootlessNamespace()) return Number(fromLauncher);
  return process.getgid?.() ?? 0;
}

/** True when the launcher joined (or a parent already was in) the rootless namespace. */
export function inRootlessNamespace(): boolean {
  return process.env._TSPOD_USERNS_JOINED === '1';
}

/** Rootless: run by an ordinary user (whether or not the namespace is joined yet). */
export function isRootless(): boolean {
  return hostUid() !== 0;
}

function home(): string {
  return process.env.HOME || os.homedir();
}

/** Where images, layers, containers and volumes live. */
export function defaultStorageRoot(): string {
  if (!isRootless()) return '/var/lib/tspod';
  const dataHome = process.env.XDG_DATA_HOME || path.join(home(), '.local', 'share');
  return path.join(dataHome, 'tspod');
}

/** tspod's per-user cache (kept across boots; anything in it can be made again). */
export function cacheDir(): string {
  const cacheHome = process.env.XDG_CACHE_HOME || path.join(home(), '.cache');
  return path.join(cacheHome, 'tspod');
}

export function configDir(): string {
  const configHome = process.env.XDG_CONFIG_HOME || path.join(home(), '.config');
  return path.join(configHome, 'tspod');
}

/**
 * The per-user runtime directory (pause pid, locks, probe results; gone at
 * reboot). Same rules as native/src/rundir.c, which the launcher uses to find
 * the pause process before Node starts.
 */
export function runtimeDir(uid = hostUid()): string {
  if (uid === 0 && !isRootless()) return '/run/tspod';
  const xdg = process.env.XDG_RUNTIME_DIR;
  if (xdg) return path.join(xdg, 'tspod');
  const userRun = `/run/user/${uid}`;
  try {
    const st = fs.lstatSync(userRun);
    if (st.isDirectory() && st.uid === uid && (st.mode & 0o777) === 0o700) return path.join(userRun, 'tspod');
  } catch {
    // no /run/user/UID (su and runuser sessions): fall through to TMPDIR
  }
  return path.join(process.env.TMPDIR || '/tmp', `tspod-run-${uid}`);
}

/**
 * Create the runtime directory (mode 0700) and refuse one that is a symlink or
 * belongs to someone else: in /tmp anybody could have made it first.
 */
export function ensureRuntimeDir(dir = runtimeDir()): string {
  fs.mkdirSync(dir, { recursive: true, mode: 0o700 });
  const st = fs.lstatSync(dir);
  // Inside the user namespace our own files show as owned by uid 0.
  const me = process.getuid?.() ?? 0;
  if (st.isSymbolicLink() || !st.isDirectory() || st.uid !== me) {
    throw new TspodError(
      `the runtime directory ${dir} is not a directory owned by you; remove it or set XDG_RUNTIME_DIR to a private directory`,
    );
  }
  return dir;
}

let cachedPackageRoot: string | undefined;

/** The installed package's root (holds package.json, native/build, dist). */
export function packageRoot(): string {
  if (cachedPackageRoot) return cachedPackageRoot;
  let dir = path.dirname(fileURLToPath(import.meta.url));
  for (;;) {
    const candidate = path.join(dir, 'package.json');
    if (fs.existsSync(candidate) && fs.existsSync(path.join(dir, 'native'))) return (cachedPackageRoot = dir);
    const parent = path.dirname(dir);
    if (parent === dir) throw new TspodError('cannot find the tspod installation directory; reinstall tspod');
    dir = parent;
  }
}

export function launcherPath(): string {
  return path.join(packageRoot(), 'native', 'build', 'Release', 'tspod-launch');
}
