/**
 * Threshold ECDSA (DKLs23) on the real stack: key generation with the pairwise OT setup on every
 * party, signatures checked by OpenSSL and libsecp256k1 and by public-key recovery, Ethereum
 * addresses and transactions, HD paths, the presignature spent once, and the share-changing
 * ceremonies giving the new version a fresh pair setup.
 */
import { createHash } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { secp256k1 } from '@noble/curves/secp256k1.js';
import { keccak_256 } from '@noble/hashes/sha3.js';
import { base58, bech32 } from '@scure/base';
import * as libsecp from 'tiny-secp256k1';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openShareSecret } from '../../src/party/runtime.js';
import { ConclaveClient } from '../../src/client/index.js';
import { partyKekEnvName } from '../../src/config.js';
import { eip1559TransactionHash, eip191MessageHash, recoverAddress } from '../../src/crypto/ethereum.js';
import { openPartyRuntime, type PartyRuntime } from '../../src/party/runtime.js';
import { devPartyKek } from '../../src/stack/dev.js';
import { closeAllDbs } from '../../src/store/mongo.js';
import { recoverEcdsaLibsecp, verifyEcdsaLibsecp, verifyEcdsaOpenSsl } from '../independent-verify.js';
import { conclave, json, partyStore, stackEnv } from './helpers.js';

let client: ConclaveClient;
const runtimes = new Map<string, PartyRuntime>();

beforeAll(async () => {
  client = await ConclaveClient.connect({ env: stackEnv() });
});
afterAll(async () => {
  await client?.close();
  await closeAllDbs();
});

const sha256 = (data: Uint8Array) => new Uint8Array(createHash('sha256').update(data).digest());
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

/** The Ethereum address of a key, computed here from libsecp256k1's uncompressed point and keccak. */
function addressOf(compressedKeyHex: string): string {
  const full = libsecp.pointCompress(Buffer.from(compressedKeyHex, 'hex'), false);
  return `0x${hex(keccak_256(full.subarray(1)).subarray(12))}`;
}

/** Every independent check of one signature over sha256(data). */
function expectVerifies(
  r: { signature: string; publicKey: string; ecdsa?: { recoveryId: number } },
  data: Uint8Array,
) {
  const hash = sha256(data);
  expect(r.signature).toMatch(/^[0-9a-f]{128}$/);
  expect(verifyEcdsaOpenSsl(r.signature, data, r.publicKey)).toBe(true);
  expect(verifyEcdsaLibsecp(r.signature, hash, r.publicKey)).toBe(true);
  expect(recoverEcdsaLibsecp(r.signature, hash, r.ecdsa!.recoveryId)).toBe(r.publicKey);
  // low S: s <= n/2
  expect(BigInt(`0x${r.signature.slice(64)}`) <= secp256k1.Point.Fn.ORDER >> 1n).toBe(true);
  // and the verifiers do check: another message fails
  const other = new Uint8Array(data);
  other[0] = other[0]! ^ 1;
  expect(verifyEcdsaOpenSsl(r.signature, other, r.publicKey)).toBe(false);
}

async function runtimeOf(partyId: string): Promise<PartyRuntime> {
  let rt = runtimes.get(partyId);
  if (!rt) {
    const env = stackEnv();
    rt = await openPartyRuntime(partyId, {
      ...env,
      [partyKekEnvName(partyId)]: devPartyKek(env, partyId),
      CONCLAVE_REQUIRE_GATE: '0', // as the dev stack's workers
    });
    runtimes.set(partyId, rt);
  }
  return rt;
}

/** Tests only: the key from t shares by Lagrange interpolation, as a compressed public key. */
async function reconstructedKey(walletId: string, parties: string[]): Promise<string> {
  const Fn = secp256k1.Point.Fn;
  const shares: { x: bigint; y: bigint }[] = [];
  for (const p of parties) {
    const rt = await runtimeOf(p);
    const share = (await rt.store.shares.findOne({ walletId }, { sort: { version: -1 } }))!;
    shares.push({ x: BigInt(`0x${share.identifier}`), y: BigInt(`0x${openShareSecret(rt, share)}`) });
  }
  let secret = 0n;
  for (const i of shares) {
    let l = 1n;
    for (const j of shares) if (j !== i) l = Fn.mul(l, Fn.mul(j.x, Fn.inv(Fn.sub(j.x, i.x))));
    secret = Fn.add(secret, Fn.mul(l, i.y));
  }
  return hex(secp256k1.Point.BASE.multiply(secret).toBytes(true));
}

describe('threshold ECDSA 2-of-3', () => {
  let walletId: string;
  let publicKey: string;

  it('generates a key whose parties each hold sealed pair setups with every other party', async () => {
    const r = await client.createWallet({
      curve: 'secp256k1',
      scheme: 'dkls23-secp256k1',
      threshold: 2,
      parties: 3,
    });
    walletId = r.walletId;
    publicKey = r.publicKey;
    expect(r).toMatchObject({ scheme: 'dkls23-secp256k1', curve: 'secp256k1', threshold: 2 });
    expect(publicKey).toMatch(/^0[23][0-9a-f]{64}$/);
    for (const p of r.parties) {
      const store = await partyStore(p);
      const setup = await store.pairSetups.findOne({ keyId: r.keyId, version: 1 });
      expect(setup?.parties).toEqual(r.parties);
      expect(setup?.abortedPeers ?? []).toEqual([]);
      // the setups themselves are sealed, in a document of their own: no seed or setup in the clear
      expect(JSON.stringify(setup)).not.toMatch(/zeroSeed|mulSender|delta|sealed/);
      const secret = await store.pairSetupSecrets.findOne({ keyId: r.keyId, version: 1 });
      expect(secret?.setupId).toBe(setup?.setupId);
      expect(secret?.sealed).toBeTruthy();
      expect(JSON.stringify(secret)).not.toMatch(/zeroSeed|mulSender|delta/);
      expect(await store.pairSetupSecrets.countDocuments({ keyId: r.keyId })).toBe(1);
      expect(await store.pendingPairSetups.countDocuments({ keyId: r.keyId })).toBe(0);
    }
  });

  it('signs; OpenSSL and libsecp256k1 verify, and recovery gives the wallet key', async () => {
    for (const signers of [
      ['p1', 'p2'],
      ['p2', 'p3'],
      ['p1', 'p3'],
    ]) {
      const data = new TextEncoder().encode(`pay 0.1 ETH to bob, signed by ${signers.join('+')}`);
      const r = await client.sign({ walletId, message: hex(sha256(data)), signers });
      expect(r.publicKey).toBe(publicKey);
      expect(r.signers).toEqual(signers);
      expectVerifies(r, data);
      expect(r.ecdsa!.der).toBe(
        hex(secp256k1.Signature.fromBytes(Buffer.from(r.signature, 'hex'), 'compact').toBytes('der')),
      );
    }
  });

  it('the key rebuilt from two shares is the group key (and from one share it is not)', async () => {
    expect(await reconstructedKey(walletId, ['p1', 'p3'])).toBe(publicKey);
    expect(await reconstructedKey(walletId, ['p2', 'p3'])).toBe(publicKey);
  });

  it('gives the legacy P2PKH and the P2WPKH address on Bitcoin, and signs a legacy sighash for that key', async () => {
    const addr = await conclave(['address', '--wallet', walletId, '--network', 'mainnet', '--json']);
    expect(addr.code, addr.stderr).toBe(0);
    const a = json(addr) as { address: string; segwitAddress: string; network: string };
    expect(a.network).toBe('mainnet');
    // HASH160 of the compressed key, computed here with OpenSSL, under both encodings
    const hash160 = createHash('ripemd160')
      .update(sha256(Buffer.from(publicKey, 'hex')))
      .digest();
    const p2pkh = base58.decode(a.address);
    expect(hex(p2pkh.subarray(0, 21))).toBe(`00${hex(hash160)}`);
    expect(hex(p2pkh.subarray(21))).toBe(hex(sha256(sha256(p2pkh.subarray(0, 21))).subarray(0, 4)));
    const { prefix, words } = bech32.decode(a.segwitAddress as `${string}1${string}`);
    expect([prefix, words[0]]).toEqual(['bc', 0]);
    expect(hex(bech32.fromWords(words.slice(1)))).toBe(hex(hash160));
    const test = json(
      await conclave(['address', '--wallet', walletId, '--network', 'testnet', '--json']),
    ) as {
      address: string;
    };
    expect(base58.decode(test.address)[0]).toBe(0x6f);
    const bad = await conclave(['address', '--wallet', walletId, '--network', 'dogecoin']);
    expect(bad.code).not.toBe(0);
    expect(bad.stderr).toMatch(/unknown network "dogecoin"/);

    // a legacy (pre-segwit) input signs the double SHA-256 of its sighash preimage
    const sighash = sha256(sha256(new TextEncoder().encode('legacy sighash preimage')));
    const r = await client.sign({ walletId, message: hex(sighash) });
    expect(verifyEcdsaLibsecp(r.signature, sighash, publicKey)).toBe(true);
    expect(recoverEcdsaLibsecp(r.signature, sighash, r.ecdsa!.recoveryId)).toBe(publicKey);
  });

  it('gives the EIP-55 address, and EIP-191 and EIP-1559 signatures recover to it', async () => {
    const addr = await conclave(['address', '--wallet', walletId, '--json']);
    expect(addr.code, addr.stderr).toBe(0);
    const a = json(addr) as { address: string; network: string };
    expect(a.address.toLowerCase()).toBe(addressOf(publicKey));
    expect(a.address).not.toBe(a.address.toLowerCase()); // checksummed
    expect(a.network).toBe('ethereum');

    const text = 'I own this wallet';
    const signed = await conclave(['sign', '--wallet', walletId, '--eip191', text, '--json']);
    expect(signed.code, signed.stderr).toBe(0);
    const s = json(signed) as {
      signature: string;
      eip191Signature: string;
      address: string;
      ecdsa: { recoveryId: number };
    };
    expect(s.address).toBe(a.address);
    expect(s.eip191Signature).toMatch(/^0x[0-9a-f]{128}(1b|1c)$/);
    const hash = eip191MessageHash(text);
    expect(recoverEcdsaLibsecp(s.signature, hash, s.ecdsa.recoveryId)).toBe(publicKey);
    expect(
      recoverAddress(hash, {
        r: s.signature.slice(0, 64),
        s: s.signature.slice(64),
        recovery: s.ecdsa.recoveryId,
      }),
    ).toBe(a.address);

    const tx = {
      chainId: 1,
      nonce: 7,
      maxPriorityFeePerGas: '1000000000',
      maxFeePerGas: '2000000000',
      gasLimit: 21000,
      to: '0x5aAeb6053F3E94C9b9A09f33669435E7Ef1BeAed',
      value: '10000000000000000',
    };
    const file = join(tmpdir(), `eip1559-${Date.now()}.json`);
    writeFileSync(file, JSON.stringify(tx));
    const sent = await conclave(['sign', '--wallet', walletId, '--eip1559', file, '--json']);
    expect(sent.code, sent.stderr).toBe(0);
    const t = json(sent) as {
      signature: string;
      message: string;
      rawTransaction: string;
      ecdsa: { recoveryId: number };
    };
    expect(t.message).toBe(hex(eip1559TransactionHash(tx)));
    expect(t.rawTransaction).toMatch(/^0x02f8/);
    expect(recoverEcdsaLibsecp(t.signature, eip1559TransactionHash(tx), t.ecdsa.recoveryId)).toBe(publicKey);
  });

  it('signs along an HD path under the derived key the client computes alone', async () => {
    const derived = await client.deriveKey({ walletId, path: 'm/44/60/0/0/3' });
    expect(derived.verifyingKey).not.toBe(publicKey);
    const data = new TextEncoder().encode('child key payment');
    const r = await client.sign({ walletId, message: hex(sha256(data)), path: 'm/44/60/0/0/3' });
    expect(r.publicKey).toBe(derived.verifyingKey);
    expect(r.ecdsa!.address).toBe(derived.address);
    expectVerifies(r, data);
  });

  it('refuses a message that is not a 32-byte hash, before any party is asked', async () => {
    await expect(client.sign({ walletId, message: 'abcd' })).rejects.toThrow(
      /signs a 32-byte hash, not a 2-byte message/,
    );
  });

  it('spends a presignature once: each signer has one spend record per ceremony and no round state left', async () => {
    const data = new TextEncoder().encode('spend once');
    const r = await client.sign({
      walletId,
      message: hex(sha256(data)),
      signers: ['p1', 'p2'],
      requestId: `ecdsa-once-${Date.now()}`,
    });
    expectVerifies(r, data);
    for (const p of ['p1', 'p2']) {
      const store = await partyStore(p);
      const spends = await store.nonceSpends
        .find({ keyId: (await client.getWallet({ walletId })).keyId })
        .toArray();
      expect(spends.length).toBeGreaterThanOrEqual(1);
      const rounds = await store.rounds
        .find({ step: { $in: ['ecdsa-1', 'ecdsa-2'] }, sealedState: { $exists: true } })
        .toArray();
      expect(rounds.filter((d) => spends.some((s) => s.ceremonyId === d.ceremonyId))).toEqual([]);
    }
  });

  it('rotates to fresh shares with a fresh pair setup, and signs after', async () => {
    const before = await partyStore('p1');
    const wallet = await client.getWallet({ walletId });
    const old = await before.pairSetups.findOne({ keyId: wallet.keyId, version: wallet.version });
    const rot = await client.rotate({ walletId });
    expect(rot.publicKey).toBe(publicKey);
    for (const p of ['p1', 'p2', 'p3']) {
      const fresh = await (
        await partyStore(p)
      ).pairSetups.findOne({ keyId: wallet.keyId, version: rot.version });
      expect(fresh?.setupId).toBeTruthy();
      expect(fresh?.setupId).not.toBe(old?.setupId);
      // the retired version's setups went with its shares
      const secrets = (await partyStore(p)).pairSetupSecrets;
      expect(await secrets.countDocuments({ keyId: wallet.keyId, version: wallet.version })).toBe(0);
      expect(await secrets.countDocuments({ keyId: wallet.keyId, version: rot.version })).toBe(1);
    }
    const data = new TextEncoder().encode('after rotation');
    const r = await client.sign({ walletId, message: hex(sha256(data)), signers: ['p1', 'p3'] });
    expectVerifies(r, data);
    expect(await reconstructedKey(walletId, ['p1', 'p2'])).toBe(publicKey);
  });
});
