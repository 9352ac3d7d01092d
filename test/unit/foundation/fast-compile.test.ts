import * as core from 'clipanion/lib/core.js';
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { buildCli, commandsFor, compileMachineCache } from '../../../src/cli/main.js';
import { machineKey } from '../../../src/cli/fast-compile.js';
import { readMachineCache } from '../../../src/cli/machine-cache.js';

type Builders = { builders: core.CommandBuilder<unknown>[] };

/** clipanion's own compile: builders' machines joined, then its simplifyMachine. */
function clipanionMachine(builders: core.CommandBuilder<unknown>[]) {
  const machine = core.makeAnyOfMachine(builders.map((b) => b.compile().machine));
  core.simplifyMachine(machine);
  return machine;
}

describe('machine compile', () => {
  it('parses a run command line as clipanion does', () => {
    const argv = ['run', '--rm', '-it', '-e', 'A=1', '--network', 'none', '-v', '/a:/b:ro', 'img', 'sh', '-c', 'echo hi'];
    const command = buildCli(commandsFor(argv)).process(argv) as unknown as Record<string, unknown>;
    expect(command.rm).toBe(true);
    expect(command.tty).toBe(true);
    expect(command.env).toEqual(['A=1']);
    expect(command.image).toBe('img');
    expect(command.command).toEqual(['sh', '-c', 'echo hi']);
  });
});

describe('machine cache', () => {
  it('hands back the machine compiled for the same commands, and nothing for others', () => {
    const dir = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-machines-'));
    try {
      compileMachineCache(dir);
      const builders = (buildCli(commandsFor(['run'])) as unknown as { builder: Builders }).builder.builders;
      const cached = readMachineCache('run', dir)(machineKey(builders));
      expect(JSON.stringify(cached)).toBe(JSON.stringify(clipanionMachine(builders)));
      expect(readMachineCache('run', dir)('some|other|commands')).toBeUndefined();
      expect(readMachineCache('nosuchword', dir)(machineKey(builders))).toBeUndefined();
      const argv = ['run', '--rm', '-e', 'A=1', 'img', 'true'];
      const command = buildCli(commandsFor(argv), readMachineCache('run', dir)).process(argv) as unknown as Record<string, unknown>;
      expect(command.env).toEqual(['A=1']);
      expect(command.command).toEqual(['true']);
    } finally {
      fs.rmSync(dir, { recursive: true, force: true });
    }
  });
});
