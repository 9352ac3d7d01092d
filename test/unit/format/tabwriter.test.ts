import { describe, expect, it } from 'vitest';
import { camelSplit, headerFromField, tabwrite } from '../../../src/format/index.js';

const sp = (n: number): string => ' '.repeat(n);

describe('tabwrite (Go text/tabwriter)', () => {
  it("uses Podman's settings by default: minwidth 12, padding 2, spaces", () => {
    expect(tabwrite('CONTAINER ID\tIMAGE\nabcdef123456\tdocker.io/library/alpine:latest\n')).toBe(
      'CONTAINER ID  IMAGE\nabcdef123456  docker.io/library/alpine:latest\n',
    );
    expect(tabwrite('a\tb\tc\naaa\tbbbbbbbbbbbbbbbbb\tc\n')).toBe(
      `a${sp(11)}b${sp(18)}c\naaa${sp(9)}bbbbbbbbbbbbbbbbb${sp(2)}c\n`,
    );
  });

  it('leaves text without tabs alone', () => {
    expect(tabwrite('plain\ntext')).toBe('plain\ntext');
  });

  it('ends a column block at a line without that column', () => {
    const long = 'x'.repeat(20);
    // the middle line has no tab-terminated cell, so the two outer lines align separately
    expect(tabwrite(`a\tb\n${long}\nd\te\n`)).toBe(`a${sp(11)}b\n${long}\nd${sp(11)}e\n`);
    // with a cell in the column it joins the block and widens it
    expect(tabwrite(`a\tb\n${long}\tx\nd\te\n`)).toBe(`a${sp(21)}b\n${long}  x\nd${sp(21)}e\n`);
  });

  it('does not pad the last cell of a line, even after a trailing tab', () => {
    expect(tabwrite('a\tb\t\nccc\td\t\n', { minWidth: 0, padding: 1 })).toBe('a   b \nccc d \n');
  });

  it('counts runes, not bytes', () => {
    expect(tabwrite('é\tx\nab\ty\n', { minWidth: 0, padding: 1 })).toBe('é  x\nab y\n');
  });

  it('pads with tabs like Go when the pad character is a tab', () => {
    // Go's ExampleWriter_Init: Init(os.Stdout, 0, 8, 0, '\t', 0)
    const out = tabwrite('a\tb\tc\td\t.\n123\t12345\t1234567\t123456789\t.\n\n', { minWidth: 0, tabWidth: 8, padding: 0, padChar: '\t' });
    expect(out).toBe('a\tb\tc\td\t\t.\n123\t12345\t1234567\t123456789\t.\n\n');
  });

  it('formats a final line without a newline', () => {
    expect(tabwrite('a\tb\nccc\td', { minWidth: 0, padding: 1 })).toBe('a   b\nccc d');
  });
});

describe('headers', () => {
  it('splits camel case like fatih/camelcase', () => {
    expect(camelSplit('CreatedAt')).toEqual(['Created', 'At']);
    expect(camelSplit('IDMappings')).toEqual(['ID', 'Mappings']);
    expect(camelSplit('OCIRuntime')).toEqual(['OCI', 'Runtime']);
    expect(camelSplit('PDFLoader')).toEqual(['PDF', 'Loader']);
    expect(camelSplit('Size2')).toEqual(['Size', '2']);
    expect(camelSplit('lowerCamel')).toEqual(['lower', 'Camel']);
  });

  it('derives Podman column headers from field names', () => {
    expect(['ID', 'Names', 'CreatedAt', 'Image', 'GraphDriverName', 'IDMappings'].map(headerFromField)).toEqual([
      'ID', 'NAMES', 'CREATED AT', 'IMAGE', 'GRAPH DRIVER NAME', 'ID MAPPINGS',
    ]);
  });
});
