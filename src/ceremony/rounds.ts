/**
 * What every ceremony's rounds share, on both sides: the round header, the parameters hash all
 * parties agree on, a party's keyring, and the one opener of round messages. Pure: bytes and
 * records in, bytes and records out.
 */
import {
  openEnvelope,
  sealBroadcast,
  sealDirect,
  type Envelope,
  type EnvelopeHeader,
} from '../crypto/envelope.js';
import { encodeFields, fromHex, transcriptHash, utf8 } from '../crypto/encoding.js';
import { ConclaveError, CulpritError } from '../errors.js';
import type { PeerEntry } from './contracts.js';

/** A party as the pure round steps see it: its id and long-lived keys, no database. */
export interface PartyKeyring {
  partyId: string;
  identityPublic: string;
  transportPublic: string;
  identitySecret: Uint8Array;
  transportSecret: Uint8Array;
}

/** The header of one round message of a ceremony; `to` is a party id, or '*' for a broadcast. */
export const roundHeader = (
  ctx: { tenant: string; ceremonyId: string },
  round: string,
  type: string,
  from: string,
  to: string,
): EnvelopeHeader => ({ tenant: ctx.tenant, ceremonyId: ctx.ceremonyId, round, type, from, to });

/** This party's roster entry, refused unless it carries this party's own keys. */
export function selfEntry(
  me: Pick<PartyKeyring, 'partyId' | 'identityPublic' | 'transportPublic'>,
  roster: PeerEntry[],
): PeerEntry {
  const entry = roster.find((p) => p.partyId === me.partyId);
  if (!entry) throw new ConclaveError('BAD_INPUT', `party ${me.partyId} is not in this ceremony's roster`);
  if (entry.identityPublic !== me.identityPublic || entry.transportPublic !== me.transportPublic) {
    throw new ConclaveError('TAMPERED', `the roster carries keys for ${me.partyId} that are not its own`);
  }
  return entry;
}

/** A hash of the ceremony parameters every party must agree on; carried in round-1 bodies. */
export function paramsHash(fields: Array<string | number>, roster: PeerEntry[]): string {
  const sorted = [...roster].sort((a, b) => (a.partyId < b.partyId ? -1 : 1));
  return transcriptHash([
    encodeFields(fields),
    ...sorted.map((p) => encodeFields([p.partyId, p.identifier, p.identityPublic, p.transportPublic])),
  ]);
}

export const jsonBytes = (value: unknown): Uint8Array => utf8(JSON.stringify(value));

/**
 * Exactly one envelope from `sender` addressed as `expect` says, opened (header, signature, and
 * for a direct message decryption with `transportSecret`) and parsed as JSON. Missing, duplicate,
 * forged or unparsable messages are CulpritErrors naming the sender.
 */
export function openFrom<T>(
  envelopes: readonly Envelope[],
  expect: EnvelopeHeader,
  sender: PeerEntry,
  transportSecret?: Uint8Array,
): T {
  const mine = envelopes.filter((e) => e?.from === sender.partyId && e.to === expect.to);
  if (mine.length === 0) {
    throw new CulpritError('BAD_INPUT', sender.partyId, `no ${expect.type} message from ${sender.partyId}`);
  }
  if (mine.length > 1) {
    throw new CulpritError(
      'TAMPERED',
      sender.partyId,
      `more than one ${expect.type} message from ${sender.partyId}`,
    );
  }
  const body = openEnvelope(
    mine[0]!,
    expect,
    fromHex(sender.identityPublic, 'identity key'),
    expect.to === '*' ? undefined : transportSecret,
  );
  try {
    return JSON.parse(new TextDecoder().decode(body)) as T;
  } catch {
    throw new CulpritError(
      'TAMPERED',
      sender.partyId,
      `malformed ${expect.type} message from ${sender.partyId}`,
    );
  }
}

/**
 * `openFrom` for a message whose body carries the ceremony's parameters hash: a sender that ran
 * the round under other parameters is a DISAGREEMENT naming it, said as `${sender} ${ranWith}`.
 */
export function openBound<T extends { params: string }>(
  envelopes: readonly Envelope[],
  expect: EnvelopeHeader,
  sender: PeerEntry,
  params: string,
  ranWith: string,
  transportSecret?: Uint8Array,
): T {
  const body = openFrom<T>(envelopes, expect, sender, transportSecret);
  if (body.params !== params) {
    throw new CulpritError('DISAGREEMENT', sender.partyId, `${sender.partyId} ${ranWith}`);
  }
  return body;
}

/**
 * One round's messages from every sender, by party id: `expect(sender)` is the header each must
 * carry. Each sender must have sent exactly one (see `openFrom`).
 */
export function openRound<T>(
  envelopes: readonly Envelope[],
  senders: readonly PeerEntry[],
  expect: (sender: PeerEntry) => EnvelopeHeader,
  transportSecret?: Uint8Array,
): Map<string, T> {
  return new Map(
    senders.map((s) => [s.partyId, openFrom<T>(envelopes, expect(s), s, transportSecret)] as const),
  );
}

/** Crypto code names FROST identifiers; ceremonies name parties. */
export function renameCulprit(err: unknown, roster: PeerEntry[]): unknown {
  if (err instanceof CulpritError) {
    const party = roster.find((p) => p.identifier === err.culprit);
    if (party)
      return new CulpritError(err.code, party.partyId, err.message.replace(/ \(culprit: [^)]*\)$/, ''));
  }
  return err;
}

/** This party's signed broadcast of `body` (as JSON) in one round of a ceremony. */
export const sealRoundBroadcast = (
  me: Pick<PartyKeyring, 'partyId' | 'identitySecret'>,
  ctx: { tenant: string; ceremonyId: string },
  round: string,
  type: string,
  body: unknown,
): Envelope =>
  sealBroadcast(roundHeader(ctx, round, type, me.partyId, '*'), jsonBytes(body), me.identitySecret);

/** This party's message of one round to `peer`: signed, and encrypted to the peer's transport key. */
export const sealRoundDirect = (
  me: Pick<PartyKeyring, 'partyId' | 'identitySecret'>,
  ctx: { tenant: string; ceremonyId: string },
  round: string,
  type: string,
  peer: Pick<PeerEntry, 'partyId' | 'transportPublic'>,
  body: unknown,
): Envelope =>
  sealDirect(
    roundHeader(ctx, round, type, me.partyId, peer.partyId),
    jsonBytes(body),
    me.identitySecret,
    fromHex(peer.transportPublic, 'transport key'),
  );
