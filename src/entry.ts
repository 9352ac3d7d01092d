// tspod's entry point, bundled as CommonJS: `--version` answers before anything
// else is loaded (scripts call it often); every other command goes on to the
// CLI bundle, loaded with a V8 code cache (src/code-cache.ts).
import path from 'node:path';

// Set by the bundler (scripts/build.mjs): this file only ever runs bundled.
declare const __TSPOD_VERSION__: string;

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  process.stdout.write(`tspod version ${__TSPOD_VERSION__}\n`);
} else if (args[0] === '__complete' || args[0] === '__completeNoDesc') {
  // Shell completion runs on every Tab: its own small bundle, specs read from JSON (src/completion/fast-entry.ts).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { loadWithCodeCache } = require('./code-cache.js') as typeof import('./code-cache.js');
  const loaded = loadWithCodeCache<{ run: (a: string[]) => Promise<number> }>(path.join(__dirname, 'complete.cjs'), {
    useCache: process.env.TSPOD_NO_CODE_CACHE === undefined,
  });
  loaded.cli.run(args).then((status) => {
    process.exitCode = status;
    loaded.done();
  });
} else {
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  const { loadWithCodeCache } = require('./code-cache.js') as typeof import('./code-cache.js');
  let loaded: { cli: { main: (argv: string[]) => Promise<number> }; done: () => void };
  try {
    loaded = loadWithCodeCache(path.join(__dirname, 'cli.cjs'), { useCache: process.env.TSPOD_NO_CODE_CACHE === undefined });
  } catch (err) {
    process.stderr.write(`Error: tspod failed to start: ${(err as Error)?.message ?? String(err)}; reinstall tspod\n`);
    process.exit(125);
  }
  loaded.cli.main(args).then((status: number) => {
    process.exitCode = status;
    loaded.done();
  });
}
