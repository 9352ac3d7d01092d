/** Parsing of `WWW-Authenticate` challenges (RFC 7235), as registries send them. */

export interface Challenge {
  /** Lower-cased scheme: `bearer`, `basic`, ... */
  scheme: string;
  params: Record<string, string>;
}

/**
 * Parse one or more challenges from a header value, e.g.
 * `Bearer realm="https://auth.docker.io/token",service="registry.docker.io",scope="repository:library/alpine:pull"`.
 * Parameter names are lower-cased; quoted values are unescaped. Tolerant of the quirks
 * registries produce (no quotes, spaces around `=`, commas inside quoted values).
 */
export function parseWwwAuthenticate(header: string | string[] | undefined): Challenge[] {
  if (header === undefined) return [];
  const values = Array.isArray(header) ? header : [header];
  const out: Challenge[] = [];
  for (const value of values) parseOne(value, out);
  return out;
}

function parseOne(s: string, out: Challenge[]): void {
  let i = 0;
  const n = s.length;
  const skipWs = () => {
    while (i < n && (s[i] === ' ' || s[i] === '\t')) i++;
  };
  const readToken = () => {
    const start = i;
    while (i < n && /[!#$%&'*+\-.^_`|~0-9A-Za-z]/.test(s[i]!)) i++;
    return s.slice(start, i);
  };
  let current: Challenge | undefined;
  while (i < n) {
    skipWs();
    if (s[i] === ',') {
      i++;
      continue;
    }
    const tokStart = i;
    const tok = readToken();
    if (tok === '') {
      i++; // garbage character: skip
      continue;
    }
    skipWs();
    if (s[i] === '=' && current) {
      // auth-param (or token68 ending in '=' -- treated as a param name with empty value)
      i++;
      skipWs();
      let value: string;
      if (s[i] === '"') {
        i++;
        let v = '';
        while (i < n && s[i] !== '"') {
          if (s[i] === '\\' && i + 1 < n) i++;
          v += s[i];
          i++;
        }
        i++; // closing quote
        value = v;
      } else {
        const start = i;
        while (i < n && s[i] !== ',' && s[i] !== ' ' && s[i] !== '\t') i++;
        value = s.slice(start, i);
      }
      current.params[tok.toLowerCase()] = value;
    } else {
      // a new scheme (a token followed by space or end, not by '=')
      if (s[i] === '=' && !current) {
        // token68 without a scheme: malformed; skip it
        while (i < n && s[i] !== ',') i++;
        continue;
      }
      void tokStart;
      current = { scheme: tok.toLowerCase(), params: {} };
      out.push(current);
    }
  }
}

/** The first challenge of the given scheme. */
export function findChallenge(challenges: Challenge[], scheme: string): Challenge | undefined {
  return challenges.find((c) => c.scheme === scheme.toLowerCase());
}
