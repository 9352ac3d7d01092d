import fs from 'node:fs';
import path from 'node:path';
import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class CompletionCommand extends TspodCommand {
  static override paths = [['completion']];
  static override usage = Command.Usage({
    category: 'System',
    description: 'Generate shell autocompletions',
    details:
      'Prints the completion script for bash (with bash-completion), zsh (with compinit) or fish. The script is thin: it asks `tspod __complete` for the candidates, so completions follow the installed tspod.\n\n' +
      'bash: `tspod completion bash -f ~/.local/share/bash-completion/completions/tspod`; ' +
      'zsh: `tspod completion zsh -f "${fpath[1]}/_tspod"`, then `compinit`; ' +
      'fish: `tspod completion fish -f ~/.config/fish/completions/tspod.fish`.',
    examples: [
      ['Install bash completion for your user', 'tspod completion bash -f ~/.local/share/bash-completion/completions/tspod'],
      ['Load zsh completion into this shell', 'source <(tspod completion zsh)'],
    ],
  });

  file = Option.String('-f,--file', { description: 'Write the script to this file instead of stdout' });
  noDesc = Option.Boolean('--no-desc', false, { description: 'Do not show the descriptions of the candidates' });
  shell = Option.String({ name: 'SHELL' });

  async execute(): Promise<number> {
    const { SHELLS, completionScript } = await import('../../completion/scripts.js');
    const { TspodError } = await import('../../util/errors.js');
    if (!(SHELLS as readonly string[]).includes(this.shell)) {
      throw new TspodError(`unsupported shell "${this.shell}": use one of ${SHELLS.join(', ')}`);
    }
    const script = completionScript(this.shell as (typeof SHELLS)[number], 'tspod', { descriptions: !this.noDesc });
    if (this.file === undefined || this.file === '-') {
      this.out(script);
      return 0;
    }
    fs.mkdirSync(path.dirname(path.resolve(this.file)), { recursive: true });
    fs.writeFileSync(this.file, script);
    return 0;
  }
}
