// Start-up cost of tspod against bare Node and podman, same run, interleaved.
// Usage: npm run bench -- startup [--runs N]
import path from 'node:path';
import { commandExists, interleave, median, min, printTable, timeCommand } from './_stats.js';

const runsArg = process.argv.indexOf('--runs');
const runs = runsArg > 0 ? Number(process.argv[runsArg + 1]) : 10;
const tspod = path.join(import.meta.dirname ?? path.dirname(new URL(import.meta.url).pathname), '..', 'bin', 'tspod');
const env = { ...process.env };

const cases: Record<string, () => number> = {
  'node -e 0': () => timeCommand([process.execPath, '-e', '0'], env),
  'tspod --version': () => timeCommand([tspod, '--version'], env),
  'tspod version': () => timeCommand([tspod, 'version'], env),
  'tspod volume ls': () => timeCommand([tspod, 'volume', 'ls'], env),
};
if (commandExists('podman')) cases['podman --version'] = () => timeCommand(['podman', '--version'], env);

const results = interleave(cases, runs);
const base = median(results['node -e 0']);
const rows: (string | number)[][] = [['command', 'runs', 'min ms', 'median ms', 'median - node ms']];
for (const [name, xs] of Object.entries(results)) {
  rows.push([name, xs.length, min(xs).toFixed(1), median(xs).toFixed(1), (median(xs) - base).toFixed(1)]);
}
printTable(rows);
console.log(
  JSON.stringify({
    runs,
    nodeMedianMs: +base.toFixed(1),
    versionOverNodeMs: +(median(results['tspod --version']) - base).toFixed(1),
    versionCommandOverNodeMs: +(median(results['tspod version']) - base).toFixed(1),
    ...(results['podman --version'] ? { podmanVersionMs: +median(results['podman --version']).toFixed(1) } : {}),
  }),
);
