/**
 * containers-registries.conf(5) (version 2, TOML), as containers/image reads it:
 * unqualified-search registries, short-name mode and aliases, and per-prefix `[[registry]]`
 * tables with location rewriting, `insecure`, `blocked` and mirrors.
 *
 * Files, in load order (later ones override earlier ones):
 *   1. the main file: $CONTAINERS_REGISTRIES_CONF if set; else the user's
 *      $XDG_CONFIG_HOME/containers/registries.conf if it exists (it then replaces the
 *      system file entirely, and only the user's drop-in directory is read); else
 *      /etc/containers/registries.conf;
 *   2. drop-ins: /etc/containers/registries.conf.d/*.conf, then
 *      $XDG_CONFIG_HOME/containers/registries.conf.d/*.conf, each directory in name order
 *      (distributions ship their short-name aliases there, e.g. 000-shortnames.conf);
 *   3. the machine-written alias cache short-name-aliases.conf ($XDG_CACHE_HOME/containers/
 *      for rootless users, /var/cache/containers/ for root), whose aliases win.
 * A drop-in replaces `unqualified-search-registries`, `short-name-mode` and
 * `credential-helpers` when it sets them, replaces `[[registry]]` tables with the same
 * prefix (others are added), and merges `[aliases]` (an empty value removes an alias).
 * Every path is injectable for tests.
 */
import fs from 'node:fs';
import os from 'node:os';
import path from 'node:path';
import { parse as parseToml, stringify as stringifyToml } from 'smol-toml';
import { writeFileAtomic } from '../storage/atomic.js';
import { TspodError } from '../util/errors.js';
import { log } from '../util/log.js';
import { isRootless } from '../util/paths.js';
import { DEFAULT_REGISTRY, ImageReference, parseImageReference } from './reference.js';

export type ShortNameMode = 'enforcing' | 'permissive' | 'disabled';
export type PullFromMirror = 'all' | 'digest-only' | 'tag-only';

export interface Mirror {
  location: string;
  insecure: boolean;
  /** Which pulls may use this mirror (default all). */
  pullFromMirror?: PullFromMirror;
}

export interface Registry {
  /** Matched against fully qualified image names; `*.example.com` matches subdomains. */
  prefix: string;
  /** Where the prefix-rooted namespace really lives ('' keeps the name, for wildcard prefixes). */
  location: string;
  insecure: boolean;
  blocked: boolean;
  mirrorByDigestOnly: boolean;
  mirrors: Mirror[];
  /** The file this table came from. */
  origin: string;
}

export interface RegistriesConfPaths {
  /** Replaces the main file ($CONTAINERS_REGISTRIES_CONF). */
  overrideFile?: string;
  systemFile: string;
  systemDir: string;
  userFile: string;
  userDir: string;
  /** short-name-aliases.conf written after interactive short-name choices. */
  aliasCacheFile?: string;
}

export function defaultRegistriesConfPaths(env: NodeJS.ProcessEnv = process.env): RegistriesConfPaths {
  const home = env.HOME || os.homedir();
  const configHome = env.XDG_CONFIG_HOME || path.join(home, '.config');
  const cacheHome = env.XDG_CACHE_HOME || path.join(home, '.cache');
  return {
    overrideFile: env.CONTAINERS_REGISTRIES_CONF || undefined,
    systemFile: '/etc/containers/registries.conf',
    systemDir: '/etc/containers/registries.conf.d',
    userFile: path.join(configHome, 'containers', 'registries.conf'),
    userDir: path.join(configHome, 'containers', 'registries.conf.d'),
    aliasCacheFile: isRootless()
      ? path.join(cacheHome, 'containers', 'short-name-aliases.conf')
      : '/var/cache/containers/short-name-aliases.conf',
  };
}

/** One file's settings after validation; `undefined` means "not set here". */
export interface ConfFragment {
  unqualifiedSearchRegistries?: string[];
  shortNameMode?: ShortNameMode;
  credentialHelpers?: string[];
  registries: Registry[];
  aliases: Map<string, string>;
}

function confError(file: string, problem: string): TspodError {
  return new TspodError(`invalid registries configuration in ${file}: ${problem}`);
}

const DOMAIN_RE = /^(?:(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9])(?:\.(?:[a-zA-Z0-9]|[a-zA-Z0-9][a-zA-Z0-9-]*[a-zA-Z0-9]))*|\[[a-fA-F0-9:]+\])(?::[0-9]+)?$/;

/** containers/image's parseLocation: trims trailing slashes, refuses URL schemes. */
function parseLocation(input: string, file: string): string {
  const trimmed = input.replace(/\/+$/, '');
  if (/^https?:\/\//.test(trimmed)) throw confError(file, `location ${JSON.stringify(input)} must not include a URI scheme (write it as host[:port][/path])`);
  return trimmed;
}

function asString(v: unknown, what: string, file: string): string {
  if (typeof v !== 'string') throw confError(file, `${what} must be a string`);
  return v;
}

function asBool(v: unknown, what: string, file: string): boolean {
  if (v === undefined) return false;
  if (typeof v !== 'boolean') throw confError(file, `${what} must be true or false`);
  return v;
}

function asStringArray(v: unknown, what: string, file: string): string[] {
  if (!Array.isArray(v) || v.some((x) => typeof x !== 'string')) throw confError(file, `${what} must be an array of strings`);
  return v as string[];
}

/** Parses and validates one registries.conf file's text. */
export function parseRegistriesConf(text: string, file: string, options: { dropIn?: boolean } = {}): ConfFragment {
  let doc: Record<string, unknown>;
  try {
    doc = parseToml(text) as Record<string, unknown>;
  } catch (err) {
    const msg = (err instanceof Error ? err.message : String(err)).split('\n')[0];
    throw new TspodError(`cannot parse ${file}: ${msg}; fix the TOML syntax (see containers-registries.conf(5))`, { cause: err });
  }
  const v1 = doc.registries;
  const isV2 = ['unqualified-search-registries', 'registry', 'aliases', 'short-name-mode'].some((k) => k in doc);
  if (v1 !== undefined && typeof v1 === 'object' && v1 !== null && !Array.isArray(v1)) {
    if (isV2) throw confError(file, 'mixing the version 1 ([registries.search]) and version 2 formats is not supported');
    if (options.dropIn) throw confError(file, 'drop-in files must use the version 2 format');
    return convertV1(v1 as Record<string, unknown>, file);
  }

  const frag: ConfFragment = { registries: [], aliases: new Map() };
  const usr = doc['unqualified-search-registries'];
  if (usr !== undefined) {
    frag.unqualifiedSearchRegistries = asStringArray(usr, 'unqualified-search-registries', file).map((r) => {
      const loc = parseLocation(r, file);
      if (!DOMAIN_RE.test(loc)) throw confError(file, `invalid unqualified-search-registries entry ${JSON.stringify(r)} (expected host[:port])`);
      return loc;
    });
  }
  const mode = doc['short-name-mode'];
  if (mode !== undefined && mode !== '') {
    if (mode !== 'enforcing' && mode !== 'permissive' && mode !== 'disabled') {
      throw confError(file, `invalid short-name-mode ${JSON.stringify(mode)} (expected enforcing, permissive or disabled)`);
    }
    frag.shortNameMode = mode;
  }
  if (doc['credential-helpers'] !== undefined) frag.credentialHelpers = asStringArray(doc['credential-helpers'], 'credential-helpers', file);

  const regs = doc.registry;
  if (regs !== undefined) {
    if (!Array.isArray(regs)) throw confError(file, 'registry must be an array of tables ([[registry]])');
    const seen = new Set<string>();
    for (const raw of regs as Array<Record<string, unknown>>) {
      const reg = parseRegistryTable(raw, file);
      // The first table with a prefix wins; later duplicates are ignored, as containers/image does.
      if (seen.has(reg.prefix)) continue;
      seen.add(reg.prefix);
      frag.registries.push(reg);
    }
    checkConflicts(frag.registries, file);
  }

  const aliases = doc.aliases;
  if (aliases !== undefined) {
    if (typeof aliases !== 'object' || aliases === null || Array.isArray(aliases)) throw confError(file, '[aliases] must be a table');
    for (const [name, value] of Object.entries(aliases)) {
      validateAliasName(name, file);
      const v = asString(value, `alias ${JSON.stringify(name)}`, file);
      if (v !== '') validateAliasValue(name, v, file);
      frag.aliases.set(name, v);
    }
  }
  for (const key of Object.keys(doc)) {
    if (!['unqualified-search-registries', 'short-name-mode', 'credential-helpers', 'registry', 'aliases', 'additional-layer-store-auth-helper'].includes(key)) {
      log.warn(`Failed to decode the key ${JSON.stringify(key)} from ${JSON.stringify(file)}`);
    }
  }
  return frag;
}

function parseRegistryTable(raw: Record<string, unknown>, file: string): Registry {
  if (typeof raw !== 'object' || raw === null) throw confError(file, '[[registry]] entries must be tables');
  const location = raw.location === undefined ? '' : parseLocation(asString(raw.location, 'location', file), file);
  let prefix = raw.prefix === undefined ? '' : parseLocation(asString(raw.prefix, 'prefix', file), file);
  if (prefix === '') {
    if (location === '') throw confError(file, 'a [[registry]] table sets neither location nor prefix');
    prefix = location;
  } else if (prefix.startsWith('*.')) {
    if (/[/:@]/.test(prefix.slice(2)) || prefix.slice(2).includes('*')) {
      throw confError(file, `invalid prefix ${JSON.stringify(prefix)}: a wildcard prefix must look like *.example.com (no port, path, tag or digest)`);
    }
  } else if (prefix.includes('*')) {
    throw confError(file, `invalid prefix ${JSON.stringify(prefix)}: wildcards are only allowed as a leading "*." (e.g. *.example.com)`);
  } else if (location === '') {
    throw confError(file, `the [[registry]] table with prefix ${JSON.stringify(prefix)} has no location (only wildcard prefixes like *.example.com may omit it)`);
  }
  if (raw['pull-from-mirror'] !== undefined) throw confError(file, `pull-from-mirror belongs in a [[registry.mirror]] table, not in the registry ${JSON.stringify(prefix)}`);
  const mirrorByDigestOnly = asBool(raw['mirror-by-digest-only'], 'mirror-by-digest-only', file);
  const mirrors: Mirror[] = [];
  if (raw.mirror !== undefined) {
    if (!Array.isArray(raw.mirror)) throw confError(file, 'mirror must be an array of tables ([[registry.mirror]])');
    for (const m of raw.mirror as Array<Record<string, unknown>>) {
      const loc = m.location === undefined ? '' : parseLocation(asString(m.location, 'mirror location', file), file);
      if (loc === '') throw confError(file, `a mirror of ${JSON.stringify(prefix)} has no location`);
      const pfm = m['pull-from-mirror'];
      if (pfm !== undefined && pfm !== '' && pfm !== 'all' && pfm !== 'digest-only' && pfm !== 'tag-only') {
        throw confError(file, `unsupported pull-from-mirror value ${JSON.stringify(pfm)} for mirror ${JSON.stringify(loc)} (expected all, digest-only or tag-only)`);
      }
      if (mirrorByDigestOnly && pfm !== undefined && pfm !== '') {
        throw confError(file, `cannot set mirror-by-digest-only for the registry ${JSON.stringify(prefix)} and pull-from-mirror for its mirror ${JSON.stringify(loc)} at the same time`);
      }
      mirrors.push({ location: loc, insecure: asBool(m.insecure, 'mirror insecure', file), pullFromMirror: (pfm || undefined) as PullFromMirror | undefined });
    }
  }
  return {
    prefix,
    location,
    insecure: asBool(raw.insecure, 'insecure', file),
    blocked: asBool(raw.blocked, 'blocked', file),
    mirrorByDigestOnly,
    mirrors,
    origin: file,
  };
}

/** A registry listed several times must agree on insecure and blocked. */
function checkConflicts(regs: Registry[], file: string): void {
  const byLocation = new Map<string, Registry>();
  for (const r of regs) {
    const key = r.location || r.prefix;
    const other = byLocation.get(key);
    if (!other) {
      byLocation.set(key, r);
      continue;
    }
    if (other.insecure !== r.insecure) throw confError(file, `registry ${JSON.stringify(key)} is defined several times with conflicting insecure settings`);
    if (other.blocked !== r.blocked) throw confError(file, `registry ${JSON.stringify(key)} is defined several times with conflicting blocked settings`);
  }
}

function convertV1(v1: Record<string, unknown>, file: string): ConfFragment {
  const list = (k: string): string[] => {
    const t = v1[k] as Record<string, unknown> | undefined;
    if (t === undefined) return [];
    return asStringArray(t.registries ?? [], `registries.${k}.registries`, file).map((r) => parseLocation(r, file));
  };
  const frag: ConfFragment = { registries: [], aliases: new Map() };
  const search = list('search');
  if (search.length > 0) frag.unqualifiedSearchRegistries = search;
  const regs = new Map<string, Registry>();
  const get = (loc: string): Registry => {
    let r = regs.get(loc);
    if (!r) {
      r = { prefix: loc, location: loc, insecure: false, blocked: false, mirrorByDigestOnly: false, mirrors: [], origin: file };
      regs.set(loc, r);
    }
    return r;
  };
  for (const loc of search) get(loc);
  for (const loc of list('insecure')) get(loc).insecure = true;
  for (const loc of list('block')) get(loc).blocked = true;
  frag.registries = [...regs.values()];
  return frag;
}

function validateAliasName(name: string, file: string): void {
  let ref: ImageReference;
  try {
    ref = parseImageReference(name);
  } catch (err) {
    throw confError(file, `invalid short-name alias ${JSON.stringify(name)}: ${(err as Error).message}`);
  }
  if (!ref.isShortName) throw confError(file, `invalid short-name alias ${JSON.stringify(name)}: the name must be a short name, without a registry`);
  if (ref.tag || ref.digest) throw confError(file, `invalid short-name alias ${JSON.stringify(name)}: the name must not include a tag or digest`);
}

function validateAliasValue(name: string, value: string, file: string): void {
  let ref: ImageReference;
  try {
    ref = parseImageReference(value);
  } catch (err) {
    throw confError(file, `invalid value ${JSON.stringify(value)} for short-name alias ${JSON.stringify(name)}: ${(err as Error).message}`);
  }
  if (ref.isShortName) throw confError(file, `invalid value ${JSON.stringify(value)} for short-name alias ${JSON.stringify(name)}: it must include a registry`);
  if (ref.tag || ref.digest) throw confError(file, `invalid value ${JSON.stringify(value)} for short-name alias ${JSON.stringify(name)}: it must not include a tag or digest`);
}

// ---- loading and merging ----

function readIfExists(file: string): string | undefined {
  try {
    return fs.readFileSync(file, 'utf8');
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return undefined;
    throw new TspodError(`cannot read ${file}: ${(err as Error).message}`, { cause: err });
  }
}

function dropInFiles(dir: string): string[] {
  let names: string[];
  try {
    names = fs.readdirSync(dir);
  } catch (err) {
    const code = (err as NodeJS.ErrnoException).code;
    if (code === 'ENOENT' || code === 'ENOTDIR') return [];
    throw new TspodError(`cannot read ${dir}: ${(err as Error).message}`, { cause: err });
  }
  return names.filter((n) => n.endsWith('.conf')).sort().map((n) => path.join(dir, n));
}

export interface ShortNameResolution {
  /** Fully qualified references to try, in order. */
  candidates: ImageReference[];
  /** How they were found. */
  rationale: 'not-short' | 'alias' | 'search';
  /** The file that defined the alias or the search registries. */
  origin?: string;
  mode: ShortNameMode;
  /**
   * True when the user should be asked to pick one candidate (enforcing or permissive
   * mode, several candidates, on a terminal); after a choice, record it with
   * `recordShortNameAlias`.
   */
  shouldPrompt: boolean;
}

export interface PullSource {
  /** The reference to fetch, after prefix rewriting. */
  reference: string;
  insecure: boolean;
  mirror: boolean;
}

export interface RegistryLookup {
  registry: Registry;
  /** The reference with the registry's prefix replaced by its location. */
  location: string;
  insecure: boolean;
  blocked: boolean;
  /** Mirrors usable for this reference (respecting pull-from-mirror / mirror-by-digest-only), rewritten. */
  mirrors: PullSource[];
}

/**
 * containers/image's refMatchingPrefix: the length of the match of `prefix` against `ref`
 * (a registry, repository or image name starting with its host), or -1.
 */
export function refMatchingPrefix(ref: string, prefix: string): number {
  if (prefix.startsWith('*.')) {
    const suffix = prefix.slice(1); // ".example.com"
    const index = ref.indexOf(suffix);
    if (index < 0 || ref.slice(0, index).includes('/')) return -1;
    const end = index + suffix.length;
    if (end === ref.length || ':/@'.includes(ref[end]!)) return end;
    return -1;
  }
  if (ref.length < prefix.length || !ref.startsWith(prefix)) return -1;
  if (ref.length === prefix.length) return prefix.length;
  return ':/@'.includes(ref[prefix.length]!) ? prefix.length : -1;
}

/** The merged configuration. */
export class RegistriesConf {
  constructor(
    readonly unqualifiedSearchRegistries: string[],
    /** The file that set unqualified-search-registries, if any. */
    readonly searchOrigin: string | undefined,
    readonly shortNameMode: ShortNameMode,
    readonly registries: Registry[],
    /** Short name -> fully qualified name, with the file that defined it. */
    readonly aliases: Map<string, { value: string; origin: string }>,
    readonly credentialHelpers: string[],
    /** The files that were read, in order. */
    readonly files: string[],
  ) {}

  /** Merges fragments in order (each with the file it came from). */
  static merge(fragments: Array<{ file: string; fragment: ConfFragment }>): RegistriesConf {
    let search: string[] = [];
    let searchOrigin: string | undefined;
    let mode: ShortNameMode | undefined;
    let helpers: string[] | undefined;
    const regs = new Map<string, Registry>();
    const aliases = new Map<string, { value: string; origin: string }>();
    for (const { file, fragment } of fragments) {
      if (fragment.unqualifiedSearchRegistries !== undefined) {
        search = fragment.unqualifiedSearchRegistries;
        searchOrigin = file;
      }
      if (fragment.shortNameMode !== undefined) mode = fragment.shortNameMode;
      if (fragment.credentialHelpers !== undefined) helpers = fragment.credentialHelpers;
      for (const r of fragment.registries) regs.set(r.prefix, r);
      for (const [name, value] of fragment.aliases) {
        if (value === '') aliases.delete(name);
        else aliases.set(name, { value, origin: file });
      }
    }
    return new RegistriesConf(search, searchOrigin, mode ?? 'permissive', [...regs.values()], aliases,
      helpers ?? ['containers-auth.json'], fragments.map((f) => f.file));
  }

  /**
   * The candidates to pull for `name`: a fully qualified name is itself; a short name maps
   * to its alias if there is one, else to each unqualified-search registry in order
   * (docker.io gets `library/` for one-component names). The tag or digest given is kept;
   * `:latest` is added when there is neither. Throws when a short name has nowhere to go,
   * or when short-name-mode is enforcing, the choice is ambiguous and there is no terminal.
   */
  resolveShortName(name: string | ImageReference, options: { isTerminal?: boolean } = {}): ShortNameResolution {
    const ref = typeof name === 'string' ? parseImageReference(name) : name;
    const mode = this.shortNameMode;
    if (!ref.isShortName) return { candidates: [ref], rationale: 'not-short', mode, shouldPrompt: false };
    const short = ref.shortName ?? ref.repository;
    const alias = this.aliases.get(short);
    if (alias) {
      const target = parseImageReference(alias.value);
      return { candidates: [ref.withName(target.registry, target.repository)], rationale: 'alias', origin: alias.origin, mode, shouldPrompt: false };
    }
    if (this.unqualifiedSearchRegistries.length === 0) {
      const where = this.searchOrigin ?? (this.files.length > 0 ? this.files.join(', ') : undefined);
      throw new TspodError(where
        ? `short-name ${JSON.stringify(short)} did not resolve to an alias and no unqualified-search registries are defined in ${where}; use a fully qualified name such as docker.io/library/${short}`
        : `short-name ${JSON.stringify(short)} did not resolve to an alias and no containers-registries.conf(5) was found; use a fully qualified name such as docker.io/library/${short}`);
    }
    const candidates = this.unqualifiedSearchRegistries.map((reg) => {
      const path = reg === DEFAULT_REGISTRY && !short.includes('/') ? `library/${short}` : short;
      return ref.withName(reg, path);
    });
    let shouldPrompt = false;
    if (mode !== 'disabled' && candidates.length > 1) {
      if (options.isTerminal) shouldPrompt = true;
      else if (mode === 'enforcing') {
        throw new TspodError(`short-name resolution enforced but cannot prompt without a TTY: ${JSON.stringify(short)} could come from ${this.unqualifiedSearchRegistries.join(', ')}; use a fully qualified name or add an alias in registries.conf`);
      }
    }
    return { candidates, rationale: 'search', origin: this.searchOrigin, mode, shouldPrompt };
  }

  /** The `[[registry]]` table whose prefix matches `ref` longest, with the rewritten location. */
  findRegistry(ref: string | ImageReference): RegistryLookup | undefined {
    const text = typeof ref === 'string' ? ref : ref.toString();
    let best: Registry | undefined;
    let bestLen = -1;
    for (const r of this.registries) {
      const len = refMatchingPrefix(text, r.prefix);
      if (len > bestLen) {
        best = r;
        bestLen = len;
      }
    }
    if (!best) return undefined;
    const digested = text.includes('@');
    const mirrors = this.usableMirrors(best, digested).map((m) => ({
      reference: rewrite(text, best!.prefix, m.location),
      insecure: m.insecure,
      mirror: true,
    }));
    return { registry: best, location: rewrite(text, best.prefix, best.location), insecure: best.insecure, blocked: best.blocked, mirrors };
  }

  /** Where to try pulling `ref` from, in order: usable mirrors, then the primary location. */
  pullSources(ref: string | ImageReference): PullSource[] {
    const text = typeof ref === 'string' ? ref : ref.toString();
    const found = this.findRegistry(text);
    if (!found) return [{ reference: text, insecure: false, mirror: false }];
    return [...found.mirrors, { reference: found.location, insecure: found.insecure, mirror: false }];
  }

  /** Whether the registry of `ref` (a name starting with its host) is insecure. */
  isInsecure(ref: string | ImageReference): boolean {
    return this.findRegistry(ref)?.insecure ?? false;
  }

  /** Throws a TspodError when `ref` is blocked. */
  checkNotBlocked(ref: string | ImageReference): void {
    const found = this.findRegistry(ref);
    if (found?.blocked) {
      throw new TspodError(`registry ${found.registry.prefix} is blocked in ${found.registry.origin}; pulling ${typeof ref === 'string' ? ref : ref.toString()} is not allowed`);
    }
  }

  private usableMirrors(r: Registry, digested: boolean): Mirror[] {
    if (r.mirrorByDigestOnly) return digested ? r.mirrors : [];
    return r.mirrors.filter((m) => (m.pullFromMirror === 'digest-only' ? digested : m.pullFromMirror === 'tag-only' ? !digested : true));
  }
}

function rewrite(ref: string, prefix: string, location: string): string {
  if (location === '') return ref; // wildcard prefix without a location
  const len = refMatchingPrefix(ref, prefix);
  return len < 0 ? ref : location + ref.slice(len);
}

/** Reads the files as containers/image does (see the top of this file). */
export function loadRegistriesConf(paths: RegistriesConfPaths = defaultRegistriesConfPaths()): RegistriesConf {
  const files: Array<{ file: string; dropIn: boolean }> = [];
  let dirs: string[];
  if (paths.overrideFile) {
    files.push({ file: paths.overrideFile, dropIn: false });
    dirs = [paths.systemDir, paths.userDir];
  } else if (fs.existsSync(paths.userFile)) {
    files.push({ file: paths.userFile, dropIn: false });
    dirs = [paths.userDir];
  } else {
    files.push({ file: paths.systemFile, dropIn: false });
    dirs = [paths.systemDir, paths.userDir];
  }
  for (const d of dirs) for (const f of dropInFiles(d)) files.push({ file: f, dropIn: true });
  const fragments: Array<{ file: string; fragment: ConfFragment }> = [];
  for (const { file, dropIn } of files) {
    const text = readIfExists(file);
    if (text === undefined) continue;
    fragments.push({ file, fragment: parseRegistriesConf(text, file, { dropIn }) });
  }
  if (paths.aliasCacheFile) {
    const text = readIfExists(paths.aliasCacheFile);
    if (text !== undefined) {
      const frag = parseRegistriesConf(text, paths.aliasCacheFile, { dropIn: true });
      // only the aliases count from the cache
      fragments.push({ file: paths.aliasCacheFile, fragment: { registries: [], aliases: frag.aliases } });
    }
  }
  return RegistriesConf.merge(fragments);
}

/**
 * Records a short-name choice in the alias cache (short-name-aliases.conf), as Podman does
 * after the user picks a candidate; the cache's aliases override registries.conf's.
 */
export function recordShortNameAlias(name: string, value: string | ImageReference, cacheFile: string): void {
  const v = typeof value === 'string' ? parseImageReference(value) : value;
  const plain = v.name; // without tag or digest
  validateAliasName(name, cacheFile);
  validateAliasValue(name, plain, cacheFile);
  const text = readIfExists(cacheFile);
  let doc: Record<string, unknown> = {};
  if (text !== undefined && text.trim() !== '') {
    try {
      doc = parseToml(text) as Record<string, unknown>;
    } catch (err) {
      throw new TspodError(`cannot parse ${cacheFile}: ${(err as Error).message.split('\n')[0]}; remove the file to start a new alias cache`, { cause: err });
    }
  }
  const aliases = (typeof doc.aliases === 'object' && doc.aliases !== null ? doc.aliases : {}) as Record<string, unknown>;
  aliases[name] = plain;
  doc.aliases = aliases;
  fs.mkdirSync(path.dirname(cacheFile), { recursive: true, mode: 0o700 });
  writeFileAtomic(cacheFile, stringifyToml(doc) + '\n', 0o644);
}
