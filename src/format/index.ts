/**
 * tspod's `--format` engine: a Go text/template subset with Podman's conventions.
 * See src/format/README.md.
 */
export { compileTemplate, Template, type CompileOptions } from './template.js';
export {
  renderFormat,
  renderTable,
  isJSONFormat,
  isTableFormat,
  unescapeFormat,
  type RenderOptions,
} from './render.js';
export { tabwrite, PODMAN_TABWRITER, type TabWriterOptions } from './tabwriter.js';
export { headerFromField, camelSplit } from './headers.js';
export { asMap, formatValue, toJSON } from './values.js';
export { sprintf } from './printf.js';
export type { TemplateFunc } from './funcs.js';
