import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import {
  loadRegistriesConf,
  parseRegistriesConf,
  recordShortNameAlias,
  refMatchingPrefix,
  RegistriesConf,
  type RegistriesConfPaths,
} from '../../../src/image/registries-conf.js';
import { TspodError } from '../../../src/util/errors.js';

const digest = `sha256:${'b'.repeat(64)}`;

function conf(text: string): RegistriesConf {
  return RegistriesConf.merge([{ file: 'test.conf', fragment: parseRegistriesConf(text, 'test.conf') }]);
}

let dir: string;
let paths: RegistriesConfPaths;

function write(rel: string, text: string): string {
  const file = path.join(dir, rel);
  fs.mkdirSync(path.dirname(file), { recursive: true });
  fs.writeFileSync(file, text);
  return file;
}

beforeEach(() => {
  dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-regconf-'));
  paths = {
    systemFile: path.join(dir, 'etc/registries.conf'),
    systemDir: path.join(dir, 'etc/registries.conf.d'),
    userFile: path.join(dir, 'home/registries.conf'),
    userDir: path.join(dir, 'home/registries.conf.d'),
    aliasCacheFile: path.join(dir, 'cache/short-name-aliases.conf'),
  };
});

afterEach(() => {
  fs.rmSync(dir, { recursive: true, force: true });
});

describe('prefix matching', () => {
  it('matches whole components and wildcard subdomains', () => {
    expect(refMatchingPrefix('example.com/foo/x:1', 'example.com/foo')).toBe(15);
    expect(refMatchingPrefix('example.com/foobar', 'example.com/foo')).toBe(-1);
    expect(refMatchingPrefix('example.com', 'example.com')).toBe(11);
    expect(refMatchingPrefix('example.com:5000/x', 'example.com')).toBe(11); // containers/image quirk
    expect(refMatchingPrefix('example.community/x', 'example.com')).toBe(-1);
    expect(refMatchingPrefix('foo.example.com/x', '*.example.com')).toBe(15);
    expect(refMatchingPrefix('a.b.example.com:5000/x', '*.example.com')).toBe(15);
    expect(refMatchingPrefix('example.com/x', '*.example.com')).toBe(-1);
    expect(refMatchingPrefix('other.com/x.example.com', '*.example.com')).toBe(-1);
  });
});

describe('[[registry]] tables', () => {
  const manPageExample = `
unqualified-search-registries = ["example.com"]

[[registry]]
prefix = "example.com/foo"
insecure = false
blocked = false
location = "internal-registry-for-example.com/bar"

[[registry.mirror]]
location = "example-mirror-0.local/mirror-for-foo"

[[registry.mirror]]
location = "example-mirror-1.local/mirrors/foo"
insecure = true
`;

  it('tries mirrors in order, then the rewritten location (the man page example)', () => {
    expect(conf(manPageExample).pullSources('example.com/foo/image:latest')).toEqual([
      { reference: 'example-mirror-0.local/mirror-for-foo/image:latest', insecure: false, mirror: true },
      { reference: 'example-mirror-1.local/mirrors/foo/image:latest', insecure: true, mirror: true },
      { reference: 'internal-registry-for-example.com/bar/image:latest', insecure: false, mirror: false },
    ]);
    expect(conf(manPageExample).pullSources('quay.io/a/b:1')).toEqual([{ reference: 'quay.io/a/b:1', insecure: false, mirror: false }]);
  });

  it('uses the longest matching prefix', () => {
    const c = conf(`
[[registry]]
location = "example.com"
insecure = true

[[registry]]
prefix = "example.com/foo"
location = "mirror.local/foo"
`);
    expect(c.findRegistry('example.com/foo/x:1')?.location).toBe('mirror.local/foo/x:1');
    expect(c.findRegistry('example.com/foo/x:1')?.insecure).toBe(false);
    expect(c.findRegistry('example.com/bar/x:1')?.location).toBe('example.com/bar/x:1');
    expect(c.isInsecure('example.com/bar/x:1')).toBe(true);
    expect(c.findRegistry('quay.io/x')).toBeUndefined();
  });

  it('supports wildcard prefixes and blocking', () => {
    const c = conf(`
[[registry]]
prefix = "*.evil.com"
blocked = true
`);
    expect(c.findRegistry('a.evil.com/x:1')?.blocked).toBe(true);
    expect(c.findRegistry('a.evil.com/x:1')?.location).toBe('a.evil.com/x:1');
    expect(c.findRegistry('evil.com/x:1')).toBeUndefined();
    expect(() => c.checkNotBlocked('a.b.evil.com/x:1')).toThrow(/registry \*\.evil\.com is blocked in test\.conf/);
    expect(() => c.checkNotBlocked('good.com/x:1')).not.toThrow();
  });

  it('honours pull-from-mirror and mirror-by-digest-only', () => {
    const c = conf(`
[[registry]]
location = "docker.io"
[[registry.mirror]]
location = "all.local"
[[registry.mirror]]
location = "digest.local"
pull-from-mirror = "digest-only"
[[registry.mirror]]
location = "tag.local"
pull-from-mirror = "tag-only"

[[registry]]
location = "quay.io"
mirror-by-digest-only = true
[[registry.mirror]]
location = "q.local"
`);
    const refs = (r: string) => c.pullSources(r).map((s) => s.reference);
    expect(refs('docker.io/library/a:1')).toEqual(['all.local/library/a:1', 'tag.local/library/a:1', 'docker.io/library/a:1']);
    expect(refs(`docker.io/library/a@${digest}`)).toEqual([`all.local/library/a@${digest}`, `digest.local/library/a@${digest}`, `docker.io/library/a@${digest}`]);
    expect(refs('quay.io/x/y:1')).toEqual(['quay.io/x/y:1']);
    expect(refs(`quay.io/x/y@${digest}`)).toEqual([`q.local/x/y@${digest}`, `quay.io/x/y@${digest}`]);
  });

  it('keeps the first table of a prefix within one file', () => {
    const c = conf(`
[[registry]]
location = "a.io"
insecure = true
[[registry]]
prefix = "a.io"
location = "b.io"
insecure = true
`);
    expect(c.registries).toHaveLength(1);
    expect(c.findRegistry('a.io/x')?.location).toBe('a.io/x');
  });
});

describe('validation', () => {
  const bad: Array<[string, RegExp]> = [
    ['[[registry]]\nlocation = "https://a.io"', /must not include a URI scheme/],
    ['short-name-mode = "sometimes"', /invalid short-name-mode "sometimes"/],
    ['[[registry]]\nprefix = "a.io/x"', /has no location/],
    ['[[registry]]\ninsecure = true', /neither location nor prefix/],
    ['[[registry]]\nprefix = "*.a.io/x"', /wildcard prefix must look like/],
    ['[[registry]]\nprefix = "a.*.io"\nlocation = "b.io"', /wildcards are only allowed/],
    ['[[registry]]\nlocation = "a.io"\n[[registry.mirror]]\nlocation = "m.io"\npull-from-mirror = "never"', /unsupported pull-from-mirror value "never"/],
    ['[[registry]]\nlocation = "a.io"\nmirror-by-digest-only = true\n[[registry.mirror]]\nlocation = "m.io"\npull-from-mirror = "all"', /at the same time/],
    ['[[registry]]\nlocation = "a.io"\npull-from-mirror = "all"', /belongs in a \[\[registry.mirror\]\]/],
    ['[[registry]]\nlocation = "a.io"\ninsecure = "yes"', /insecure must be true or false/],
    ['unqualified-search-registries = ["https://a.io"]', /URI scheme/],
    ['unqualified-search-registries = ["a.io/ns"]', /invalid unqualified-search-registries entry/],
    ['[aliases]\n"fedora:39" = "registry.fedoraproject.org/fedora"', /must not include a tag or digest/],
    ['[aliases]\n"quay.io/x" = "quay.io/x"', /must be a short name/],
    ['[aliases]\n"fedora" = "fedora"', /must include a registry/],
    ['[aliases]\n"fedora" = "registry.fedoraproject.org/fedora:39"', /must not include a tag or digest/],
    ['[registries.search]\nregistries = ["a.io"]\n[[registry]]\nlocation = "b.io"', /mixing the version 1/],
    ['unqualified-search-registries = [', /cannot parse test\.conf: .*fix the TOML syntax/],
  ];
  for (const [text, pattern] of bad) {
    it(`rejects ${JSON.stringify(text.split('\n').slice(-1)[0])}`, () => {
      expect(() => parseRegistriesConf(text, 'test.conf')).toThrow(TspodError);
      expect(() => parseRegistriesConf(text, 'test.conf')).toThrow(pattern);
    });
  }

  it('reads the deprecated version 1 format in the main file only', () => {
    const c = conf('[registries.search]\nregistries = ["a.io", "b.io"]\n[registries.insecure]\nregistries = ["c.io"]\n[registries.block]\nregistries = ["d.io"]');
    expect(c.unqualifiedSearchRegistries).toEqual(['a.io', 'b.io']);
    expect(c.isInsecure('c.io/x')).toBe(true);
    expect(c.findRegistry('d.io/x')?.blocked).toBe(true);
    expect(() => parseRegistriesConf('[registries.search]\nregistries = ["a.io"]', 'x.conf', { dropIn: true })).toThrow(/version 2 format/);
  });
});

describe('short names', () => {
  const base = `
unqualified-search-registries = ["quay.io", "docker.io"]
[aliases]
"fedora" = "registry.fedoraproject.org/fedora"
"ns/app" = "quay.io/ns/app"
`;

  it('returns fully qualified names unchanged', () => {
    const r = conf(base).resolveShortName('quay.io/x/y');
    expect(r.rationale).toBe('not-short');
    expect(r.candidates.map(String)).toEqual(['quay.io/x/y:latest']);
  });

  it('uses an alias alone, keeping the tag or digest', () => {
    const c = conf(base);
    expect(c.resolveShortName('fedora').candidates.map(String)).toEqual(['registry.fedoraproject.org/fedora:latest']);
    expect(c.resolveShortName('fedora:39').candidates.map(String)).toEqual(['registry.fedoraproject.org/fedora:39']);
    expect(c.resolveShortName(`fedora@${digest}`).candidates.map(String)).toEqual([`registry.fedoraproject.org/fedora@${digest}`]);
    expect(c.resolveShortName('ns/app:2').candidates.map(String)).toEqual(['quay.io/ns/app:2']);
    const r = c.resolveShortName('fedora');
    expect(r.rationale).toBe('alias');
    expect(r.origin).toBe('test.conf');
  });

  it('tries the search registries in order, adding library/ for docker.io', () => {
    const r = conf(`short-name-mode = "disabled"\n${base}`).resolveShortName('busybox:1.36');
    expect(r.rationale).toBe('search');
    expect(r.candidates.map(String)).toEqual(['quay.io/busybox:1.36', 'docker.io/library/busybox:1.36']);
    expect(r.shouldPrompt).toBe(false);
    expect(conf(`short-name-mode = "disabled"\n${base}`).resolveShortName('user/app').candidates.map(String))
      .toEqual(['quay.io/user/app:latest', 'docker.io/user/app:latest']);
  });

  it('follows short-name-mode', () => {
    const permissive = conf(base); // the default mode
    expect(permissive.shortNameMode).toBe('permissive');
    expect(permissive.resolveShortName('busybox').shouldPrompt).toBe(false);
    expect(permissive.resolveShortName('busybox', { isTerminal: true }).shouldPrompt).toBe(true);
    const enforcing = conf(`short-name-mode = "enforcing"\n${base}`);
    expect(() => enforcing.resolveShortName('busybox')).toThrow(/cannot prompt without a TTY/);
    expect(enforcing.resolveShortName('busybox', { isTerminal: true }).shouldPrompt).toBe(true);
    // one search registry is not ambiguous
    const single = conf('short-name-mode = "enforcing"\nunqualified-search-registries = ["docker.io"]');
    expect(single.resolveShortName('busybox').candidates.map(String)).toEqual(['docker.io/library/busybox:latest']);
  });

  it('fails clearly when nothing is configured', () => {
    expect(() => conf('').resolveShortName('busybox')).toThrow(/did not resolve to an alias and no unqualified-search registries are defined in test\.conf/);
    expect(() => RegistriesConf.merge([]).resolveShortName('busybox')).toThrow(/no containers-registries.conf\(5\) was found/);
  });
});

describe('loading files', () => {
  it('reads the system file, then system and user drop-ins in name order', () => {
    write('etc/registries.conf', 'unqualified-search-registries = ["a.io"]\n[aliases]\n"x" = "a.io/x"\n"y" = "a.io/y"');
    write('etc/registries.conf.d/000-shortnames.conf', '[aliases]\n"z" = "z.io/z"');
    write('etc/registries.conf.d/50-b.conf', 'unqualified-search-registries = ["b.io"]\n[aliases]\n"x" = "b.io/x"');
    write('etc/registries.conf.d/ignored.txt', 'not toml');
    write('home/registries.conf.d/10-user.conf', '[aliases]\n"y" = ""\n[[registry]]\nlocation = "b.io"\ninsecure = true');
    const c = loadRegistriesConf(paths);
    expect(c.files.map((f) => path.relative(dir, f))).toEqual([
      'etc/registries.conf', 'etc/registries.conf.d/000-shortnames.conf', 'etc/registries.conf.d/50-b.conf', 'home/registries.conf.d/10-user.conf',
    ]);
    expect(c.unqualifiedSearchRegistries).toEqual(['b.io']);
    expect(c.searchOrigin).toBe(path.join(dir, 'etc/registries.conf.d/50-b.conf'));
    expect(c.aliases.get('x')?.value).toBe('b.io/x');
    expect(c.aliases.has('y')).toBe(false);
    expect(c.aliases.get('z')?.value).toBe('z.io/z');
    expect(c.isInsecure('b.io/foo')).toBe(true);
  });

  it("lets the user's registries.conf replace the system file and directory", () => {
    write('etc/registries.conf', 'unqualified-search-registries = ["sys.io"]');
    write('etc/registries.conf.d/a.conf', '[aliases]\n"s" = "sys.io/s"');
    write('home/registries.conf', 'unqualified-search-registries = ["user.io"]');
    write('home/registries.conf.d/a.conf', '[aliases]\n"u" = "user.io/u"');
    const c = loadRegistriesConf(paths);
    expect(c.unqualifiedSearchRegistries).toEqual(['user.io']);
    expect([...c.aliases.keys()]).toEqual(['u']);
  });

  it('replaces registries with the same prefix from drop-ins', () => {
    write('etc/registries.conf', '[[registry]]\nlocation = "a.io"\n[[registry]]\nlocation = "b.io"');
    write('etc/registries.conf.d/x.conf', '[[registry]]\nlocation = "a.io"\nblocked = true');
    const c = loadRegistriesConf(paths);
    expect(c.registries.map((r) => [r.prefix, r.blocked])).toEqual([['a.io', true], ['b.io', false]]);
  });

  it('reads an override file instead of the main files', () => {
    write('etc/registries.conf', 'unqualified-search-registries = ["sys.io"]');
    const override = write('custom.conf', 'unqualified-search-registries = ["custom.io"]');
    expect(loadRegistriesConf({ ...paths, overrideFile: override }).unqualifiedSearchRegistries).toEqual(['custom.io']);
  });

  it('works with no files at all', () => {
    const c = loadRegistriesConf(paths);
    expect(c.files).toEqual([]);
    expect(c.unqualifiedSearchRegistries).toEqual([]);
  });

  it('gives the alias cache precedence and can record aliases in it', () => {
    write('etc/registries.conf', 'unqualified-search-registries = ["a.io", "b.io"]\n[aliases]\n"app" = "a.io/app"');
    recordShortNameAlias('app', 'b.io/app:3', paths.aliasCacheFile!);
    recordShortNameAlias('tool', 'b.io/ns/tool', paths.aliasCacheFile!);
    const c = loadRegistriesConf(paths);
    expect(c.resolveShortName('app').candidates.map(String)).toEqual(['b.io/app:latest']);
    expect(c.resolveShortName('tool:1').candidates.map(String)).toEqual(['b.io/ns/tool:1']);
    expect(() => recordShortNameAlias('quay.io/x', 'b.io/x', paths.aliasCacheFile!)).toThrow(/must be a short name/);
  });

  it('names the file in errors', () => {
    const file = write('etc/registries.conf', 'short-name-mode = 3');
    expect(() => loadRegistriesConf(paths)).toThrow(new RegExp(`invalid registries configuration in ${file.replace(/[.*+?^${}()|[\]\\/]/g, '\\$&')}`));
  });
});
