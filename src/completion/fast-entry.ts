/**
 * `tspod __complete` without the CLI: bundled on its own as dist/complete.cjs
 * (CommonJS, so no ES module loader starts) and required by src/entry.ts when
 * the first word is `__complete` or `__completeNoDesc`. The command specs come
 * from dist/completion-spec.json, which the build writes from clipanion's
 * registrations; when that file is missing or older than dist/cli.cjs, the specs
 * are derived from the CLI itself (slower) and the file is written again if
 * the installation is writable.
 */
import fs from 'node:fs';
import path from 'node:path';
import { defaultStorageRoot, runtimeDir } from '../util/paths.js';
import { complete } from './engine.js';
import { describeDirective, formatResult } from './protocol.js';
import type { CommandSpec } from './spec.js';

interface SpecFile {
  /** dist/cli.cjs's size and mtime when the specs were taken from it. */
  cli: { size: number; mtimeMs: number };
  specs: CommandSpec[];
}

function distDir(): string {
  return __dirname;
}

function cliStamp(): SpecFile['cli'] | undefined {
  try {
    const st = fs.statSync(path.join(distDir(), 'cli.cjs'));
    return { size: st.size, mtimeMs: st.mtimeMs };
  } catch {
    return undefined;
  }
}

function readSpecFile(): CommandSpec[] | undefined {
  try {
    const file = JSON.parse(fs.readFileSync(path.join(distDir(), 'completion-spec.json'), 'utf8')) as SpecFile;
    const stamp = cliStamp();
    if (!stamp || file.cli.size !== stamp.size || file.cli.mtimeMs !== stamp.mtimeMs) return undefined;
    return file.specs;
  } catch {
    return undefined;
  }
}

/** Derive the specs from the bundled CLI and keep them beside it; the build calls this. */
export async function writeSpecFile(): Promise<CommandSpec[]> {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const cli = require(path.join(distDir(), 'cli.cjs')) as { buildCli: () => unknown };
  const { specFromCli } = await import('./spec.js');
  const specs = specFromCli(cli.buildCli());
  const stamp = cliStamp();
  if (stamp) {
    const target = path.join(distDir(), 'completion-spec.json');
    const tmp = `${target}.${process.pid}.tmp`;
    try {
      fs.writeFileSync(tmp, JSON.stringify({ cli: stamp, specs } satisfies SpecFile));
      fs.renameSync(tmp, target);
    } catch {
      fs.rmSync(tmp, { force: true });
      // a read-only installation: derive the specs each time
    }
  }
  return specs;
}

export async function run(args: string[]): Promise<number> {
  try {
    const specs = readSpecFile() ?? (await writeSpecFile());
    const result = complete(specs, args.slice(1), { defaultPaths: () => ({ storageRoot: defaultStorageRoot(), runRoot: runtimeDir() }) });
    writeOut(1, formatResult(result, args[0] === '__complete'));
    writeOut(2, `Completion ended with directive: ${describeDirective(result.directive)}\n`);
  } catch (err) {
    writeOut(1, ':1\n');
    writeOut(2, `Error: completion failed: ${(err as Error)?.message ?? String(err)}\n`);
  }
  return 0;
}

/**
 * Straight to the file descriptor: a Tab's answer is a few kB, and creating
 * process.stdout (a stream over a pipe) costs 6 ms of every completion.
 */
function writeOut(fd: 1 | 2, text: string): void {
  const data = Buffer.from(text);
  for (let off = 0; off < data.length; ) {
    try {
      off += fs.writeSync(fd, data, off);
    } catch (err) {
      // A non-blocking pipe that is full for a moment: try again; anything else (EPIPE: the shell went away) ends it.
      if ((err as NodeJS.ErrnoException).code !== 'EAGAIN') return;
    }
  }
}
