import type { Cli } from 'clipanion';
import * as core from 'clipanion/lib/core.js';
import { END_OF_INPUT, NODE_INITIAL } from 'clipanion/lib/constants.js';

type Machine = core.StateMachine;
type Node = Machine['nodes'][number];

/**
 * clipanion 3.2's simplifyMachine, with the same result in the same order, but
 * with sets instead of linear scans. The original is quadratic in the number of
 * options of a command: for `run` (about 50 options) it took 50 ms of every
 * `tspod run`. test/unit/foundation/fast-compile.test.ts checks that both give
 * the same machine for every command.
 */
export function simplifyMachineFast(machine: Machine): void {
  const visited = new Set<number>();
  const visit = (index: number): void => {
    if (visited.has(index)) return;
    visited.add(index);
    const node: Node = machine.nodes[index];
    for (const transitions of Object.values(node.statics)) for (const { to } of transitions) visit(to);
    for (const [, { to }] of node.dynamics) visit(to);
    for (const { to } of node.shortcuts) visit(to);
    if (node.shortcuts.length === 0) return;

    const staticTargets = new Map<string, Set<number>>();
    const staticStore = (segment: string) => {
      let seen = staticTargets.get(segment);
      if (!seen) {
        if (!Object.prototype.hasOwnProperty.call(node.statics, segment)) node.statics[segment] = [];
        seen = new Set(node.statics[segment].map(({ to }) => to));
        staticTargets.set(segment, seen);
      }
      return { store: node.statics[segment], seen };
    };
    const dynamicTargets = new Map<unknown, Set<number>>();
    for (const [test, { to }] of node.dynamics) {
      if (!dynamicTargets.has(test)) dynamicTargets.set(test, new Set());
      dynamicTargets.get(test)!.add(to);
    }
    const queued = new Set(node.shortcuts.map(({ to }) => to));
    const queue = node.shortcuts;
    for (let next = 0; next < queue.length; next++) {
      const target = machine.nodes[queue[next].to];
      for (const [segment, transitions] of Object.entries(target.statics)) {
        const { store, seen } = staticStore(segment);
        for (const transition of transitions) {
          if (seen.has(transition.to)) continue;
          store.push(transition);
          seen.add(transition.to);
        }
      }
      for (const [test, transition] of target.dynamics) {
        let seen = dynamicTargets.get(test);
        if (!seen) dynamicTargets.set(test, (seen = new Set()));
        if (seen.has(transition.to)) continue;
        node.dynamics.push([test, transition]);
        seen.add(transition.to);
      }
      for (const transition of target.shortcuts) {
        if (queued.has(transition.to)) continue;
        queue.push(transition);
        queued.add(transition.to);
      }
    }
    queue.length = 0;
  };
  visit(NODE_INITIAL);
}

/** A command's parser builder; `context` (private in the typings) holds the command class. */
type Builder = Pick<core.CommandBuilder<unknown>, 'compile'>;
const contextOf = (b: Builder) => (b as unknown as { context?: { commandClass?: { paths?: string[][] } } }).context;

/** What a machine was compiled for: the registered commands' paths, in order. */
export function machineKey(builders: Builder[]): string {
  return builders.map((b) => (contextOf(b)?.commandClass?.paths ?? []).map((p) => p.join(' ')).join(',')).join('|');
}

/** clipanion's CliBuilder.compile with simplifyMachineFast in place of simplifyMachine. */
export function compileMachine(builders: Builder[]): { machine: Machine; contexts: unknown[] } {
  const machines: Machine[] = [];
  const contexts: unknown[] = [];
  for (const builder of builders) {
    const { machine, context } = builder.compile();
    machines.push(machine);
    contexts.push(context);
  }
  const machine = core.makeAnyOfMachine(machines);
  simplifyMachineFast(machine);
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
