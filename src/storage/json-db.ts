import fs from 'node:fs';
import path from 'node:path';
import { TspodError } from '../util/errors.js';
import { readJsonFile, writeJsonAtomic } from './atomic.js';
import { withLock } from './lock.js';

/**
 * A store's JSON database: `{ version: 1, [table]: { key: record } }` in
 * `DIR/NAME.json`, read freely, changed only read-modify-write under the
 * exclusive flock `DIR/NAME.lock` and replaced atomically, so concurrent tspod
 * processes never lose each other's work. The container, pod and volume stores
 * each keep one.
 */
export class JsonDatabase<Db extends { version: 1 }> {
  readonly file: string;
  readonly lockFile: string;

  constructor(
    readonly dir: string,
    name: string,
    private readonly table: Exclude<keyof Db, 'version'> & string,
    /** What to tell the user when the file is damaged (after "the NAME database FILE is damaged; "). */
    private readonly remedy: string,
  ) {
    this.file = path.join(dir, `${name}.json`);
    this.lockFile = path.join(dir, `${name}.lock`);
  }

  read(): Db {
    const db = readJsonFile<Db>(this.file, { version: 1, [this.table]: {} } as unknown as Db);
    if (typeof db !== 'object' || db === null || typeof db[this.table] !== 'object' || db[this.table] === null) {
      throw new TspodError(`the ${path.basename(this.file, '.json').replace(/s$/, '')} database ${this.file} is damaged; ${this.remedy}`);
    }
    return db;
  }

  /** Read-modify-write under the lock; fn's changes to the db are saved. */
  mutate<T>(fn: (db: Db) => T): Promise<T> {
    fs.mkdirSync(this.dir, { recursive: true, mode: 0o700 });
    return withLock(this.lockFile, () => {
      const db = this.read();
      const result = fn(db);
      writeJsonAtomic(this.file, db);
      return result;
    });
  }
}
