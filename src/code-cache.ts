// Loads the CLI's CommonJS bundle with a V8 code cache, so that a command
// skips parsing and compiling the code it ran last time (tens of ms of every
// start; Node 20 caches no ES module code). The cache lives beside the bundle
// when that is writable, else in the user's cache directory; V8 rejects a
// cache made for other source or another Node, and it is then made afresh.
import fs from 'node:fs';
import Module from 'node:module';
import os from 'node:os';
import path from 'node:path';
import vm from 'node:vm';

type CliModule = { main: (argv: string[]) => Promise<number> };

function cacheCandidates(bundle: string, flavour: string): string[] {
  const name = `${path.basename(bundle)}.${process.version}-${process.arch}${flavour ? `.${flavour}` : ''}.v8cache`;
  const userCache = process.env.XDG_CACHE_HOME || path.join(os.homedir(), '.cache');
  return [path.join(path.dirname(bundle), name), path.join(userCache, 'tspod', name)];
}

function readCache(files: string[]): Buffer | undefined {
  for (const file of files) {
    try {
      return fs.readFileSync(file);
    } catch {
      // none there
    }
  }
  return undefined;
}

/** Replace the cache atomically in the first place that takes it; a failure only costs speed. */
function writeCache(files: string[], data: Buffer): void {
  for (const file of files) {
    const tmp = `${file}.${process.pid}.tmp`;
    try {
      fs.mkdirSync(path.dirname(file), { recursive: true });
      fs.writeFileSync(tmp, data);
      fs.renameSync(tmp, file);
      return;
    } catch {
      fs.rmSync(tmp, { force: true });
    }
  }
}

/**
 * The CLI module from `bundle`, and a function to call when the command is
 * done, which saves a code cache if there was none or V8 refused it. A cache
 * holds the functions compiled by the command that made it, so each `flavour`
 * (the command word) keeps its own: `run` made from `ps`'s cache would compile
 * its own code on every start (measured: ~20 ms of CPU per run under load).
 */
export function loadWithCodeCache<M = CliModule>(bundle: string, opts: { useCache: boolean; flavour?: string }): { cli: M; done: () => void } {
  const files = opts.useCache ? cacheCandidates(bundle, opts.flavour ?? '') : [];
  const cachedData = readCache(files);
  // The build guarantees an ASCII bundle, and latin1 decodes it several times faster than UTF-8.
  const source = fs.readFileSync(bundle, 'latin1');
  const script = new vm.Script(Module.wrap(source), { filename: bundle, cachedData });
  const mod = { exports: {} as M };
  const compiled = script.runInThisContext() as (...args: unknown[]) => void;
  compiled.call(mod.exports, mod.exports, Module.createRequire(bundle), mod, bundle, path.dirname(bundle));
  const done = () => {
    if (!opts.useCache || (cachedData && !script.cachedDataRejected)) return;
    writeCache(files, script.createCachedData());
  };
  return { cli: mod.exports, done };
}
