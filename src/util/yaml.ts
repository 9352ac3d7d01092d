// yaml is CommonJS: a default import is module.exports both under Node's loader and
// in the esbuild bundle, where a dynamic import would see only `default`.
import YAML from 'yaml';

export function toYaml(value: unknown): string {
  return YAML.stringify(value, { indent: 2, lineWidth: 0 });
}
