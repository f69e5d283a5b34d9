/**
 * Typed errors. Every error a user can cause has a code and a one-line message; errors that
 * come from another party's misbehaviour name that party (the culprit) so a ceremony can abort
 * with blame. Messages never contain secret material.
 */
export type ErrorCode =
  | 'BAD_INPUT'
  | 'UNKNOWN_WALLET'
  | 'UNKNOWN_CURVE'
  | 'UNKNOWN_SCHEME'
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
  | 'CANCELLED'
  | 'UNAUTHORIZED'
  | 'UNENCRYPTED_PAYLOAD'
  | 'STACK'
  | 'CONFIG';

/**
 * Whether an error of each kind blames a party, in one exhaustive place (a new code does not
 * compile until it is placed here). `true`: raised against a message a party signed, or failed
 * to send, it names that party (a CulpritError), and a ceremony aborts with the blame. `false`:
 * the request, the deployment or the ceremony's own state is at fault, and no party is named.
 * A blaming kind raised against what the coordinator relayed (a roster carrying another
 * party's keys, a commitment list without the party's own) names no party either.
 */
export const blamesParty = {
  BAD_INPUT: true, // a round message a party never sent; otherwise a malformed request
  UNKNOWN_WALLET: false,
  UNKNOWN_CURVE: false,
  UNKNOWN_SCHEME: false,
  UNKNOWN_PARTY: false,
  WRONG_TENANT: false,
  TAMPERED: true, // a forged, duplicated or unparsable message from a party
  REPLAY: true, // a party's message from another session or ceremony
  BAD_PROOF: true, // a party's zero-knowledge proof or consistency check fails
  BAD_SHARE: true, // a party's share or signature share does not match its commitments
  NONCE_REUSE: false, // refused by the party asked to reuse its own nonce
  DISAGREEMENT: true, // a party signed other parameters, another key or another request
  DECRYPT_FAILED: false, // this party's own sealed record does not open (wrong KEK or context)
  ABORTED: false,
  BUSY: false,
  POLICY_BLOCKED: false,
  APPROVAL_REQUIRED: false,
  APPROVAL_REJECTED: false,
  APPROVAL_EXPIRED: false,
  CANCELLED: false, // its initiator withdrew the request
  UNAUTHORIZED: false,
  UNENCRYPTED_PAYLOAD: false,
  STACK: false,
  CONFIG: false,
} as const satisfies Record<ErrorCode, boolean>;

/** The kinds of error that can name a misbehaving party. */
export type BlameCode = { [C in ErrorCode]: (typeof blamesParty)[C] extends true ? C : never }[ErrorCode];

export const isBlameCode = (code: string): code is BlameCode =>
  Object.hasOwn(blamesParty, code) && blamesParty[code as ErrorCode];

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
  declare readonly code: BlameCode;
  readonly culprit: string;
  constructor(code: BlameCode, culprit: string, reason: string) {
    super(code, `${reason} (culprit: ${culprit})`);
    this.name = 'CulpritError';
    this.culprit = culprit;
  }
}

/** The party an error blames, if its kind blames one and it names one (frost-core's `culprit()`). */
export function culprit(err: unknown): string | undefined {
  return err instanceof CulpritError && blamesParty[err.code] ? err.culprit : undefined;
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
