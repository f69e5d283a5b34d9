/**
 * Business hours in the tenant's own time zone, computed from the transaction's time with
 * Intl.DateTimeFormat (no time-zone library). A missing or invalid zone or malformed hours throw,
 * so rules that depend on them fail closed instead of guessing UTC.
 */
import { parseInstant } from '../src/policy/transaction.js';
import type { PolicyPlugin, TenantPolicyConfig, Transaction } from '../src/policy/types.js';

const weekdays: Record<string, number> = { Mon: 1, Tue: 2, Wed: 3, Thu: 4, Fri: 5, Sat: 6, Sun: 7 };
const clock = /^([01]\d|2[0-3]):([0-5]\d)$/;
const formatters = new Map<string, Intl.DateTimeFormat>();

function formatter(timeZone: unknown): Intl.DateTimeFormat {
  // an undefined zone would silently mean "this server's zone"
  if (typeof timeZone !== 'string' || timeZone === '') throw new Error('tenant time zone is not set');
  let f = formatters.get(timeZone);
  if (!f) {
    // throws RangeError for an unknown zone
    f = new Intl.DateTimeFormat('en-US', {
      timeZone,
      hourCycle: 'h23',
      weekday: 'short',
      year: 'numeric',
      month: '2-digit',
      day: '2-digit',
      hour: '2-digit',
      minute: '2-digit',
    });
    if (formatters.size >= 1000) formatters.clear(); // zone spellings are tenant input: stay bounded
    formatters.set(timeZone, f);
  }
  return f;
}

export interface LocalTime {
  /** 'YYYY-MM-DD' */
  date: string;
  /** 1 = Monday … 7 = Sunday */
  weekday: number;
  hour: number;
  minute: number;
}

export function localTime(at: string, timeZone: string): LocalTime {
  const parts = new Map(
    formatter(timeZone)
      .formatToParts(parseInstant(at))
      .map((p) => [p.type, p.value]),
  );
  const weekday = weekdays[parts.get('weekday') ?? ''];
  const hour = Number(parts.get('hour'));
  const minute = Number(parts.get('minute'));
  const date = `${parts.get('year')}-${parts.get('month')}-${parts.get('day')}`;
  if (
    !weekday ||
    !(hour >= 0 && hour < 24) ||
    !(minute >= 0 && minute < 60) ||
    !/^\d{4}-\d{2}-\d{2}$/.test(date)
  ) {
    throw new Error(`cannot read local time in ${timeZone}`);
  }
  return { date, weekday, hour, minute };
}

function minutes(hhmm: unknown, what: string): number {
  const m = typeof hhmm === 'string' ? clock.exec(hhmm) : null;
  if (!m) throw new Error(`business hours ${what} must be HH:MM, got ${JSON.stringify(hhmm)}`);
  return Number(m[1]) * 60 + Number(m[2]);
}

function isHoliday(c: TenantPolicyConfig, tx: Transaction): boolean {
  if (!Array.isArray(c.holidays)) throw new Error('holiday calendar is unavailable');
  return c.holidays.includes(localTime(tx.at, c.timeZone).date);
}

export function outsideBusinessHours(c: TenantPolicyConfig, tx: Transaction): boolean {
  const { days, start, end } = c.businessHours ?? {};
  const from = minutes(start, 'start');
  const to = minutes(end, 'end');
  if (to <= from) throw new Error(`business hours end ${end} is not after start ${start}`);
  if (!Array.isArray(days) || !days.every((d) => Number.isInteger(d) && d >= 1 && d <= 7)) {
    throw new Error('business days must be weekday numbers 1 (Monday) to 7 (Sunday)');
  }
  const t = localTime(tx.at, c.timeZone);
  const now = t.hour * 60 + t.minute;
  return !days.includes(t.weekday) || isHoliday(c, tx) || now < from || now >= to;
}

export const businessHours: PolicyPlugin = {
  name: 'business-hours',
  facts: {
    localHour: (c, tx) => localTime(tx.at, c.timeZone).hour,
    localWeekday: (c, tx) => localTime(tx.at, c.timeZone).weekday,
    localDate: (c, tx) => localTime(tx.at, c.timeZone).date,
    isHoliday,
    outsideBusinessHours,
  },
  operators: {
    // { fact: 'outsideBusinessHours', operator: 'outsideBusinessHours', value: true }
    outsideBusinessHours: (fact, value) => {
      if (typeof fact !== 'boolean' || typeof value !== 'boolean') throw new Error('expected true or false');
      return fact === value;
    },
  },
  checkValue: (_op, value) => (typeof value === 'boolean' ? undefined : 'value must be true or false'),
};
