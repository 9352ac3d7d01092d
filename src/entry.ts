// tspod's entry point. `--version` answers before anything else is loaded,
// since scripts call it often; everything else goes through the CLI.
import { tspodVersion } from './version.js';

const args = process.argv.slice(2);
if (args.length === 1 && (args[0] === '--version' || args[0] === '-v')) {
  process.stdout.write(`tspod version ${tspodVersion()}\n`);
} else {
  const { main } = await import('./cli/main.js');
  process.exitCode = await main(args);
}
