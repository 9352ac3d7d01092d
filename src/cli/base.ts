import { Command, Option } from 'clipanion';
import { type GlobalContext, resolveGlobals } from './context.js';
import { reportError } from './errors.js';

/**
 * Every tspod command: Podman's global options, and errors reported as one
 * line with Podman's exit codes instead of clipanion's default.
 */
export abstract class TspodCommand extends Command {
  logLevel = Option.String('--log-level', {
    description: 'Log messages at and above this level (trace, debug, info, warn, error, fatal, panic)',
  });
  root = Option.String('--root', { description: 'Path to the storage root directory' });
  runroot = Option.String('--runroot', { description: 'Path to the runtime state directory' });
  storageDriver = Option.String('--storage-driver', { description: 'Storage driver: overlay or vfs' });

  /** Set when execute() failed; main() returns it as the exit status. */
  failedWith?: number;

  private globalsCache?: GlobalContext;

  get globals(): GlobalContext {
    this.globalsCache ??= resolveGlobals(this);
    return this.globalsCache;
  }

  override async catch(error: unknown): Promise<void> {
    this.failedWith = reportError(error);
  }

  /** Write to stdout (kept in one place so output can be captured in tests). */
  out(text: string): void {
    this.context.stdout.write(text);
  }
}
