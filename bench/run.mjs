// `npm run bench -- NAME [ARGS...]` runs bench/NAME.ts (through tsx) with ARGS.
import { spawnSync } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { fileURLToPath } from 'node:url';

const here = path.dirname(fileURLToPath(import.meta.url));
const available = fs.readdirSync(here).filter((f) => f.endsWith('.ts') && !f.startsWith('_')).map((f) => f.slice(0, -3)).sort();
const [name, ...args] = process.argv.slice(2);
if (!name || !available.includes(name)) {
  process.stderr.write(`${name ? `no bench named "${name}". ` : ''}Usage: npm run bench -- NAME [ARGS...]; available: ${available.join(', ')}\n`);
  process.exit(name ? 2 : 0);
}
const tsx = path.join(here, '..', 'node_modules', '.bin', 'tsx');
const r = spawnSync(tsx, [path.join(here, `${name}.ts`), ...args], { stdio: 'inherit' });
process.exit(r.status ?? 1);
