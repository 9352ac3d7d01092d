import { Command, Option } from 'clipanion';

/**
 * `tspod __complete WORDS... CURRENT`: the hidden command the shell scripts call
 * (cobra's protocol). It takes every word as is, options included, and never
 * fails loudly: a completion error must not spill into the user's prompt.
 */
abstract class HiddenCompleteCommand extends Command {
  words = Option.Proxy();
  protected abstract readonly descriptions: boolean;

  async execute(): Promise<number> {
    try {
      const { runComplete } = await import('../../completion/run.js');
      return await runComplete(this.words, this.descriptions, this.context.stdout, this.context.stderr);
    } catch (err) {
      this.context.stdout.write(':1\n');
      this.context.stderr.write(`Error: completion failed: ${(err as Error)?.message ?? String(err)}\n`);
      return 0;
    }
  }
}

export class CompleteCommand extends HiddenCompleteCommand {
  static override paths = [['__complete']];
  protected readonly descriptions = true;
}

export class CompleteNoDescCommand extends HiddenCompleteCommand {
  static override paths = [['__completeNoDesc']];
  protected readonly descriptions = false;
}

