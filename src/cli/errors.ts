import { ExitCode, TspodError } from '../util/errors.js';
import { log } from '../util/log.js';

/**
 * Print an error the Podman way, on one line: `Error: <what>`; the stack only
 * with --log-level debug. Returns the exit status to use.
 */
export function reportError(error: unknown): number {
  if (error instanceof TspodError) {
    process.stderr.write(`Error: ${error.message}\n`);
    if (error.cause) log.debug(`caused by: ${describe(error.cause)}`);
    return error.exitCode;
  }
  const err = error as NodeJS.ErrnoException;
  if (err && typeof err === 'object' && err.code && err.message) {
    // A system error nobody translated: still one line, with what it touched.
    process.stderr.write(`Error: ${err.message}\n`);
  } else {
    process.stderr.write(`Error: ${String((err && err.message) || err)}\n`);
  }
  log.debug(`stack: ${describe(error)}`);
  return ExitCode.EngineError;
}

function describe(e: unknown): string {
  return e instanceof Error ? e.stack || e.message : String(e);
}

/** Clipanion's parse errors, turned into Podman-like one-liners. */
export function describeUsageError(error: unknown, argv: string[], groups: Set<string> = new Set()): string {
  const message = error instanceof Error ? error.message : String(error);
  if (message.startsWith('Command not found')) {
    const words = argv.filter((a) => !a.startsWith('-'));
    if (words.length === 0) return "missing command 'tspod COMMAND'; run 'tspod --help' to list the commands";
    if (groups.has(words[0])) {
      return words.length === 1
        ? `missing command 'tspod ${words[0]} COMMAND'; run 'tspod ${words[0]} --help' to list its commands`
        : `unrecognized command \`tspod ${words[0]} ${words[1]}\`; run 'tspod ${words[0]} --help' to list its commands`;
    }
    return `unrecognized command \`tspod ${words[0]}\`; run 'tspod --help' to list the commands`;
  }
  const unknownOption = /Unsupported option name \("([^"]+)"\)/.exec(message);
  if (unknownOption) {
    return `unknown flag: ${unknownOption[1]}; run 'tspod ${argv.filter((a) => !a.startsWith('-'))[0] ?? ''} --help' to list its flags`.replace('  ', ' ');
  }
  const invalidShort = /Invalid option name \("-([A-Za-z])([^"]*)"\)/.exec(message);
  if (invalidShort) {
    // pflag's words: the first letter that is no flag of this command.
    return `unknown shorthand flag: '${invalidShort[1]}' in -${invalidShort[1]}${invalidShort[2]}; run 'tspod ${argv.filter((a) => !a.startsWith('-'))[0] ?? ''} --help' to list its flags`.replace('  ', ' ');
  }
  const firstLine = message.split('\n').find((l) => l.trim()) ?? message;
  return `${firstLine.trim()}; run 'tspod --help' for usage`;
}
