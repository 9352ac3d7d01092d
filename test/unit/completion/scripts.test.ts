import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { describe, expect, it } from 'vitest';
import { completionScript, SHELLS } from '../../../src/completion/scripts.js';

const repo = path.resolve(path.dirname(new URL(import.meta.url).pathname), '..', '..', '..');
const FILES = { bash: 'completions/bash/tspod', zsh: 'completions/zsh/_tspod', fish: 'completions/fish/tspod.fish' } as const;

describe('the checked-in completion scripts', () => {
  for (const shell of SHELLS) {
    it(`${FILES[shell]} is what \`tspod completion ${shell}\` prints (regenerate it with: ./bin/tspod completion ${shell} -f ${FILES[shell]})`, () => {
      const checkedIn = fs.readFileSync(path.join(repo, FILES[shell]), 'utf8');
      expect(checkedIn).toBe(completionScript(shell, 'tspod', { descriptions: true }));
    });
  }

  it('are thin: every decision is left to tspod __complete', () => {
    for (const shell of SHELLS) {
      const s = completionScript(shell, 'tspod', { descriptions: true });
      expect(s).toContain('__complete');
      expect(s).not.toMatch(/\b(run|ps|volume|--network)\b/);
      expect(s.split('\n').length).toBeLessThan(110);
    }
    expect(completionScript('bash', 'tspod', { descriptions: false })).toContain('__completeNoDesc');
  });

  it('parse in their shells', () => {
    const check = { bash: ['bash', '-n'], zsh: ['zsh', '-n'], fish: ['fish', '--no-execute'] } as const;
    for (const shell of SHELLS) {
      const [cmd, flag] = check[shell];
      const r = spawnSync(cmd, [flag, path.join(repo, FILES[shell])], { encoding: 'utf8' });
      if (r.error) throw new Error(`${cmd} is not installed (apt-get install bash-completion zsh fish)`);
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
  });
});
