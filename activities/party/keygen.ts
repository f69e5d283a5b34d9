/**
 * A party's side of distributed key generation (FROST DKG: Pedersen DKG with proofs of
 * knowledge and Feldman commitments). Round 1 broadcasts commitments; round 2 sends each peer
 * its share, encrypted to it; round 3 checks every share against its sender's commitment,
 * derives the party's signing share and stores it sealed, as pending. It becomes active only
 * when the party has seen every other party's signed result agree with its own.
 */
import { broadcastJson, sealBroadcast, sealDirect, type Envelope } from '../../src/crypto/envelope.js';
import { sealJson, openJson } from '../../src/crypto/at-rest.js';
import { fromHex } from '../../src/crypto/encoding.js';
import {
  dkgRound1,
  dkgRound2,
  dkgRound3,
  dkgTranscriptHash,
  type DkgState,
  type PublicPackage,
  type Round1Pkg,
} from '../../src/crypto/frost.js';
import { getScheme } from '../../src/crypto/schemes.js';
import { ConclaveError, CulpritError } from '../../src/errors.js';
import { shareContext, type PartyRuntime } from '../../src/party/runtime.js';
import { PartyStore, shareDocId, type ShareDoc } from '../../src/store/party-store.js';
import type { KeygenContext } from '../types.js';
import {
  abortCeremony,
  activatePendingShare,
  checkPinnedPeers,
  jsonBytes,
  loadRoundState,
  openFrom,
  paramsHash,
  renameCulprit,
  runRoundOnce,
  selfEntry,
  writeUnlessAborted,
  roundHeader,
  roundOutput,
} from './common.js';

interface Round1Body {
  params: string;
  pkg: Round1Pkg;
}
interface Round2Body {
  share: string;
}
export interface KeygenResultBody {
  params: string;
  publicKey: string;
  public: PublicPackage;
  transcriptHash: string;
}

export const keygenParams = (ctx: KeygenContext) =>
  paramsHash(
    ['keygen', ctx.tenant, ctx.walletId, ctx.keyId, ctx.version, ctx.scheme, ctx.threshold],
    ctx.roster,
  );

function validateContext(ctx: KeygenContext): void {
  const n = ctx.roster.length;
  if (!Number.isInteger(ctx.threshold) || ctx.threshold < 2 || ctx.threshold > n) {
    throw new ConclaveError('BAD_INPUT', `threshold must be between 2 and ${n}, got ${ctx.threshold}`);
  }
  if (
    new Set(ctx.roster.map((p) => p.partyId)).size !== n ||
    new Set(ctx.roster.map((p) => p.identifier)).size !== n
  ) {
    throw new ConclaveError('BAD_INPUT', 'roster has duplicate parties');
  }
}

/** Every other party's round-1 package, checked: signature, ceremony, parameters, identifier. */
function openRound1(rt: PartyRuntime, ctx: KeygenContext, round1: Envelope[]): Round1Pkg[] {
  const params = keygenParams(ctx);
  return ctx.roster
    .filter((p) => p.partyId !== rt.partyId)
    .map((peer) => {
      const body = openFrom<Round1Body>(
        rt,
        round1,
        roundHeader(ctx, 'dkg-1', 'dkg-round1', peer.partyId, '*'),
        peer,
        false,
      );
      if (body.params !== params) {
        throw new CulpritError(
          'DISAGREEMENT',
          peer.partyId,
          `${peer.partyId} ran key generation with other parameters`,
        );
      }
      if (body.pkg?.identifier !== peer.identifier) {
        throw new CulpritError(
          'TAMPERED',
          peer.partyId,
          `${peer.partyId} sent a package under another identifier`,
        );
      }
      return body.pkg;
    });
}

export function keygenActivities(rt: PartyRuntime) {
  return {
    async dkgRound1(ctx: KeygenContext): Promise<Envelope> {
      validateContext(ctx);
      const me = selfEntry(rt, ctx.roster);
      await checkPinnedPeers(rt, ctx.roster);
      const scheme = getScheme(ctx.scheme);
      return runRoundOnce<DkgState, Envelope>(rt, ctx.tenant, ctx.ceremonyId, 'dkg-1', () => {
        const { pkg, state } = dkgRound1(scheme, me.identifier, ctx.threshold, ctx.roster.length);
        const body: Round1Body = { params: keygenParams(ctx), pkg };
        const output = sealBroadcast(
          roundHeader(ctx, 'dkg-1', 'dkg-round1', rt.partyId, '*'),
          jsonBytes(body),
          rt.identitySecret,
        );
        return { output, state };
      });
    },

    async dkgRound2(ctx: KeygenContext, round1: Envelope[]): Promise<Envelope[]> {
      validateContext(ctx);
      selfEntry(rt, ctx.roster);
      const scheme = getScheme(ctx.scheme);
      return runRoundOnce<DkgState, Envelope[]>(rt, ctx.tenant, ctx.ceremonyId, 'dkg-2', async () => {
        const state1 = await loadRoundState<DkgState>(rt, ctx.tenant, ctx.ceremonyId, 'dkg-1');
        const others = openRound1(rt, ctx, round1);
        let result: ReturnType<typeof dkgRound2>;
        try {
          result = dkgRound2(scheme, state1, others);
        } catch (err) {
          throw renameCulprit(err, ctx.roster);
        }
        const output = ctx.roster
          .filter((p) => p.partyId !== rt.partyId)
          .map((peer) => {
            const share = result.shares[peer.identifier];
            if (!share) throw new ConclaveError('BAD_INPUT', `no share computed for ${peer.partyId}`);
            const body: Round2Body = { share };
            return sealDirect(
              roundHeader(ctx, 'dkg-2', 'dkg-share', rt.partyId, peer.partyId),
              jsonBytes(body),
              rt.identitySecret,
              fromHex(peer.transportPublic, 'transport key'),
            );
          });
        return { output, state: result.state };
      });
    },

    async dkgRound3(ctx: KeygenContext, round1: Envelope[], round2: Envelope[]): Promise<Envelope> {
      validateContext(ctx);
      const me = selfEntry(rt, ctx.roster);
      const scheme = getScheme(ctx.scheme);
      return runRoundOnce<never, Envelope>(rt, ctx.tenant, ctx.ceremonyId, 'dkg-3', async () => {
        const state2 = await loadRoundState<DkgState>(rt, ctx.tenant, ctx.ceremonyId, 'dkg-2');
        const others = openRound1(rt, ctx, round1);
        const received = ctx.roster
          .filter((p) => p.partyId !== rt.partyId)
          .map((peer) => {
            const body = openFrom<Round2Body>(
              rt,
              round2,
              roundHeader(ctx, 'dkg-2', 'dkg-share', peer.partyId, rt.partyId),
              peer,
              true,
            );
            return { from: peer.identifier, share: body.share };
          });
        let key: ReturnType<typeof dkgRound3>;
        try {
          key = dkgRound3(scheme, state2, others, received);
        } catch (err) {
          throw renameCulprit(err, ctx.roster);
        }
        const own = (await roundOutput<Envelope>(rt, ctx.tenant, ctx.ceremonyId, 'dkg-1'))!;
        const ownPkg = broadcastJson<Round1Body>(own).pkg;
        const transcriptHash = dkgTranscriptHash([ownPkg, ...others], key.public);
        const publicKey = key.public.commitments[0]!;
        const share: ShareDoc = {
          _id: shareDocId(ctx.tenant, ctx.keyId, ctx.version),
          tenant: ctx.tenant,
          walletId: ctx.walletId,
          keyId: ctx.keyId,
          version: ctx.version,
          scheme: scheme.name,
          status: 'pending',
          identifier: me.identifier,
          threshold: ctx.threshold,
          roster: ctx.roster,
          public: key.public,
          publicKey,
          transcriptHash,
          sealed: sealJson(
            rt.kek,
            { signingShare: key.signingShare },
            shareContext(rt, ctx.tenant, ctx.keyId, ctx.version),
          ),
          createdAt: new Date(),
        };
        const stored = await writeUnlessAborted(
          rt,
          ctx.tenant,
          ctx.ceremonyId,
          () => PartyStore.insertOrGet(rt.store.pendingShares, share),
          () => rt.store.pendingShares.deleteOne({ _id: share._id }),
        );
        if (stored.transcriptHash !== transcriptHash) {
          throw new ConclaveError(
            'BAD_INPUT',
            `key ${ctx.keyId} v${ctx.version} already exists on ${rt.partyId}`,
          );
        }
        const body: KeygenResultBody = {
          params: keygenParams(ctx),
          publicKey,
          public: key.public,
          transcriptHash,
        };
        return {
          output: sealBroadcast(
            roundHeader(ctx, 'dkg-3', 'dkg-result', rt.partyId, '*'),
            jsonBytes(body),
            rt.identitySecret,
          ),
        };
      });
    },

    /**
     * Activates the pending share once this party has itself checked that every party signed
     * the same public key and transcript: a coordinator cannot activate a disputed key.
     */
    async dkgActivate(ctx: KeygenContext, results: Envelope[]): Promise<void> {
      const id = shareDocId(ctx.tenant, ctx.keyId, ctx.version);
      await activatePendingShare(rt, ctx.tenant, ctx.ceremonyId, id, (share) => {
        for (const peer of ctx.roster) {
          if (peer.partyId === rt.partyId) continue;
          const expect = roundHeader(ctx, 'dkg-3', 'dkg-result', peer.partyId, '*');
          const body = openFrom<KeygenResultBody>(rt, results, expect, peer, false);
          if (body.transcriptHash !== share.transcriptHash || body.publicKey !== share.publicKey) {
            throw new CulpritError(
              'DISAGREEMENT',
              peer.partyId,
              `${peer.partyId} reports another key or transcript`,
            );
          }
        }
      });
    },

    /** Forgets everything an aborted key generation left behind on this party. */
    async dkgAbort(ctx: KeygenContext): Promise<void> {
      await abortCeremony(rt, ctx.tenant, ctx.ceremonyId, () =>
        rt.store.pendingShares.deleteOne({ _id: shareDocId(ctx.tenant, ctx.keyId, ctx.version) }),
      );
    },
  };
}

export function openShareSecret(rt: PartyRuntime, share: ShareDoc): string {
  return openJson<{ signingShare: string }>(
    rt.kek,
    share.sealed,
    shareContext(rt, share.tenant, share.keyId, share.version),
  ).signingShare;
}
