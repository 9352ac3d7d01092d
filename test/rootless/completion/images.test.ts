import '../../helpers/require-unprivileged.js';
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { makeBusyboxRootfs } from '../../helpers/rootfs.js';
import { REPO_ROOT, TSPOD_BIN, TspodSandbox } from '../../helpers/tspod.js';

// Images in tspod's real store (made by podman import + save, loaded with tspod load:
// no network), completed from the store's own file.
if (spawnSync('sh', ['-c', 'command -v podman && command -v fish']).status !== 0) throw new Error('podman and fish are needed (apt-get install podman fish)');

const sandbox = new TspodSandbox('completion-images');
const home = sandbox.home;
const env = { ...sandbox.env, PATH: `${path.join(home, 'bin')}:${sandbox.env.PATH}` };

function sh(cmd: string): string {
  const r = spawnSync('sh', ['-c', cmd], { env, cwd: home, encoding: 'utf8' });
  if (r.status !== 0) throw new Error(`${cmd}: ${r.stderr}`);
  return r.stdout;
}

const complete = (...words: string[]) =>
  sandbox
    .run(['__complete', ...words])
    .stdout.split('\n')
    .filter((l) => l && !l.startsWith(':'))
    .map((l) => l.split('\t')[0]);

beforeAll(() => {
  fs.mkdirSync(path.join(home, 'bin'));
  fs.symlinkSync(TSPOD_BIN, path.join(home, 'bin', 'tspod'));
  const rootfs = makeBusyboxRootfs(home);
  sh(`tar -C ${rootfs} -c . | podman import - localhost/busy:1 >/dev/null && podman tag localhost/busy:1 localhost/busy:2 && podman save --format docker-archive -o busy.tar localhost/busy:1 localhost/busy:2 >/dev/null 2>&1`);
  const r = sandbox.run(['load', '-i', path.join(home, 'busy.tar')], { timeout: 120_000 });
  if (r.status !== 0) throw new Error(`tspod load: ${r.stderr}`);
  const fishDir = path.join(home, '.config', 'fish', 'completions');
  fs.mkdirSync(fishDir, { recursive: true });
  fs.copyFileSync(path.join(REPO_ROOT, 'completions', 'fish', 'tspod.fish'), path.join(fishDir, 'tspod.fish'));
}, 300_000);

afterAll(() => {
  spawnSync('podman', ['system', 'reset', '--force'], { env });
  try {
    process.kill(Number(fs.readFileSync(path.join(home, 'run', 'libpod', 'tmp', 'pause.pid'), 'utf8')), 'SIGKILL');
  } catch {
    // no podman pause process
  }
  sandbox.dispose();
});

describe('images', () => {
  it('run and rmi offer the stored images with their tags, and IDs once two characters are typed', () => {
    expect(complete('run', '').sort()).toEqual(['localhost/busy:1', 'localhost/busy:2']);
    expect(complete('rmi', 'localhost/busy:').sort()).toEqual(['localhost/busy:1', 'localhost/busy:2']);
    expect(complete('run', '-d', 'bu').sort()).toEqual(['busy:1', 'busy:2']);
    const id = JSON.parse(sandbox.run(['image', 'inspect', 'localhost/busy:1']).stdout)[0].Id.replace(/^sha256:/, '') as string;
    expect(complete('rmi', id.slice(0, 4))).toEqual([id.slice(0, 12)]);
  });

  it('fish completes them after `tspod run `', () => {
    const r = spawnSync('fish', ['-c', 'complete -C "tspod image inspect localhost/"'], { env, cwd: home, encoding: 'utf8' });
    expect(r.stdout.split('\n').filter(Boolean).map((l) => l.split('\t')[0]).sort()).toEqual(['localhost/busy:1', 'localhost/busy:2']);
  });
});
