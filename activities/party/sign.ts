/**
 * A party's side of FROST signing. Round 1 draws a nonce pair, stores it sealed and bound to
 * (ceremony, key, message), and broadcasts the commitments. Round 2 spends the nonce exactly
 * once: one atomic update marks it used, records what it was spent on and removes the sealed
 * nonces. A retry of the same round returns the stored share; any other use is refused.
 */
import { sealBroadcast, type Envelope, type EnvelopeHeader } from '../../src/crypto/envelope.js';
import { openJson, sealJson, type AtRestContext } from '../../src/crypto/at-rest.js';
import { encodeFields, fromHex, transcriptHash } from '../../src/crypto/encoding.js';
import { signCommit, signShare } from '../../src/crypto/frost.js';
import { getScheme } from '../../src/crypto/schemes.js';
import { ConclaveError, CulpritError } from '../../src/errors.js';
import type { PartyRuntime } from '../../src/party/runtime.js';
import {
  nonceDocId,
  PartyStore,
  shareDocId,
  type NonceDoc,
  type ShareDoc,
} from '../../src/store/party-store.js';
import type { SignContext } from '../types.js';
import { abortCeremony, jsonBytes, openFrom, selfEntry, writeUnlessAborted } from './common.js';
import { openShareSecret } from './keygen.js';

type Commitments = ReturnType<typeof signCommit>['commitments'];
type Nonces = ReturnType<typeof signCommit>['nonces'];

interface CommitBody {
  request: string;
  commitments: Commitments;
}
export interface SignShareBody {
  request: string;
  share: string;
}

const header = (ctx: SignContext, round: string, type: string, from: string): EnvelopeHeader => ({
  tenant: ctx.tenant,
  ceremonyId: ctx.ceremonyId,
  round,
  type,
  from,
  to: '*',
});

/** Binds a signing request: every signer must see the same key, message and signer set. */
export function signRequestHash(ctx: SignContext): string {
  return transcriptHash([
    encodeFields(['sign', ctx.tenant, ctx.walletId, ctx.keyId, ctx.version]),
    fromHex(ctx.message, 'message'),
    encodeFields([...ctx.signers].sort()),
  ]);
}

const nonceContext = (rt: PartyRuntime, ctx: SignContext): AtRestContext => ({
  purpose: 'nonce',
  tenant: ctx.tenant,
  party: rt.partyId,
  keyId: `${ctx.keyId}/${ctx.ceremonyId}`,
  version: ctx.version,
});

async function activeShare(rt: PartyRuntime, ctx: SignContext): Promise<ShareDoc> {
  const share = await rt.store.shares.findOne({
    _id: shareDocId(ctx.tenant, ctx.keyId, ctx.version),
    tenant: ctx.tenant,
    walletId: ctx.walletId,
  });
  if (!share || share.status !== 'active') {
    throw new ConclaveError(
      'UNKNOWN_WALLET',
      `${rt.partyId} holds no active share of wallet ${ctx.walletId} (${ctx.tenant})`,
    );
  }
  const parties = new Set(share.roster.map((p) => p.partyId));
  const signers = new Set(ctx.signers);
  if (signers.size !== ctx.signers.length) throw new ConclaveError('BAD_INPUT', 'signer list has duplicates');
  if (signers.size < share.threshold) {
    throw new ConclaveError('BAD_INPUT', `${share.threshold} signers needed, ${signers.size} named`);
  }
  for (const s of signers) {
    if (!parties.has(s))
      throw new ConclaveError('BAD_INPUT', `${s} holds no share of wallet ${ctx.walletId}`);
  }
  if (!signers.has(rt.partyId))
    throw new ConclaveError('BAD_INPUT', `${rt.partyId} is not a signer of this request`);
  selfEntry(rt, share.roster);
  return share;
}

export function signActivities(rt: PartyRuntime) {
  return {
    async signRound1(ctx: SignContext): Promise<Envelope> {
      const share = await activeShare(rt, ctx);
      const request = signRequestHash(ctx);
      const id = nonceDocId(ctx.tenant, ctx.ceremonyId);
      let doc = await rt.store.nonces.findOne({ _id: id });
      if (!doc) {
        const signingShare = openShareSecret(rt, share);
        const { nonces, commitments } = signCommit(getScheme(share.scheme), share.identifier, signingShare);
        const body: CommitBody = { request, commitments };
        const fresh: NonceDoc = {
          _id: id,
          tenant: ctx.tenant,
          ceremonyId: ctx.ceremonyId,
          keyId: ctx.keyId,
          version: ctx.version,
          messageHash: request,
          status: 'fresh',
          sealed: sealJson(rt.kek, nonces, nonceContext(rt, ctx)),
          round1Output: sealBroadcast(
            header(ctx, 'sign-1', 'sign-commitments', rt.partyId),
            jsonBytes(body),
            rt.identitySecret,
          ),
          createdAt: new Date(),
        };
        doc = await writeUnlessAborted(
          rt,
          ctx.tenant,
          ctx.ceremonyId,
          () => PartyStore.insertOrGet(rt.store.nonces, fresh),
          () => rt.store.nonces.deleteOne({ _id: id, status: 'fresh' }),
        );
      }
      if (doc.messageHash !== request) {
        throw new ConclaveError(
          'REPLAY',
          `ceremony ${ctx.ceremonyId} already committed to another request on ${rt.partyId}`,
        );
      }
      return doc.round1Output as Envelope;
    },

    async signRound2(ctx: SignContext, commitments: Envelope[]): Promise<Envelope> {
      const share = await activeShare(rt, ctx);
      const request = signRequestHash(ctx);
      const id = nonceDocId(ctx.tenant, ctx.ceremonyId);
      const doc = await rt.store.nonces.findOne({ _id: id });
      if (!doc || doc.messageHash !== request) {
        throw new ConclaveError(
          'BAD_INPUT',
          `no signing nonce for this request on ${rt.partyId} (round 1 not run)`,
        );
      }
      const signers = share.roster.filter((p) => ctx.signers.includes(p.partyId));
      const list = signers.map((peer) => {
        const body = openFrom<CommitBody>(
          rt,
          commitments,
          header(ctx, 'sign-1', 'sign-commitments', peer.partyId),
          peer,
          false,
        );
        if (body.request !== request) {
          throw new CulpritError(
            'DISAGREEMENT',
            peer.partyId,
            `${peer.partyId} committed to another signing request`,
          );
        }
        if (body.commitments?.identifier !== peer.identifier) {
          throw new CulpritError(
            'TAMPERED',
            peer.partyId,
            `${peer.partyId} sent commitments under another identifier`,
          );
        }
        return body.commitments;
      });
      const ownEnvelope = doc.round1Output as Envelope;
      const own = list.find((c) => c.identifier === share.identifier);
      if (
        !own ||
        JSON.stringify(own) !==
          JSON.stringify(
            (JSON.parse(Buffer.from(ownEnvelope.body, 'hex').toString()) as CommitBody).commitments,
          )
      ) {
        throw new ConclaveError(
          'TAMPERED',
          `the commitment list does not carry ${rt.partyId}'s own commitments`,
        );
      }
      const spentOn = transcriptHash([fromHex(request, 'request'), jsonBytes(list)]);
      if (doc.status === 'used') {
        if (doc.spentOn === spentOn) return doc.round2Output as Envelope;
        throw new ConclaveError('NONCE_REUSE', `${rt.partyId} refuses to use a signing nonce a second time`);
      }
      const nonces = openJson<Nonces>(rt.kek, doc.sealed!, nonceContext(rt, ctx));
      const sig = signShare(
        getScheme(share.scheme),
        share.identifier,
        openShareSecret(rt, share),
        share.public,
        nonces,
        list,
        fromHex(ctx.message, 'message'),
      );
      const body: SignShareBody = { request, share: sig };
      const output = sealBroadcast(
        header(ctx, 'sign-2', 'sign-share', rt.partyId),
        jsonBytes(body),
        rt.identitySecret,
      );
      const spent = await rt.store.nonces.updateOne(
        { _id: id, status: 'fresh' },
        { $set: { status: 'used', spentOn, round2Output: output }, $unset: { sealed: '' } },
      );
      if (spent.modifiedCount === 1) return output;
      // Someone spent it between our read and our update: only the identical request may reuse its result.
      const now = await rt.store.nonces.findOne({ _id: id });
      if (now?.status === 'used' && now.spentOn === spentOn) return now.round2Output as Envelope;
      throw new ConclaveError('NONCE_REUSE', `${rt.partyId} refuses to use a signing nonce a second time`);
    },

    /** Destroys an unspent nonce of an aborted signing ceremony. */
    async signAbort(ctx: SignContext): Promise<void> {
      await abortCeremony(rt, ctx.tenant, ctx.ceremonyId, () =>
        rt.store.nonces.deleteOne({ _id: nonceDocId(ctx.tenant, ctx.ceremonyId), status: 'fresh' }),
      );
    },
  };
}
