// tspod's entry point, bundled as CommonJS: `--version` answers before anything
// else is loaded (scripts call it often); every other command goes on to the
// CLI bundle, loaded with a V8 code cache (src/code-cache.ts).
import fs from 'node:fs';
import path from 'node:path';

// Set by the bundler (scripts/build.mjs): this file only ever runs bundled.
declare const __TSPOD_VERSION__: string;

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  process.stdout.write(`tspod version ${__TSPOD_VERSION__}\n`);
} else if (args[0] === '__complete' || args[0] === '__completeNoDesc') {
  // Shell completion runs on every Tab: its own small bundle, specs read from JSON (src/completion/fast-entry.ts).
  runBundle<{ run: (a: string[]) => Promise<number> }>('complete.cjs', (cli) => cli.run(args));
} else {
  // A code cache per command word (src/code-cache.ts): the words are those the
  // build compiled a parser for (dist/machines/WORD.json); anything else shares one.
  const word = args.find((a) => !a.startsWith('-'));
  const known = word !== undefined && /^[a-z][a-z-]*$/.test(word) && fs.existsSync(path.join(__dirname, 'machines', `${word}.json`));
  runBundle<{ main: (a: string[]) => Promise<number> }>('cli.cjs', (cli) => cli.main(args), known ? word : 'other');
}

/** Load a bundle beside this file with the V8 code cache, run it, and exit with its status. */
function runBundle<T>(name: string, call: (cli: T) => Promise<number>, flavour = ''): void {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { loadWithCodeCache } = require('./code-cache.js') as typeof import('./code-cache.js');
  let loaded: { cli: T; done: () => void };
  try {
    loaded = loadWithCodeCache<T>(path.join(__dirname, name), { useCache: process.env.TSPOD_NO_CODE_CACHE === undefined, flavour });
  } catch (err) {
    process.stderr.write(`Error: tspod failed to start: ${(err as Error)?.message ?? String(err)}; reinstall tspod\n`);
    process.exit(125);
  }
  call(loaded.cli).then((status) => {
    process.exitCode = status;
    loaded.done();
  });
}
