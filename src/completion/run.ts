/** `tspod __complete ARGS...`: derive the specs from the CLI, complete, print cobra's lines. */
import { defaultStorageRoot, runtimeDir } from '../util/paths.js';
import { complete } from './engine.js';
import { describeDirective, formatResult } from './protocol.js';
import { specFromCli, type CommandSpec } from './spec.js';

export async function runComplete(
  args: string[],
  withDescriptions: boolean,
  stdout: NodeJS.WritableStream,
  stderr: NodeJS.WritableStream,
): Promise<number> {
  const specs = await loadSpecs();
  const result = complete(specs, args, { defaultPaths: () => ({ storageRoot: defaultStorageRoot(), runRoot: runtimeDir() }) });
  stdout.write(formatResult(result, withDescriptions));
  stderr.write(`Completion ended with directive: ${describeDirective(result.directive)}\n`);
  return 0;
}

/** The command specs, from the same registrations clipanion parses with. */
export async function loadSpecs(): Promise<CommandSpec[]> {
  const { buildCli } = await import('../cli/main.js');
  return specFromCli(buildCli());
}
