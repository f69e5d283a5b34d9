/** The bench's pure parts: the in-process crypto floor, history parsing, percentiles. */
import { ed25519 } from '@noble/curves/ed25519.js';
import { describe, expect, it } from 'vitest';
import { floorParties, keygenFloor, signFloor } from '../../src/bench/floor.js';
import { parseHistory, summarizeTimelines } from '../../src/bench/history.js';
import { percentile, summarize } from '../../src/bench/stats.js';

const hex = (h: string) => Uint8Array.from(Buffer.from(h, 'hex'));

describe('crypto floor', () => {
  it('runs a whole 2-of-3 key generation and signing that yields a valid Ed25519 signature', () => {
    const parties = floorParties(3);
    const wallet = keygenFloor(parties, 2);
    expect(wallet.shares.size).toBe(3);
    const message = 'c0ffee'.repeat(8);
    const signature = signFloor(parties, wallet, message);
    expect(ed25519.verify(hex(signature), hex(message), hex(wallet.publicKey))).toBe(true);
    expect(ed25519.verify(hex(signature), hex(`00${message.slice(2)}`), hex(wallet.publicKey))).toBe(false);
  });
});

describe('stats', () => {
  it('uses nearest-rank percentiles', () => {
    const xs = Array.from({ length: 100 }, (_, i) => i + 1);
    expect(percentile(xs, 0.5)).toBe(50);
    expect(percentile(xs, 0.95)).toBe(95);
    expect(percentile(xs, 0.99)).toBe(99);
    expect(summarize([3, 1, 2])).toMatchObject({ n: 3, p50: 2, p95: 3, min: 1, max: 3 });
    expect(summarize([]).n).toBe(0);
  });
});

// A sign workflow as the server records it: planSign as a local activity in the first workflow
// task, two rounds of two party activities, aggregation as a local activity in the last task.
const T = 1_700_000_000_000;
const at = (ms: number) => ({ seconds: String(Math.floor(ms / 1000)), nanos: (ms % 1000) * 1e6 });
const marker = (type: string, atMs: number, taskCompletedId: number) => ({
  markerName: 'core_local_activity',
  workflowTaskCompletedEventId: { low: taskCompletedId, high: 0 },
  details: {
    data: {
      payloads: [
        {
          data: new TextEncoder().encode(
            JSON.stringify({
              activity_type: type,
              complete_time: at(T + atMs),
            }),
          ),
        },
      ],
    },
  },
});
const events = [
  [1, 0, { workflowExecutionStartedEventAttributes: {} }],
  [2, 0, { workflowTaskScheduledEventAttributes: {} }],
  [3, 5, { workflowTaskStartedEventAttributes: { scheduledEventId: '2' } }],
  [4, 20, { workflowTaskCompletedEventAttributes: { scheduledEventId: '2', startedEventId: '3' } }],
  [5, 20, { markerRecordedEventAttributes: marker('planSign', 15, 4) }],
  ...[6, 7].map((id) => [
    id,
    21,
    {
      activityTaskScheduledEventAttributes: {
        activityType: { name: 'signRound1' },
        workflowTaskCompletedEventId: '4',
      },
    },
  ]),
  [8, 25, { activityTaskStartedEventAttributes: { scheduledEventId: '6' } }],
  [9, 45, { activityTaskCompletedEventAttributes: { scheduledEventId: '6' } }],
  [10, 27, { activityTaskStartedEventAttributes: { scheduledEventId: '7' } }],
  [11, 50, { activityTaskCompletedEventAttributes: { scheduledEventId: '7' } }],
  [12, 52, { workflowTaskScheduledEventAttributes: {} }],
  [13, 55, { workflowTaskStartedEventAttributes: { scheduledEventId: '12' } }],
  [14, 60, { workflowTaskCompletedEventAttributes: { scheduledEventId: '12', startedEventId: '13' } }],
  ...[15, 16].map((id) => [
    id,
    60,
    {
      activityTaskScheduledEventAttributes: {
        activityType: { name: 'signRound2' },
        workflowTaskCompletedEventId: '14',
      },
    },
  ]),
  [17, 64, { activityTaskStartedEventAttributes: { scheduledEventId: '15' } }],
  [18, 90, { activityTaskCompletedEventAttributes: { scheduledEventId: '15' } }],
  [19, 62, { activityTaskStartedEventAttributes: { scheduledEventId: '16', attempt: 2 } }],
  [20, 100, { activityTaskCompletedEventAttributes: { scheduledEventId: '16' } }],
  [21, 101, { workflowTaskScheduledEventAttributes: {} }],
  [22, 105, { workflowTaskStartedEventAttributes: { scheduledEventId: '21' } }],
  [23, 140, { workflowTaskCompletedEventAttributes: { scheduledEventId: '21', startedEventId: '22' } }],
  [24, 140, { markerRecordedEventAttributes: marker('aggregateSignature', 135, 23) }],
  [25, 141, { workflowExecutionCompletedEventAttributes: {} }],
].map(([id, ms, attrs]) => ({
  eventId: String(id),
  eventTime: at(T + (ms as number)),
  ...(attrs as object),
}));

describe('history', () => {
  it('splits a ceremony into steps: orchestration before each, then its work', () => {
    const t = parseHistory('sign:bench:x', events);
    expect(t.endToEndMs).toBeCloseTo(141);
    expect(t.startToFirstTaskMs).toBeCloseTo(5);
    expect(t.tailMs).toBeCloseTo(6);
    const steps = t.steps.map((s) => ({
      name: s.name,
      kind: s.kind,
      count: s.count,
      decide: Math.round(s.decideMs),
      dispatch: Math.round(s.dispatchMs),
      wall: Math.round(s.wallMs),
      exec: s.executionMs.map(Math.round),
      s2s: s.scheduleToStartMs.map(Math.round),
      retries: s.retries,
    }));
    expect(steps).toEqual([
      {
        name: 'planSign',
        kind: 'local',
        count: 1,
        decide: 5,
        dispatch: 0,
        wall: 10,
        exec: [10],
        s2s: [],
        retries: 0,
      },
      {
        name: 'signRound1',
        kind: 'activity',
        count: 2,
        decide: 6,
        dispatch: 4,
        wall: 25,
        exec: [20, 23],
        s2s: [4, 6],
        retries: 0,
      },
      {
        name: 'signRound2',
        kind: 'activity',
        count: 2,
        decide: 10,
        dispatch: 2,
        wall: 38,
        exec: [26, 38],
        s2s: [4, 2],
        retries: 1,
      },
      {
        name: 'aggregateSignature',
        kind: 'local',
        count: 1,
        decide: 5,
        dispatch: 0,
        wall: 30,
        exec: [30],
        s2s: [],
        retries: 0,
      },
    ]);
    // overheads, walls and the tail account for the whole ceremony
    const sum = t.steps.reduce((s, x) => s + x.overheadMs + x.wallMs, 0) + t.tailMs;
    expect(sum).toBeCloseTo(t.endToEndMs);
    const b = summarizeTimelines('sign 2-of-3', [t, t]);
    expect(b.sampled).toBe(2);
    expect(b.dominant.step).toBe('signRound2');
    expect(b.steps.find((s) => s.name === 'signRound2')?.retriesPerCeremony).toBe(1);
  });
});
