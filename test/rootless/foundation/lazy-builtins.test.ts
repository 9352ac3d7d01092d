import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { REPO_ROOT, TspodSandbox } from '../../helpers/tspod.js';

// The bundle's shims (scripts/build.mjs, LAZY_BUILTINS) require heavy built-ins
// on first property use, so a command that never spawns or opens a socket
// through Node never loads them. Node's own list of the modules it loaded,
// written at exit by a preloaded hook, shows which ones a command loaded.
const ARCHIVE = path.join(REPO_ROOT, 'dist', 'busybox-image.tar');
const sandbox = new TspodSandbox('lazy-builtins');
const hook = path.join(sandbox.home, 'load-list-hook.cjs');

function loadedModules(args: string[]): { status: number; stderr: string; modules: string[] } {
  const out = path.join(sandbox.home, `load-list-${args[0]}.txt`);
  fs.rmSync(out, { force: true });
  const r = sandbox.run(args, { env: { NODE_OPTIONS: `--require ${hook}`, LOAD_LIST_OUT: out } });
  const text = fs.existsSync(out) ? fs.readFileSync(out, 'utf8') : '';
  return { status: r.status, stderr: r.stderr, modules: text.split('\n').filter(Boolean) };
}

beforeAll(() => {
  fs.writeFileSync(
    hook,
    "process.on('exit', () => require('node:fs').writeFileSync(process.env.LOAD_LIST_OUT, process.moduleLoadList.join('\\n')));\n",
  );
  // Creates the pause process (which spawns through child_process); later commands join it in the launcher.
  expect(sandbox.run(['load', '-i', ARCHIVE]).status).toBe(0);
});
afterAll(() => sandbox.dispose());

describe('heavy built-ins loaded on first use', () => {
  // stderr is a pipe here: merely reading process.stderr would make a net.Socket (and load tty and net).
  it('run --rm --network none loads no child_process, dgram, net or tty', () => {
    const r = loadedModules(['run', '--rm', '--network', 'none', 'localhost/busybox', 'true']);
    expect(r).toMatchObject({ status: 0, stderr: '' });
    expect(r.modules).toContain('NativeModule vm'); // the list was written by the tspod process
    expect(r.modules.filter((m) => /^NativeModule (child_process|dgram|net|tty)$/.test(m))).toEqual([]);
  });

  it('a command that spawns a helper does load child_process (the probe sees it)', () => {
    const r = loadedModules(['info']);
    expect(r.status).toBe(0);
    expect(r.modules).toContain('NativeModule child_process');
  });
});
