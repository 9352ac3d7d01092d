/** Which `run` options take a value, from the CLI's own registrations (for walking recorded command lines). */
import type { CreateSyntax } from './generate.js';

export async function createSyntax(): Promise<CreateSyntax> {
  const { buildCli } = await import('../cli/main.js');
  const { specFromCli } = await import('../completion/spec.js');
  const specs = specFromCli(buildCli());
  const run = specs.find((s) => s.paths.some((p) => p.length === 1 && p[0] === 'run'));
  const withValue = new Set<string>();
  const all = new Set<string>();
  for (const o of run?.options ?? []) {
    for (const n of o.names) {
      all.add(n);
      if (o.takesValue) withValue.add(n);
    }
  }
  return { takesValue: (n) => withValue.has(n), isOption: (n) => all.has(n) };
}
