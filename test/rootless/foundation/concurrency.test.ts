import '../../helpers/require-unprivileged.js';
import fs from 'node:fs';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { TspodSandbox } from '../../helpers/tspod.js';

const sandbox = new TspodSandbox('concurrency');
afterAll(() => sandbox.dispose());

describe('one store, many tspod processes at once', () => {
  it('loses no update and leaves a valid database', async () => {
    const doomed = Array.from({ length: 8 }, (_, i) => `doomed-${i}`);
    for (const name of doomed) expect(sandbox.run(['volume', 'create', name]).status).toBe(0);

    const creators = Array.from({ length: 32 }, (_, i) =>
      sandbox.runAsync(['volume', 'create', '--label', `n=${i}`, `vol-${i}`]),
    );
    const removers = doomed.map((name) => sandbox.runAsync(['volume', 'rm', name]));
    // The same name from several processes at once: exactly one may win.
    const racers = Array.from({ length: 6 }, () => sandbox.runAsync(['volume', 'create', 'contested']));
    const results = await Promise.all([...creators, ...removers, ...racers]);

    for (const r of results.slice(0, creators.length + removers.length)) {
      expect(r.stderr).toBe('');
      expect(r.status).toBe(0);
    }
    const raceResults = results.slice(creators.length + removers.length);
    expect(raceResults.filter((r) => r.status === 0)).toHaveLength(1);
    for (const loser of raceResults.filter((r) => r.status !== 0)) {
      expect(loser.status).toBe(125);
      expect(loser.stderr).toBe('Error: volume with name contested already exists: volume already exists\n');
    }

    const ls = sandbox.run(['volume', 'ls', '--format', 'json']);
    expect(ls.status).toBe(0);
    const names = (JSON.parse(ls.stdout) as { Name: string; Labels: Record<string, string> }[]).map((v) => v.Name).sort();
    const expected = [...Array.from({ length: 32 }, (_, i) => `vol-${i}`), 'contested'].sort();
    expect(names).toEqual(expected);

    const dbFile = path.join(sandbox.home, '.local', 'share', 'tspod', 'volumes', 'volumes.json');
    const db = JSON.parse(fs.readFileSync(dbFile, 'utf8'));
    expect(Object.keys(db.volumes).sort()).toEqual(expected);
    for (let i = 0; i < 32; i++) expect(db.volumes[`vol-${i}`].Labels).toEqual({ n: String(i) });
    // No temporary files left behind by the atomic writes.
    expect(fs.readdirSync(path.dirname(dbFile)).filter((f) => f.endsWith('.tmp'))).toEqual([]);
    for (const name of doomed) expect(fs.existsSync(path.join(path.dirname(dbFile), name))).toBe(false);
  });
});
