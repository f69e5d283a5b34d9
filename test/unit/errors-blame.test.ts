import { describe, expect, it } from 'vitest';
import { ApplicationFailure } from '@temporalio/common';
import { toFailure } from '../../activities/failures.js';
import { blamesParty, ConclaveError, culprit, CulpritError, isBlameCode } from '../../src/errors.js';
import type { FailureDetails } from '../../src/ceremony/contracts.js';

describe('which errors blame a party', () => {
  it('names the culprit of a blaming error, and no one otherwise', () => {
    expect(culprit(new CulpritError('BAD_SHARE', 'p2', 'share does not verify'))).toBe('p2');
    expect(culprit(new ConclaveError('TAMPERED', 'the roster carries keys that are not its own'))).toBe(
      undefined,
    );
    expect(culprit(new Error('boom'))).toBe(undefined);
  });

  it('places every code, and knows no other', () => {
    const blaming = Object.entries(blamesParty)
      .filter(([, b]) => b)
      .map(([c]) => c)
      .sort();
    expect(blaming).toEqual(['BAD_INPUT', 'BAD_PROOF', 'BAD_SHARE', 'DISAGREEMENT', 'REPLAY', 'TAMPERED']);
    expect(isBlameCode('STACK')).toBe(false);
    expect(isBlameCode('constructor')).toBe(false);
    expect(isBlameCode('BAD_PROOF')).toBe(true);
  });

  it('carries the culprit into a final failure, and only for a blaming error', () => {
    const blamed = toFailure(new CulpritError('DISAGREEMENT', 'p3', 'signed another request'));
    expect(blamed).toBeInstanceOf(ApplicationFailure);
    expect((blamed as ApplicationFailure).details?.[0] as FailureDetails).toEqual({
      code: 'DISAGREEMENT',
      culprit: 'p3',
    });
    const plain = toFailure(new ConclaveError('BUSY', 'wallet is changing its shares')) as ApplicationFailure;
    expect(plain.details?.[0]).toEqual({ code: 'BUSY' });
    expect(plain.nonRetryable).toBe(true);
  });
});
