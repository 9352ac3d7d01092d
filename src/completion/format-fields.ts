/**
 * The Go-template fields `--format` accepts, per command, as trees (a field
 * with children is a struct: `{{.State.` then offers its fields). They mirror
 * the objects the commands hand to renderFormat (src/runtime/present.ts,
 * src/runtime/volumes.ts, src/system/info.ts).
 */
import type { Candidate } from './protocol.js';

export type FieldTree = { [field: string]: FieldTree | null };

const leaves = (...names: string[]): FieldTree => Object.fromEntries(names.map((n) => [n, null]));

const PS_FIELDS = leaves(
  'ID', 'Image', 'Command', 'CreatedHuman', 'CreatedAt', 'Created', 'Status', 'State', 'Ports', 'Names', 'Labels', 'Pid',
  'ExitCode', 'AutoRemove',
);

const CONTAINER_INSPECT_FIELDS: FieldTree = {
  ...leaves('Id', 'Created', 'Path', 'Args', 'Image', 'ImageName', 'Rootfs', 'Name', 'RestartCount', 'Driver', 'LogPath'),
  State: leaves('OciVersion', 'Status', 'Running', 'Paused', 'Restarting', 'OOMKilled', 'Dead', 'Pid', 'ConmonPid', 'ExitCode', 'Error', 'StartedAt', 'FinishedAt'),
  Config: leaves('Hostname', 'User', 'Env', 'Cmd', 'Image', 'WorkingDir', 'Labels', 'StopSignal', 'StopTimeout', 'OpenStdin'),
  HostConfig: leaves('AutoRemove', 'NetworkMode', 'Privileged', 'ReadonlyRootfs', 'CapAdd', 'CapDrop'),
};

const VOLUME_FIELDS = leaves('Name', 'Driver', 'Mountpoint', 'CreatedAt', 'Labels', 'Scope', 'Options', 'MountCount', 'NeedsCopyUp', 'NeedsChown');

const INFO_FIELDS: FieldTree = {
  Host: leaves('Arch', 'CgroupManager', 'CgroupVersion', 'CgroupControllers', 'Distribution', 'Hostname', 'IDMappings', 'Kernel', 'MemFree', 'MemTotal', 'OCIRuntime', 'OS', 'Security', 'Slirp4NetNS', 'Pasta', 'Uptime'),
  Store: leaves('ConfigFile', 'ContainerStore', 'GraphDriverName', 'GraphOptions', 'GraphRoot', 'GraphStatus', 'ImageStore', 'RunRoot', 'VolumePath'),
  Registries: null,
  Plugins: null,
  Version: leaves('APIVersion', 'Version', 'GoVersion', 'NodeVersion', 'GitCommit', 'BuiltTime', 'Built', 'OsArch', 'Os'),
};

const IMAGE_FIELDS = leaves(
  'ID', 'Id', 'ParentId', 'Repository', 'Tag', 'Digest', 'Digests', 'Created', 'CreatedSince', 'CreatedAt', 'CreatedTime', 'Size',
  'VirtualSize', 'SharedSize', 'Labels', 'Containers', 'Names', 'History', 'Dangling', 'ReadOnly', 'IsReadOnly',
);

const IMAGE_INSPECT_FIELDS: FieldTree = {
  ...leaves('Id', 'Digest', 'RepoTags', 'RepoDigests', 'Parent', 'Comment', 'Created', 'Version', 'Author', 'Architecture', 'Os', 'Size', 'VirtualSize', 'Labels', 'Annotations', 'ManifestType', 'User', 'History', 'NamesHistory'),
  Config: leaves('User', 'Env', 'Cmd', 'Entrypoint', 'WorkingDir', 'Labels', 'StopSignal', 'ExposedPorts', 'Volumes'),
  GraphDriver: leaves('Name', 'Data'),
  RootFS: leaves('Type', 'Layers'),
};

const HISTORY_FIELDS = leaves('ID', 'Created', 'CreatedSince', 'CreatedAt', 'CreatedBy', 'Size', 'Comment', 'Tags');

/** Keyed by the command's first path, as clipanion registers it. */
export const FORMAT_FIELDS: Record<string, FieldTree> = {
  ps: PS_FIELDS,
  inspect: CONTAINER_INSPECT_FIELDS,
  'container inspect': CONTAINER_INSPECT_FIELDS,
  'volume ls': VOLUME_FIELDS,
  'volume inspect': VOLUME_FIELDS,
  info: INFO_FIELDS,
  images: IMAGE_FIELDS,
  'image inspect': IMAGE_INSPECT_FIELDS,
  history: HISTORY_FIELDS,
};

/**
 * `json`, then `{{.Field}}` candidates; inside a template, the fields of the
 * struct named so far (`{{.State.` offers `{{.State.Status}}`...), no space after.
 */
export function formatCandidates(tree: FieldTree | undefined, toComplete: string): { candidates: Candidate[]; noSpace: boolean } {
  const fields = tree ?? {};
  const open = toComplete.lastIndexOf('{{');
  if (open < 0) {
    const words: Candidate[] = [
      { value: 'json', description: 'JSON' },
      { value: 'table', description: 'a table with headers (table {{.Field}}...)' },
    ].filter((c) => c.value.startsWith(toComplete));
    const fieldsAll = Object.keys(fields).map((f) => ({ value: `{{.${f}}}` }));
    const candidates = [...words, ...fieldsAll.filter((c) => c.value.startsWith(toComplete))];
    return { candidates, noSpace: candidates.length > 0 && candidates.every((c) => c.value.startsWith('{{')) };
  }
  // Inside `{{.A.B` : walk to the struct named so far and offer its fields.
  const head = toComplete.slice(0, open);
  const inner = toComplete.slice(open + 2).replace(/^\s*/, '');
  if (!inner.startsWith('.') && inner !== '') return { candidates: [], noSpace: true };
  const parts = inner.slice(1).split('.');
  const partial = parts.pop() ?? '';
  let node: FieldTree | null = fields;
  for (const p of parts) node = node && p in node ? node[p] : null;
  if (!node) return { candidates: [], noSpace: true };
  const prefix = `${head}{{.${parts.map((p) => `${p}.`).join('')}`;
  const candidates: Candidate[] = [];
  for (const [f, sub] of Object.entries(node)) {
    if (!f.startsWith(partial)) continue;
    candidates.push({ value: sub ? `${prefix}${f}.` : `${prefix}${f}}}` });
  }
  return { candidates, noSpace: true };
}
