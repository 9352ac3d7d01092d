import '../../helpers/require-unprivileged.js';
import { afterAll, describe, expect, it } from 'vitest';
import { COMMANDS } from '../../../src/cli/main.js';
import { TspodSandbox } from '../../helpers/tspod.js';
import pkg from '../../../package.json' with { type: 'json' };

const sandbox = new TspodSandbox('cli');
afterAll(() => sandbox.dispose());

describe('command line skeleton', () => {
  it('prints its version', () => {
    const r = sandbox.run(['--version']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`tspod version ${pkg.version}\n`);
    const v = sandbox.run(['version']);
    expect(v.status).toBe(0);
    expect(v.stdout).toMatch(new RegExp(`^Version:\\s+${pkg.version.replace(/\./g, '\\.')}$`, 'm'));
  });

  it('rejects an unknown command with one line on stderr and exit 125', () => {
    const r = sandbox.run(['frobnicate', 'x']);
    expect(r.status).toBe(125);
    expect(r.stdout).toBe('');
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toMatch(/^Error: unrecognized command `tspod frobnicate/);
  });

  it('says a command is missing, for tspod alone and for a group alone', () => {
    const bare = sandbox.run([]);
    expect(bare.status).toBe(125);
    expect(bare.stderr).toBe("Error: missing command 'tspod COMMAND'; run 'tspod --help' to list the commands\n");
    const group = sandbox.run(['volume']);
    expect(group.status).toBe(125);
    expect(group.stderr).toBe("Error: missing command 'tspod volume COMMAND'; run 'tspod volume --help' to list its commands\n");
    const sub = sandbox.run(['volume', 'explode']);
    expect(sub.status).toBe(125);
    expect(sub.stderr).toMatch(/^Error: unrecognized command `tspod volume explode`/);
  });

  it('rejects an unknown option with one line on stderr and exit 125', () => {
    const r = sandbox.run(['info', '--bogus']);
    expect(r.status).toBe(125);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('unknown flag: --bogus');
  });

  it("takes a short option's value attached, as Podman's flag parser does, and names an unknown shorthand", () => {
    const attached = sandbox.run(['ps', '-n1', '-a', '--format={{.ID}}']);
    expect(attached.status, attached.stderr).toBe(0);
    const missing = sandbox.run(['stop', '-t0', 'no-such-container']);
    expect(missing.stderr).toContain('no container with name or ID "no-such-container" found');
    expect(missing.status).toBe(125);
    const unknown = sandbox.run(['rm', '-x0', 'c']);
    expect(unknown.status).toBe(125);
    expect(unknown.stderr.trim()).toBe("Error: unknown shorthand flag: 'x' in -x0; run 'tspod rm --help' to list its flags");
    // A boolean short option never swallows the next word.
    const boolean = sandbox.run(['rm', '-fz']);
    expect(boolean.status).toBe(125);
    expect(boolean.stderr).not.toContain('no container');
  });

  it('rejects a bad --log-level value the same way', () => {
    const r = sandbox.run(['--log-level', 'loud', 'version']);
    expect(r.status).toBe(125);
    expect(r.stderr.trimEnd().split('\n')).toHaveLength(1);
    expect(r.stderr).toContain('invalid --log-level "loud"');
  });

  it('accepts the global options before and after the command', () => {
    const root = `${sandbox.home}/altroot`;
    expect(sandbox.run(['--root', root, 'volume', 'create', 'here']).status).toBe(0);
    const r = sandbox.run(['volume', 'ls', '-q', '--root', root, '--log-level=error']);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe('here\n');
    expect(sandbox.run(['volume', 'ls', '-q']).stdout).toBe('');
  });

  it('has --help on every command', async () => {
    // Hidden protocol commands (__complete) take --help as a word to complete.
    const checks = COMMANDS.filter((c) => !c.paths?.[0]?.[0]?.startsWith('__')).flatMap((command) =>
      // Aliases show the usage of the command's first path.
      (command.paths ?? []).map((path) => ({ path, primary: `tspod ${command.paths![0].join(' ')}` })),
    );
    // A few at a time: well over a hundred paths, each a Node start.
    for (let i = 0; i < checks.length; i += 4) {
      await Promise.all(
        checks.slice(i, i + 4).map(async ({ path, primary }) => {
          const r = await sandbox.runAsync([...path, '--help']);
          expect(r.status, `tspod ${path.join(' ')} --help`).toBe(0);
          expect(r.stdout, `tspod ${path.join(' ')} --help`).toContain(primary);
        }),
      );
    }
    const top = sandbox.run(['--help']);
    expect(top.status).toBe(0);
    for (const word of ['info', 'unshare', 'volume create', 'system migrate']) expect(top.stdout).toContain(word);
  }, 300_000);
});
