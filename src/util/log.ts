/**
 * Podman-style log lines on stderr (`WARN[0000] message`), filtered by
 * --log-level. Ordinary output goes to stdout, never through here.
 */
export type LogLevel = 'trace' | 'debug' | 'info' | 'warn' | 'error' | 'fatal' | 'panic';
export const LOG_LEVELS: LogLevel[] = ['trace', 'debug', 'info', 'warn', 'error', 'fatal', 'panic'];

const rank: Record<LogLevel, number> = { trace: 0, debug: 1, info: 2, warn: 3, error: 4, fatal: 5, panic: 6 };
const label: Record<LogLevel, string> = {
  trace: 'TRAC', debug: 'DEBU', info: 'INFO', warn: 'WARN', error: 'ERRO', fatal: 'FATA', panic: 'PANI',
};
const started = Date.now();
let threshold: LogLevel = 'warn';

export function setLogLevel(level: LogLevel): void {
  threshold = level;
}

export function logLevel(): LogLevel {
  return threshold;
}

function write(level: LogLevel, message: string): void {
  if (rank[level] < rank[threshold]) return;
  const secs = String(Math.floor((Date.now() - started) / 1000)).padStart(4, '0');
  process.stderr.write(`${label[level]}[${secs}] ${message}\n`);
}

export const log = {
  trace: (m: string) => write('trace', m),
  debug: (m: string) => write('debug', m),
  info: (m: string) => write('info', m),
  warn: (m: string) => write('warn', m),
  error: (m: string) => write('error', m),
  enabled: (level: LogLevel) => rank[level] >= rank[threshold],
};
