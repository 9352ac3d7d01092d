import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';
import type { StateMachine } from 'clipanion/lib/core.js';
import type { MachineCache } from './fast-compile.js';

/**
 * Parser machines compiled by the build, one file per first word of the
 * command line (`_all` for the full set), beside the bundled CLI. Run from the
 * sources there are none, and the CLI compiles its machine itself.
 */
const MACHINE_DIR = 'machines';

function cacheFile(dir: string, word: string | undefined): string {
  return path.join(dir, `${word ?? '_all'}.json`);
}

/** The machine cache for a command line whose first word is `word`. */
export function readMachineCache(word: string | undefined, outDir?: string): MachineCache {
  return (key) => {
    try {
      const dir = outDir ? path.join(outDir, MACHINE_DIR) : fileURLToPath(new URL(`./${MACHINE_DIR}/`, import.meta.url));
      const entry = JSON.parse(fs.readFileSync(cacheFile(dir, word), 'utf8')) as { key: string; machine: PackedMachine };
      return entry.key === key ? unpackMachine(entry.machine) : undefined;
    } catch {
      return undefined;
    }
  };
}

export function writeMachineCache(outDir: string, entries: { word: string | undefined; key: string; machine: StateMachine }[]): void {
  const dir = path.join(outDir, MACHINE_DIR);
  fs.mkdirSync(dir, { recursive: true });
  for (const { word, key, machine } of entries) fs.writeFileSync(cacheFile(dir, word), JSON.stringify({ key, machine: packMachine(machine) }));
}

type Node = StateMachine['nodes'][number];
type Transition = Node['shortcuts'][number];
type PackedTransition = [to: number, reducer?: number];
interface PackedNode {
  statics: Record<string, PackedTransition[]>;
  dynamics: [test: number, to: number, reducer?: number][];
  shortcuts: PackedTransition[];
}
interface PackedMachine {
  /** Tests and reducers, each once: clipanion shares one option list among hundreds of transitions. */
  values: unknown[];
  /** Each node as its own JSON text, parsed only when the parser reaches it. */
  nodes: string[];
}

export function packMachine(machine: StateMachine): PackedMachine {
  const values: unknown[] = [];
  const index = new Map<string, number>();
  const intern = (value: unknown): number => {
    const json = JSON.stringify(value);
    let i = index.get(json);
    if (i === undefined) index.set(json, (i = values.push(value) - 1));
    return i;
  };
  const pack = (t: Transition): PackedTransition => (t.reducer === undefined ? [t.to] : [t.to, intern(t.reducer)]);
  const nodes = machine.nodes.map((node) =>
    JSON.stringify({
      statics: Object.fromEntries(Object.entries(node.statics).map(([segment, ts]) => [segment, ts.map(pack)])),
      dynamics: node.dynamics.map(([test, t]) => [intern(test), ...pack(t)]),
      shortcuts: node.shortcuts.map(pack),
    } satisfies PackedNode),
  );
  return { values, nodes };
}

/**
 * The machine, its nodes unpacked on first use: a command line visits a few
 * dozen of the hundreds of states, and unpacking them all cost 30 ms of a
 * cold start. clipanion reads the nodes only by index.
 */
export function unpackMachine(packed: PackedMachine): StateMachine {
  const { values } = packed;
  const transition = (to: number, reducer: number | undefined): Transition =>
    (reducer === undefined ? { to } : { to, reducer: values[reducer] }) as Transition;
  const unpackNode = (text: string): Node => {
    const node = JSON.parse(text) as PackedNode;
    // Keys in clipanion's order (makeNode), so a machine compares equal as JSON.
    return {
      dynamics: node.dynamics.map((d) => [values[d[0]], transition(d[1], d[2])]),
      shortcuts: node.shortcuts.map((t) => transition(t[0], t[1])),
      statics: Object.fromEntries(Object.entries(node.statics).map(([segment, ts]) => [segment, ts.map((t) => transition(t[0], t[1]))])),
    } as Node;
  };
  const unpacked: Node[] = [];
  const nodes = new Proxy(packed.nodes as unknown as Node[], {
    get(target, property, receiver) {
      if (typeof property === 'string' && /^\d+$/.test(property)) {
        const i = Number(property);
        if (i < packed.nodes.length) return (unpacked[i] ??= unpackNode(packed.nodes[i]));
      }
      return Reflect.get(target, property, receiver);
    },
  });
  return { nodes } as StateMachine;
}
