/**
 * AST of a parsed template, modelled on text/template/parse's node types.
 * Every node carries `pos`, the offset in the source, for error messages.
 */

export type Node = TextNode | ActionNode | IfNode | RangeNode | WithNode | BreakNode | ContinueNode;

export interface ListNode {
  nodes: Node[];
}

export interface TextNode {
  kind: 'text';
  pos: number;
  text: string;
}

/** `{{pipeline}}`: prints the pipeline's value unless it declares variables. */
export interface ActionNode {
  kind: 'action';
  pos: number;
  pipe: PipeNode;
}

export interface IfNode {
  kind: 'if';
  pos: number;
  pipe: PipeNode;
  list: ListNode;
  elseList?: ListNode;
}

export interface WithNode {
  kind: 'with';
  pos: number;
  pipe: PipeNode;
  list: ListNode;
  elseList?: ListNode;
}

export interface RangeNode {
  kind: 'range';
  pos: number;
  pipe: PipeNode;
  list: ListNode;
  elseList?: ListNode;
}

export interface BreakNode {
  kind: 'break';
  pos: number;
}

export interface ContinueNode {
  kind: 'continue';
  pos: number;
}

/** `$x := cmd | cmd ...`; `isAssign` for `$x = ...`. */
export interface PipeNode {
  pos: number;
  decl: VariableName[];
  isAssign: boolean;
  cmds: CommandNode[];
}

export interface VariableName {
  name: string; // including the $
  pos: number;
}

/** One command of a pipeline: an operand followed by arguments. */
export interface CommandNode {
  pos: number;
  args: ArgNode[];
}

export type ArgNode =
  | { kind: 'field'; pos: number; path: string[] } // .A.B
  | { kind: 'dot'; pos: number }
  | { kind: 'variable'; pos: number; name: string; path: string[] } // $x.A.B
  | { kind: 'identifier'; pos: number; name: string } // function
  | { kind: 'chain'; pos: number; node: ArgNode; path: string[] } // (pipe).A.B
  | { kind: 'pipe'; pos: number; pipe: PipeNode } // parenthesised
  | { kind: 'string'; pos: number; value: string }
  | { kind: 'number'; pos: number; value: number; text: string }
  | { kind: 'bool'; pos: number; value: boolean }
  | { kind: 'nil'; pos: number };

/** Source text of an argument, for error messages (`at <.Foo>`). */
export function argText(a: ArgNode): string {
  switch (a.kind) {
    case 'field': return '.' + a.path.join('.');
    case 'dot': return '.';
    case 'variable': return a.name + a.path.map((p) => '.' + p).join('');
    case 'identifier': return a.name;
    case 'chain': return argText(a.node) + a.path.map((p) => '.' + p).join('');
    case 'pipe': return '(' + a.pipe.cmds.map((c) => c.args.map(argText).join(' ')).join(' | ') + ')';
    case 'string': return JSON.stringify(a.value);
    case 'number': return a.text;
    case 'bool': return String(a.value);
    case 'nil': return 'nil';
  }
}
