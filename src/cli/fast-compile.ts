import type { Cli } from 'clipanion';
import * as core from 'clipanion/lib/core.js';
import { END_OF_INPUT } from 'clipanion/lib/constants.js';

type Machine = core.StateMachine;

/** A command's parser builder; `context` (private in the typings) holds the command class. */
type Builder = Pick<core.CommandBuilder<unknown>, 'compile'>;
const contextOf = (b: Builder) => (b as unknown as { context?: { commandClass?: { paths?: string[][] } } }).context;

/** What a machine was compiled for: the registered commands' paths, in order. */
export function machineKey(builders: Builder[]): string {
  return builders.map((b) => (contextOf(b)?.commandClass?.paths ?? []).map((p) => p.join(' ')).join(',')).join('|');
}

/** clipanion's CliBuilder.compile, the machine alone: what the build caches (compileMachineCache). */
export function compileMachine(builders: Builder[]): { machine: Machine; contexts: unknown[] } {
  const machines: Machine[] = [];
  const contexts: unknown[] = [];
  for (const builder of builders) {
    const { machine, context } = builder.compile();
    machines.push(machine);
    contexts.push(context);
  }
  const machine = core.makeAnyOfMachine(machines);
  core.simplifyMachine(machine);
  return { machine, contexts };
}

/** A machine the build compiled for these commands, if it has one (see writeMachineCache). */
export type MachineCache = (key: string) => Machine | undefined;

/**
 * Make `cli.process` use a machine compiled at build time for the same set of
 * commands, else compileMachine. Building the machine costs 50-80 ms of a cold
 * start for `run`, whose parser has about 250 states; reading it as JSON, a few.
 * Suggestions (unused by tspod, whose completion has its own engine) keep
 * clipanion's own compile.
 */
export function installFastCompile(cli: Cli, cache?: MachineCache): void {
  const builder = (cli as unknown as { builder: { builders: Builder[]; compile: () => unknown } }).builder;
  const original = builder.compile.bind(builder) as () => { suggest: (input: string[], partial: boolean) => unknown };
  builder.compile = () => {
    const cached = cache?.(machineKey(builder.builders));
    const { machine, contexts } = cached
      ? { machine: cached, contexts: builder.builders.map(contextOf) }
      : compileMachine(builder.builders);
    return {
      machine,
      contexts,
      process: (input: string[]) => {
        const branches = core.runMachineInternal(machine, [...input, END_OF_INPUT]);
        return core.selectBestState(input, branches.map(({ state }) => state));
      },
      suggest: (input: string[], partial: boolean) => original().suggest(input, partial),
    };
  };
}
