/**
 * systemd's unit file syntax (systemd.syntax(7)): [Section] headers, KEY=VALUE
 * lines, `#`/`;` comments, lines continued by a trailing backslash. Keys keep
 * their order and line numbers, for warnings that name the place.
 */
export interface UnitEntry {
  key: string;
  value: string;
  line: number;
}

export interface UnitSection {
  name: string;
  entries: UnitEntry[];
}

export interface UnitFile {
  path: string;
  sections: UnitSection[];
}

export class UnitSyntaxError extends Error {}

export function parseUnitFile(text: string, file: string): UnitFile {
  const sections: UnitSection[] = [];
  let current: UnitSection | undefined;
  const lines = text.split(/\r?\n/);
  for (let i = 0; i < lines.length; i++) {
    const lineNo = i + 1;
    let line = lines[i];
    // Continuation lines: a trailing backslash joins the next line (comments inside are skipped).
    while (line.endsWith('\\') && i + 1 < lines.length) {
      line = `${line.slice(0, -1)} `;
      i++;
      const next = lines[i];
      if (/^\s*[#;]/.test(next)) continue;
      line += next;
    }
    const trimmed = line.trim();
    if (trimmed === '' || trimmed.startsWith('#') || trimmed.startsWith(';')) continue;
    if (trimmed.startsWith('[')) {
      if (!trimmed.endsWith(']')) throw new UnitSyntaxError(`${file}:${lineNo}: a section header must end with ]`);
      current = { name: trimmed.slice(1, -1), entries: [] };
      sections.push(current);
      continue;
    }
    const eq = trimmed.indexOf('=');
    if (eq <= 0) throw new UnitSyntaxError(`${file}:${lineNo}: expected KEY=VALUE, got "${trimmed}"`);
    if (!current) throw new UnitSyntaxError(`${file}:${lineNo}: KEY=VALUE before any [Section]`);
    current.entries.push({ key: trimmed.slice(0, eq).trim(), value: trimmed.slice(eq + 1).trim(), line: lineNo });
  }
  return { path: file, sections };
}

/**
 * systemd's word splitting of a value (Exec lines, Environment=, PodmanArgs=):
 * white space separates, single and double quotes group, backslash escapes
 * (C-style in double quotes).
 */
export function splitWords(value: string): string[] {
  const out: string[] = [];
  let i = 0;
  while (i < value.length) {
    while (i < value.length && /\s/.test(value[i])) i++;
    if (i >= value.length) break;
    let word = '';
    let quoted = false;
    while (i < value.length && !/\s/.test(value[i])) {
      const ch = value[i];
      if (ch === '"' || ch === "'") {
        quoted = true;
        const q = ch;
        i++;
        while (i < value.length && value[i] !== q) {
          if (value[i] === '\\' && i + 1 < value.length) {
            i++;
            word += unescapeChar(value[i]);
          } else word += value[i];
          i++;
        }
        i++; // closing quote
        continue;
      }
      if (ch === '\\' && i + 1 < value.length) {
        word += unescapeChar(value[i + 1]);
        i += 2;
        continue;
      }
      word += ch;
      i++;
    }
    if (word !== '' || quoted) out.push(word);
  }
  return out;
}

function unescapeChar(c: string): string {
  return ({ n: '\n', t: '\t', r: '\r', '\\': '\\', '"': '"', "'": "'", s: ' ' } as Record<string, string>)[c] ?? c;
}

export function serializeUnit(sections: UnitSection[], header: string[] = []): string {
  const out: string[] = [...header];
  for (const s of sections) {
    if (out.length) out.push('');
    out.push(`[${s.name}]`);
    for (const e of s.entries) out.push(`${e.key}=${e.value}`);
  }
  return `${out.join('\n')}\n`;
}
