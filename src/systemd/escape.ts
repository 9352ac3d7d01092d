/** Quoting for systemd unit files (systemd.syntax(7), systemd.service(5) "Command lines"). */

/**
 * One argument of an Exec line: `%` doubled (specifiers) and `$` doubled
 * (environment expansion) unless the caller means them; quoted when it holds
 * white space, quotes, backslashes or is empty.
 */
export function execArg(arg: string, opts: { keepSpecifiers?: boolean } = {}): string {
  // Quadlet values may use specifiers on purpose (Volume=%h/data:/data), as in Podman's.
  const escaped = (opts.keepSpecifiers ? arg : arg.replace(/%/g, '%%')).replace(/\$/g, '$$$$');
  if (escaped !== '' && !/[\s"'\\;]/.test(escaped)) return escaped;
  return `"${escaped.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n').replace(/\t/g, '\\t')}"`;
}

/** A value of Environment=: the whole KEY=VALUE quoted when needed, % doubled. */
export function envAssignment(key: string, value: string): string {
  const kv = `${key}=${value}`.replace(/%/g, '%%');
  return /[\s"'\\]/.test(kv) ? `"${kv.replace(/\\/g, '\\\\').replace(/"/g, '\\"')}"` : kv;
}

/** Podman's layout for long Exec lines: groups of words, continued with ` \` and a tab. */
export function execLine(key: string, groups: string[][]): string {
  const parts = groups.filter((g) => g.length > 0).map((g) => g.join(' '));
  return `${key}=${parts.join(' \\\n\t')}`;
}
