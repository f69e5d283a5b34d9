/**
 * The operator-facing lines of issue 19 that need no stack: what is down and how to restart it,
 * whom a ceremony waits on, and the webhook refusal that names the field allowing private URLs.
 */
import { describe, expect, it } from 'vitest';
import { waitedOn, type PendingStep } from '../../src/stack/ceremony-progress.js';
import { downSummary } from '../../src/stack/dev.js';
import { checkEndpointUrl } from '../../src/webhooks/endpoint.js';

const step = (over: Partial<PendingStep>): PendingStep => ({
  workflowId: 'reshare:default:w:1',
  activity: 'describeParty',
  taskQueue: 'party.p3',
  party: 'p3',
  started: false,
  attempt: 1,
  pendingMs: 12_400,
  ...over,
});

describe('downSummary', () => {
  it('names each down worker and the command that restarts it', () => {
    expect(downSummary([{ name: 'party p3', pid: 7, alive: false, target: 'p3' }])).toBe(
      'party p3 is down: restart it with `conclave dev restart p3`',
    );
    expect(
      downSummary([
        { name: 'party p2', alive: false, target: 'p2' },
        { name: 'coordinator', alive: false, target: 'coordinator' },
      ]),
    ).toBe(
      'party p2, coordinator are down: restart them with `conclave dev restart p2`, `conclave dev restart coordinator`',
    );
  });

  it('a server down needs the whole stack restarted', () => {
    expect(downSummary([{ name: 'temporal', pid: 9, alive: false }])).toMatch(
      /^temporal is down: .*`conclave dev down`, then `conclave dev up`/,
    );
  });
});

describe('waitedOn', () => {
  it('names the parties a ceremony has waited on past the threshold, once each', () => {
    const waits = waitedOn(
      [
        step({}),
        step({ activity: 'reshareReceive' }),
        step({
          party: 'p2',
          taskQueue: 'party.p2',
          started: true,
          activity: 'reshareDeal',
          pendingMs: 6_000,
        }),
        step({ party: 'p1', taskQueue: 'party.p1', pendingMs: 1_000 }),
        step({ party: undefined, taskQueue: 'conclave.coordinator', pendingMs: 60_000 }),
      ],
      5_000,
    );
    expect(waits.map((w) => w.line)).toEqual([
      'p3 (describeParty, not taken by its worker for 12s)',
      'p2 (reshareDeal, running for 6s)',
    ]);
    expect(waits.map((w) => w.taken)).toEqual([false, true]);
  });

  it('says why an attempt was retried', () => {
    const [w] = waitedOn([step({ attempt: 3, lastFailure: 'activity StartToClose timeout' })], 5_000);
    expect(w!.line).toBe(
      'p3 (describeParty, not taken by its worker for 12s, attempt 3 after: activity StartToClose timeout)',
    );
  });
});

describe('webhook endpoint refusals', () => {
  const message = (url: string) => {
    try {
      checkEndpointUrl(url);
    } catch (err) {
      return (err as Error).message;
    }
    throw new Error(`${url} was accepted`);
  };

  it('a private endpoint: names the field and the command that sets it', () => {
    const m = message('https://localhost/hook');
    expect(m).toContain('"allowPrivateWebhookEndpoints": true');
    expect(m).toContain('conclave rules publish RULES.json --config CONFIG.json [--tenant ID]');
    expect(m).not.toContain('\n');
  });

  it('plain http: says the same field allows it', () => {
    expect(message('http://10.0.0.1/hook')).toMatch(
      /only https is allowed; to allow http and private endpoints, set "allowPrivateWebhookEndpoints": true/,
    );
    expect(message('ftp://example.com/')).not.toContain('allowPrivateWebhookEndpoints');
  });
});
