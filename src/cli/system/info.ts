import { Command, Option } from 'clipanion';
import { TspodCommand } from '../base.js';

export class InfoCommand extends TspodCommand {
  static override paths = [['info'], ['system', 'info']];
  static override usage = Command.Usage({
    category: 'System',
    description: 'Display tspod related system information',
    details: 'Shows the host (kernel, cgroups, id mappings, network helpers), the store (graph driver, paths) and version. The default output is YAML; `--format json` prints JSON and a Go template selects fields.',
    examples: [
      ['Show everything', 'tspod info'],
      ['Print the graph driver', 'tspod info --format {{.Store.GraphDriverName}}'],
    ],
  });

  format = Option.String('-f,--format', { description: "Change the output format to JSON or a Go template" });

  async execute(): Promise<number> {
    const { requireUserNamespace } = await import('../../rootless/userns.js');
    await requireUserNamespace();
    const { gatherInfo } = await import('../../system/info.js');
    const report = gatherInfo(this.globals);
    if (this.format) {
      const { renderFormat } = await import('../../format/index.js');
      this.out(renderFormat(this.format, report, { jsonIndent: 4 }));
    } else {
      const { toYaml } = await import('../../util/yaml.js');
      this.out(toYaml(report));
    }
    return 0;
  }
}
