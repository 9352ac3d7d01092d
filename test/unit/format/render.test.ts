import { describe, expect, it } from 'vitest';
import { asMap, isJSONFormat, isTableFormat, renderFormat, renderTable } from '../../../src/format/index.js';
import { TspodError } from '../../../src/util/errors.js';

const sp = (n: number): string => ' '.repeat(n);

const containers = [
  { id: 'abcdef123456', names: ['web'], image: 'docker.io/library/nginx:latest', createdAt: '2 hours ago', labels: { app: 'web' } },
  { id: '0123456789ab', names: ['db', 'db2'], image: 'docker.io/library/postgres:16', createdAt: '3 days ago', labels: {} },
];

describe('renderFormat: json', () => {
  it('pretty-prints the whole value with 4 spaces by default', () => {
    expect(renderFormat('json', { a: 1, b: [true] })).toBe('{\n    "a": 1,\n    "b": [\n        true\n    ]\n}\n');
    expect(renderFormat('json', { a: 1 }, { jsonIndent: 2 })).toBe('{\n  "a": 1\n}\n');
    expect(renderFormat('json', [])).toBe('[]\n');
  });

  it("recognises Podman's spellings", () => {
    for (const f of ['json', ' json ', '{{json .}}', '{{ json . }}', '{{json}}']) expect(isJSONFormat(f)).toBe(true);
    for (const f of ['{{json .Foo}}', 'jsonx', 'table json']) expect(isJSONFormat(f)).toBe(false);
    expect(renderFormat('{{json .}}', [{ a: 1 }], { jsonIndent: 2 })).toBe('[\n  {\n    "a": 1\n  }\n]\n');
  });

  it('escapes HTML characters like json.MarshalIndent unless told not to', () => {
    expect(renderFormat('json', { cmd: 'a && b <c>' }, { jsonIndent: 0 })).toBe('{"cmd":"a \\u0026\\u0026 b \\u003cc\\u003e"}\n');
    expect(renderFormat('json', { cmd: 'a && b' }, { jsonIndent: 0, jsonEscapeHTML: false })).toBe('{"cmd":"a && b"}\n');
    expect(renderFormat('json', { s: 'x\u2028y' }, { jsonIndent: 0, jsonEscapeHTML: false })).toBe('{"s":"x\\u2028y"}\n');
    expect(renderFormat('{{json .}}', { cmd: '&' }, { each: false, jsonIndent: 0 })).toBe('{"cmd":"\\u0026"}\n');
  });

  it('sorts map keys and drops undefined fields', () => {
    expect(renderFormat('json', { m: asMap({ z: 1, a: 2 }), u: undefined }, { jsonIndent: 0 })).toBe('{"m":{"a":2,"z":1}}\n');
  });
});

describe('renderFormat: plain templates', () => {
  it('prints one newline-terminated line per item', () => {
    expect(renderFormat('{{.ID}}', containers)).toBe('abcdef123456\n0123456789ab\n');
    expect(renderFormat('{{.ID}}', [])).toBe('');
  });

  it('runs once for a single value', () => {
    expect(renderFormat('{{.Host.Kernel}}', { host: { kernel: '6.1' } })).toBe('6.1\n');
    expect(renderFormat('{{len .}}', [1, 2, 3], { each: false })).toBe('3\n');
  });

  it('does not add a second newline', () => {
    expect(renderFormat('{{.ID}}\n', containers.slice(0, 1))).toBe('abcdef123456\n');
    expect(renderFormat('{{.ID}}\\n', containers.slice(0, 1))).toBe('abcdef123456\n');
  });

  it('interprets \\t and \\n typed literally and aligns tab-separated cells', () => {
    expect(renderFormat('{{.ID}}\\t{{.Image}}', containers)).toBe(
      'abcdef123456  docker.io/library/nginx:latest\n0123456789ab  docker.io/library/postgres:16\n',
    );
    expect(renderFormat('{{.ID}}\\n---', containers.slice(0, 1))).toBe('abcdef123456\n---\n');
  });

  it('runs a template that ranges over the list once, as Podman does', () => {
    expect(renderFormat('{{range .}}{{.ID}},{{end}}', containers)).toBe('abcdef123456,0123456789ab,\n');
  });
});

describe('renderFormat: tables', () => {
  it('prints a header row derived from the fields, then the rows', () => {
    const out = renderFormat('table {{.ID}}\\t{{.Names}}\\t{{.CreatedAt}}', containers, { headers: { ID: 'CONTAINER ID' } });
    expect(out).toBe(
      `CONTAINER ID  NAMES${sp(7)}CREATED AT\n` +
      `abcdef123456  [web]${sp(7)}2 hours ago\n` +
      `0123456789ab  [db db2]${sp(4)}3 days ago\n`,
    );
  });

  it('turns spaces between actions into column breaks, as Podman does', () => {
    expect(renderFormat('table {{.ID}} {{.Image}}', containers.slice(0, 1))).toBe(
      'ID            IMAGE\nabcdef123456  docker.io/library/nginx:latest\n',
    );
    // spaces inside actions and string literals stay
    expect(renderFormat('table {{join .Names ", "}}', containers.slice(1))).toBe('NAMES\ndb, db2\n');
  });

  it('keeps headers intact through functions and falls back to the field name', () => {
    expect(renderFormat('table {{join .Names ","}}\\t{{.Image | upper}}', containers.slice(1, 2))).toBe(
      'NAMES       IMAGE\ndb,db2      DOCKER.IO/LIBRARY/POSTGRES:16\n',
    );
    expect(renderFormat('table {{index .Labels "app"}}\\t{{.ID}}', containers.slice(0, 1))).toBe(
      'LABELS      ID\nweb         abcdef123456\n',
    );
    expect(renderFormat('table {{printf "%-14s" .ID}}|', containers.slice(0, 1))).toBe(
      'ID            |\nabcdef123456  |\n',
    );
  });

  it('heads method calls with the field they are called on', () => {
    const rows = [{ created: new Date(Date.UTC(2024, 0, 2)), id: 'x' }];
    expect(renderFormat('table {{.Created.UTC.Format "2006-01-02"}}\\t{{.Created.Unix}}', rows)).toBe(
      'CREATED     CREATED\n2024-01-02  1704153600\n',
    );
  });

  it('uses the default table for the bare word table', () => {
    const opts = { defaultTable: 'table {{.ID}}\\t{{.Image}}', headers: { ID: 'CONTAINER ID' } };
    expect(renderFormat('table', containers.slice(0, 1), opts)).toBe(
      'CONTAINER ID  IMAGE\nabcdef123456  docker.io/library/nginx:latest\n',
    );
    expect(() => renderFormat('table', containers, {})).toThrow(TspodError);
    expect(isTableFormat('table')).toBe(true);
    expect(isTableFormat('table {{.ID}}')).toBe(true);
    expect(isTableFormat('{{.ID}}')).toBe(false);
  });

  it('prints only the header for an empty list, and nothing with noHeading', () => {
    expect(renderFormat('table {{.ID}}\\t{{.Image}}', [])).toBe('ID          IMAGE\n');
    expect(renderFormat('table {{.ID}}', containers, { noHeading: true })).toBe('abcdef123456\n0123456789ab\n');
  });

  it('names the format the user typed in errors', () => {
    let err: unknown;
    try {
      renderFormat('table {{.ID}} {{.Nope}}', containers);
    } catch (e) {
      err = e;
    }
    expect(err).toBeInstanceOf(TspodError);
    expect((err as Error).message).toContain('"table {{.ID}} {{.Nope}}"');
    expect((err as Error).message).toMatch(/can't evaluate field Nope.*\(column 17\)/);
  });
});

describe('renderTable', () => {
  it('aligns a header and rows like Podman', () => {
    expect(renderTable(['ID', 'NAME'], [['abc', 'x'], ['abcdefghijklmnop', 'y']])).toBe(
      `ID${sp(16)}NAME\nabc${sp(15)}x\nabcdefghijklmnop  y\n`,
    );
  });

  it('prints cells with %v and flattens tabs and newlines', () => {
    expect(renderTable(['A', 'B'], [[1, ['x', 'y']], [null, 'a\tb\nc']], { noHeading: true })).toBe(
      `1${sp(11)}[x y]\n<nil>${sp(7)}a b c\n`,
    );
    expect(renderTable(['A'], [], { noHeading: true })).toBe('');
  });
});
