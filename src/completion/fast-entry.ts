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
    process.stdout.write(formatResult(result, args[0] === '__complete'));
    process.stderr.write(`Completion ended with directive: ${describeDirective(result.directive)}\n`);
  } catch (err) {
    process.stdout.write(':1\n');
    process.stderr.write(`Error: completion failed: ${(err as Error)?.message ?? String(err)}\n`);
  }
  return 0;
}
