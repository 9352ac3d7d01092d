import { describe, expect, it } from 'vitest';
import { sprintf } from '../../../src/format/printf.js';
import { formatValue } from '../../../src/format/values.js';

describe('sprintf (Go fmt)', () => {
  it('formats strings with width and precision', () => {
    expect(sprintf('%s|%5s|%-5s|%.2s', ['x', 'x', 'x', 'abc'])).toBe('x|    x|x    |ab');
    expect(sprintf('%q', ['a"b\n'])).toBe('"a\\"b\\n"');
    expect(sprintf('%#q', ['a"b'])).toBe('`a"b`');
    expect(sprintf('%x %X', ['hi', 'hi'])).toBe('6869 6869');
    expect(sprintf('%5s|', ['é'])).toBe('    é|');
  });

  it('formats integers', () => {
    expect(sprintf('%d|%5d|%-5d|%05d|%+d', [42, 42, 42, 42, 42])).toBe('42|   42|42   |00042|+42');
    expect(sprintf('%x %X %#x %o %b %c %q %U', [255, 255, 255, 8, 5, 65, 97, 0x1f600])).toBe("ff FF 0xff 10 101 A 'a' U+1F600");
    expect(sprintf('%05d %x %.3d', [-42, -255, 7])).toBe('-0042 -ff 007');
    expect(sprintf('%d', [2n ** 64n])).toBe('18446744073709551616');
  });

  it('formats floats', () => {
    expect(sprintf('%f|%.2f|%8.3f|%-8.1f|%08.3f', [1.5, 3.14159, 3.14159, 2.5, 3.14159])).toBe('1.500000|3.14|   3.142|2.5     |0003.142');
    expect(sprintf('%e|%E|%.2e', [123456.789, 123456.789, 0.000123])).toBe('1.234568e+05|1.234568E+05|1.23e-04');
    expect(sprintf('%g|%g|%g|%g|%.3g', [0.00001234, 100000, 1e6, 1.5, 3.14159])).toBe('1.234e-05|100000|1e+06|1.5|3.14');
    expect(sprintf('%v|%6.2f', [0.1, -1.5])).toBe('0.1| -1.50');
    // integral numbers accept float verbs (JSON cannot tell 2 from 2.0)
    expect(sprintf('%.1f', [2])).toBe('2.0');
    // exact ties round to even, as strconv does
    expect(sprintf('%.1f %.0f %.0f %.2f %.1f', [2.25, 12.5, 13.5, 1.005, 0.35])).toBe('2.2 12 14 1.00 0.3');
  });

  it('formats booleans, nil, slices and maps', () => {
    expect(sprintf('%t %v', [true, false])).toBe('true false');
    expect(sprintf('%v', [null])).toBe('<nil>');
    expect(sprintf('%v|%s|%d|%q', [[1, 2], ['a', 'b'], [1, 2], ['a']])).toBe('[1 2]|[a b]|[1 2]|["a"]');
    expect(sprintf('%v', [{ b: 'x', a: 1 }])).toBe('map[a:1 b:x]');
    expect(sprintf('%T %T %T %T %T %T', ['s', 1, 1.5, true, [1], null])).toBe('string int float64 bool []interface {} <nil>');
  });

  it('marks mistakes like Go', () => {
    expect(sprintf('%d', ['x'])).toBe('%!d(string=x)');
    expect(sprintf('%s', [5])).toBe('%!s(int=5)');
    expect(sprintf('%d', [1.5])).toBe('%!d(float64=1.5)');
    expect(sprintf('%t', ['x'])).toBe('%!t(string=x)');
    expect(sprintf('%s', [null])).toBe('%!s(<nil>)');
    expect(sprintf('%s %s', ['a'])).toBe('a %!s(MISSING)');
    expect(sprintf('%s', ['a', 1, 'b'])).toBe('a%!(EXTRA int=1, string=b)');
    expect(sprintf('100%%', [])).toBe('100%');
    expect(sprintf('%z', [1])).toBe('%!z(int=1)');
    expect(sprintf('abc%', [])).toBe('abc%!(NOVERB)');
  });

  it('takes width and precision from arguments', () => {
    expect(sprintf('%*d|%-*d|%.*f', [5, 42, 4, 7, 1, 2.25])).toBe('   42|7   |2.2');
  });
});

describe('formatValue (%v)', () => {
  it('follows Go for floats', () => {
    expect(formatValue(1e21)).toBe('1e+21');
    expect(formatValue(123456789.5)).toBe('1.234567895e+08');
    expect(formatValue(1e-5 + 0)).toBe('1e-05');
    expect(formatValue(0.0001)).toBe('0.0001');
    expect(formatValue(-2.5)).toBe('-2.5');
    expect(formatValue(Infinity)).toBe('+Inf');
    expect(formatValue(NaN)).toBe('NaN');
  });

  it('prints integers in full', () => {
    expect(formatValue(1e20)).toBe('100000000000000000000');
    expect(formatValue(-7)).toBe('-7');
  });
});
