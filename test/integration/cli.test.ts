/** The `conclave` command as a user runs it: real processes, real stack, JSON output, exit codes. */
import { mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { bech32m } from '@scure/base';
import { describe, expect, it } from 'vitest';
import { projectRoot } from '../../src/stack/paths.js';
import { isAlive } from '../../src/stack/processes.js';
import { verifyBip340 } from '../independent-verify.js';
import { conclave, json, opensslVerifyEd25519 } from './helpers.js';

describe('conclave CLI', () => {
  it('keygen and sign print the documented JSON, and the signature verifies', async () => {
    const k = await conclave([
      'keygen',
      '--curve',
      'ed25519',
      '--threshold',
      '2',
      '--parties',
      '3',
      '--json',
    ]);
    expect(k.code).toBe(0);
    const wallet = json(k);
    expect(Object.keys(wallet).sort()).toEqual([
      'curve',
      'keyId',
      'parties',
      'publicKey',
      'scheme',
      'threshold',
      'walletId',
    ]);
    expect(wallet).toMatchObject({
      curve: 'ed25519',
      scheme: 'frost-ed25519',
      threshold: 2,
      parties: ['p1', 'p2', 'p3'],
    });
    const s = await conclave(['sign', '--wallet', String(wallet.walletId), '--message', 'c0ffee', '--json']);
    expect(s.code).toBe(0);
    const sig = json(s);
    expect(sig).toMatchObject({
      status: 'signed',
      walletId: wallet.walletId,
      publicKey: wallet.publicKey,
      message: 'c0ffee',
      scheme: 'frost-ed25519',
    });
    expect(opensslVerifyEd25519(String(sig.publicKey), 'c0ffee', String(sig.signature))).toBe(true);
    const w = await conclave(['wallet', '--wallet', String(wallet.walletId), '--json']);
    expect(json(w)).toMatchObject({ walletId: wallet.walletId, publicKey: wallet.publicKey });
  });

  it('a Taproot wallet: keygen, address along a path, and a BIP340 signature libsecp256k1 accepts', async () => {
    const k = await conclave([
      'keygen',
      '--curve',
      'secp256k1',
      '--scheme',
      'frost-taproot',
      '--threshold',
      '2',
      '--parties',
      '3',
      '--json',
    ]);
    expect(k.code).toBe(0);
    const wallet = json(k);
    expect(wallet).toMatchObject({ curve: 'secp256k1', scheme: 'frost-taproot' });
    const a = await conclave([
      'address',
      '--wallet',
      String(wallet.walletId),
      '--path',
      'm/0/7',
      '--network',
      'testnet',
      '--json',
    ]);
    expect(a.code).toBe(0);
    const addr = json(a);
    expect(addr).toMatchObject({ path: 'm/0/7', network: 'testnet', scheme: 'frost-taproot' });
    expect(String(addr.address)).toMatch(/^tb1p[02-9ac-hj-np-z]{58}$/);
    const message = 'ab'.repeat(32);
    const s = await conclave([
      'sign',
      '--wallet',
      String(wallet.walletId),
      '--message',
      message,
      '--path',
      'm/0/7',
      '--json',
    ]);
    expect(s.code).toBe(0);
    const sig = json(s);
    expect(sig).toMatchObject({ path: 'm/0/7', publicKey: addr.verifyingKey, scheme: 'frost-taproot' });
    expect(String(sig.signature)).toMatch(/^[0-9a-f]{128}$/);
    const msg = new Uint8Array(Buffer.from(message, 'hex'));
    expect(verifyBip340(String(sig.signature), msg, String(addr.verifyingKey))).toBe(true);
    // the address (bech32m of the output key) is the key the signature verifies under
    expect(
      Buffer.from(
        bech32m.fromWords(bech32m.decode(String(addr.address) as `${string}1${string}`).words.slice(1)),
      ).toString('hex'),
    ).toBe(addr.verifyingKey);
  });

  it('rotate and reshare print the new version; the public key stays', async () => {
    const k = json(await conclave(['keygen', '--threshold', '2', '--parties', '3', '--json']));
    const r = await conclave(['rotate', '--wallet', String(k.walletId), '--json']);
    expect(r.code).toBe(0);
    expect(json(r)).toMatchObject({ kind: 'rotation', fromVersion: 1, version: 2, publicKey: k.publicKey });
    const s = await conclave([
      'reshare',
      '--wallet',
      String(k.walletId),
      '--party-ids',
      'p1,p2,p3,p4',
      '--threshold',
      '3',
      '--json',
    ]);
    expect(s.code).toBe(0);
    expect(json(s)).toMatchObject({
      kind: 'reshare',
      version: 3,
      threshold: 3,
      parties: ['p1', 'p2', 'p3', 'p4'],
    });
    const bad = await conclave(['reshare', '--wallet', String(k.walletId), '--threshold', '5']);
    expect(bad.code).toBe(1);
    expect(bad.stderr).toMatch(
      /^conclave: the new threshold 5 is larger than the new committee \(4 parties\)\n$/,
    );
  });

  const bad: Array<[string, string[], RegExp]> = [
    ['unknown wallet', ['sign', '--wallet', 'nope', '--message', 'aa'], /unknown wallet nope/],
    ['malformed hex', ['sign', '--wallet', 'w1', '--message', 'xyz'], /message is not valid hex/],
    [
      't > n',
      ['keygen', '--curve', 'ed25519', '--threshold', '4', '--parties', '3'],
      /threshold 4 is larger than the number of parties 3/,
    ],
    [
      't < 2',
      ['keygen', '--curve', 'ed25519', '--threshold', '1', '--parties', '3'],
      /threshold must be at least 2/,
    ],
    [
      'unknown curve',
      ['keygen', '--curve', 'p256', '--threshold', '2', '--parties', '3'],
      /unknown curve "p256" \(known: ed25519, secp256k1\)/,
    ],
    [
      'secp256k1 without a scheme',
      ['keygen', '--curve', 'secp256k1', '--threshold', '2', '--parties', '3'],
      /curve secp256k1 has several schemes \(frost-secp256k1, frost-taproot, dkls23-secp256k1\): name one/,
    ],
    ['hardened path', ['sign', '--wallet', 'w1', '--message', 'aa', '--path', "m/0'"], /hardened/],
    [
      'non-numeric threshold',
      ['keygen', '--threshold', 'two', '--parties', '3'],
      /--threshold must be a whole number/,
    ],
  ];
  for (const [what, args, message] of bad) {
    it(`${what}: one line on stderr, non-zero exit, no stack trace`, async () => {
      const r = await conclave(args);
      expect(r.code).toBe(1);
      expect(r.stdout).toBe('');
      const lines = r.stderr
        .trim()
        .split('\n')
        .filter((l) => !l.startsWith('npm warn'));
      expect(lines).toHaveLength(1);
      expect(lines[0]).toMatch(message);
      expect(r.stderr).not.toMatch(/\n\s+at /);
    });
  }

  it('bad input with --json prints an error object', async () => {
    const r = await conclave(['sign', '--wallet', 'nope', '--message', 'aa', '--json']);
    expect(r.code).toBe(1);
    expect(json(r)).toMatchObject({ status: 'error', code: 'UNKNOWN_WALLET' });
  });

  it('usage errors exit 2 and show the usage', async () => {
    const r = await conclave(['frobnicate']);
    expect(r.code).toBe(2);
    expect(r.stderr).toMatch(/unknown command "frobnicate"/);
    expect(r.stderr).toMatch(/usage:/);
  });

  it('without a stack it says how to get one', async () => {
    const home = mkdtempSync(join(tmpdir(), 'conclave-none-'));
    try {
      const env = { ...process.env, CONCLAVE_HOME: home, TEMPORAL_ADDRESS: '', MONGODB_URI: '' };
      const r = await conclave(['sign', '--wallet', 'w', '--message', 'aa'], env);
      expect(r.code).toBe(1);
      expect(r.stderr).toMatch(/conclave dev up.*TEMPORAL_ADDRESS/);
    } finally {
      rmSync(home, { recursive: true, force: true });
    }
  });

  it('recover, party show and party pin: the documented JSON and clear refusals', async () => {
    const k = json(
      await conclave(['keygen', '--curve', 'ed25519', '--threshold', '2', '--parties', '3', '--json']),
    );
    const walletId = k.walletId as string;
    const shown = await conclave(['party', 'show', '--party', 'p3', '--json']);
    expect(shown.code).toBe(0);
    const keys = json(shown);
    expect(Object.keys(keys).sort()).toEqual(['identityPublic', 'partyId', 'transportPublic']);
    // pinning the keys p1 already trusts changes nothing; a malformed key is refused
    const pin = [
      'party',
      'pin',
      '--party',
      'p1',
      '--peer',
      'p3',
      '--identity',
      keys.identityPublic as string,
    ];
    const same = await conclave([...pin, '--transport', keys.transportPublic as string, '--json']);
    expect(json(same)).toEqual({ party: 'p1', peer: 'p3', replaced: false });
    const bad = await conclave([...pin, '--transport', 'abcd', '--json']);
    expect(bad.code).toBe(1);
    expect(json(bad)).toMatchObject({ status: 'error', code: 'BAD_INPUT' });

    const few = await conclave([
      'recover',
      '--wallet',
      walletId,
      '--party',
      'p3',
      '--helpers',
      'p1',
      '--json',
    ]);
    expect(few.code).toBe(1);
    expect(json(few)).toMatchObject({ status: 'error', code: 'BAD_INPUT' });
    expect(String(json(few).message)).toMatch(/at least 2 helpers/);

    // p3 did not lose its share here, but a recovery rebuilds it all the same, and proves it signs
    const r = await conclave(['recover', '--wallet', walletId, '--party', 'p3', '--json']);
    expect(r.code, r.stderr).toBe(0);
    const out = json(r) as {
      recovered: string;
      version: number;
      proof: { signers: string[]; signature: string; message: string; publicKey: string };
    };
    expect(out).toMatchObject({ recovered: 'p3', version: 2, publicKey: k.publicKey });
    expect(out.proof.signers).toContain('p3');
    expect(opensslVerifyEd25519(out.proof.publicKey, out.proof.message, out.proof.signature)).toBe(true);
    const text = await conclave(['recover', '--wallet', walletId, '--party', 'p1']);
    expect(text.stdout).toMatch(/^wallet +\S+ \(recovery of p1\)$/m);
    expect(text.stdout).toMatch(/^proof +p1, .* signed a dry-run message; verified under /m);
  });

  it('rules validate and rules test: line-precise errors, decisions with reasons, nothing stored', async () => {
    const ex = (f: string) => join(projectRoot, 'docs', 'examples', f);
    const ok = await conclave(['rules', 'validate', ex('rules.json'), '--json']);
    expect(ok.code).toBe(0);
    expect(json(ok)).toMatchObject({ status: 'valid', version: 1, rules: 4 });

    const dir = mkdtempSync(join(tmpdir(), 'conclave-rules-'));
    const bad = join(dir, 'bad.json');
    const text = readFileSync(ex('rules.json'), 'utf8').replace('"inDenyList"', '"inDenyLst"');
    writeFileSync(bad, text);
    const badLine = text.split('\n').findIndex((l) => l.includes('inDenyLst')) + 1;
    const invalid = await conclave(['rules', 'validate', bad]);
    expect(invalid.code).toBe(1);
    expect(invalid.stdout).toContain(`${bad}:${badLine}:`);
    expect(invalid.stdout).toMatch(/inDenyLst/);

    const decide = async (tx: Record<string, unknown>) => {
      const file = join(dir, `tx-${Math.random().toString(36).slice(2)}.json`);
      const base = JSON.parse(readFileSync(ex('tx.json'), 'utf8')) as Record<string, unknown>;
      writeFileSync(file, JSON.stringify({ ...base, ...tx }));
      const r = await conclave([
        'rules',
        'test',
        ex('rules.json'),
        '--tx',
        file,
        '--config',
        ex('policy-config.json'),
        '--json',
      ]);
      expect(r.code, r.stderr).toBe(0);
      return json(r) as {
        outcome: string;
        approvals: Record<string, number>;
        fired: { rule: string; reason: string }[];
      };
    };
    const large = await decide({});
    expect(large).toMatchObject({ outcome: 'escalate', approvals: { risk: 1, treasury: 1 } });
    expect(large.fired[0]!.reason).toBe('0.25 BTC is worth 16250 USD, over the 10000 USD limit');
    const denied = await decide({
      destination: 'bc1qdeniedaddress0000000000000000000000000',
      amount: '0.01',
    });
    expect(denied.outcome).toBe('block');
    const night = await decide({ amount: '0.01', at: '2026-11-23T23:30:00+01:00' });
    expect(night).toMatchObject({ outcome: 'escalate', approvals: { risk: 1 } });
    expect(night.fired.map((f) => f.rule)).toEqual(['out of hours']);
    const small = await decide({ amount: '0.01' });
    expect(small).toMatchObject({ outcome: 'allow', defaulted: true });
    // an asset with no price cannot be valued: the limit rule fails closed
    const unpriced = await decide({ asset: 'DOGE', amount: '1' });
    expect(unpriced.outcome).toBe('escalate');
    rmSync(dir, { recursive: true, force: true });
  });

  it('dev up / status / down manage a stack of their own', async () => {
    const home = mkdtempSync(join(tmpdir(), 'conclave-dev-'));
    const env = { ...process.env, CONCLAVE_HOME: home };
    try {
      const up = await conclave(['dev', 'up', '--parties', '2', '--json'], env);
      expect(up.code).toBe(0);
      expect(json(up)).toMatchObject({ status: 'up', parties: ['p1', 'p2'] });
      const st = json(await conclave(['dev', 'status', '--json'], env));
      expect(st.running).toBe(true);
      expect((st.processes as Array<{ name: string; alive: boolean }>).map((p) => p.name)).toEqual([
        'temporal',
        'ferretdb',
        'party p1',
        'party p2',
        'coordinator',
      ]);
      const again = await conclave(['dev', 'up', '--json'], env);
      expect(json(again)).toMatchObject({ status: 'error', code: 'STACK' });
      const down = await conclave(['dev', 'down', '--json'], env);
      expect(json(down)).toMatchObject({ status: 'down' });
      const pids = (st.processes as Array<{ pid: number }>).map((p) => p.pid);
      for (const pid of pids) expect(isAlive(pid)).toBe(false);
      expect(json(await conclave(['dev', 'status', '--json'], env))).toMatchObject({ running: false });
    } finally {
      await conclave(['dev', 'down'], env);
      rmSync(home, { recursive: true, force: true });
    }
  });
});
