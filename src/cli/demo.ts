/**
 * `npm run demo`: the main job end to end on the local stack. Starts the stack (unless one is
 * running), creates a 2-of-3 Ed25519 wallet by distributed key generation, signs a message with
 * two different pairs of parties, verifies each signature with OpenSSL (node:crypto) — a
 * verifier that knows nothing of Conclave — and stops what it started.
 */
import { createPublicKey, verify } from 'node:crypto';
import { ConclaveClient } from '../client/index.js';
import { ConclaveError } from '../errors.js';
import { devDown, devStatus, devUp } from '../stack/dev.js';
import { devDenyList } from '../stack/dev-tenant.js';

const step = (s: string) => console.log(`\n▸ ${s}`);

const aliceAddress = 'A1iceXQ3F9P4aGkmkWJqZ4X3v6T8v9uM7C3mQh2r5sTz';

function opensslVerify(publicKeyHex: string, message: Buffer, signatureHex: string): boolean {
  const spki = Buffer.concat([
    Buffer.from('302a300506032b6570032100', 'hex'),
    Buffer.from(publicKeyHex, 'hex'),
  ]);
  return verify(
    null,
    message,
    createPublicKey({ key: spki, format: 'der', type: 'spki' }),
    Buffer.from(signatureHex, 'hex'),
  );
}

async function demo(): Promise<void> {
  const startedHere = !devStatus().running;
  if (startedHere) {
    step('starting the local stack: Temporal dev server, FerretDB, 3 party workers, coordinator');
    await devUp({ parties: 3, log: (l) => console.log(`  ${l}`) });
  } else {
    step('using the local stack that is already running');
  }
  const client = await ConclaveClient.connect();
  try {
    step('distributed key generation, 2-of-3 (no party ever holds the key)');
    let t = Date.now();
    const wallet = await client.createWallet({ curve: 'ed25519', threshold: 2, parties: 3 });
    console.log(`  wallet ${wallet.walletId}, ${Date.now() - t} ms`);
    console.log(`  group public key ${wallet.publicKey}`);
    console.log(`  transcript hash  ${wallet.transcriptHash} (all parties agreed)`);

    const message = Buffer.from(`pay 1.5 SOL to Alice (demo ${new Date().toISOString()})`);
    const payment = { chain: 'solana', asset: 'SOL', amount: '1.5', destination: aliceAddress };
    for (const signers of [
      ['p1', 'p2'],
      ['p2', 'p3'],
    ]) {
      step(`FROST signing with ${signers.join(' + ')}`);
      t = Date.now();
      // the dev stack's parties gate: each checks the tenant's signed rules against this
      // description and the dev key's signature on the request before it signs
      const sig = await client.sign({ walletId: wallet.walletId, message, signers, tx: payment });
      console.log(`  signature ${sig.signature}, ${Date.now() - t} ms`);
      const ok = opensslVerify(wallet.publicKey, message, sig.signature);
      console.log(`  OpenSSL Ed25519 verify: ${ok ? 'valid' : 'INVALID'}`);
      if (!ok) throw new ConclaveError('TAMPERED', 'signature did not verify');
    }

    step('bad requests are refused with a clear error');
    await client
      .sign({ walletId: wallet.walletId, message, signers: ['p1'], tx: payment })
      .catch((e: Error) => console.log(`  ${e.message}`));
    await client
      .sign({ walletId: wallet.walletId, message, tx: { ...payment, destination: devDenyList[0]! } })
      .catch((e: Error) => console.log(`  ${e.message}`));
  } finally {
    await client.close();
    if (startedHere && !process.argv.includes('--keep')) {
      step('stopping the local stack (run with --keep to leave it up)');
      await devDown();
    }
  }
  console.log('\ndone.');
}

demo().catch((err: unknown) => {
  console.error(`demo failed: ${err instanceof Error ? err.message : String(err)}`);
  process.exit(1);
});
