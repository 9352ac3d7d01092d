import { afterAll, describe, expect, it } from 'vitest';
import { asMap, compileTemplate } from '../../../src/format/index.js';
import { TspodError } from '../../../src/util/errors.js';

const run = (src: string, data?: unknown, funcs?: Record<string, (...a: unknown[]) => unknown>): string =>
  compileTemplate(src, { funcs }).execute(data);

function fails(src: string, data: unknown, pattern: RegExp): TspodError {
  let caught: unknown;
  try {
    run(src, data);
  } catch (err) {
    caught = err;
  }
  expect(caught).toBeInstanceOf(TspodError);
  const e = caught as TspodError;
  expect(e.exitCode).toBe(125);
  expect(e.message).toMatch(pattern);
  expect(e.message).toContain(JSON.stringify(src));
  return e;
}

const info = {
  host: {
    arch: 'amd64',
    kernel: '6.1.0-18-amd64',
    ociRuntime: { name: 'crun', version: '1.8' },
    idMappings: { uidmap: [{ container_id: 0, host_id: 1000, size: 1 }] },
  },
  store: { graphDriverName: 'overlay', imageStore: { number: 3 } },
};

describe('text and fields', () => {
  it('copies text without actions', () => {
    expect(run('hello, world')).toBe('hello, world');
    expect(run('')).toBe('');
  });

  it('resolves Go field names against lowerCamel keys, case-insensitively', () => {
    expect(run('{{.Host.Kernel}}', info)).toBe('6.1.0-18-amd64');
    expect(run('{{.Store.GraphDriverName}}', info)).toBe('overlay');
    expect(run('{{.Host.OCIRuntime.Name}}', info)).toBe('crun');
    expect(run('{{.Host.IDMappings.UIDMap}}', info)).toBe('[map[container_id:0 host_id:1000 size:1]]');
  });

  it('prefers an exact key over a case-insensitive one', () => {
    const d = { ID: 'upper', id: 'lower' };
    expect(run('{{.ID}} {{.id}}', d)).toBe('upper lower');
    expect(run('{{.Id}}', d)).toBe('upper');
  });

  it('prints dot and $ as the root', () => {
    expect(run('{{.}}', 'plain')).toBe('plain');
    expect(run('{{$}}', 42)).toBe('42');
    expect(run('{{with .A}}{{$.B}}{{end}}', { a: 1, b: 'root' })).toBe('root');
  });

  it('prints values with Go %v', () => {
    expect(run('{{.}}', ['a', 'b', 'c'])).toBe('[a b c]');
    expect(run('{{.}}', { b: 2, a: 1 })).toBe('map[a:1 b:2]');
    expect(run('{{.}}', new Map<string, unknown>([['z', [1, 2]], ['y', true]]))).toBe('map[y:true z:[1 2]]');
    expect(run('{{.X}}', { x: null })).toBe('<nil>');
    expect(run('{{.}}', [null, 'a'])).toBe('[<nil> a]');
    expect(run('{{.}}', 1.5)).toBe('1.5');
    expect(run('{{.}}', 1e6 + 0.5)).toBe('1.0000005e+06');
    expect(run('{{.}}', 12345678901234)).toBe('12345678901234');
    expect(run('{{.}}', 10n ** 20n)).toBe('100000000000000000000');
    expect(run('{{.}}', false)).toBe('false');
  });

  it('gives <no value> for missing map keys', () => {
    expect(run('{{.Foo}}', asMap({}))).toBe('<no value>');
    expect(run('{{.Foo}}', new Map())).toBe('<no value>');
    expect(run('[{{.Foo}}]', asMap({ a: 'x' }, ''))).toBe('[]');
    expect(run('{{.Foo.Bar}}', asMap({}))).toBe('<no value>');
    // a lower-case name can only be a map key in Go
    expect(run('{{.Labels.app}}', { labels: { other: 'x' } })).toBe('<no value>');
  });

  it('matches map keys exactly', () => {
    expect(run('{{.Labels.App}}', { labels: asMap({ app: 'web' }) })).toBe('<no value>');
    expect(run('{{.Labels.app}}', { labels: asMap({ app: 'web' }) })).toBe('web');
  });

  it('calls methods with arguments and the piped value', () => {
    const d = { greet: (n: string) => `hi ${n}`, count: () => 3 };
    expect(run('{{.Greet "bob"}}', d)).toBe('hi bob');
    expect(run('{{"ann" | .Greet}}', d)).toBe('hi ann');
    expect(run('{{.Count}}', d)).toBe('3');
  });

  it('formats dates as Go time.Time', () => {
    const d = new Date(2024, 0, 2, 3, 4, 5, 120); // local time
    expect(run('{{.}}', d)).toMatch(/^2024-01-02 03:04:05\.12 [+-]\d{4} \S+$/);
  });
});

describe('trim markers and comments', () => {
  it('trims white space around actions', () => {
    expect(run('a  {{- .X -}}  b', { x: 'x' })).toBe('axb');
    expect(run('a \n\t{{- .X}} b', { x: 'x' })).toBe('ax b');
    expect(run('{{.X -}}\n\n  b', { x: 'x' })).toBe('xb');
    expect(run('{{range .}}\n  {{- .}}\n{{- end}}', [1, 2])).toBe('12');
  });

  it('reads a dash without a space as a negative number', () => {
    expect(run('a {{-3}}')).toBe('a -3');
  });

  it('drops comments', () => {
    expect(run('a{{/* note */}}b')).toBe('ab');
    expect(run('a {{- /* note */ -}} b')).toBe('ab');
  });
});

describe('literals', () => {
  it('reads strings, raw strings, characters and numbers', () => {
    expect(run('{{"a\\tb\\u00e9\\x41"}}')).toBe('a\tbéA');
    expect(run('{{`a\\tb`}}')).toBe('a\\tb');
    expect(run("{{'a'}}")).toBe('97');
    expect(run('{{1.5}} {{0x10}} {{1e3}} {{-2}} {{0b101}} {{1_000}}')).toBe('1.5 16 1000 -2 5 1000');
    expect(run('{{true}} {{false}}')).toBe('true false');
  });
});

describe('variables', () => {
  it('declares and assigns', () => {
    expect(run('{{$x := .A}}[{{$x}}]', { a: 'v' })).toBe('[v]');
    expect(run('{{$x := 1}}{{$x = 2}}{{$x}}')).toBe('2');
    expect(run('{{$x := 1}}{{if true}}{{$x = 5}}{{end}}{{$x}}')).toBe('5');
  });

  it('scopes variables to their control structure', () => {
    expect(() => run('{{if true}}{{$y := 1}}{{end}}{{$y}}')).toThrow(/undefined variable "\$y"/);
    expect(run('{{with $x := .A}}{{$x}}{{end}}', { a: 'w' })).toBe('w');
  });

  it('reads fields of variables', () => {
    expect(run('{{$h := .Host}}{{$h.OCIRuntime.Name}}', info)).toBe('crun');
  });
});

describe('range', () => {
  it('iterates arrays with index and element', () => {
    expect(run('{{range $i, $e := .L}}{{$i}}={{$e}} {{end}}', { l: ['a', 'b'] })).toBe('0=a 1=b ');
    expect(run('{{range $e := .L}}{{$e}}{{end}}', { l: ['a', 'b'] })).toBe('ab');
    expect(run('{{range .L}}{{$.P}}{{.}}{{end}}', { l: [1, 2], p: '-' })).toBe('-1-2');
  });

  it('iterates objects and maps in sorted key order', () => {
    expect(run('{{range $k, $v := .M}}{{$k}}={{$v}};{{end}}', { m: { b: 2, a: 1 } })).toBe('a=1;b=2;');
    expect(run('{{range .}}{{.}}{{end}}', new Map([['b', 2], ['a', 1]]))).toBe('12');
  });

  it('runs else for empty, missing and nil values', () => {
    const t = '{{range .L}}x{{else}}none{{end}}';
    expect(run(t, { l: [] })).toBe('none');
    expect(run(t, { l: null })).toBe('none');
    expect(run(t, asMap({}))).toBe('none');
    expect(run(t, { l: {} })).toBe('none');
  });

  it('iterates an integer', () => {
    expect(run('{{range 3}}{{.}}{{end}}')).toBe('012');
  });

  it('supports break and continue', () => {
    const t = '{{range .}}{{if eq . 2}}{{continue}}{{end}}{{if eq . 4}}{{break}}{{end}}{{.}}{{end}}';
    expect(run(t, [1, 2, 3, 4, 5])).toBe('13');
  });

  it('nests', () => {
    expect(run('{{range .}}{{range .}}{{.}}{{end}};{{end}}', [[1, 2], [3]])).toBe('12;3;');
  });
});

describe('if and with', () => {
  it('uses Go truth', () => {
    const t = '{{if .}}T{{else}}F{{end}}';
    expect([0, '', [], {}, null, false].map((v) => run(t, v)).join('')).toBe('FFFFFF');
    expect([1, '0', [0], { a: 1 }, true, -1].map((v) => run(t, v)).join('')).toBe('TTTTTT');
  });

  it('chains else if', () => {
    const t = '{{if eq . 1}}one{{else if eq . 2}}two{{else}}many{{end}}';
    expect([1, 2, 3].map((v) => run(t, v))).toEqual(['one', 'two', 'many']);
  });

  it('sets dot in with, and supports else with', () => {
    expect(run('{{with .A}}[{{.}}]{{else}}empty{{end}}', { a: 'x' })).toBe('[x]');
    expect(run('{{with .A}}[{{.}}]{{else}}empty{{end}}', { a: '' })).toBe('empty');
    expect(run('{{with .A}}a{{else with .B}}b{{.}}{{else}}none{{end}}', { a: 0, b: 7 })).toBe('b7');
  });
});

describe('pipelines and functions', () => {
  it('passes the previous value as the last argument', () => {
    expect(run('{{.Name | upper}}', { name: 'abc' })).toBe('ABC');
    expect(run('{{"x" | printf "%s-%s" "a"}}')).toBe('a-x');
    expect(run('{{.Name | lower | printf "%q"}}', { name: 'AbC' })).toBe('"abc"');
  });

  it('evaluates parenthesised pipelines and their fields', () => {
    expect(run('{{(index .L 1) | upper}}', { l: ['a', 'b'] })).toBe('B');
    expect(run('{{(index .Items 0).Name}}', { items: [{ name: 'first' }] })).toBe('first');
  });

  it('short-circuits and/or and returns an operand', () => {
    expect(run('{{and 1 0 2}}')).toBe('0');
    expect(run('{{and 1 2}}')).toBe('2');
    expect(run('{{or 0 "" "x"}}')).toBe('x');
    expect(run('{{or true (index .L 5)}}', { l: [] })).toBe('true');
    expect(run('{{and false (index .L 5)}}', { l: [] })).toBe('false');
    expect(run('{{not 0}} {{not "a"}}')).toBe('true false');
  });

  it('compares', () => {
    expect(run('{{eq 1 1}} {{eq "a" "b" "a"}} {{ne 1 2}} {{lt 1 2}} {{le 2 2}} {{gt "b" "a"}} {{ge 1 2}}'))
      .toBe('true true true true true true false');
    expect(run('{{eq .X nil}} {{eq .Y nil}}', { x: null, y: 'a' })).toBe('true false');
    expect(run('{{if eq .State "running"}}up{{end}}', { state: 'running' })).toBe('up');
  });

  it('measures length in bytes for strings, like Go', () => {
    expect(run('{{len .L}} {{len "héllo"}} {{len .M}}', { l: [1, 2], m: { a: 1, b: 2, c: 3 } })).toBe('2 6 3');
  });

  it('indexes slices, maps and strings', () => {
    const d = { l: ['a', 'b'], m: { a: [10, 20] }, labels: { app: 'web' } };
    expect(run('{{index .L 1}} {{index .M "a" 1}} {{index "abc" 1}}', d)).toBe('b 20 98');
    expect(run('[{{index .Labels "nope"}}]', d)).toBe('[]');
    expect(run('{{index .M "nope"}}', d)).toBe('<no value>');
    expect(run('{{slice "hello" 1 3}} {{slice .L 1}}', d)).toBe('el [b]');
  });

  it('prints like fmt.Sprint and Sprintln', () => {
    expect(run('{{print 1 2 "a" 3}}')).toBe('1 2a3');
    expect(run('{{println 1 "a"}}')).toBe('1 a\n');
  });

  it('encodes compact JSON without HTML escaping', () => {
    expect(run('{{json .}}', { a: [1, 'x'], b: null, c: 'a<b&c' })).toBe('{"a":[1,"x"],"b":null,"c":"a<b&c"}');
    expect(run('{{json .Labels}}', { labels: asMap({ z: '1', a: '2' }) })).toBe('{"a":"2","z":"1"}');
    expect(run('{{json .Missing}}', asMap({}))).toBe('null');
  });

  it('has the string functions', () => {
    expect(run('{{upper "ab"}} {{lower "AB"}} {{title "hello world-foo"}}')).toBe('AB ab Hello World-Foo');
    expect(run('{{join .Names ","}}', { names: ['a', 'b'] })).toBe('a,b');
    expect(run('{{split "a:b:c" ":"}} {{index (split "a:b" ":") 1}}')).toBe('[a b c] b');
    expect(run('{{truncate "abcdef" 3}} {{truncate "ab" 3}}')).toBe('abc ab');
    expect(run('{{contains "abc" "b"}} {{hasPrefix "abc" "ab"}} {{hasSuffix "abc" "ab"}}')).toBe('true true false');
    expect(run('{{contains .Names "b"}}', { names: ['a', 'b'] })).toBe('true');
    expect(run('{{replace "a-b-c" "-" "+"}}')).toBe('a+b+c');
    expect(run('[{{pad "x" 1 2}}][{{pad "" 1 2}}]')).toBe('[ x  ][]');
    expect(run('{{printf "%-6s|%5.2f" .N .F}}', { n: 'ab', f: 3.14159 })).toBe('ab    | 3.14');
  });

  it('accepts caller functions, overriding built-ins', () => {
    expect(run('{{shout .}}', 'hi', { shout: (s) => `${String(s)}!` })).toBe('hi!');
    expect(run('{{upper .}}', 'hi', { upper: () => 'mine' })).toBe('mine');
  });
});

describe('errors', () => {
  it('reports a missing struct field with the template and the known fields', () => {
    const e = fails('{{.Host.Kernal}}', info, /can't evaluate field Kernal: \.Host has no such field/);
    expect(e.message).toMatch(/Kernel/);
    fails('{{.Nope}}', { a: 1 }, /can't evaluate field Nope/);
  });

  it('reports unknown functions at parse time', () => {
    fails('{{nope .}}', {}, /function "nope" not defined/);
  });

  it('reports unclosed actions and blocks', () => {
    fails('{{.Name', {}, /unclosed action/);
    fails('{{if .A}}x', { a: 1 }, /unexpected EOF/);
    fails('x{{end}}', {}, /unexpected \{\{end\}\}/);
    fails('{{else}}', {}, /unexpected \{\{else\}\}/);
    fails('{{(.A}}', { a: 1 }, /unclosed left paren/);
    fails('{{"abc}}', {}, /unterminated quoted string/);
  });

  it('reports other mistakes Go reports', () => {
    fails('{{$x}}', {}, /undefined variable "\$x"/);
    fails('{{upper}}', {}, /wrong number of args for upper: want 1 got 0/);
    fails('{{.A 1}}', { a: 1 }, /A has arguments but cannot be invoked as function/);
    fails('{{nil}}', {}, /nil is not a command/);
    fails('{{1 2}}', {}, /can't give argument to non-function 1/);
    fails('{{range .}}{{end}}', 'str', /range can't iterate over str/);
    fails('{{.A.B}}', { a: null }, /nil pointer evaluating \.A\.B/);
    fails('{{eq 1 "1"}}', {}, /error calling eq: incompatible types for comparison/);
    fails('{{index .L 5}}', { l: [1] }, /error calling index: index out of range: 5/);
    fails('{{}}', {}, /missing value for command/);
    fails('{{break}}', {}, /\{\{break\}\} outside \{\{range\}\}/);
    fails('{{template "x"}}', {}, /not supported/);
    fails('{{.A | 1}}', {}, /non executable command in pipeline stage 2/);
  });

  it('gives the position', () => {
    fails('ab {{.Nope}}', { a: 1 }, /at <\.Nope>: .*\(column 6\)/);
    fails('a\n{{nope}}', {}, /\(line 2, column 3\)/);
  });
});

describe('time.Time', () => {
  const saved = process.env.TZ;
  afterAll(() => {
    if (saved === undefined) delete process.env.TZ;
    else process.env.TZ = saved;
  });
  const t = new Date(Date.UTC(2024, 0, 2, 15, 4, 5, 120));

  it('prints and formats in UTC', () => {
    process.env.TZ = 'UTC';
    expect(run('{{.}}', t)).toBe('2024-01-02 15:04:05.12 +0000 UTC');
    expect(run('{{json .}}', t)).toBe('"2024-01-02T15:04:05.12Z"');
    expect(run('{{.Format "2006-01-02T15:04:05Z07:00"}}', t)).toBe('2024-01-02T15:04:05Z');
    expect(run('{{.Format "Mon Jan _2 3:04PM 06 .000 ,999 002"}}', t)).toBe('Tue Jan  2 3:04PM 24 .120 ,12 002');
    expect(run('{{.Format "January 2, 2006 15:04:05.000000 MST -07:00"}}', t)).toBe('January 2, 2024 15:04:05.120000 UTC +00:00');
    expect(run('{{.Unix}} {{.UnixNano}} {{.Year}} {{.Month}} {{.Day}} {{.Weekday}}', t)).toBe('1704207845 1704207845120000000 2024 January 2 Tuesday');
  });

  it('formats in local time unless asked for UTC', () => {
    process.env.TZ = 'America/New_York';
    expect(run('{{.Format "2006-01-02 15:04 -0700 MST"}}', t)).toBe('2024-01-02 10:04 -0500 EST');
    expect(run('{{.UTC.Format "15:04 MST"}}', t)).toBe('15:04 UTC');
    expect(run('{{json .}}', t)).toBe('"2024-01-02T10:04:05.12-05:00"');
    process.env.TZ = 'Asia/Kolkata';
    expect(run('{{.}}', t)).toBe('2024-01-02 20:34:05.12 +0530 IST');
  });

  it('reports unknown time methods', () => {
    expect(() => run('{{.Foo}}', t)).toThrow(/can't evaluate field Foo in type time.Time/);
  });
});
