import { randomBytes } from 'node:crypto';
import { base58, bech32, bech32m } from '@scure/base';
import { describe, expect, it } from 'vitest';
import { fromHex, toHex } from '../../src/crypto/encoding.js';
import {
  isBitcoinNetwork,
  isSolanaNetwork,
  p2pkhAddress,
  p2trAddress,
  p2wpkhAddress,
  solanaAddress,
  type BitcoinNetwork,
  type SolanaNetwork,
} from '../../src/crypto/addresses.js';
import { expectCode } from './expect-errors.js';
import { readVectors, titled } from './vectors.js';

const hx = (s: string) => fromHex(s, 'test');

/** Segwit decode with @scure/base: hrp, witness version, program. */
function decodeSegwit(addr: string) {
  const { prefix, words } = bech32m.decode(addr as `${string}1${string}`);
  return { prefix, version: words[0], program: bech32m.fromWords(words.slice(1)) };
}

interface Addresses {
  source: Record<'bip350P2tr' | 'bip173P2wpkh' | 'solana', string>;
  bip350P2tr: Array<{ address: string; network: BitcoinNetwork; scriptPubKey: string }>;
  bip173P2wpkh: Array<{ publicKey: string; network: BitcoinNetwork; address: string }>;
  solana: Array<{ name: string; publicKey: number[]; address: string }>;
}
interface Bip341 {
  scriptPubKey: Array<{ intermediary: { tweakedPubkey: string } }>;
}

const VECTORS = readVectors<Addresses>('addresses.json');
// bitcoin/bips bip-0341/wallet-test-vectors.json, scriptPubKey[0].intermediary.tweakedPubkey: a valid
// x-only key (its address is checked with the other BIP341 vectors in crypto-taproot.test.ts).
const BIP341_KEY = readVectors<Bip341>('bip341.json').scriptPubKey[0]!.intermediary.tweakedPubkey;

describe('p2trAddress', () => {
  it.each(titled(VECTORS.bip350P2tr, (c) => c.address))('BIP350 vector %s', (_title, c) => {
    const { address: addr, network, scriptPubKey: spk } = c;
    expect(spk.slice(0, 4)).toBe('5120');
    const key = hx(spk.slice(4));
    expect(p2trAddress(key, network)).toBe(addr);
    const d = decodeSegwit(addr);
    expect(d.version).toBe(1);
    expect(toHex(d.program)).toBe(spk.slice(4));
  });

  it('uses bc / tb / tb / bcrt and round-trips through bech32m', () => {
    const key = hx(BIP341_KEY);
    const hrps: Record<BitcoinNetwork, string> = {
      mainnet: 'bc',
      testnet: 'tb',
      signet: 'tb',
      regtest: 'bcrt',
    };
    for (const [network, hrp] of Object.entries(hrps) as Array<[BitcoinNetwork, string]>) {
      const addr = p2trAddress(key, network);
      expect(addr.startsWith(`${hrp}1p`)).toBe(true);
      const d = decodeSegwit(addr);
      expect(d.prefix).toBe(hrp);
      expect(d.version).toBe(1);
      expect(d.program).toHaveLength(32);
      expect(toHex(d.program)).toBe(BIP341_KEY);
      // Bech32m, not BIP173 bech32: the old checksum must not validate.
      expect(() => bech32.decode(addr as `${string}1${string}`)).toThrow();
    }
    expect(p2trAddress(key, 'signet')).toBe(p2trAddress(key, 'testnet'));
    expect(p2trAddress(key, 'regtest')).not.toBe(p2trAddress(key, 'testnet'));
  });

  it('rejects bad keys and unknown networks', () => {
    const key = hx(BIP341_KEY);
    expectCode(() => p2trAddress(key.slice(1), 'mainnet'), 'BAD_INPUT', /32 bytes/);
    expectCode(() => p2trAddress(Uint8Array.of(2, ...key), 'mainnet'), 'BAD_INPUT', /32 bytes/);
    // x-only keys that are not points: the BIP340 vectors in crypto-taproot.test.ts.
    for (const n of ['bitcoin', 'Mainnet', 'testnet4x', '', '__proto__', 'toString']) {
      expectCode(() => p2trAddress(key, n as BitcoinNetwork), 'BAD_INPUT', /network/);
    }
  });

  it('isBitcoinNetwork', () => {
    for (const n of ['mainnet', 'testnet', 'signet', 'regtest']) expect(isBitcoinNetwork(n)).toBe(true);
    for (const n of ['bc', 'mainnet-beta', 'devnet', '', '__proto__', 'hasOwnProperty']) {
      expect(isBitcoinNetwork(n)).toBe(false);
    }
  });
});

describe('solanaAddress', () => {
  const networks: SolanaNetwork[] = ['mainnet-beta', 'devnet', 'testnet'];

  it('System Program id is 32 zero bytes', () => {
    for (const n of networks)
      expect(solanaAddress(new Uint8Array(32), n)).toBe('11111111111111111111111111111111');
  });

  it.each(titled(VECTORS.solana, (c) => `${c.name} (${VECTORS.source.solana})`))('%s', (_title, c) => {
    const bytes = Uint8Array.from(c.publicKey);
    expect(solanaAddress(bytes, 'mainnet-beta')).toBe(c.address);
    expect(toHex(base58.decode(c.address))).toBe(toHex(bytes));
  });

  it('a random key round-trips and is the same on every cluster', () => {
    const key = new Uint8Array(randomBytes(32));
    const addrs = networks.map((n) => solanaAddress(key, n));
    expect(new Set(addrs).size).toBe(1);
    expect(toHex(base58.decode(addrs[0]!))).toBe(toHex(key));
  });

  it('rejects bad lengths and unknown networks', () => {
    expectCode(() => solanaAddress(new Uint8Array(31), 'devnet'), 'BAD_INPUT', /32 bytes/);
    expectCode(() => solanaAddress(new Uint8Array(33), 'devnet'), 'BAD_INPUT', /32 bytes/);
    for (const n of ['mainnet', 'localnet', '', '__proto__']) {
      expectCode(() => solanaAddress(new Uint8Array(32), n as SolanaNetwork), 'BAD_INPUT', /network/);
    }
  });

  it('isSolanaNetwork', () => {
    for (const n of networks) expect(isSolanaNetwork(n)).toBe(true);
    for (const n of ['mainnet', 'regtest', '', 'constructor']) expect(isSolanaNetwork(n)).toBe(false);
  });
});

describe('P2PKH and P2WPKH (ECDSA keys)', () => {
  // The generator G (private key 1), compressed: BIP173's P2WPKH example key
  const g = hx('0279be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798');

  it.each(titled(VECTORS.bip173P2wpkh, (c) => c.address))('BIP173 P2WPKH vector %s', (_title, c) => {
    expect(p2wpkhAddress(hx(c.publicKey), c.network)).toBe(c.address);
  });

  it("P2PKH of private key 1, and the test networks' version byte", () => {
    expect(p2pkhAddress(g, 'mainnet')).toBe('1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH');
    // the same 20-byte hash as the BIP173 program, under version 0x6f
    const bip173 = VECTORS.bip173P2wpkh.find((c) => c.publicKey === toHex(g) && c.network === 'mainnet')!;
    const program = toHex(
      bech32.fromWords(bech32.decode(bip173.address as `${string}1${string}`).words.slice(1)),
    );
    for (const n of ['testnet', 'signet', 'regtest'] as const) {
      const raw = base58.decode(p2pkhAddress(g, n));
      expect(raw[0]).toBe(0x6f);
      expect(toHex(raw.subarray(1, 21))).toBe(program);
      expect(p2pkhAddress(g, n)).toMatch(/^[mn]/);
    }
    expect(p2wpkhAddress(g, 'regtest')).toMatch(/^bcrt1q/);
  });

  it('rejects uncompressed, x-only and malformed keys, and unknown networks', () => {
    const uncompressed = hx(
      '0479be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798483ada7726a3c4655da4fbfc0e1108a8fd17b448a68554199c47d08ffb10d4b8',
    );
    for (const f of [p2pkhAddress, p2wpkhAddress]) {
      expectCode(() => f(uncompressed, 'mainnet'), 'BAD_INPUT', /33-byte/);
      expectCode(() => f(g.subarray(1), 'mainnet'), 'BAD_INPUT', /33-byte/);
      expectCode(
        () => f(Uint8Array.of(5, ...g.subarray(1)), 'mainnet'),
        'BAD_INPUT',
        /not a secp256k1 point/,
      );
      expectCode(() => f(g, 'bitcoin' as BitcoinNetwork), 'BAD_INPUT', /network/);
    }
  });
});
