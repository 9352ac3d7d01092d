/**
 * Parser from tokens to the AST in ast.ts, following text/template/parse/parse.go:
 * control structures (if / else if / else with / range / with / break / continue),
 * pipelines with declarations, commands, operands and field chains. Function names
 * and variables are checked here, as Go does at parse time.
 */
import type { ArgNode, CommandNode, ListNode, Node, PipeNode, VariableName } from './ast.js';
import { TemplateSyntaxError } from './errors.js';
import { lex, parseNumber, type LexOptions, type Token } from './lexer.js';

export interface ParseOptions extends LexOptions {
  /** Whether a function name exists (built-ins plus caller-supplied functions). */
  hasFunction: (name: string) => boolean;
}

type Context = 'command' | 'if' | 'range' | 'with' | 'parenthesized pipeline';
type EndKind = 'end' | 'else' | 'eof';

export function parse(src: string, options: ParseOptions): ListNode {
  return new Parser(lex(src, options), options).parseTemplate();
}

class Parser {
  private i = 0;
  private vars: string[] = ['$'];
  private rangeDepth = 0;

  constructor(private readonly tokens: Token[], private readonly options: ParseOptions) {}

  parseTemplate(): ListNode {
    const { list, end, token } = this.itemList(true);
    if (end !== 'eof') throw new TemplateSyntaxError(`unexpected {{${end}}}`, token.pos);
    return list;
  }

  // ---- token helpers ----

  private peek(): Token {
    return this.tokens[this.i]!;
  }

  private next(): Token {
    const t = this.tokens[this.i]!;
    if (t.type !== 'eof') this.i++;
    return t;
  }

  private peekNonSpace(): Token {
    while (this.tokens[this.i]!.type === 'space') this.i++;
    return this.tokens[this.i]!;
  }

  private nextNonSpace(): Token {
    this.peekNonSpace();
    return this.next();
  }

  private unexpected(t: Token, context: string): never {
    const shown = t.type === 'eof' ? 'EOF' : t.type === 'rightDelim' ? '"}}"' : `<${t.value}>`;
    throw new TemplateSyntaxError(`unexpected ${shown} in ${context}`, t.pos);
  }

  private expectRightDelim(context: string): void {
    const t = this.nextNonSpace();
    if (t.type !== 'rightDelim') this.unexpected(t, context);
  }

  // ---- lists and actions ----

  /**
   * Parses nodes until `{{end}}`, `{{else ...}}` or EOF. The terminating `{{end}}` is
   * consumed; for `{{else` the tokens after `else` are left for the caller.
   */
  private itemList(topLevel = false): { list: ListNode; end: EndKind; token: Token } {
    const nodes: Node[] = [];
    for (;;) {
      const t = this.next();
      switch (t.type) {
        case 'eof':
          if (!topLevel) throw new TemplateSyntaxError('unexpected EOF; a {{if}}, {{range}} or {{with}} is missing its {{end}}', t.pos);
          return { list: { nodes }, end: 'eof', token: t };
        case 'text':
          nodes.push({ kind: 'text', pos: t.pos, text: t.value });
          break;
        case 'leftDelim': {
          const kw = this.peekNonSpace();
          if (kw.type === 'comment') {
            this.next();
            this.expectRightDelim('comment');
            break;
          }
          if (kw.type === 'keyword' && (kw.value === 'end' || kw.value === 'else')) {
            this.next();
            if (kw.value === 'end') {
              if (topLevel) throw new TemplateSyntaxError('unexpected {{end}}', kw.pos);
              this.expectRightDelim('end');
            } else if (topLevel) {
              throw new TemplateSyntaxError('unexpected {{else}}', kw.pos);
            }
            return { list: { nodes }, end: kw.value, token: kw };
          }
          nodes.push(this.action());
          break;
        }
        default:
          this.unexpected(t, 'input');
      }
    }
  }

  private action(): Node {
    const t = this.peekNonSpace();
    if (t.type === 'keyword') {
      switch (t.value) {
        case 'if':
        case 'range':
        case 'with':
          this.next();
          return this.control(t.value, t.pos);
        case 'break':
        case 'continue':
          this.next();
          if (this.rangeDepth === 0) throw new TemplateSyntaxError(`{{${t.value}}} outside {{range}}`, t.pos);
          this.expectRightDelim(t.value);
          return { kind: t.value, pos: t.pos };
        case 'define':
        case 'template':
        case 'block':
          throw new TemplateSyntaxError(`{{${t.value}}} is not supported in --format templates`, t.pos);
        default:
          break; // nil: an ordinary (failing) command, reported at execution like Go
      }
    }
    const pipe = this.pipeline('command', 'rightDelim');
    return { kind: 'action', pos: t.pos, pipe };
  }

  private control(kind: 'if' | 'range' | 'with', pos: number): Node {
    const mark = this.vars.length;
    const pipe = this.pipeline(kind, 'rightDelim');
    if (kind === 'range') this.rangeDepth++;
    let { list, end } = this.itemList();
    if (kind === 'range') this.rangeDepth--;
    let elseList: ListNode | undefined;
    if (end === 'else') {
      const after = this.peekNonSpace();
      if ((kind === 'if' && after.type === 'keyword' && after.value === 'if') ||
          (kind === 'with' && after.type === 'keyword' && after.value === 'with')) {
        // "{{else if ...}}" is an if nested in the else branch sharing our {{end}}.
        this.next();
        elseList = { nodes: [this.control(kind, after.pos)] };
      } else {
        this.expectRightDelim('else');
        const rest = this.itemList();
        if (rest.end === 'else') throw new TemplateSyntaxError(`expected end; found {{else}}`, rest.token.pos);
        elseList = rest.list;
      }
    }
    this.vars.length = mark;
    return { kind, pos, pipe, list, elseList };
  }

  // ---- pipelines ----

  private pipeline(context: Context, end: 'rightDelim' | 'rightParen'): PipeNode {
    const start = this.peekNonSpace();
    const pipe: PipeNode = { pos: start.pos, decl: [], isAssign: false, cmds: [] };
    this.declarations(pipe, context);
    for (;;) {
      const t = this.peekNonSpace();
      if (t.type === end) {
        this.next();
        this.checkPipeline(pipe, context, t);
        return pipe;
      }
      switch (t.type) {
        case 'bool': case 'char': case 'dot': case 'field': case 'identifier': case 'number':
        case 'rawString': case 'string': case 'variable': case 'leftParen':
          pipe.cmds.push(this.command());
          break;
        default:
          if (t.type === 'keyword' && t.value === 'nil') {
            pipe.cmds.push(this.command());
            break;
          }
          if (t.type === 'eof') throw new TemplateSyntaxError('unclosed action', start.pos);
          this.unexpected(t, context);
      }
    }
  }

  private declarations(pipe: PipeNode, context: Context): void {
    const save = this.i;
    const v = this.peekNonSpace();
    if (v.type !== 'variable') return;
    this.next();
    const after = this.peekNonSpace();
    if (after.type === 'declare' || after.type === 'assign') {
      this.next();
      pipe.isAssign = after.type === 'assign';
      if (pipe.isAssign && !this.vars.includes(v.value)) throw new TemplateSyntaxError(`undefined variable "${v.value}"`, v.pos);
      pipe.decl.push({ name: v.value, pos: v.pos });
      if (!pipe.isAssign) this.vars.push(v.value);
      return;
    }
    if (after.type === 'comma') {
      this.next();
      if (context !== 'range') throw new TemplateSyntaxError(`too many declarations in ${context}`, after.pos);
      const second = this.nextNonSpace();
      if (second.type !== 'variable') throw new TemplateSyntaxError('range can only initialize variables', second.pos);
      const op = this.nextNonSpace();
      if (op.type !== 'declare' && op.type !== 'assign') this.unexpected(op, 'range declaration');
      pipe.isAssign = op.type === 'assign';
      const decls: VariableName[] = [{ name: v.value, pos: v.pos }, { name: second.value, pos: second.pos }];
      for (const d of decls) {
        if (pipe.isAssign && !this.vars.includes(d.name)) throw new TemplateSyntaxError(`undefined variable "${d.name}"`, d.pos);
        if (!pipe.isAssign) this.vars.push(d.name);
      }
      pipe.decl.push(...decls);
      return;
    }
    this.i = save; // an ordinary operand
  }

  private checkPipeline(pipe: PipeNode, context: Context, t: Token): void {
    if (pipe.cmds.length === 0) throw new TemplateSyntaxError(`missing value for ${context}`, t.pos);
    pipe.cmds.slice(1).forEach((c, i) => {
      const k = c.args[0]!.kind;
      if (k === 'bool' || k === 'dot' || k === 'nil' || k === 'number' || k === 'string') {
        throw new TemplateSyntaxError(`non executable command in pipeline stage ${i + 2}`, c.pos);
      }
    });
  }

  private command(): CommandNode {
    const cmd: CommandNode = { pos: this.peekNonSpace().pos, args: [] };
    for (;;) {
      this.peekNonSpace();
      const operand = this.operand();
      if (operand) cmd.args.push(operand);
      const t = this.peek();
      if (t.type === 'space') {
        this.next();
        const n = this.peek();
        if (n.type === 'rightDelim' || n.type === 'rightParen') break;
        if (n.type === 'pipe') {
          this.next();
          break;
        }
        continue;
      }
      if (t.type === 'rightDelim' || t.type === 'rightParen') break;
      if (t.type === 'pipe') {
        this.next();
        break;
      }
      if (t.type === 'eof') throw new TemplateSyntaxError('unclosed action', cmd.pos);
      this.unexpected(t, 'operand');
    }
    if (cmd.args.length === 0) throw new TemplateSyntaxError('empty command', cmd.pos);
    return cmd;
  }

  private operand(): ArgNode | undefined {
    const node = this.term();
    if (!node) return undefined;
    if (this.peek().type !== 'field') return node;
    const path: string[] = [];
    const chainPos = this.peek().pos;
    while (this.peek().type === 'field') path.push(this.next().value);
    switch (node.kind) {
      case 'field':
        return { ...node, path: [...node.path, ...path] };
      case 'variable':
        return { ...node, path: [...node.path, ...path] };
      case 'bool': case 'string': case 'number': case 'nil': case 'dot':
        throw new TemplateSyntaxError(`unexpected . after term ${JSON.stringify(this.termText(node))}`, chainPos);
      default:
        return { kind: 'chain', pos: node.pos, node, path };
    }
  }

  private termText(node: ArgNode): string {
    switch (node.kind) {
      case 'bool': return String(node.value);
      case 'string': return node.value;
      case 'number': return node.text;
      case 'nil': return 'nil';
      default: return '.';
    }
  }

  private term(): ArgNode | undefined {
    const t = this.nextNonSpace();
    switch (t.type) {
      case 'identifier':
        if (!this.options.hasFunction(t.value)) throw new TemplateSyntaxError(`function "${t.value}" not defined`, t.pos);
        return { kind: 'identifier', pos: t.pos, name: t.value };
      case 'dot':
        return { kind: 'dot', pos: t.pos };
      case 'keyword':
        if (t.value === 'nil') return { kind: 'nil', pos: t.pos };
        break;
      case 'variable':
        if (!this.vars.includes(t.value)) throw new TemplateSyntaxError(`undefined variable "${t.value}"`, t.pos);
        return { kind: 'variable', pos: t.pos, name: t.value, path: [] };
      case 'field':
        return { kind: 'field', pos: t.pos, path: [t.value] };
      case 'bool':
        return { kind: 'bool', pos: t.pos, value: t.value === 'true' };
      case 'number':
        return { kind: 'number', pos: t.pos, value: parseNumber(t.value, t.pos), text: t.value };
      case 'char':
        return { kind: 'number', pos: t.pos, value: t.value.codePointAt(0)!, text: `'${t.value}'` };
      case 'leftParen':
        return { kind: 'pipe', pos: t.pos, pipe: this.pipeline('parenthesized pipeline', 'rightParen') };
      case 'string':
      case 'rawString':
        return { kind: 'string', pos: t.pos, value: t.value };
      default:
        break;
    }
    if (t.type !== 'eof') this.i--; // back up
    return undefined;
  }
}
