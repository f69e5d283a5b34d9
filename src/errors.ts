/**
 * Typed errors. Every error a user can cause has a code and a one-line message; errors that
 * come from another party's misbehaviour name that party (the culprit) so a ceremony can abort
 * with blame. Messages never contain secret material.
 */
export type ErrorCode =
  | 'BAD_INPUT'
  | 'UNKNOWN_WALLET'
  | 'UNKNOWN_CURVE'
  | 'UNKNOWN_PARTY'
  | 'WRONG_TENANT'
  | 'TAMPERED'
  | 'REPLAY'
  | 'BAD_PROOF'
  | 'BAD_SHARE'
  | 'NONCE_REUSE'
  | 'DISAGREEMENT'
  | 'DECRYPT_FAILED'
  | 'ABORTED'
  | 'BUSY'
  | 'POLICY_BLOCKED'
  | 'APPROVAL_REQUIRED'
  | 'APPROVAL_REJECTED'
  | 'APPROVAL_EXPIRED'
  | 'UNAUTHORIZED'
  | 'UNENCRYPTED_PAYLOAD'
  | 'STACK'
  | 'CONFIG';

export class ConclaveError extends Error {
  readonly code: ErrorCode;
  constructor(code: ErrorCode, message: string) {
    super(message);
    this.name = 'ConclaveError';
    this.code = code;
  }
}

/** A party misbehaved: its message failed a check. `culprit` is the party id (or FROST identifier in pure crypto code). */
export class CulpritError extends ConclaveError {
  readonly culprit: string;
  constructor(code: ErrorCode, culprit: string, reason: string) {
    super(code, `${reason} (culprit: ${culprit})`);
    this.name = 'CulpritError';
    this.culprit = culprit;
  }
}

/**
 * A Temporal payload that is not encrypted under the deployment's payload key reached a process
 * that has the key (src/codec/payload-codec.ts): it is refused, never handed to a workflow or an
 * activity. The message names the payload's encoding, never its contents.
 */
export class UnencryptedPayloadError extends ConclaveError {
  constructor(message: string) {
    super('UNENCRYPTED_PAYLOAD', message);
    this.name = 'UnencryptedPayloadError';
  }
}
// A worker reports an activity whose input does not decode as a failure whose type is the
// error's constructor name (the SDK's ensureApplicationFailure): the code, as for every other
// typed refusal (activities/failures.ts), so retry policies and ceremonies see UNENCRYPTED_PAYLOAD.
Object.defineProperty(UnencryptedPayloadError, 'name', { value: 'UNENCRYPTED_PAYLOAD' });
