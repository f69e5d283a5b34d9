import { describe, expect, it } from 'vitest';
import {
  addDecimal,
  compareDecimal,
  formatDecimal,
  isDecimalString,
  mulDecimal,
  parseDecimal,
} from '../../src/policy/decimal.js';

describe('exact decimals', () => {
  it.each([
    ['0', 0n, 0],
    ['0.1', 1n, 1],
    ['12.50', 1250n, 2],
    ['1.000000000000000001', 1000000000000000001n, 18],
    ['9'.repeat(78), BigInt('9'.repeat(78)), 0],
  ])('parses %s', (s, units, scale) => {
    expect(parseDecimal(s)).toEqual({ units, scale });
  });

  it.each([
    ['-1'],
    ['1e3'],
    ['1E-7'],
    ['01'],
    ['1.'],
    ['.5'],
    [' 1'],
    ['1,5'],
    ['0x10'],
    ['Infinity'],
    ['NaN'],
    [''],
    ['9'.repeat(79)],
    ['1.' + '0'.repeat(78)],
  ])('rejects %j', (s) => {
    expect(isDecimalString(s)).toBe(false);
    expect(() => parseDecimal(s)).toThrow(/decimal string/);
  });

  it.each([[0.1], [1], [10n], [null], [undefined], [{}]])('rejects the non-string %s', (v) => {
    expect(() => parseDecimal(v)).toThrow(/decimal string/);
  });

  it.each([
    ['0.1', '0.2', '0.3'],
    ['0.000000000000000001', '0.999999999999999999', '1'],
    ['1.50', '2.5', '4'],
    ['99999999999999999999', '1', '100000000000000000000'],
  ])('%s + %s = %s exactly', (a, b, sum) => {
    expect(formatDecimal(addDecimal(a, b))).toBe(sum);
    expect(compareDecimal(addDecimal(a, b), sum)).toBe(0);
  });

  it.each([
    ['0.1', '3', '0.3'],
    ['1.5', '3000.25', '4500.375'],
    ['0.000000000000000001', '3000', '0.000000000000003'],
    ['123456789.123456789123456789', '0', '0'],
    ['2', '0.5', '1'],
  ])('%s × %s = %s exactly', (a, b, product) => {
    expect(formatDecimal(mulDecimal(a, b))).toBe(product);
  });

  it.each([
    ['1.5', '1.50', 0],
    ['10', '9', 1],
    ['9', '10', -1],
    ['0.3', '0.30000000000000004', -1],
    ['10000', '10000.000000000000000001', -1],
    ['1000000000000000000000000000000.1', '1000000000000000000000000000000', 1],
  ])('compare(%s, %s) = %i', (a, b, c) => {
    expect(compareDecimal(a, b)).toBe(c);
    expect(compareDecimal(b, a)).toBe(-c || 0);
  });

  it('formats canonically', () => {
    expect(formatDecimal('12.3400')).toBe('12.34');
    expect(formatDecimal('5.000')).toBe('5');
    expect(formatDecimal('0.05')).toBe('0.05');
    expect(formatDecimal({ units: 5n, scale: 20 })).toBe('0.00000000000000000005');
  });
});
