/**
 * Webhook delivery helpers (src/webhooks/retry.ts): reading a receiver's Retry-After header and
 * the retry schedule from the environment.
 *
 * Retry-After is `delay-seconds` or an HTTP-date (RFC 9110 section 10.2.3); anything else is
 * ignored (undefined), so the delivery falls back to its own schedule.
 */
import { describe, expect, it } from 'vitest';
import { defaultRetrySchedule, parseRetryAfter, retryScheduleOf } from '../../src/webhooks/retry.js';
import { ConclaveError } from '../../src/errors.js';

/** 2015-10-21T07:28:00Z, the RFC 9110 example date. */
const DATE = 'Wed, 21 Oct 2015 07:28:00 GMT';
const DATE_MS = Date.UTC(2015, 9, 21, 7, 28, 0);

describe('parseRetryAfter', () => {
  it('the example date is what the tests take it for', () => {
    expect(Date.parse(DATE)).toBe(DATE_MS);
  });

  it.each([
    ['0', 0],
    ['1', 1],
    ['120', 120],
    ['3600', 3600],
    ['999999999', 999_999_999],
  ])('delta seconds %j', (text, expected) => {
    expect(parseRetryAfter(text, DATE_MS)).toBe(expected);
  });

  it.each([
    [' 120', 120],
    ['120 ', 120],
    ['\t30\r\n', 30],
    ['  7  ', 7],
  ])('delta seconds with surrounding whitespace %j', (text, expected) => {
    expect(parseRetryAfter(text, DATE_MS)).toBe(expected);
  });

  it('delta seconds do not depend on now', () => {
    expect(parseRetryAfter('45', 0)).toBe(45);
    expect(parseRetryAfter('45', Date.now())).toBe(45);
  });

  it.each([
    ['two minutes ahead', DATE_MS - 120_000, 120],
    ['a day ahead', DATE_MS - 86_400_000, 86_400],
    ['1.5 s ahead (rounded up)', DATE_MS - 1_500, 2],
    ['1 ms ahead (rounded up)', DATE_MS - 1, 1],
  ])('an HTTP-date %s is the seconds until it', (_case, now, expected) => {
    expect(parseRetryAfter(DATE, now)).toBe(expected);
  });

  it.each([
    ['exactly now', DATE_MS],
    ['a second ago', DATE_MS + 1_000],
    ['years ago', DATE_MS + 10 * 365 * 86_400_000],
  ])('an HTTP-date %s is 0', (_case, now) => {
    expect(parseRetryAfter(DATE, now)).toBe(0);
  });

  it('the obsolete RFC 850 date form is read too', () => {
    expect(parseRetryAfter('Wednesday, 21-Oct-15 07:28:00 GMT', DATE_MS - 60_000)).toBe(60);
  });

  it.each([
    ['undefined', undefined],
    ['empty', ''],
    ['only whitespace', '   '],
    ['a word', 'soon'],
    ['a unit', '5 seconds'],
    ['a suffix', '120s'],
    ['hex', '0x10'],
    ['an exponent', '1e3'],
    ['a fraction', '1.5'],
    ['negative', '-5'],
    ['negative one', '-1'],
    ['negative zero', '-0'],
    ['a plus sign', '+5'],
    ['a word and a number', 'garbage 12'],
    ['two numbers', '12 12'],
    ['a comma list', '5, 10'],
  ])('%s is ignored (undefined)', (_case, text) => {
    expect(parseRetryAfter(text, DATE_MS)).toBeUndefined();
  });

  it.each([
    ['ten digits', '1234567890'],
    ['twenty digits', '99999999999999999999'],
    ['four hundred digits', '9'.repeat(400)],
  ])('a huge delay (%s) is ignored, never NaN or Infinity', (_case, text) => {
    expect(parseRetryAfter(text, DATE_MS)).toBeUndefined();
  });
});

describe('retryScheduleOf', () => {
  const KEY = 'CONCLAVE_WEBHOOK_RETRY_SCHEDULE';

  it.each([
    ['unset', {}],
    ['undefined', { [KEY]: undefined }],
    ['empty', { [KEY]: '' }],
  ])('%s: the default schedule', (_case, env) => {
    expect(retryScheduleOf(env)).toBe(defaultRetrySchedule);
  });

  it('the default schedule retries for more than 8 hours, with growing gaps', () => {
    const total = defaultRetrySchedule.reduce((sum, s) => sum + s, 0);
    expect(total).toBeGreaterThan(8 * 3600);
    expect(defaultRetrySchedule.length).toBeGreaterThan(0);
    expect(defaultRetrySchedule.every((s, i) => i === 0 || s > defaultRetrySchedule[i - 1]!)).toBe(true);
    expect(defaultRetrySchedule.every((s) => Number.isFinite(s) && s >= 0 && s <= 86_400)).toBe(true);
  });

  it('other variables do not matter', () => {
    expect(retryScheduleOf({ CONCLAVE_WEBHOOK_RETRY: '1,2' })).toBe(defaultRetrySchedule);
  });

  it.each([
    ['one step', '5', [5]],
    ['a list', '1,2,3', [1, 2, 3]],
    ['spaces around steps', ' 1 , 2,\t3 ', [1, 2, 3]],
    ['zero', '0', [0]],
    ['the largest step', '86400', [86_400]],
    ['not sorted', '60,1,30', [60, 1, 30]],
    [
      'thirty steps',
      Array.from({ length: 30 }, (_, i) => String(i)).join(','),
      Array.from({ length: 30 }, (_, i) => i),
    ],
  ])('%s', (_case, text, expected) => {
    expect(retryScheduleOf({ [KEY]: text })).toEqual(expected);
  });

  it.each([
    ['a word', 'soon'],
    ['a word among numbers', '1,two,3'],
    ['a unit', '5s'],
    ['NaN', 'NaN'],
    ['Infinity', 'Infinity'],
    ['negative', '-1'],
    ['a negative step among others', '5,-30,120'],
    ['above a day', '86401'],
    ['far above a day', '1,2,1e9'],
    ['thirty-one steps', Array.from({ length: 31 }, () => '1').join(',')],
    ['an empty step', '5,,30'],
    ['a trailing comma', '5,30,'],
    ['only a comma', ','],
    ['only whitespace', '   '],
  ])('%s is a CONFIG error', (_case, text) => {
    let caught: unknown;
    try {
      retryScheduleOf({ [KEY]: text });
    } catch (error) {
      caught = error;
    }
    expect(caught).toBeInstanceOf(ConclaveError);
    expect((caught as ConclaveError).code).toBe('CONFIG');
    expect((caught as ConclaveError).message).toContain(KEY);
  });
});
