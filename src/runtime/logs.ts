import fs from 'node:fs';

/** One record of a k8s-file log: `<RFC3339 time> <stream> <F|P> <text>`. */
export interface LogEntry {
  time: string;
  stream: 'stdout' | 'stderr';
  partial: boolean;
  text: string;
}

export function parseLogLine(line: string): LogEntry | undefined {
  const a = line.indexOf(' ');
  const b = line.indexOf(' ', a + 1);
  const c = line.indexOf(' ', b + 1);
  if (a < 0 || b < 0 || c < 0) return undefined;
  const stream = line.slice(a + 1, b);
  if (stream !== 'stdout' && stream !== 'stderr') return undefined;
  return { time: line.slice(0, a), stream, partial: line.slice(b + 1, c) === 'P', text: line.slice(c + 1) };
}

export interface LogOptions {
  tail?: number;
  since?: number;
  until?: number;
  timestamps?: boolean;
}

/** The log's entries as output: a partial record joins the next one. */
export function renderEntries(entries: LogEntry[], opts: LogOptions): { stream: 'stdout' | 'stderr'; text: string }[] {
  const lines: { stream: 'stdout' | 'stderr'; text: string; time: string }[] = [];
  let pending: { stream: 'stdout' | 'stderr'; text: string; time: string } | undefined;
  for (const e of entries) {
    const t = Date.parse(e.time);
    if (opts.since !== undefined && t < opts.since) continue;
    if (opts.until !== undefined && t > opts.until) continue;
    if (pending && pending.stream === e.stream) pending.text += e.text;
    else {
      if (pending) lines.push(pending);
      pending = { stream: e.stream, text: e.text, time: e.time };
    }
    if (!e.partial) {
      pending.text += '\n';
      lines.push(pending);
      pending = undefined;
    }
  }
  if (pending) lines.push(pending);
  const kept = opts.tail !== undefined && opts.tail >= 0 ? lines.slice(Math.max(0, lines.length - opts.tail)) : lines;
  return kept.map((l) => ({ stream: l.stream, text: opts.timestamps ? `${l.time} ${l.text}` : l.text }));
}

export function readLogEntries(file: string, from = 0): { entries: LogEntry[]; offset: number } {
  let buf: Buffer;
  try {
    const fd = fs.openSync(file, 'r');
    try {
      const size = fs.fstatSync(fd).size;
      buf = Buffer.alloc(Math.max(0, size - from));
      fs.readSync(fd, buf, 0, buf.length, from);
    } finally {
      fs.closeSync(fd);
    }
  } catch {
    return { entries: [], offset: from };
  }
  // Only whole records: a record being written stays for the next read.
  const end = buf.lastIndexOf(0x0a) + 1;
  const entries = buf
    .subarray(0, end)
    .toString('utf8')
    .split('\n')
    .filter(Boolean)
    .map(parseLogLine)
    .filter((e): e is LogEntry => e !== undefined);
  return { entries, offset: from + end };
}

/** --since/--until: RFC 3339 times, Unix seconds, or durations like 10m before now. */
export function parseTimeArg(value: string, now = Date.now()): number {
  const dur = /^(\d+(?:\.\d+)?)(ns|us|ms|s|m|h)$/.exec(value);
  if (dur) {
    const unit: Record<string, number> = { ns: 1e-6, us: 1e-3, ms: 1, s: 1000, m: 60_000, h: 3_600_000 };
    return now - Number(dur[1]) * unit[dur[2]];
  }
  if (/^\d+(\.\d+)?$/.test(value)) return Number(value) * 1000;
  const t = Date.parse(value);
  if (Number.isNaN(t)) throw new Error(`invalid time "${value}": use RFC 3339, Unix seconds or a duration such as 10m`);
  return t;
}
