/**
 * Coordinator activities: planning, agreement checks, aggregation and the wallet registry.
 * The coordinator sees only public data; it verifies every party's signed messages itself.
 */
import { randomInt } from 'node:crypto';
import { openEnvelope, type Envelope } from '../src/crypto/envelope.js';
import { fromHex, toHex } from '../src/crypto/encoding.js';
import {
  aggregateSignature as aggregateShares,
  identifierFor,
  tweakPublicPackage,
} from '../src/crypto/frost.js';
import { chainCodeFor } from '../src/crypto/hd.js';
import { getScheme, resolveScheme } from '../src/crypto/schemes.js';
import { canonicalKeyRequest, signingKeyFor } from '../src/crypto/signing-key.js';
import { ConclaveError, CulpritError } from '../src/errors.js';
import { loadConfig } from '../src/config.js';
import { assertId, validateKeygenRequest, validateSignRequest } from '../src/validation.js';
import { openDb } from '../src/store/mongo.js';
import { ImmutableMemo } from '../src/store/memo.js';
import { CoordinatorStore, walletDocId, type WalletDoc } from '../src/store/coordinator-store.js';
import { PartyStore, type PeerEntry } from '../src/store/party-store.js';
import { keygenParams, type KeygenResultBody } from './party/keygen.js';
import { signRequestHash, type SignShareBody } from './party/sign.js';
import { withFailures } from './failures.js';
import type {
  KeygenContext,
  KeygenRequest,
  KeygenResult,
  PartyInfo,
  SignContext,
  SignRequest,
  SignResult,
  WalletInfo,
} from './types.js';

function toWalletInfo(w: WalletDoc): WalletInfo {
  return {
    tenant: w.tenant,
    walletId: w.walletId,
    keyId: w.keyId,
    version: w.version,
    curve: w.curve,
    scheme: w.scheme,
    threshold: w.threshold,
    parties: w.parties.map((p) => p.partyId),
    publicKey: w.publicKey,
    chainCode: toHex(chainCodeFor(w.transcriptHash, fromHex(w.publicKey, 'public key'))),
    transcriptHash: w.transcriptHash,
    createdAt: w.createdAt.toISOString(),
  };
}

/** A broadcast from `from`, checked (ceremony, round, type, signature) and parsed. */
export function openSigned<T>(
  env: Envelope,
  ctx: { tenant: string; ceremonyId: string },
  round: string,
  type: string,
  from: PeerEntry,
): T {
  const body = openEnvelope(
    env,
    { tenant: ctx.tenant, ceremonyId: ctx.ceremonyId, round, type, from: from.partyId, to: '*' },
    fromHex(from.identityPublic, 'identity key'),
  );
  return JSON.parse(new TextDecoder().decode(body)) as T;
}

function envelopeFrom(envelopes: Envelope[], party: PeerEntry, what: string): Envelope {
  const env = envelopes.find((e) => e.from === party.partyId);
  if (!env) throw new CulpritError('BAD_INPUT', party.partyId, `no ${what} from ${party.partyId}`);
  return env;
}

/**
 * Signers the caller did not name: a uniformly random t-subset, so the work of signing spreads
 * over all parties. Runs in an activity, so the choice is recorded and replays identically.
 */
export function pickSigners(members: string[], threshold: number): string[] {
  const pool = [...members];
  for (let i = pool.length - 1; i > 0; i--) {
    const j = randomInt(i + 1);
    [pool[i], pool[j]] = [pool[j]!, pool[i]!];
  }
  return pool.slice(0, threshold);
}

export async function openCoordinatorStore(): Promise<CoordinatorStore> {
  const store = new CoordinatorStore(await openDb(loadConfig().coordinatorDb));
  await store.ensureIndexes();
  return store;
}

export function createCoordinatorActivities(
  openStore: () => Promise<CoordinatorStore> = openCoordinatorStore,
) {
  // Opened on first use and again after a failure: a database that is down when the worker
  // starts (or goes down later) makes activities retry, not the worker crash.
  let store: Promise<CoordinatorStore> | undefined;
  const getStore = () => {
    if (!store) {
      store = openStore();
      store.catch(() => (store = undefined));
    }
    return store;
  };
  // Wallet records are written once and never change: read each from the database once.
  const wallets = new ImmutableMemo<WalletDoc>();
  const findWallet = async (store: CoordinatorStore, tenant: string, walletId: string) => {
    const id = walletDocId(tenant, walletId);
    const w = await wallets.get(id, () => store.wallets.findOne({ _id: id }));
    return w && w.tenant === tenant ? w : null;
  };
  return withFailures({
    async validateKeygen(req: KeygenRequest): Promise<void> {
      validateKeygenRequest(req);
      const store = await getStore();
      const existing = await store.wallets.findOne({ _id: walletDocId(req.tenant, req.walletId) });
      if (existing)
        throw new ConclaveError('BAD_INPUT', `wallet ${req.walletId} already exists in tenant ${req.tenant}`);
    },

    async planKeygen(
      req: KeygenRequest,
      ceremonyId: string,
      keyId: string,
      infos: PartyInfo[],
    ): Promise<KeygenContext> {
      validateKeygenRequest(req);
      const scheme = resolveScheme(req.curve, req.scheme);
      const roster: PeerEntry[] = req.parties.map((partyId, i) => {
        const info = infos.find((p) => p.partyId === partyId);
        if (!info) throw new ConclaveError('UNKNOWN_PARTY', `party ${partyId} did not answer`);
        return {
          partyId,
          identifier: identifierFor(scheme, i + 1),
          identityPublic: info.identityPublic,
          transportPublic: info.transportPublic,
        };
      });
      return {
        tenant: req.tenant,
        ceremonyId,
        walletId: req.walletId,
        keyId,
        version: 1,
        scheme: scheme.name,
        threshold: req.threshold,
        roster,
      };
    },

    /** Accepts only if every party signed the same public key and transcript hash. */
    async confirmKeygen(ctx: KeygenContext, results: Envelope[]): Promise<KeygenResultBody> {
      const bodies = ctx.roster.map((p) => ({
        party: p.partyId,
        body: openSigned<KeygenResultBody>(
          envelopeFrom(results, p, 'key generation result'),
          ctx,
          'dkg-3',
          'dkg-result',
          p,
        ),
      }));
      const params = keygenParams(ctx);
      const votes = new Map<string, string[]>();
      for (const { party, body } of bodies) {
        const k = body.params === params ? `${body.publicKey}|${body.transcriptHash}` : 'wrong-params';
        votes.set(k, [...(votes.get(k) ?? []), party]);
      }
      const ranked = [...votes.entries()].sort((a, b) => b[1].length - a[1].length);
      if (ranked.length !== 1 || ranked[0]![0] === 'wrong-params') {
        const dissent = ranked.slice(1).flatMap(([, parties]) => parties);
        const culprits = dissent.length ? dissent : ranked[0]![1];
        throw new CulpritError(
          'DISAGREEMENT',
          culprits.join(','),
          'parties disagree on the group key or transcript',
        );
      }
      return bodies[0]!.body;
    },

    async saveWallet(ctx: KeygenContext, confirmed: KeygenResultBody): Promise<KeygenResult> {
      const store = await getStore();
      const doc: WalletDoc = {
        _id: walletDocId(ctx.tenant, ctx.walletId),
        tenant: ctx.tenant,
        walletId: ctx.walletId,
        keyId: ctx.keyId,
        version: ctx.version,
        curve: getScheme(ctx.scheme).curve,
        scheme: ctx.scheme,
        threshold: ctx.threshold,
        parties: ctx.roster,
        publicKey: confirmed.publicKey,
        publicPackage: confirmed.public,
        transcriptHash: confirmed.transcriptHash,
        status: 'active',
        createdAt: new Date(),
      };
      const stored = await PartyStore.insertOrGet(store.wallets, doc);
      if (stored.keyId !== ctx.keyId) {
        throw new ConclaveError('BAD_INPUT', `wallet ${ctx.walletId} already exists in tenant ${ctx.tenant}`);
      }
      return {
        walletId: stored.walletId,
        keyId: stored.keyId,
        curve: stored.curve,
        scheme: stored.scheme,
        publicKey: stored.publicKey,
        threshold: stored.threshold,
        parties: stored.parties.map((p) => p.partyId),
        transcriptHash: stored.transcriptHash,
      };
    },

    async getWallet(tenant: string, walletId: string): Promise<WalletInfo> {
      assertId('tenant', tenant);
      assertId('wallet id', walletId);
      const store = await getStore();
      const w = await findWallet(store, tenant, walletId);
      if (!w) throw new ConclaveError('UNKNOWN_WALLET', `unknown wallet ${walletId} in tenant ${tenant}`);
      return toWalletInfo(w);
    },

    async planSign(req: SignRequest, ceremonyId: string): Promise<SignContext> {
      validateSignRequest(req);
      const store = await getStore();
      const w = await findWallet(store, req.tenant, req.walletId);
      if (!w)
        throw new ConclaveError('UNKNOWN_WALLET', `unknown wallet ${req.walletId} in tenant ${req.tenant}`);
      const members = w.parties.map((p) => p.partyId);
      let signers = req.signers ?? pickSigners(members, w.threshold);
      if (new Set(signers).size !== signers.length)
        throw new ConclaveError('BAD_INPUT', 'signer list has duplicates');
      for (const s of signers) {
        if (!members.includes(s))
          throw new ConclaveError('BAD_INPUT', `${s} is not a party of wallet ${req.walletId}`);
      }
      if (signers.length < w.threshold) {
        throw new ConclaveError(
          'BAD_INPUT',
          `wallet ${req.walletId} needs ${w.threshold} signers, ${signers.length} named`,
        );
      }
      signers = members.filter((m) => signers.includes(m));
      const key = canonicalKeyRequest(getScheme(w.scheme), req);
      return {
        tenant: req.tenant,
        ceremonyId,
        walletId: w.walletId,
        keyId: w.keyId,
        version: w.version,
        message: req.message.toLowerCase(),
        signers,
        ...key,
      };
    },

    /** Checks each signature share (naming a bad signer), aggregates, and verifies the result. */
    async aggregateSignature(
      ctx: SignContext,
      commitments: Envelope[],
      shares: Envelope[],
    ): Promise<SignResult> {
      const store = await getStore();
      const w = await findWallet(store, ctx.tenant, ctx.walletId);
      if (!w)
        throw new ConclaveError('UNKNOWN_WALLET', `unknown wallet ${ctx.walletId} in tenant ${ctx.tenant}`);
      const scheme = getScheme(w.scheme);
      const request = signRequestHash(ctx);
      const signers = w.parties.filter((p) => ctx.signers.includes(p.partyId));
      const list = signers.map((p) => {
        const body = openSigned<{
          request: string;
          commitments: { identifier: string; hiding: string; binding: string };
        }>(envelopeFrom(commitments, p, 'commitments'), ctx, 'sign-1', 'sign-commitments', p);
        if (body.request !== request || body.commitments.identifier !== p.identifier) {
          throw new CulpritError('DISAGREEMENT', p.partyId, `${p.partyId} committed to another request`);
        }
        return body.commitments;
      });
      const sigShares: Record<string, string> = {};
      for (const p of signers) {
        const body = openSigned<SignShareBody>(
          envelopeFrom(shares, p, 'signature share'),
          ctx,
          'sign-2',
          'sign-share',
          p,
        );
        if (body.request !== request)
          throw new CulpritError('DISAGREEMENT', p.partyId, `${p.partyId} signed another request`);
        sigShares[p.identifier] = body.share;
      }
      const key = signingKeyFor(scheme, w.publicKey, w.transcriptHash, ctx);
      let signature: string;
      try {
        signature = aggregateShares(
          scheme,
          tweakPublicPackage(scheme, w.publicPackage, key.tweak),
          list,
          fromHex(ctx.message, 'message'),
          sigShares,
        );
      } catch (err) {
        if (err instanceof CulpritError) {
          const party = signers.find((p) => p.identifier === err.culprit);
          if (party) throw new CulpritError(err.code, party.partyId, 'signature share does not verify');
        }
        throw err;
      }
      return {
        status: 'signed',
        walletId: w.walletId,
        keyId: w.keyId,
        publicKey: key.verifyingKey,
        path: key.path,
        ...(key.merkleRoot === undefined ? {} : { merkleRoot: key.merkleRoot }),
        message: ctx.message,
        signature,
        scheme: w.scheme,
        signers: ctx.signers,
      };
    },
  });
}

export type CoordinatorActivities = ReturnType<typeof createCoordinatorActivities>;
