// tspod's entry point, bundled as CommonJS: `--version` answers before Node's
// ESM loader or anything else is loaded (scripts call it often); every other
// command goes on to the CLI, an ES module loaded on demand.
import path from 'node:path';
import { pathToFileURL } from 'node:url';

// Set by the bundler (scripts/build.mjs): this file only ever runs bundled.
declare const __TSPOD_VERSION__: string;

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  process.stdout.write(`tspod version ${__TSPOD_VERSION__}\n`);
} else if (args[0] === '__complete' || args[0] === '__completeNoDesc') {
  // Shell completion runs on every Tab: its own small bundle, specs read from JSON (src/completion/fast-entry.ts).
  // eslint-disable-next-line @typescript-eslint/no-require-imports
  (require(path.join(__dirname, 'complete.cjs')) as { run: (a: string[]) => Promise<number> }).run(args).then((status) => {
    process.exitCode = status;
  });
} else {
  const cli = pathToFileURL(path.join(__dirname, 'cli.js')).href;
  import(cli)
    .then(async (mod: { main: (argv: string[]) => Promise<number> }) => {
      process.exitCode = await mod.main(args);
    })
    .catch((err: unknown) => {
      process.stderr.write(`Error: tspod failed to start: ${(err as Error)?.message ?? String(err)}; reinstall tspod\n`);
      process.exitCode = 125;
    });
}
