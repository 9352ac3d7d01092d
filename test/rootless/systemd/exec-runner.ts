// Runs a service unit's Exec lines the way systemd would, without a systemd
// session: specifiers (%t %n %N %p %i %h %u %U %%) and Environment= expanded,
// command lines split with systemd's quoting and $VAR/${VAR} rules, lines run
// in systemd's order, a leading `-` tolerating failure.
import { spawnSync } from 'node:child_process';
import os from 'node:os';
import { parseUnitFile, splitWords } from '../../../src/systemd/quadlet/unitfile.js';

export interface UnitRun {
  /** Every command run, expanded, with its status. */
  log: { key: string; argv: string[]; status: number; stdout: string; stderr: string }[];
}

export interface RunnerEnv {
  /** The unit's name as systemd knows it (web.service, echo@hello.service). */
  unitName: string;
  env: NodeJS.ProcessEnv;
}

export function expandSpecifiers(text: string, r: RunnerEnv): string {
  const name = r.unitName;
  const prefixFull = name.replace(/\.[^.]+$/, '');
  const at = prefixFull.indexOf('@');
  const values: Record<string, string> = {
    n: name,
    N: prefixFull,
    p: at < 0 ? prefixFull : prefixFull.slice(0, at),
    i: at < 0 ? '' : prefixFull.slice(at + 1),
    I: at < 0 ? '' : prefixFull.slice(at + 1),
    t: r.env.XDG_RUNTIME_DIR ?? `/run/user/${process.getuid?.()}`,
    h: r.env.HOME ?? os.homedir(),
    u: os.userInfo().username,
    U: String(process.getuid?.()),
    '%': '%',
  };
  return text.replace(/%(.)/g, (m, c: string) => {
    if (!(c in values)) throw new Error(`specifier %${c} is not supported by the test runner`);
    return values[c];
  });
}

/** Environment= values: KEY=VALUE words, quoted as systemd quotes them. */
export function unitEnvironment(entries: string[]): Record<string, string> {
  const out: Record<string, string> = {};
  for (const e of entries) {
    for (const w of splitWords(e)) {
      const eq = w.indexOf('=');
      if (eq > 0) out[w.slice(0, eq)] = w.slice(eq + 1);
    }
  }
  return out;
}

/** systemd.service(5) "Command lines": $$ is a dollar, ${VAR} one word, a lone $VAR splits into words. */
export function splitCommandLine(line: string, env: Record<string, string | undefined>): { ignoreFailure: boolean; argv: string[] } {
  let rest = line.trim();
  let ignoreFailure = false;
  while (/^[-@:+!]/.test(rest)) {
    if (rest[0] === '-') ignoreFailure = true;
    rest = rest.slice(1);
  }
  const DOLLAR = '\u0000';
  const words = splitWords(rest.replace(/\$\$/g, DOLLAR));
  const argv: string[] = [];
  for (const w of words) {
    const lone = /^\$([A-Za-z_][A-Za-z0-9_]*)$/.exec(w);
    if (lone) {
      argv.push(...(env[lone[1]] ?? '').split(/\s+/).filter(Boolean));
      continue;
    }
    argv.push(w.replace(/\$\{([A-Za-z_][A-Za-z0-9_]*)\}/g, (_m, k: string) => env[k] ?? '').replace(new RegExp(DOLLAR, 'g'), '$'));
  }
  return { ignoreFailure, argv };
}

export class ServiceRunner {
  readonly log: UnitRun['log'] = [];
  private readonly service: { key: string; value: string }[];
  readonly env: Record<string, string | undefined>;

  constructor(
    unitText: string,
    readonly r: RunnerEnv,
  ) {
    const unit = parseUnitFile(unitText, r.unitName);
    this.service = unit.sections.filter((s) => s.name === 'Service').flatMap((s) => s.entries);
    const envLines = this.values('Environment').map((v) => expandSpecifiers(v, r));
    this.env = { ...r.env, ...unitEnvironment(envLines) };
  }

  values(key: string): string[] {
    return this.service.filter((e) => e.key === key).map((e) => e.value);
  }

  value(key: string): string | undefined {
    return this.values(key).at(-1);
  }

  /** A path-valued setting (PIDFile=) with specifiers expanded. */
  path(key: string): string | undefined {
    const v = this.value(key);
    return v === undefined ? undefined : expandSpecifiers(v, this.r);
  }

  private run(key: string): boolean {
    for (const line of this.values(key)) {
      const { ignoreFailure, argv } = splitCommandLine(expandSpecifiers(line, this.r), this.env);
      const res = spawnSync(argv[0], argv.slice(1), { env: this.env, encoding: 'utf8', timeout: 120_000 });
      const status = res.status ?? 128;
      this.log.push({ key, argv, status, stdout: res.stdout, stderr: res.stderr });
      if (status !== 0 && !ignoreFailure) return false;
    }
    return true;
  }

  /** ExecStartPre, ExecStart, ExecStartPost; false (and the log says why) when one fails. */
  start(): boolean {
    return this.run('ExecStartPre') && this.run('ExecStart') && this.run('ExecStartPost');
  }

  /** ExecStop, then ExecStopPost whatever happened (as systemd does). */
  stop(): boolean {
    const stopped = this.run('ExecStop');
    const post = this.run('ExecStopPost');
    return stopped && post;
  }

  describe(): string {
    return this.log.map((l) => `${l.key}: ${l.argv.join(' ')} -> ${l.status}\n${l.stderr}`).join('\n');
  }
}
