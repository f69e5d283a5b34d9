/**
 * Webhook events (src/webhooks/events.ts): their ids, the subscription filter, and which audit
 * record raises which event with which data.
 *
 * Event ids are checked against an independent SHA-256 (node:crypto) and against the Standard
 * Webhooks signer; event data is compared exactly, so a field copied from an audit record's detail
 * that is not meant to be public (the judged transaction, a dealer list) fails the test.
 */
import { createHash } from 'node:crypto';
import { describe, expect, it } from 'vitest';
import type { AuditEntry } from '../../src/audit/contracts.js';
import { ConclaveError } from '../../src/errors.js';
import {
  eventMatches,
  eventOfAuditEntry,
  parseEventFilter,
  webhookEventId,
  webhookEventTypes,
  type WebhookEventType,
} from '../../src/webhooks/events.js';
import { generateWebhookSecret, signWebhook, verifyWebhook } from '../../src/webhooks/signature.js';

type Entry = Omit<AuditEntry, 'at'>;

/** The error `fn` throws, or undefined. */
function thrown(fn: () => unknown): unknown {
  try {
    fn();
  } catch (error) {
    return error;
  }
  return undefined;
}

function expectBadInput(fn: () => unknown): ConclaveError {
  const error = thrown(fn);
  expect(error).toBeInstanceOf(ConclaveError);
  expect((error as ConclaveError).code).toBe('BAD_INPUT');
  return error as ConclaveError;
}

describe('webhookEventId', () => {
  const independent = (tenant: string, source: string, type: string) =>
    `evt_${createHash('sha256')
      .update(`conclave/webhook-event\n${tenant}\n${source}\n${type}`, 'utf8')
      .digest('hex')
      .slice(0, 24)}`;

  it('is evt_ and 24 lower-case hex digits of a tagged SHA-256', () => {
    const id = webhookEventId('acme', 'keygen-w1-run1', 'wallet.created');
    expect(id).toMatch(/^evt_[0-9a-f]{24}$/);
    expect(id).toBe(independent('acme', 'keygen-w1-run1', 'wallet.created'));
  });

  it('is deterministic: the same tenant, source and type give the same id', () => {
    const a = webhookEventId('acme', 'sign-1', 'transaction.signed');
    const b = webhookEventId('acme', 'sign-1', 'transaction.signed');
    expect(a).toBe(b);
  });

  const base = { tenant: 'acme', source: 'sign-1', type: 'transaction.signed' as WebhookEventType };
  it.each([
    ['another tenant', { ...base, tenant: 'globex' }],
    ['another source', { ...base, source: 'sign-2' }],
    ['another type', { ...base, type: 'ceremony.failed' as WebhookEventType }],
    ['tenant differing only in case', { ...base, tenant: 'Acme' }],
  ])('differs for %s', (_case, other) => {
    const id = webhookEventId(base.tenant, base.source, base.type);
    const otherId = webhookEventId(other.tenant, other.source, other.type);
    expect(otherId).toMatch(/^evt_[0-9a-f]{24}$/);
    expect(otherId).not.toBe(id);
  });

  it('every event type of one source gets its own id', () => {
    const ids = webhookEventTypes.map((type) => webhookEventId('acme', 'cer-1', type));
    expect(new Set(ids).size).toBe(webhookEventTypes.length);
  });

  it('is accepted as a Standard Webhooks id by signWebhook, and verifies', () => {
    const secret = generateWebhookSecret();
    const id = webhookEventId('acme', 'cer-1', 'wallet.created');
    const timestamp = 1_700_000_000;
    const body = '{"type":"wallet.created"}';
    const signature = signWebhook({ id, timestamp, body }, secret);
    expect(signature).toMatch(/^v1,[A-Za-z0-9+/]{43}=$/);
    const headers = {
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': signature,
    };
    expect(verifyWebhook(headers, body, secret, { now: timestamp })).toEqual({ id, timestamp });
  });
});

describe('parseEventFilter', () => {
  it.each(webhookEventTypes.map((t) => [t]))('accepts %s alone', (type) => {
    expect(parseEventFilter([type])).toEqual([type]);
  });

  it('accepts "*" alone', () => {
    expect(parseEventFilter(['*'])).toEqual(['*']);
  });

  it.each([
    [
      'duplicates removed, result sorted',
      ['wallet.created', 'transaction.signed', 'wallet.created'],
      ['transaction.signed', 'wallet.created'],
    ],
    ['"*" twice', ['*', '*'], ['*']],
    ['"*" with a type', ['wallet.rotated', '*'], ['*', 'wallet.rotated']],
    ['every type', [...webhookEventTypes].reverse(), [...webhookEventTypes].sort()],
    ['every type and "*"', ['*', ...webhookEventTypes], ['*', ...webhookEventTypes].sort()],
  ])('%s', (_case, input, expected) => {
    expect(parseEventFilter(input)).toEqual(expected);
  });

  it('does not change the list it was given', () => {
    const input = ['wallet.created', 'ceremony.failed', 'wallet.created'];
    parseEventFilter(input);
    expect(input).toEqual(['wallet.created', 'ceremony.failed', 'wallet.created']);
  });

  it.each([
    ['an unknown type', ['wallet.deleted'], '"wallet.deleted"'],
    ['an unknown type after known ones', ['wallet.created', 'transaction.sent'], '"transaction.sent"'],
    ['a type in the wrong case', ['Wallet.Created'], '"Wallet.Created"'],
    ['a prefix wildcard', ['wallet.*'], '"wallet.*"'],
    ['an empty string', [''], '""'],
    ['a number', [42], '"42"'],
    ['null', [null], '"null"'],
  ])('refuses %s, naming it', (_case, input, named) => {
    const error = expectBadInput(() => parseEventFilter(input));
    expect(error.message).toContain(`unknown event type ${named}`);
  });

  it('names at most 40 characters of a long unknown type', () => {
    const long = `x${'y'.repeat(200)}`;
    const error = expectBadInput(() => parseEventFilter([long]));
    expect(error.message).toContain(JSON.stringify(long.slice(0, 40)));
    expect(error.message).not.toContain(long.slice(0, 41));
  });

  it.each([
    ['an empty list', []],
    ['a string', 'wallet.created'],
    ['"*" as a string', '*'],
    ['undefined', undefined],
    ['null', null],
    ['an object', { 0: 'wallet.created', length: 1 }],
    ['a number', 1],
    ['more entries than types and "*"', Array.from({ length: webhookEventTypes.length + 2 }, () => '*')],
  ])('refuses %s', (_case, input) => {
    const error = expectBadInput(() => parseEventFilter(input));
    expect(error.message).toContain('events must be a non-empty list');
  });
});

describe('eventMatches', () => {
  it.each([
    ['"*" matches', ['*'], 'wallet.created', true],
    ['"*" among others matches', ['rules.published', '*'], 'transaction.blocked', true],
    ['the listed type matches', ['wallet.created'], 'wallet.created', true],
    ['one of several listed matches', ['wallet.created', 'transaction.signed'], 'transaction.signed', true],
    ['an unlisted type does not', ['wallet.created'], 'wallet.rotated', false],
    ['an empty filter matches nothing', [], 'wallet.created', false],
    ['no prefix matching', ['wallet'], 'wallet.created', false],
  ] as const)('%s', (_case, filter, type, expected) => {
    expect(eventMatches([...filter], type)).toBe(expected);
  });

  it('"*" matches every type, a single type only itself', () => {
    for (const type of webhookEventTypes) {
      expect(eventMatches(['*'], type)).toBe(true);
      const only = webhookEventTypes.filter((t) => eventMatches([type], t));
      expect(only).toEqual([type]);
    }
  });
});

describe('eventOfAuditEntry', () => {
  const entry = (over: Partial<Entry>): Entry => ({
    tenant: 'acme',
    walletId: 'w1',
    ceremony: 'keygen',
    workflowId: 'wf-1',
    ceremonyId: 'cer-1',
    requestedBy: 'alice@host',
    outcome: 'completed',
    parties: ['p1', 'p2', 'p3'],
    ...over,
  });

  /** What a sign record's detail holds once the policy judged it: public outcome and private data. */
  const signDetail = {
    message: 'deadbeef',
    path: 'm/0/1',
    merkleRoot: 'ab'.repeat(32),
    policy: 'allow',
    rulesVersion: 3,
    fired: ['allow small: under the limit'],
    tx: JSON.stringify({ to: 'bc1qsecretcounterparty', amount: '1.5' }),
    approvals: ['approve bob (cfo) at 2024-01-01T00:00:00Z'],
    state: 'approved',
  };

  describe('completed ceremonies', () => {
    it('keygen → wallet.created', () => {
      const e = entry({
        ceremony: 'keygen',
        version: 1,
        detail: { scheme: 'frost-ed25519', threshold: 2, keyId: 'k-1', tx: 'not public' },
      });
      expect(eventOfAuditEntry(e)).toStrictEqual({
        type: 'wallet.created',
        source: 'cer-1',
        data: {
          walletId: 'w1',
          version: 1,
          ceremonyId: 'wf-1',
          scheme: 'frost-ed25519',
          threshold: 2,
          keyId: 'k-1',
        },
      });
    });

    it('sign → transaction.signed, with the policy outcome but not the transaction or fired rules', () => {
      const e = entry({ ceremony: 'sign', version: 4, parties: ['p1', 'p3'], detail: signDetail });
      expect(eventOfAuditEntry(e)).toStrictEqual({
        type: 'transaction.signed',
        source: 'cer-1',
        data: {
          walletId: 'w1',
          version: 4,
          requestId: 'wf-1',
          signers: ['p1', 'p3'],
          message: 'deadbeef',
          path: 'm/0/1',
          policy: 'allow',
          rulesVersion: 3,
        },
      });
    });

    it('sign without a policy decision carries no rulesVersion alone', () => {
      const e = entry({
        ceremony: 'sign',
        version: 4,
        detail: { message: 'aa', path: 'm', rulesVersion: 9 },
      });
      expect(eventOfAuditEntry(e)?.data).toStrictEqual({
        walletId: 'w1',
        version: 4,
        requestId: 'wf-1',
        signers: ['p1', 'p2', 'p3'],
        message: 'aa',
        path: 'm',
      });
    });

    it.each([
      ['share-validation', 'share-validation'],
      ['recovery', 'recovery'],
      ['an empty purpose', ''],
      ['false', false],
    ])('a dry-run sign (detail.dryRun %s) raises nothing', (_case, dryRun) => {
      expect(
        eventOfAuditEntry(entry({ ceremony: 'sign', detail: { ...signDetail, dryRun } })),
      ).toBeUndefined();
    });

    it.each([
      ['rotation', 'wallet.rotated'],
      ['reshare', 'wallet.reshared'],
      ['recovery', 'wallet.recovered'],
    ] as const)('%s → %s', (ceremony, type) => {
      const e = entry({
        ceremony,
        fromVersion: 2,
        version: 3,
        parties: ['p1', 'p2', 'p4'],
        detail: {
          threshold: 2,
          [ceremony === 'recovery' ? 'helpers' : 'dealers']: ['p1', 'p2'],
          ...(ceremony === 'recovery' ? { recovered: ['p4'] } : {}),
          tx: 'not public',
        },
      });
      expect(eventOfAuditEntry(e)).toStrictEqual({
        type,
        source: 'cer-1',
        data: {
          walletId: 'w1',
          version: 3,
          ceremonyId: 'wf-1',
          parties: ['p1', 'p2', 'p4'],
          threshold: 2,
          ...(ceremony === 'recovery' ? { recovered: ['p4'] } : {}),
        },
      });
    });

    it('rules-publish → rules.published', () => {
      const e = entry({
        ceremony: 'rules-publish',
        walletId: '',
        workflowId: 'rules-wf',
        ceremonyId: 'acme|v7',
        requestedBy: 'carol@host',
        version: 7,
        parties: [],
        detail: { added: ['r1'], removed: [], changed: ['r2', 'r3'], rollbackOf: 5, text: '{"rules":[]}' },
      });
      expect(eventOfAuditEntry(e)).toStrictEqual({
        type: 'rules.published',
        source: 'acme|v7',
        data: {
          version: 7,
          publishedBy: 'carol@host',
          added: ['r1'],
          removed: [],
          changed: ['r2', 'r3'],
          rollbackOf: 5,
        },
      });
    });

    it.each(['approval', 'backup', 'validation', 'webhook-subscription', 'webhook-replay'] as const)(
      '%s raises nothing',
      (ceremony) => {
        expect(eventOfAuditEntry(entry({ ceremony, detail: { verdict: 'approve' } }))).toBeUndefined();
      },
    );
  });

  describe('failed ceremonies', () => {
    const failed = (over: Partial<Entry>) => entry({ outcome: 'failed', ...over });

    it.each([
      ['POLICY_BLOCKED', 'transaction.blocked'],
      ['APPROVAL_REJECTED', 'transaction.rejected'],
      ['CANCELLED', 'transaction.cancelled'],
      ['ABORTED', 'ceremony.failed'],
      ['APPROVAL_EXPIRED', 'ceremony.failed'],
      ['BAD_SHARE', 'ceremony.failed'],
    ] as const)('sign failed with %s → %s', (code, type) => {
      const e = failed({
        ceremony: 'sign',
        version: 4,
        code,
        reason: `refused: ${code}`,
        culprit: 'p2',
        detail: { ...signDetail, policy: 'block' },
      });
      expect(eventOfAuditEntry(e)).toStrictEqual({
        type,
        source: 'cer-1',
        data: {
          walletId: 'w1',
          version: 4,
          ceremony: 'sign',
          ceremonyId: 'wf-1',
          code,
          reason: `refused: ${code}`,
          culprit: 'p2',
          requestId: 'wf-1',
          policy: 'block',
          rulesVersion: 3,
        },
      });
    });

    it('a sign failure without a code is ceremony.failed with code FAILED and an empty reason', () => {
      expect(eventOfAuditEntry(failed({ ceremony: 'sign' }))).toStrictEqual({
        type: 'ceremony.failed',
        source: 'cer-1',
        data: {
          walletId: 'w1',
          ceremony: 'sign',
          ceremonyId: 'wf-1',
          code: 'FAILED',
          reason: '',
          requestId: 'wf-1',
        },
      });
    });

    it.each(['POLICY_BLOCKED', 'APPROVAL_REJECTED', 'ABORTED'])(
      'a failed dry-run sign (%s) raises nothing',
      (code) => {
        const e = failed({ ceremony: 'sign', code, reason: 'x', detail: { dryRun: 'share-validation' } });
        expect(eventOfAuditEntry(e)).toBeUndefined();
      },
    );

    it('failed keygen → ceremony.failed with code, culprit and reason', () => {
      const e = failed({
        ceremony: 'keygen',
        version: 1,
        code: 'BAD_PROOF',
        culprit: 'p3',
        reason: 'round 1 proof of knowledge does not verify',
        detail: { scheme: 'frost-secp256k1', threshold: 2, keyId: 'k-1', tx: 'not public' },
      });
      expect(eventOfAuditEntry(e)).toStrictEqual({
        type: 'ceremony.failed',
        source: 'cer-1',
        data: {
          walletId: 'w1',
          version: 1,
          ceremony: 'keygen',
          ceremonyId: 'wf-1',
          code: 'BAD_PROOF',
          reason: 'round 1 proof of knowledge does not verify',
          culprit: 'p3',
        },
      });
    });

    it.each([
      ['499 characters', 499, 499],
      ['500 characters', 500, 500],
      ['501 characters', 501, 500],
      ['10 000 characters', 10_000, 500],
    ])('a reason of %s is kept to at most 500', (_case, length, kept) => {
      const reason = 'r'.repeat(length - 1) + 'Z';
      const data = eventOfAuditEntry(failed({ ceremony: 'keygen', code: 'ABORTED', reason }))?.data;
      expect(data?.reason).toBe(reason.slice(0, 500));
      expect((data?.reason as string).length).toBe(kept);
    });

    it('a failure without a culprit has no culprit field', () => {
      const data = eventOfAuditEntry(
        failed({ ceremony: 'keygen', code: 'ABORTED', reason: 'timed out' }),
      )?.data;
      expect(data).toBeDefined();
      expect(data).not.toHaveProperty('culprit');
    });

    it.each(['rotation', 'reshare', 'recovery', 'backup', 'validation', 'rules-publish'] as const)(
      'failed %s → ceremony.failed',
      (ceremony) => {
        const e = failed({
          ceremony,
          code: 'ABORTED',
          reason: 'party p2 is down',
          detail: { threshold: 2, recovered: ['p4'], dealers: ['p1'], tx: 'not public' },
        });
        expect(eventOfAuditEntry(e)).toStrictEqual({
          type: 'ceremony.failed',
          source: 'cer-1',
          data: { walletId: 'w1', ceremony, ceremonyId: 'wf-1', code: 'ABORTED', reason: 'party p2 is down' },
        });
      },
    );

    it('a refused approval verdict raises nothing', () => {
      const e = failed({
        ceremony: 'approval',
        code: 'UNAUTHORIZED',
        reason: 'a second verdict',
        detail: { verdict: 'reject', role: 'cfo', requestDigest: 'ab' },
      });
      expect(eventOfAuditEntry(e)).toBeUndefined();
    });
  });

  describe('event data is public only', () => {
    /** Keys an audit entry may pass on to an event, by name (detail keys included). */
    const allowed = new Set([
      'walletId',
      'version',
      'ceremony',
      'ceremonyId',
      'requestId',
      'code',
      'reason',
      'culprit',
      'signers',
      'parties',
      'publishedBy',
      'scheme',
      'threshold',
      'keyId',
      'message',
      'path',
      'policy',
      'rulesVersion',
      'recovered',
      'added',
      'removed',
      'changed',
      'rollbackOf',
    ]);
    const secretDetail = {
      ...signDetail,
      tx: '{"to":"bc1qsecretcounterparty"}',
      share: 'SECRET-SHARE',
      nonce: 'SECRET-NONCE',
      secret: 'whsec_SECRET',
      dealers: ['p1'],
      helpers: ['p2'],
      text: '{"rules":"SECRET"}',
      verdict: 'approve',
      requestDigest: 'SECRET-DIGEST',
    };
    const cases: [string, Partial<Entry>][] = [];
    for (const ceremony of ['keygen', 'sign', 'rotation', 'reshare', 'recovery', 'rules-publish'] as const) {
      cases.push([`completed ${ceremony}`, { ceremony }]);
      cases.push([`failed ${ceremony}`, { ceremony, outcome: 'failed', code: 'ABORTED', reason: 'r' }]);
    }
    cases.push([
      'blocked sign',
      { ceremony: 'sign', outcome: 'failed', code: 'POLICY_BLOCKED', reason: 'r' },
    ]);
    cases.push([
      'rejected sign',
      { ceremony: 'sign', outcome: 'failed', code: 'APPROVAL_REJECTED', reason: 'r' },
    ]);

    it.each(cases)('%s copies no private detail', (_case, over) => {
      const e = entry({ fromVersion: 1, version: 2, culprit: 'p2', ...over, detail: secretDetail });
      const event = eventOfAuditEntry(e);
      expect(event).toBeDefined();
      for (const key of Object.keys(event!.data))
        expect(allowed, `unexpected data field ${key}`).toContain(key);
      for (const key of ['tx', 'fired', 'approvals', 'state', 'merkleRoot', 'share', 'nonce', 'secret']) {
        expect(event!.data).not.toHaveProperty(key);
      }
      expect(event!.data).not.toHaveProperty('fromVersion');
      expect(event!.data).not.toHaveProperty('tenant');
      const text = JSON.stringify(event);
      expect(text).not.toContain('bc1qsecretcounterparty');
      expect(text).not.toContain('SECRET');
    });

    it('a detail key that is not public is not copied even when it shadows a public name elsewhere', () => {
      const e = entry({
        ceremony: 'keygen',
        version: 1,
        detail: { scheme: 's', tx: 'TX', walletId: 'other' },
      });
      expect(eventOfAuditEntry(e)?.data).toStrictEqual({
        walletId: 'w1',
        version: 1,
        ceremonyId: 'wf-1',
        scheme: 's',
      });
    });
  });
});
