/**
 * When a webhook delivery tries again: the retry schedule (the default, or the environment's) and a
 * receiver's `Retry-After` answer. Pure: text in, seconds out.
 */
import { ConclaveError } from '../errors.js';

/** Seconds between attempts by default: 9 retries over about 16 hours. */
export const defaultRetrySchedule = [5, 30, 120, 600, 1800, 3600, 7200, 14_400, 28_800];

/** `CONCLAVE_WEBHOOK_RETRY_SCHEDULE`: comma-separated seconds between attempts (tests shorten it). */
export function retryScheduleOf(env: Record<string, string | undefined>): number[] {
  const text = env.CONCLAVE_WEBHOOK_RETRY_SCHEDULE;
  if (!text) return defaultRetrySchedule;
  const parts = text.split(',').map((s) => s.trim());
  const steps = parts.map(Number);
  if (
    parts.length > 30 ||
    parts.some((p) => p === '') ||
    steps.some((s) => !Number.isFinite(s) || s < 0 || s > 86_400)
  ) {
    throw new ConclaveError(
      'CONFIG',
      'CONCLAVE_WEBHOOK_RETRY_SCHEDULE must be at most 30 comma-separated seconds, each 0 to 86400',
    );
  }
  return steps;
}

/**
 * `Retry-After` as seconds (RFC 9110 §10.2.3): delay seconds, or an HTTP-date (IMF-fixdate, or the
 * obsolete RFC 850 and asctime forms, all naming a weekday). Anything else is ignored.
 */
export function parseRetryAfter(value: string | undefined, now: number): number | undefined {
  const text = value?.trim();
  if (!text) return undefined;
  if (/^\d+$/.test(text)) {
    const seconds = Number(text);
    return seconds <= 999_999_999 ? seconds : undefined;
  }
  if (!/^(Mon|Tue|Wed|Thu|Fri|Sat|Sun)[a-z]*,? /.test(text)) return undefined;
  const at = Date.parse(text);
  if (Number.isNaN(at)) return undefined;
  return Math.max(0, Math.ceil((at - now) / 1000));
}
