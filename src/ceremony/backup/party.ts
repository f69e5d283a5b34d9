/**
 * A party's side of a backup export: its share of one wallet version, with its own keys, sealed
 * to the operator's recovery key. Pure: the caller reads the share, checks governance and opens
 * the secret.
 */
import { sealShareBackup, type ShareBackup } from '../../crypto/backup.js';
import { toHex } from '../../crypto/encoding.js';
import type { ShareDoc } from '../../store/party-store.js';
import type { PartyKeyring } from '../rounds.js';

/** The backup of `share` (whose secret is `signingShare`), signed by the party, sealed to `recoveryPublic`. */
export function sealBackup(
  me: PartyKeyring,
  share: ShareDoc,
  signingShare: string,
  recoveryPublic: Uint8Array,
  createdAt: Date,
): ShareBackup {
  return sealShareBackup(
    {
      tenant: share.tenant,
      walletId: share.walletId,
      keyId: share.keyId,
      version: share.version,
      party: me.partyId,
      identityPublic: me.identityPublic,
      createdAt: createdAt.toISOString(),
    },
    {
      scheme: share.scheme,
      identifier: share.identifier,
      threshold: share.threshold,
      roster: share.roster,
      public: share.public,
      publicKey: share.publicKey,
      transcriptHash: share.transcriptHash,
      signingShare,
      identitySecret: toHex(me.identitySecret),
      transportSecret: toHex(me.transportSecret),
      transportPublic: me.transportPublic,
    },
    me.identitySecret,
    recoveryPublic,
  );
}
