import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';
import { parseBoolFlag } from '../image/pull.js';

export class AttachCommand extends TspodCommand {
  static override paths = [['attach'], ['container', 'attach']];
  static override usage = Command.Usage({
    category: 'Containers',
    description: 'Attach to a running container',
    details:
      "Connects to the container's monitor: its output comes here, your input goes to it (containers created with -i), a terminal's window size follows yours. The detach keys (default ctrl-p,ctrl-q) leave it running; signals you send tspod reach the container unless --sig-proxy=false.",
    examples: [
      ['Attach to a container', 'tspod attach web'],
      ['Only watch its output', 'tspod attach --no-stdin web'],
    ],
  });

  detachKeys = Option.String('--detach-keys', { description: 'Key sequence that detaches: a character, or ctrl-<value> keys separated by commas ("" disables)' });
  noStdin = Option.Boolean('--no-stdin', false, { description: 'Do not attach STDIN' });
  sigProxy = Option.String('--sig-proxy', { description: 'Proxy received signals to the container process (default true)', tolerateBoolean: true });
  latest = Option.Boolean('-l,--latest', false, { description: 'Act on the latest container tspod knows of' });
  container = Option.String({ required: false, name: 'CONTAINER' });

  async execute(): Promise<number> {
    const { TspodError } = await import('../../util/errors.js');
    const { DEFAULT_DETACH_KEYS, parseDetachKeys } = await import('../../runtime/detach-keys.js');
    const detachKeys = parseDetachKeys(this.detachKeys ?? DEFAULT_DETACH_KEYS);
    const sigProxy = parseBoolFlag(this.sigProxy, '--sig-proxy') ?? true;
    const { openStore } = await import('../../runtime/lifecycle.js');
    const store = openStore(this.globals);
    let target = this.container;
    if (this.latest) target = store.list()[0]?.id;
    if (!target) throw new TspodError(this.latest ? 'no containers to attach to with --latest' : 'attach requires the name or ID of a running container');
    const { attachContainer } = await import('../../runtime/attach.js');
    const { DETACHED } = await import('../../runtime/monitor-client.js');
    const code = await attachContainer(store, target, { detachKeys, stdin: !this.noStdin, sigProxy });
    return code === DETACHED ? 0 : code;
  }
}
