import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { buildCli } from '../../../src/cli/main.js';
import { complete } from '../../../src/completion/engine.js';
import { Directive, formatResult } from '../../../src/completion/protocol.js';
import { ARGUMENT_RULES, optionRule } from '../../../src/completion/rules.js';
import { globalOptions, longName, specFromCli } from '../../../src/completion/spec.js';

const specs = specFromCli(buildCli());
const store = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-completion-unit-'));
afterAll(() => fs.rmSync(store, { recursive: true, force: true }));

const id = (c: string) => c.repeat(64);
const container = (cid: string, name: string, status: string, created: string) => ({
  id: cid,
  name,
  created,
  config: { imageName: 'docker.io/library/busybox:latest' },
  state: { status },
});
fs.mkdirSync(path.join(store, 'containers'), { recursive: true });
fs.writeFileSync(
  path.join(store, 'containers', 'containers.json'),
  JSON.stringify({
    version: 1,
    containers: {
      [id('a')]: container(id('a'), 'web', 'running', '2026-01-01T00:00:03Z'),
      [id('b')]: container(id('b'), 'db', 'exited', '2026-01-01T00:00:02Z'),
      [id('c')]: container(id('c'), 'fresh', 'created', '2026-01-01T00:00:01Z'),
    },
  }),
);
fs.mkdirSync(path.join(store, 'volumes'), { recursive: true });
fs.writeFileSync(path.join(store, 'volumes', 'volumes.json'), JSON.stringify({ version: 1, volumes: { data: { Name: 'data', Driver: 'local' }, cache: { Name: 'cache', Driver: 'local' } } }));
fs.mkdirSync(path.join(store, 'images'), { recursive: true });
fs.writeFileSync(
  path.join(store, 'images', 'images.json'),
  JSON.stringify({
    version: 1,
    images: {
      [id('d')]: { id: id('d'), names: ['docker.io/library/busybox:latest', 'docker.io/library/busybox@sha256:' + id('e')] },
      [id('f')]: { id: id('f'), names: ['localhost/myapp:1.0', 'localhost/myapp:latest'] },
    },
  }),
);

const env = { defaultPaths: () => ({ storageRoot: store, runRoot: path.join(store, 'run') }) };
const c = (...args: string[]) => complete(specs, args, env);
const values = (...args: string[]) => c(...args).candidates.map((x) => x.value);

describe('the rules table', () => {
  it('has a rule for every option that takes a value, in every command', () => {
    const missing: string[] = [];
    for (const s of specs) {
      if (s.hidden) continue;
      for (const o of s.options) {
        if (o.takesValue && !optionRule(s.paths[0].join(' '), o.names)) missing.push(`${s.paths[0].join(' ')} ${o.names.join(',')}`);
      }
    }
    expect(missing).toEqual([]);
  });

  it('has an argument rule for every command that takes arguments', () => {
    const missing = specs
      .filter((s) => !s.hidden && (s.positionals.length > 0 || s.rest) && !ARGUMENT_RULES[s.paths[0].join(' ')])
      .map((s) => s.paths[0].join(' '));
    expect(missing).toEqual([]);
  });

  it('reads the global options from every command', () => {
    expect(globalOptions(specs).map(longName)).toEqual(expect.arrayContaining(['--log-level', '--root', '--runroot', '--storage-driver']));
  });
});

describe('commands', () => {
  it('offers the top-level commands and groups with descriptions, not the hidden ones', () => {
    const r = c('');
    const v = r.candidates.map((x) => x.value);
    expect(v).toEqual(expect.arrayContaining(['run', 'ps', 'rm', 'container', 'volume', 'completion']));
    expect(v.some((x) => x.startsWith('__'))).toBe(false);
    expect(r.candidates.find((x) => x.value === 'volume')?.description).toBe('Manage volumes');
    expect(r.candidates.find((x) => x.value === 'run')?.description).toMatch(/new container/);
    expect(r.directive).toBe(Directive.NoFileComp);
    expect(values('st')).toEqual(['start', 'stop']);
  });

  it('offers the subcommands of a group, aliases included', () => {
    expect(values('volume', '')).toEqual(expect.arrayContaining(['create', 'ls', 'rm', 'inspect', 'prune', 'exists']));
    expect(values('container', 'l')).toEqual(['list', 'logs', 'ls']);
  });

  it('lets global options come before the command', () => {
    expect(values('--log-level', 'debug', 'st')).toEqual(['start', 'stop']);
    expect(values('--log-level', '')).toContain('debug');
  });
});

describe('options', () => {
  it('offers short and long names after -, long ones after --, with descriptions', () => {
    const dash = values('rm', '-');
    expect(dash).toEqual(expect.arrayContaining(['-f', '--force', '-a', '--all', '--log-level']));
    const dd = values('rm', '--');
    expect(dd).toContain('--force');
    expect(dd.some((x) => !x.startsWith('--'))).toBe(false);
    expect(c('rm', '--f').candidates).toEqual([{ value: '--force', description: expect.stringMatching(/Force removal/) }]);
  });

  it('does not offer a flag already given', () => {
    expect(values('rm', '-f', '--')).not.toContain('--force');
    expect(values('run', '-e', 'A=1', '--e')).toContain('--env');
  });

  it('completes values: log levels, network modes, signals, --opt=value', () => {
    expect(values('--log-level', 'd')).toEqual(['debug']);
    expect(values('run', '--network', '')).toEqual(expect.arrayContaining(['none', 'host', 'pasta', 'slirp4netns', 'podman']));
    expect(values('run', '--network=h')).toEqual(['--network=host']);
    expect(values('run', '--net', 'container:w')).toEqual(['container:web']);
    expect(values('kill', '-s', 'SIGK')).toEqual(['SIGKILL']);
    expect(values('kill', '--signal', 'TE')).toEqual(['TERM']);
    expect(values('run', '--stop-signal', 'SIGTE')).toEqual(['SIGTERM']);
    expect(values('run', '--cap-add', 'net_a')).toEqual(['net_admin']);
    expect(values('--storage-driver', '')).toEqual(['overlay', 'vfs']);
  });

  it('asks for directories and files where the value is a path', () => {
    expect(c('--root', '').directive).toBe(Directive.FilterDirs);
    expect(c('completion', '-f', '').directive).toBe(Directive.Default);
  });

  it('completes free-text values with nothing, not file names', () => {
    const r = c('run', '--name', '');
    expect(r).toEqual({ candidates: [], directive: Directive.NoFileComp });
  });

  it('completes --format with fields, nested fields and json', () => {
    expect(values('ps', '--format', '')).toEqual(expect.arrayContaining(['json', '{{.ID}}', '{{.Names}}']));
    const r = c('ps', '--format', '{{.Na');
    expect(r.candidates.map((x) => x.value)).toEqual(['{{.Names}}']);
    expect(r.directive & Directive.NoSpace).toBeTruthy();
    expect(values('inspect', '--format', '{{.State.Pi')).toEqual(['{{.State.Pid}}']);
    expect(values('inspect', '--format', '{{.Sta')).toEqual(['{{.State.']);
    expect(values('info', '--format', '{{.Store.Graph')).toContain('{{.Store.GraphDriverName}}');
    expect(values('volume', 'ls', '--format', '{{.Mou')).toEqual(['{{.Mountpoint}}', '{{.MountCount}}']);
  });

  it('completes filters: keys, then values', () => {
    expect(values('ps', '--filter', 'st')).toEqual(['status=']);
    expect(values('ps', '--filter', 'status=ex')).toEqual(['status=exited']);
    expect(values('ps', '-f', 'name=w')).toEqual(['name=web']);
    expect(values('volume', 'ls', '--filter', 'name=c')).toEqual(['name=cache']);
  });
});

describe('grouped short options', () => {
  it('parses -ie VALUE and -eVALUE and keeps going', () => {
    expect(c('run', '-ie', '').directive).toBe(Directive.NoFileComp);
    expect(values('run', '-ie', 'A=1', '--rootfs', '--ho')).toEqual(['--hostname']);
    expect(values('run', '-iw/tmp', '--pri')).toEqual(['--privileged']);
  });

  it('completes a group as typed, and a value glued to it', () => {
    expect(values('run', '-i')).toEqual(['-i']);
    expect(values('kill', '-sKI')).toEqual(['-sKILL']);
    expect(c('run', '-zz').candidates).toEqual([]);
  });
});

describe('arguments', () => {
  it('start offers stopped containers, stop/kill running ones, rm all of them', () => {
    expect(values('start', '')).toEqual(['db', 'fresh']);
    expect(values('stop', '')).toEqual(['web']);
    expect(values('kill', '-s', 'TERM', '')).toEqual(['web']);
    expect(values('rm', '')).toEqual(['web', 'db', 'fresh']);
    expect(values('container', 'rm', '')).toEqual(['web', 'db', 'fresh']);
    expect(c('rm', '').candidates[0].description).toMatch(/running, docker.io\/library\/busybox:latest/);
  });

  it('offers IDs once two characters are typed, and not what is already given', () => {
    expect(values('rm', 'a')).toEqual([]);
    expect(values('rm', 'aa')).toEqual(['aaaaaaaaaaaa']);
    expect(values('rm', 'web', '')).toEqual(['db', 'fresh']);
  });

  it('run offers images (with tags), or directories after --rootfs', () => {
    expect(values('run', '')).toEqual(['docker.io/library/busybox:latest', 'localhost/myapp:1.0', 'localhost/myapp:latest']);
    expect(values('run', 'my')).toEqual(['myapp:1.0', 'myapp:latest']);
    expect(values('run', '-d', 'busy')).toEqual(['busybox:latest']);
    expect(values('create', 'ff')).toEqual(['ffffffffffff']);
    expect(c('run', '--rootfs', '').directive).toBe(Directive.FilterDirs);
  });

  it("after run's image, the words belong to the container's command", () => {
    const r = c('run', '--rootfs', './rootfs', 'sh', '-');
    expect(r.candidates).toEqual([]);
    expect(r.directive).toBe(Directive.Default);
  });

  it('volume commands offer volumes', () => {
    expect(values('volume', 'rm', '')).toEqual(['cache', 'data']);
    expect(values('volume', 'inspect', 'd')).toEqual(['data']);
  });

  it('completion offers the shells', () => {
    expect(values('completion', '')).toEqual(['bash', 'zsh', 'fish']);
  });

  it('--root on the command line selects the store read', () => {
    const empty = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-completion-empty-'));
    try {
      expect(values('--root', empty, 'rm', '')).toEqual([]);
      expect(values('rm', '--root', store, '')).toEqual(['web', 'db', 'fresh']);
    } finally {
      fs.rmSync(empty, { recursive: true, force: true });
    }
  });

  it('commands without arguments offer nothing', () => {
    expect(c('info', '')).toEqual({ candidates: [], directive: Directive.NoFileComp });
  });
});

describe('protocol', () => {
  it("prints cobra's lines: candidate TAB description, then :directive", () => {
    const out = formatResult({ candidates: [{ value: 'a', description: 'first.\nmore' }, { value: 'b' }], directive: 6 }, true);
    expect(out).toBe('a\tfirst\nb\n:6\n');
    expect(formatResult({ candidates: [{ value: 'a', description: 'x' }], directive: 4 }, false)).toBe('a\n:4\n');
  });
});
