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

const hx = (s: string) => fromHex(s, 'test');

/** Segwit decode with @scure/base: hrp, witness version, program. */
function decodeSegwit(addr: string) {
  const { prefix, words } = bech32m.decode(addr as `${string}1${string}`);
  return { prefix, version: words[0], program: bech32m.fromWords(words.slice(1)) };
}

// bitcoin/bips bip-0350.mediawiki, "Test vectors for v0-v16 native segregated witness addresses":
// the valid addresses that are P2TR (witness v1, 32-byte program), with their scriptPubKeys (5120 || key).
const BIP350_P2TR: Array<[string, BitcoinNetwork, string]> = [
  [
    'tb1pqqqqp399et2xygdj5xreqhjjvcmzhxw4aywxecjdzew6hylgvsesf3hn0c',
    'testnet',
    '5120000000c4a5cad46221b2a187905e5266362b99d5e91c6ce24d165dab93e86433',
  ],
  [
    'bc1p0xlxvlhemja6c4dqv22uapctqupfhlxm9h8z3k2e72q4k9hcz7vqzk5jj0',
    'mainnet',
    '512079be667ef9dcbbac55a06295ce870b07029bfcdb2dce28d959f2815b16f81798',
  ],
];

// bitcoin/bips bip-0341/wallet-test-vectors.json, scriptPubKey[0]: tweakedPubkey -> bip350Address.
const BIP341_KEY = '53a1f6e454df1aa2776a2814a721372d6258050de330b3c6d10ee8f4e0dda343';
const BIP341_ADDR = 'bc1p2wsldez5mud2yam29q22wgfh9439spgduvct83k3pm50fcxa5dps59h4z5';

describe('p2trAddress', () => {
  it.each(BIP350_P2TR)('BIP350 vector %s', (addr, network, spk) => {
    expect(spk.slice(0, 4)).toBe('5120');
    const key = hx(spk.slice(4));
    expect(p2trAddress(key, network)).toBe(addr);
    const d = decodeSegwit(addr);
    expect(d.version).toBe(1);
    expect(toHex(d.program)).toBe(spk.slice(4));
  });

  it('BIP341 wallet vector address', () => {
    expect(p2trAddress(hx(BIP341_KEY), 'mainnet')).toBe(BIP341_ADDR);
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
    // bitcoin/bips bip-0340/test-vectors.csv #5: x not on the curve (an unspendable output).
    expectCode(
      () => p2trAddress(hx('eefdea4cdb677750a420fee807eacf21eb9898ae79b9768766e4faa04a2d4a34'), 'mainnet'),
      'BAD_INPUT',
    );
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

  it('SPL Token program id (kinecosystem/agora-common solana/token/program.go)', () => {
    const bytes = Uint8Array.from([
      6, 221, 246, 225, 215, 101, 161, 147, 217, 203, 225, 70, 206, 235, 121, 172, 28, 180, 133, 237, 95, 91,
      55, 145, 58, 140, 245, 133, 126, 255, 0, 169,
    ]);
    expect(solanaAddress(bytes, 'mainnet-beta')).toBe('TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA');
    expect(toHex(base58.decode('TokenkegQfeZyiNwAJbNbGKPFXCWuBvf9Ss623VQ5DA'))).toBe(toHex(bytes));
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

  it('BIP173 P2WPKH vectors', () => {
    expect(p2wpkhAddress(g, 'mainnet')).toBe('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4');
    expect(p2wpkhAddress(g, 'testnet')).toBe('tb1qw508d6qejxtdg4y5r3zarvary0c5xw7kxpjzsx');
  });

  it("P2PKH of private key 1, and the test networks' version byte", () => {
    expect(p2pkhAddress(g, 'mainnet')).toBe('1BgGZ9tcN4rm9KBzDn7KprQz87SZ26SAMH');
    // the same 20-byte hash as the BIP173 program, under version 0x6f
    const program = toHex(
      bech32.fromWords(bech32.decode('bc1qw508d6qejxtdg4y5r3zarvary0c5xw7kv8f3t4').words.slice(1)),
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
