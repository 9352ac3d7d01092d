/**
 * What the completion engine knows of the command line, derived from clipanion's
 * own registrations (the same builders clipanion parses with), so a new command or
 * option is completed as soon as it is registered in src/cli/main.ts.
 */

export interface OptionSpec {
  /** As declared: `-e`, `--env`. */
  names: string[];
  /** Takes a value (`--name NAME`); false for a boolean flag. */
  takesValue: boolean;
  description: string;
  hidden: boolean;
}

export interface CommandSpec {
  /** Every path the command answers to (`ps`, `container ps`, `container ls`...). */
  paths: string[][];
  description: string;
  options: OptionSpec[];
  /** Named leading positionals (`IMAGE`), then whether more may follow. */
  positionals: string[];
  rest: boolean;
  /** After the positionals, everything belongs to the inner command (run's COMMAND). */
  proxy: boolean;
  hidden: boolean;
}

/** The subset of clipanion's Cli this reads (its `registrations` map is not typed publicly). */
interface ClipanionBuilder {
  paths: string[][];
  options: { names: string[]; description?: string; arity: number; hidden: boolean }[];
  arity: { leading: string[]; trailing: string[]; extra: string[] | symbol; proxy: boolean };
}
interface ClipanionCliLike {
  registrations?: Map<{ usage?: { description?: string }; paths?: string[][] }, { builder: ClipanionBuilder }>;
}

export function specFromCli(cli: unknown): CommandSpec[] {
  const regs = (cli as ClipanionCliLike).registrations;
  if (!(regs instanceof Map)) throw new Error('clipanion no longer exposes its registrations; update src/completion/spec.ts');
  const specs: CommandSpec[] = [];
  for (const [cls, { builder }] of regs) {
    const paths = builder.paths.filter((p) => p.length > 0);
    if (paths.length === 0) continue;
    // The help command answers to -h/--help: those are options, not commands.
    if (paths.every((p) => p[0].startsWith('-'))) continue;
    const usage = cls.usage;
    specs.push({
      paths: paths.filter((p) => !p[0].startsWith('-')),
      description: (usage?.description ?? '').trim(),
      options: builder.options.map((o) => ({
        names: o.names,
        takesValue: o.arity > 0,
        description: (o.description ?? '').trim(),
        hidden: o.hidden,
      })),
      positionals: [...builder.arity.leading, ...builder.arity.trailing],
      rest: typeof builder.arity.extra === 'symbol' || builder.arity.extra.length > 0,
      proxy: builder.arity.proxy,
      // Commands without a usage (__complete) and the monitor's cleanup stay out of sight.
      hidden: usage === undefined || paths.some((p) => p[0].startsWith('__')),
    });
  }
  return specs;
}

/** Options every command shares (tspod's global options): the intersection of all option sets. */
export function globalOptions(specs: CommandSpec[]): OptionSpec[] {
  const visible = specs.filter((s) => !s.hidden);
  if (visible.length === 0) return [];
  return visible[0].options.filter((o) => visible.every((s) => s.options.some((x) => x.names.join() === o.names.join())));
}

export function longName(o: OptionSpec): string {
  return o.names.find((n) => n.startsWith('--')) ?? o.names[0];
}
