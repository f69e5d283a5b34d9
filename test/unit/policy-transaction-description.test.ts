/**
 * One transaction-description format for `sign --tx`, the client's `tx` and `rules test --tx`:
 * every problem in one error, the request's own fields compared, never another wallet's payment.
 */
import { describe, expect, it } from 'vitest';
import { checkTransactionDescription } from '../../src/policy/transaction.js';
import { validateSignRequest } from '../../src/validation.js';

const payment = { chain: 'solana', asset: 'SOL', amount: '1.5', destination: 'Dest111' };
const refusal = (value: unknown, request = {}) => {
  try {
    checkTransactionDescription(value, request);
  } catch (e) {
    return { code: (e as { code?: string }).code, message: (e as Error).message };
  }
  throw new Error('accepted');
};

describe('checkTransactionDescription', () => {
  it('takes the payment fields and returns them alone, with what the description named of the request', () => {
    const { description, named } = checkTransactionDescription(
      { ...payment, memo: 'invoice 7', metadata: { ref: 'a' }, walletId: 'w1', initiator: 'backend' },
      { walletId: 'w1', initiator: 'backend', tenant: 'acme' },
    );
    expect(description).toStrictEqual({ ...payment, memo: 'invoice 7', metadata: { ref: 'a' } });
    expect(named).toStrictEqual({ walletId: 'w1', initiator: 'backend' });
  });

  it('reports every problem in one error', () => {
    expect(refusal({ asset: 'SOL', amount: '1e3', ammount: '1', memo: 7 })).toStrictEqual({
      code: 'BAD_INPUT',
      message:
        'transaction description: missing chain, destination; memo must be a non-empty string of at most 1024 characters; ' +
        'amount must be a decimal string like "12.5" (no sign, exponent or number; at most 78 digits); ' +
        'unknown field "ammount" (known: chain, asset, amount, destination, memo, metadata, tenant, walletId, initiator, at)',
    });
  });

  it('refuses a description of another wallet, tenant or initiator, naming both', () => {
    const r = refusal(
      { ...payment, walletId: 'w2', tenant: 'other', initiator: 'mallory' },
      { walletId: 'w1', tenant: 'acme', initiator: 'backend' },
    );
    expect(r.message).toBe(
      'transaction description: it names tenant "other", but this request\'s tenant is acme; ' +
        'it names walletId "w2", but this request\'s wallet is w1; ' +
        'it names initiator "mallory", but this request\'s initiator is backend',
    );
  });

  it('refuses a time on a sign request (it is dated when signed) and checks one given to rules test', () => {
    expect(refusal({ ...payment, at: '2026-11-23T10:30:00+01:00' }, { stamped: true }).message).toBe(
      'transaction description: at: a sign request is dated when its initiator signs it; leave `at` out',
    );
    expect(refusal({ ...payment, at: '2026-11-23 10:30' }).message).toBe(
      'transaction description: at must be ISO 8601 with an offset, e.g. "2024-04-02T07:30:00Z"',
    );
    expect(checkTransactionDescription({ ...payment, at: '2026-11-23T10:30:00+01:00' }).named.at).toBe(
      '2026-11-23T10:30:00+01:00',
    );
  });

  it.each([null, [], 'a payment', 7])('refuses %j: not an object', (value) => {
    expect(refusal(value).message).toBe('a transaction description must be a JSON object');
  });

  it('refuses bad metadata entries by name', () => {
    expect(refusal({ ...payment, metadata: { ref: '', n: 3 } }).message).toBe(
      'transaction description: metadata.ref must be a non-empty string of at most 1024 characters; ' +
        'metadata.n must be a non-empty string of at most 1024 characters',
    );
    expect(refusal({ ...payment, metadata: ['x'] }).message).toBe(
      'transaction description: metadata must be an object of strings',
    );
  });
});

describe('validateSignRequest: the coordinator checks the description too', () => {
  const req = { requestedBy: 'backend', tenant: 'acme', walletId: 'w1', message: 'ab'.repeat(32) };
  it('refuses a request whose description names another wallet', () => {
    expect(() => validateSignRequest({ ...req, tx: { ...payment, walletId: 'w2' } as never })).toThrow(
      /it names walletId "w2", but this request's wallet is w1/,
    );
  });
  it('accepts one that describes this wallet', () => {
    expect(() => validateSignRequest({ ...req, tx: { ...payment, walletId: 'w1' } as never })).not.toThrow();
  });
});
