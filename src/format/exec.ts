/**
 * Executor: walks the AST against a data value, following text/template/exec.go:
 * variables with lexical scoping, pipelines (the previous command's value becomes the
 * last argument of the next), field chains, method calls, lazy `and`/`or`, range over
 * slices, maps (sorted keys) and integers, break/continue.
 *
 * Header mode renders a table's header row from the row template: every field path
 * evaluates to its column header (a HeaderText) instead of a value.
 */
import { argText, type ArgNode, type CommandNode, type ListNode, type Node, type PipeNode } from './ast.js';
import { FuncError, TemplateExecError } from './errors.js';
import type { Builtin } from './funcs.js';
import { HeaderText, isTrue, printValue, resolveField, typeName } from './values.js';

export interface FuncEntry extends Builtin {
  builtin: boolean;
}

export interface ExecOptions {
  funcs: Map<string, FuncEntry>;
  /** Header mode: the column header for a field path. */
  header?: (path: string[]) => string;
}

/** time.Time methods (gotime.ts): in a header, `.Created.Unix` is headed CREATED. */
const TIME_METHODS = new Set(['Unix', 'UnixMilli', 'UnixMicro', 'UnixNano', 'Format', 'String', 'UTC', 'Local', 'IsZero',
  'Year', 'Month', 'Day', 'Hour', 'Minute', 'Second', 'Weekday', 'YearDay']);

/** Stands for the data while a header row is rendered. */
const HEADER_ROOT = new HeaderText('');

const NO_FINAL: unique symbol = Symbol('no final value');
type Final = unknown | typeof NO_FINAL;

class BreakSignal {}
class ContinueSignal {}

interface Variable {
  name: string;
  value: unknown;
}

export function execute(list: ListNode, data: unknown, options: ExecOptions): string {
  const state = new State(options, options.header ? HEADER_ROOT : data);
  state.walkList(options.header ? HEADER_ROOT : data, list);
  return state.out.join('');
}

class State {
  readonly out: string[] = [];
  private readonly vars: Variable[];

  constructor(private readonly options: ExecOptions, root: unknown) {
    this.vars = [{ name: '$', value: root }];
  }

  private get headerMode(): boolean {
    return this.options.header !== undefined;
  }

  walkList(dot: unknown, list: ListNode): void {
    for (const node of list.nodes) this.walk(dot, node);
  }

  private walk(dot: unknown, node: Node): void {
    switch (node.kind) {
      case 'text':
        this.out.push(node.text);
        return;
      case 'action': {
        if (this.headerMode) {
          try {
            const v = this.evalPipeline(dot, node.pipe);
            if (node.pipe.decl.length === 0) this.out.push(printValue(v));
          } catch (err) {
            if (err instanceof BreakSignal || err instanceof ContinueSignal) throw err;
            this.out.push(this.fallbackHeader(node.pipe));
          }
          return;
        }
        const v = this.evalPipeline(dot, node.pipe);
        if (node.pipe.decl.length === 0) this.out.push(printValue(v));
        return;
      }
      case 'if':
      case 'with': {
        const mark = this.vars.length;
        const v = this.evalControlPipe(dot, node.pipe);
        if (isTrue(v)) this.walkList(node.kind === 'with' ? v : dot, node.list);
        else if (node.elseList) this.walkList(dot, node.elseList);
        this.vars.length = mark;
        return;
      }
      case 'range':
        this.walkRange(dot, node.pipe, node.list, node.elseList);
        return;
      case 'break':
        throw new BreakSignal();
      case 'continue':
        throw new ContinueSignal();
    }
  }

  /** In header mode a failing condition counts as true, with the column header as value. */
  private evalControlPipe(dot: unknown, pipe: PipeNode, declare = true): unknown {
    if (!this.headerMode) return this.evalPipeline(dot, pipe, declare);
    try {
      return this.evalPipeline(dot, pipe, declare);
    } catch {
      return new HeaderText(this.fallbackHeader(pipe));
    }
  }

  private walkRange(dot: unknown, pipe: PipeNode, list: ListNode, elseList?: ListNode): void {
    const mark = this.vars.length;
    const val = this.evalControlPipe(dot, pipe, false);
    const items: Array<[unknown, unknown]> = [];
    if (val === undefined || val === null) {
      // nothing to iterate: like Go's invalid value or nil slice/map
    } else if (val instanceof HeaderText) {
      items.push([0, val]);
    } else if (Array.isArray(val)) {
      val.forEach((e, i) => items.push([i, e]));
    } else if (val instanceof Map) {
      const keys = [...val.keys()].sort(compareKeys);
      for (const k of keys) items.push([k, val.get(k)]);
    } else if (typeof val === 'number' && Number.isInteger(val)) {
      for (let i = 0; i < val; i++) items.push([i, i]);
    } else if (typeof val === 'object' && !(val instanceof Date)) {
      const keys = Object.keys(val).sort(compareKeys);
      for (const k of keys) items.push([k, (val as Record<string, unknown>)[k]]);
    } else {
      throw new TemplateExecError(`range can't iterate over ${printValue(val)} (a ${typeName(val)})`, pipe.pos);
    }
    if (items.length === 0) {
      if (elseList) this.walkList(dot, elseList);
      this.vars.length = mark;
      return;
    }
    for (const [key, elem] of items) {
      const iterMark = this.vars.length;
      if (pipe.decl.length === 1) this.declare(pipe, 0, elem);
      if (pipe.decl.length === 2) {
        this.declare(pipe, 0, key);
        this.declare(pipe, 1, elem);
      }
      try {
        this.walkList(elem, list);
      } catch (err) {
        if (err instanceof BreakSignal) {
          this.vars.length = iterMark;
          break;
        }
        if (!(err instanceof ContinueSignal)) throw err;
      }
      this.vars.length = iterMark;
    }
    this.vars.length = mark;
  }

  private declare(pipe: PipeNode, i: number, value: unknown): void {
    const name = pipe.decl[i]!.name;
    if (pipe.isAssign) this.setVar(name, value, pipe.decl[i]!.pos);
    else this.vars.push({ name, value });
  }

  private setVar(name: string, value: unknown, pos: number): void {
    for (let i = this.vars.length - 1; i >= 0; i--) {
      if (this.vars[i]!.name === name) {
        this.vars[i]!.value = value;
        return;
      }
    }
    throw new TemplateExecError(`undefined variable: ${name}`, pos);
  }

  private varValue(name: string, pos: number): unknown {
    for (let i = this.vars.length - 1; i >= 0; i--) if (this.vars[i]!.name === name) return this.vars[i]!.value;
    throw new TemplateExecError(`undefined variable: ${name}`, pos);
  }

  // ---- pipelines and commands ----

  private evalPipeline(dot: unknown, pipe: PipeNode, declare = true): unknown {
    let value: Final = NO_FINAL;
    for (const cmd of pipe.cmds) value = this.evalCommand(dot, cmd, value);
    if (value === NO_FINAL) value = undefined;
    if (declare) pipe.decl.forEach((_, i) => this.declare(pipe, i, value));
    return value;
  }

  private evalCommand(dot: unknown, cmd: CommandNode, final: Final): unknown {
    const first = cmd.args[0]!;
    return this.at(first, () => {
      switch (first.kind) {
        case 'field':
          return this.evalFieldPath(dot, dot, first.path, '', cmd.args, final);
        case 'chain': {
          const receiver = this.evalArg(dot, first.node);
          return this.evalFieldPath(dot, receiver, first.path, argText(first.node), cmd.args, final);
        }
        case 'variable': {
          const value = this.varValue(first.name, first.pos);
          if (first.path.length === 0) {
            this.notAFunction(cmd.args, final);
            return value;
          }
          return this.evalFieldPath(dot, value, first.path, first.name, cmd.args, final);
        }
        case 'identifier':
          return this.evalFunction(dot, first.name, first.pos, cmd.args, final);
        case 'pipe':
          this.notAFunction(cmd.args, final);
          return this.evalPipeline(dot, first.pipe);
        case 'nil':
          throw new TemplateExecError('nil is not a command', first.pos);
        default:
          this.notAFunction(cmd.args, final);
          return this.evalArg(dot, first);
      }
    });
  }

  /** Runs `fn`, giving errors without a position the position of `node`. */
  private at<T>(node: ArgNode, fn: () => T): T {
    try {
      return fn();
    } catch (err) {
      if (err instanceof TemplateExecError && err.pos < 0) {
        err.message = `at <${argText(node)}>: ${err.message}`;
        err.pos = node.pos;
      }
      throw err;
    }
  }

  private notAFunction(args: ArgNode[], final: Final): void {
    if (args.length > 1 || final !== NO_FINAL) {
      throw new TemplateExecError(`can't give argument to non-function ${argText(args[0]!)}`, args[0]!.pos);
    }
  }

  private evalArg(dot: unknown, arg: ArgNode): unknown {
    switch (arg.kind) {
      case 'dot': return dot;
      case 'nil': return null;
      case 'string': return arg.value;
      case 'number': return arg.value;
      case 'bool': return arg.value;
      case 'pipe': return this.evalPipeline(dot, arg.pipe);
      case 'field':
      case 'chain':
      case 'variable':
      case 'identifier':
        return this.evalCommand(dot, { pos: arg.pos, args: [arg] }, NO_FINAL);
    }
  }

  private evalFieldPath(dot: unknown, receiver: unknown, path: string[], base: string, args: ArgNode[], final: Final): unknown {
    if (this.headerMode && (receiver === HEADER_ROOT || receiver instanceof HeaderText)) {
      if (receiver !== HEADER_ROOT) return receiver;
      // `.Created.Format "2006"` and `.Created.Unix` head their column with CREATED.
      let p = path;
      if (p.length > 1 && (args.length > 1 || final !== NO_FINAL)) p = p.slice(0, -1);
      while (p.length > 1 && TIME_METHODS.has(p[p.length - 1]!)) p = p.slice(0, -1);
      return new HeaderText(this.options.header!(p));
    }
    let cur = receiver;
    let where = base === '' ? '.' : base;
    for (let i = 0; i < path.length; i++) {
      const name = path[i]!;
      const last = i === path.length - 1;
      const value = resolveField(cur, name, where);
      if (typeof value === 'function') {
        const callArgs = last ? args.slice(1).map((a) => this.evalArg(dot, a)) : [];
        if (last && final !== NO_FINAL) callArgs.push(final);
        cur = this.call(name, () => (value as (...a: unknown[]) => unknown).apply(cur, callArgs));
      } else {
        if (last && (args.length > 1 || final !== NO_FINAL)) {
          throw new TemplateExecError(`${name} has arguments but cannot be invoked as function`);
        }
        cur = value;
      }
      where = (base === '' ? '' : base) + '.' + path.slice(0, i + 1).join('.');
    }
    return cur;
  }

  private call(name: string, fn: () => unknown): unknown {
    try {
      return fn();
    } catch (err) {
      if (err instanceof TemplateExecError) throw err;
      const message = err instanceof Error ? err.message : String(err);
      throw new TemplateExecError(`error calling ${name}: ${message}`);
    }
  }

  private evalFunction(dot: unknown, name: string, pos: number, args: ArgNode[], final: Final): unknown {
    const f = this.options.funcs.get(name);
    if (!f) throw new TemplateExecError(`"${name}" is not a defined function`, pos);
    const n = args.length - 1 + (final === NO_FINAL ? 0 : 1);
    if (n < f.min || n > f.max) {
      const want = f.min === f.max ? `${f.min}` : f.max === Infinity ? `at least ${f.min}` : `${f.min} to ${f.max}`;
      throw new TemplateExecError(`wrong number of args for ${name}: want ${want} got ${n}`, pos);
    }
    if (f.builtin && (name === 'and' || name === 'or')) {
      // Short-circuit: stop at the first false (and) or true (or) argument.
      let v: unknown;
      const operands: Array<() => unknown> = args.slice(1).map((a) => () => this.evalArg(dot, a));
      if (final !== NO_FINAL) operands.push(() => final);
      for (const get of operands) {
        v = get();
        if (isTrue(v) === (name === 'or')) return v;
      }
      return v;
    }
    const argv = args.slice(1).map((a) => this.evalArg(dot, a));
    if (final !== NO_FINAL) argv.push(final);
    if (this.headerMode && f.headerIdentity) {
      const h = argv.find((a) => a instanceof HeaderText);
      if (h) return h;
    }
    try {
      return f.fn(...argv);
    } catch (err) {
      if (err instanceof TemplateExecError) throw err;
      const message = err instanceof FuncError ? err.message.replace(new RegExp(`^${name}: `), '') : err instanceof Error ? err.message : String(err);
      throw new TemplateExecError(`error calling ${name}: ${message}`, pos);
    }
  }

  /** The header of the first field an action mentions ('' if none): used when it fails in header mode. */
  private fallbackHeader(pipe: PipeNode): string {
    const find = (p: PipeNode): string[] | undefined => {
      for (const c of p.cmds) {
        for (const a of c.args) {
          const path = a.kind === 'field' || a.kind === 'variable' || a.kind === 'chain' ? a.path : a.kind === 'pipe' ? find(a.pipe) : undefined;
          if (path && path.length > 0) return path;
        }
      }
      return undefined;
    };
    const path = find(pipe);
    return path ? this.options.header!(path) : '';
  }
}

function compareKeys(a: unknown, b: unknown): number {
  if (typeof a === 'number' && typeof b === 'number') return a - b;
  const x = String(a);
  const y = String(b);
  return x < y ? -1 : x > y ? 1 : 0;
}
