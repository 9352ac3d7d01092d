import fs from 'node:fs';

declare const __TSPOD_VERSION__: string | undefined;

/** Injected by the bundler; read from package.json when running from source (tests). */
export function tspodVersion(): string {
  if (typeof __TSPOD_VERSION__ === 'string') return __TSPOD_VERSION__;
  const pkg = JSON.parse(fs.readFileSync(new URL('../package.json', import.meta.url), 'utf8')) as { version: string };
  return pkg.version;
}
