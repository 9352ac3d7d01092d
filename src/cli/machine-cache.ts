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
interface PackedMachine {
  /** Tests and reducers, each once: clipanion shares one option list among hundreds of transitions. */
  values: unknown[];
  nodes: { statics: Record<string, PackedTransition[]>; dynamics: [test: number, ...PackedTransition][]; shortcuts: PackedTransition[] }[];
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
  const nodes = machine.nodes.map((node) => ({
    statics: Object.fromEntries(Object.entries(node.statics).map(([segment, ts]) => [segment, ts.map(pack)])),
    dynamics: node.dynamics.map(([test, t]): [number, ...PackedTransition] => [intern(test), ...pack(t)]),
    shortcuts: node.shortcuts.map(pack),
  }));
  return { values, nodes };
}

export function unpackMachine(packed: PackedMachine): StateMachine {
  const { values } = packed;
  const unpack = ([to, reducer]: PackedTransition): Transition =>
    (reducer === undefined ? { to } : { to, reducer: values[reducer] }) as Transition;
  return {
    // Keys in clipanion's order (makeNode), so a machine compares equal as JSON.
    nodes: packed.nodes.map((node) => ({
      dynamics: node.dynamics.map(([test, ...t]) => [values[test], unpack(t)]),
      shortcuts: node.shortcuts.map(unpack),
      statics: Object.fromEntries(Object.entries(node.statics).map(([segment, ts]) => [segment, ts.map(unpack)])),
    })),
  } as StateMachine;
}
