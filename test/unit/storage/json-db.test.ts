import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { JsonDatabase } from '../../../src/storage/json-db.js';

interface ThingDb {
  version: 1;
  things: Record<string, { n: number }>;
}

const root = fs.mkdtempSync(path.join(os.tmpdir(), 'tspod-json-db-'));
afterAll(() => fs.rmSync(root, { recursive: true, force: true }));

describe('JsonDatabase', () => {
  it('reads an empty table before the first write, and keeps what mutate changes', async () => {
    const db = new JsonDatabase<ThingDb>(path.join(root, 'a'), 'things', 'things', 'move it aside');
    expect(db.read()).toEqual({ version: 1, things: {} });
    expect(await db.mutate((d) => ((d.things.x = { n: 1 }), 'done'))).toBe('done');
    await Promise.all([1, 2, 3, 4].map((n) => db.mutate((d) => (d.things[`k${n}`] = { n }))));
    expect(Object.keys(new JsonDatabase<ThingDb>(path.join(root, 'a'), 'things', 'things', '').read().things).sort()).toEqual(['k1', 'k2', 'k3', 'k4', 'x']);
    expect(fs.readdirSync(path.join(root, 'a')).sort()).toEqual(['things.json', 'things.lock']);
  });

  it('leaves the file as it was when the change throws', async () => {
    const db = new JsonDatabase<ThingDb>(path.join(root, 'b'), 'things', 'things', 'move it aside');
    await db.mutate((d) => (d.things.kept = { n: 1 }));
    await expect(db.mutate((d) => {
      d.things.lost = { n: 2 };
      throw new Error('no');
    })).rejects.toThrow('no');
    expect(Object.keys(db.read().things)).toEqual(['kept']);
  });

  it('names a damaged file and the remedy in one sentence', () => {
    fs.mkdirSync(path.join(root, 'c'));
    fs.writeFileSync(path.join(root, 'c', 'things.json'), '{"version":1,"things":null}');
    const db = new JsonDatabase<ThingDb>(path.join(root, 'c'), 'things', 'things', 'move it aside to start afresh');
    expect(() => db.read()).toThrow(`the thing database ${path.join(root, 'c', 'things.json')} is damaged; move it aside to start afresh`);
  });
});
