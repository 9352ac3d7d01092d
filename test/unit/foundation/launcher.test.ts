// The native launcher (native/src/launch_main.c) starts Node with V8 flags of its own:
// a small young generation for every command, and no optimising compiler for `pull`
// only. A stand-in for Node (TSPOD_NODE) records the options it is given, then runs
// the real one.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';

const root = path.resolve(__dirname, '../../..');
const tspod = path.join(root, 'bin', 'tspod');
const work = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-launcher-'));
afterAll(() => fs.rmSync(work, { recursive: true, force: true }));

const recorder = path.join(work, 'node');
fs.writeFileSync(recorder, `#!/bin/sh\nprintf '%s\\n' "$@" > "$TSPOD_TEST_ARGS"\nexec "${process.execPath}" "$@"\n`, { mode: 0o755 });

/** The options Node was started with (before "--"), and the command's status. */
function nodeOptions(args: string[]): { options: string[]; status: number | null } {
  const log = path.join(work, 'args');
  fs.rmSync(log, { force: true });
  const env = { ...process.env, HOME: work, XDG_RUNTIME_DIR: work, XDG_CACHE_HOME: path.join(work, 'cache'), TSPOD_NODE: recorder, TSPOD_TEST_ARGS: log };
  const r = spawnSync(tspod, args, { env, encoding: 'utf8' });
  const all = fs.readFileSync(log, 'utf8').split('\n');
  return { options: all.slice(0, all.indexOf('--')), status: r.status };
}

describe('the launcher', () => {
  it('starts pull without the optimising compiler, and other commands with it', () => {
    expect(nodeOptions(['pull', '--help'])).toEqual({ options: ['--max-semi-space-size=4', '--max-opt=2'], status: 0 });
    expect(nodeOptions(['--log-level=error', 'pull', '--help']).options).toContain('--max-opt=2');
    for (const args of [['images', '--help'], ['image', 'pull', '--help'], ['run', '--help']]) {
      expect(nodeOptions(args), args.join(' ')).toEqual({ options: ['--max-semi-space-size=4'], status: 0 });
    }
  });
});
