/**
 * The completion engine: given the command specs (derived from clipanion's
 * registrations) and the words typed after `tspod`, the last one being
 * completed, work out where the cursor is (a command name, an option, an
 * option's value, an argument) and offer candidates. Pure except for the
 * sources, which read the store's JSON.
 */
import path from 'node:path';
import { formatCandidates, FORMAT_FIELDS } from './format-fields.js';
import { Directive, type Candidate, type CompletionResult } from './protocol.js';
import { ARGUMENT_RULES, GROUP_DESCRIPTIONS, optionRule, type Rule } from './rules.js';
import {
  CAPABILITY_NAMES,
  containerCandidates,
  imageCandidates,
  NETWORK_MODES,
  networkCandidates,
  signalCandidates,
  podCandidates,
  volumeCandidates,
  type StorePaths,
} from './sources.js';
import { globalOptions, longName, type CommandSpec, type OptionSpec } from './spec.js';

const SLIRP4NETNS_OPTIONS = [
  'allow_host_loopback=true',
  'mtu=',
  'cidr=',
  'enable_ipv6=false',
  'outbound_addr=',
  'outbound_addr6=',
  'port_handler=rootlesskit',
  'port_handler=slirp4netns',
];

interface Node {
  children: Map<string, Node>;
  command?: CommandSpec;
  word: string;
}

export interface EngineEnv {
  /** Store locations when --root/--runroot are not on the command line. */
  defaultPaths: () => StorePaths;
}

function buildTree(specs: CommandSpec[]): Node {
  const root: Node = { children: new Map(), word: '' };
  for (const spec of specs) {
    for (const p of spec.paths) {
      let node = root;
      for (const w of p) {
        let next = node.children.get(w);
        if (!next) node.children.set(w, (next = { children: new Map(), word: w }));
        node = next;
      }
      node.command ??= spec;
    }
  }
  return root;
}

/** What the words before the cursor amount to. */
interface Parsed {
  node: Node;
  command?: CommandSpec;
  commandPath: string;
  positionals: string[];
  /** The option whose value the cursor is on (`--network <TAB>`). */
  pendingOption?: OptionSpec;
  /** Options (long names) given so far, with their values. */
  given: Map<string, string[]>;
  /** Past `--` or into the inner command of run/exec: no more options. */
  optionsDone: boolean;
}

function findOption(options: OptionSpec[], name: string): OptionSpec | undefined {
  return options.find((o) => o.names.includes(name));
}

function parseWords(tree: Node, specs: CommandSpec[], words: string[]): Parsed {
  const globals = globalOptions(specs);
  const given = new Map<string, string[]>();
  const record = (o: OptionSpec, value?: string) => {
    const k = longName(o);
    const list = given.get(k) ?? [];
    if (value !== undefined) list.push(value);
    given.set(k, list);
  };
  let node = tree;
  let i = 0;
  let pending: OptionSpec | undefined;
  // The command path, with global options allowed before it.
  while (i < words.length) {
    const w = words[i];
    // From the command on, its own parser below takes over (a command is never also a group here).
    if (node.command && !pending) break;
    if (pending) {
      record(pending, w);
      pending = undefined;
      i++;
      continue;
    }
    if (w.startsWith('-') && w.length > 1) {
      const [name, value] = splitOption(w);
      const o = findOption(globals, name);
      if (o?.takesValue && value === undefined) pending = o;
      else if (o) record(o, value);
      i++;
      continue;
    }
    const child = node.children.get(w);
    if (!child) break;
    node = child;
    i++;
  }
  const command = node.command;
  const parsed: Parsed = {
    node,
    command,
    commandPath: command ? command.paths[0].join(' ') : '',
    positionals: [],
    pendingOption: pending,
    given,
    optionsDone: false,
  };
  if (!command) {
    parsed.positionals = words.slice(i);
    return parsed;
  }
  const options = command.options;
  for (; i < words.length; i++) {
    const w = words[i];
    if (parsed.pendingOption) {
      record(parsed.pendingOption, w);
      parsed.pendingOption = undefined;
      continue;
    }
    if (parsed.optionsDone || !w.startsWith('-') || w === '-') {
      parsed.positionals.push(w);
      // run IMAGE COMMAND...: what follows the leading arguments is the inner command's.
      if (command.proxy && parsed.positionals.length >= Math.max(1, command.positionals.length)) parsed.optionsDone = true;
      continue;
    }
    if (w === '--') {
      parsed.optionsDone = true;
      continue;
    }
    if (w.startsWith('--')) {
      const [name, value] = splitOption(w);
      const o = findOption(options, name);
      if (o?.takesValue && value === undefined) parsed.pendingOption = o;
      else if (o) record(o, value);
      continue;
    }
    // Grouped short options: -it, -dit, -e FOO, -eFOO, -ie FOO.
    for (let j = 1; j < w.length; j++) {
      const o = findOption(options, `-${w[j]}`);
      if (!o) break;
      if (o.takesValue) {
        if (j < w.length - 1) record(o, w.slice(j + 1));
        else parsed.pendingOption = o;
        break;
      }
      record(o);
    }
  }
  return parsed;
}

function splitOption(word: string): [string, string | undefined] {
  const eq = word.indexOf('=');
  return eq < 0 ? [word, undefined] : [word.slice(0, eq), word.slice(eq + 1)];
}

export function complete(specs: CommandSpec[], args: string[], env: EngineEnv): CompletionResult {
  const visible = specs.filter((s) => !s.hidden);
  const tree = buildTree(specs);
  const toComplete = args.length ? args[args.length - 1] : '';
  const parsed = parseWords(tree, specs, args.slice(0, -1));
  const paths = storePaths(parsed, env);
  const command = parsed.command;

  if (parsed.pendingOption) return valueResult(parsed, parsed.pendingOption, toComplete, '', paths);

  if (!parsed.optionsDone && toComplete.startsWith('-')) {
    const options = command ? command.options : globalOptions(visible);
    // --opt=VALUE
    if (toComplete.startsWith('--') && toComplete.includes('=')) {
      const [name, value] = splitOption(toComplete);
      const o = findOption(options, name);
      if (!o || !o.takesValue) return { candidates: [], directive: Directive.NoFileComp };
      return valueResult(parsed, o, value ?? '', `${name}=`, paths);
    }
    // -sKILL, -it: a group of short options
    if (!toComplete.startsWith('--') && toComplete.length > 2) {
      for (let j = 1; j < toComplete.length; j++) {
        const o = findOption(options, `-${toComplete[j]}`);
        if (!o) return { candidates: [], directive: Directive.NoFileComp };
        if (o.takesValue) {
          if (j === toComplete.length - 1) return { candidates: [{ value: toComplete, description: o.description }], directive: Directive.NoFileComp };
          return valueResult(parsed, o, toComplete.slice(j + 1), toComplete.slice(0, j + 1), paths);
        }
      }
      return { candidates: [{ value: toComplete }], directive: Directive.NoFileComp };
    }
    return { candidates: optionCandidates(options, toComplete, parsed, globalOptions(visible)), directive: Directive.NoFileComp };
  }

  // A command name, at the top or inside a group (`container <TAB>`).
  if (!command || (parsed.node.children.size > 0 && parsed.positionals.length === 0)) {
    if (parsed.positionals.length > 0) return { candidates: [], directive: Directive.NoFileComp };
    const candidates: Candidate[] = [];
    for (const [word, child] of parsed.node.children) {
      if (!word.startsWith(toComplete) || word.startsWith('__')) continue;
      const spec = child.command;
      if (spec?.hidden) continue;
      if (!spec && !hasVisible(child)) continue;
      candidates.push({ value: word, description: spec?.description ?? GROUP_DESCRIPTIONS[word] ?? '' });
    }
    candidates.sort((a, b) => a.value.localeCompare(b.value));
    if (command) candidates.push(...argumentResult(parsed, toComplete, paths).candidates);
    return { candidates, directive: Directive.NoFileComp };
  }
  return argumentResult(parsed, toComplete, paths);
}

function hasVisible(node: Node): boolean {
  if (node.command && !node.command.hidden) return true;
  for (const c of node.children.values()) if (hasVisible(c)) return true;
  return false;
}

function storePaths(parsed: Parsed, env: EngineEnv): StorePaths {
  const root = parsed.given.get('--root')?.at(-1);
  const runRoot = parsed.given.get('--runroot')?.at(-1);
  if (root !== undefined && runRoot !== undefined) return { storageRoot: path.resolve(root), runRoot: path.resolve(runRoot) };
  const defaults = env.defaultPaths();
  return {
    storageRoot: root !== undefined ? path.resolve(root) : defaults.storageRoot,
    runRoot: runRoot !== undefined ? path.resolve(runRoot) : defaults.runRoot,
  };
}

function optionCandidates(options: OptionSpec[], toComplete: string, parsed: Parsed, globals: OptionSpec[]): Candidate[] {
  const out: Candidate[] = [];
  // The command's own options first, then the global ones.
  const isGlobal = (o: OptionSpec) => globals.some((g) => g.names.join() === o.names.join());
  const ordered = [...options.filter((o) => !isGlobal(o)), ...options.filter(isGlobal)];
  for (const o of ordered) {
    if (o.hidden) continue;
    // A flag already given is not offered again; options with values may repeat (-e, -l).
    if (!o.takesValue && parsed.given.has(longName(o))) continue;
    for (const n of o.names) {
      // `-` offers short and long names, `--` long names only.
      if (n.startsWith(toComplete)) out.push({ value: n, description: o.description });
    }
  }
  return out;
}

function valueResult(parsed: Parsed, option: OptionSpec, value: string, prefix: string, paths: StorePaths): CompletionResult {
  const rule = optionRule(parsed.commandPath, option.names) ?? { kind: 'none' };
  const r = applyRule(rule, value, parsed, paths);
  if (prefix) r.candidates = r.candidates.map((c) => ({ ...c, value: prefix + c.value }));
  return r;
}

function argumentResult(parsed: Parsed, toComplete: string, paths: StorePaths): CompletionResult {
  const rules = ARGUMENT_RULES[parsed.commandPath];
  const command = parsed.command!;
  const index = parsed.positionals.length;
  const takesMore = command.rest || index < command.positionals.length;
  if (!rules || !takesMore) return { candidates: [], directive: Directive.NoFileComp };
  const rule = rules[Math.min(index, rules.length - 1)];
  const r = applyRule(rule, toComplete, parsed, paths);
  // Do not offer what is already on the command line (rm a b <TAB>).
  if (rule.kind === 'containers' || rule.kind === 'images' || rule.kind === 'volumes' || rule.kind === 'networks' || rule.kind === 'pods' || rule.kind === 'containers-or-pods') {
    r.candidates = r.candidates.filter((c) => !parsed.positionals.includes(c.value));
  }
  return r;
}

function byPrefix(candidates: Candidate[], toComplete: string): Candidate[] {
  return candidates.filter((c) => c.value.startsWith(toComplete));
}

function applyRule(rule: Rule, toComplete: string, parsed: Parsed, paths: StorePaths): CompletionResult {
  const noFiles = (candidates: Candidate[], extra = 0): CompletionResult => ({ candidates, directive: Directive.NoFileComp | extra });
  switch (rule.kind) {
    case 'none':
      return noFiles([]);
    case 'default':
      return { candidates: [], directive: Directive.Default };
    case 'words': {
      const c = byPrefix(rule.words, toComplete);
      // `container:` and `ns:` want their value right after the colon.
      const noSpace = rule.noSpace || (c.length > 0 && c.every((x) => /[:=]$/.test(x.value)));
      return noFiles(c, noSpace ? Directive.NoSpace : 0);
    }
    case 'files':
      if (rule.ext?.length) return { candidates: rule.ext.map((value) => ({ value })), directive: Directive.FilterFileExt };
      return { candidates: [], directive: Directive.Default };
    case 'dirs':
      return { candidates: [], directive: Directive.FilterDirs };
    case 'containers':
      return noFiles(containerCandidates(paths, toComplete, rule.statuses));
    case 'images':
      return noFiles(imageCandidates(paths, toComplete));
    case 'volumes':
      return noFiles(volumeCandidates(paths, toComplete));
    case 'pods':
      return noFiles(podCandidates(paths, toComplete));
    case 'containers-or-pods':
      return noFiles([...containerCandidates(paths, toComplete), ...podCandidates(paths, toComplete)]);
    case 'networks':
      return noFiles(networkCandidates(paths, toComplete));
    case 'network-modes': {
      if (toComplete.startsWith('container:')) {
        const rest = toComplete.slice('container:'.length);
        return noFiles(containerCandidates(paths, rest).map((c) => ({ ...c, value: `container:${c.value}` })));
      }
      if (toComplete.startsWith('ns:')) return { candidates: [], directive: Directive.Default };
      // slirp4netns:OPT,OPT and pasta:--map-gw: the options after the last comma.
      const modeOpts = /^(slirp4netns|pasta):/.exec(toComplete);
      if (modeOpts) {
        const head = toComplete.slice(0, Math.max(toComplete.lastIndexOf(','), modeOpts[0].length - 1) + 1);
        const opts = modeOpts[1] === 'pasta' ? ['--map-gw'] : SLIRP4NETNS_OPTIONS;
        return noFiles(opts.map((o) => ({ value: head + o })).filter((x) => x.value.startsWith(toComplete)), Directive.NoSpace);
      }
      const c = [...byPrefix(NETWORK_MODES, toComplete), ...networkCandidates(paths, toComplete)];
      return noFiles(c, c.length > 0 && c.every((x) => x.value.endsWith(':')) ? Directive.NoSpace : 0);
    }
    case 'signals':
      return noFiles(signalCandidates(toComplete));
    case 'capabilities': {
      // NET_ADMIN, CAP_NET_ADMIN or net_admin: offered the way the user started typing.
      const lower = toComplete !== '' && toComplete === toComplete.toLowerCase();
      const upper = toComplete.toUpperCase();
      const full = toComplete === '' || upper.startsWith('CAP_') || 'CAP_'.startsWith(upper);
      const names = ['ALL', ...(full ? CAPABILITY_NAMES : CAPABILITY_NAMES.map((n) => n.slice(4)))];
      return noFiles(names.filter((n) => n.startsWith(upper)).map((n) => ({ value: lower ? n.toLowerCase() : n })));
    }
    case 'format': {
      const { candidates, noSpace } = formatCandidates(FORMAT_FIELDS[parsed.commandPath], toComplete);
      return noFiles(candidates, noSpace ? Directive.NoSpace : 0);
    }
    case 'volume-or-path': {
      // SOURCE[:DEST[:OPTIONS]]: a volume name or a host path first; nothing after the colon.
      if (toComplete.includes(':')) return noFiles([]);
      if (toComplete.startsWith('/') || toComplete.startsWith('.') || toComplete.startsWith('~')) return { candidates: [], directive: Directive.Default };
      const vols = volumeCandidates(paths, toComplete).map((c) => ({ ...c, value: `${c.value}:` }));
      return { candidates: vols, directive: vols.length ? Directive.NoSpace | Directive.NoFileComp : Directive.Default };
    }
    case 'filter': {
      const eq = toComplete.indexOf('=');
      if (eq < 0) {
        const keys = Object.keys(rule.keys).filter((k) => k.startsWith(toComplete)).map((k) => ({ value: `${k}=` }));
        return noFiles(keys, Directive.NoSpace);
      }
      const key = toComplete.slice(0, eq);
      const sub = rule.keys[key];
      if (!sub) return noFiles([]);
      const r = applyRule(sub, toComplete.slice(eq + 1), parsed, paths);
      return { candidates: r.candidates.map((c) => ({ ...c, value: `${key}=${c.value}` })), directive: r.directive };
    }
    case 'image-or-rootfs':
      if (parsed.given.has('--rootfs')) return { candidates: [], directive: Directive.FilterDirs };
      return noFiles(imageCandidates(paths, toComplete));
  }
}
