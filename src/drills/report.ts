/** Plain-text tables of a drill's results. */
import { shareChangeKinds, type ChaosDrillReport, type CeremonyCounts } from './chaos-drill.js';
import type { MisbehavingRow } from './misbehaving-drill.js';
import type { RogueCoordinatorRow } from './rogue-coordinator.js';

export function table(header: string[], rows: Array<Array<string | number>>): string {
  const cells = [header, ...rows.map((r) => r.map(String))];
  const widths = header.map((_, i) => Math.max(...cells.map((r) => (r[i] ?? '').length)));
  const line = (r: string[]) =>
    r
      .map((c, i) => c.padEnd(widths[i]!))
      .join('  ')
      .trimEnd();
  return [line(header), widths.map((w) => '-'.repeat(w)).join('  '), ...cells.slice(1).map(line)].join('\n');
}

const codes = (c: CeremonyCounts) =>
  Object.entries(c.abortedCodes)
    .map(([k, v]) => `${k}×${v}`)
    .join(' ') || '-';

export function formatChaosReport(r: ChaosDrillReport): string {
  const out: string[] = [];
  out.push(
    `Chaos stream: ${r.streamSeconds.toFixed(0)} s, ${r.concurrency} in flight, settled in ${r.settleSeconds.toFixed(1)} s (${r.mode})`,
  );
  const g = r.governed;
  out.push(
    table(
      ['ceremonies', 'started', 'completed', 'aborted', 'abort codes', 'stuck', 'p50 ms', 'max ms'],
      (['keygen', 'sign', ...shareChangeKinds, 'total'] as const).map((k) => {
        const c = r.ceremonies[k];
        const p50 = k === 'total' ? undefined : r.latencyMs[`${k}P50`];
        const max = k === 'total' ? undefined : r.latencyMs[`${k}Max`];
        const name = (shareChangeKinds as readonly string[]).includes(k) ? `${k} (governed)` : k;
        return [name, c.started, c.completed, c.aborted, codes(c), c.stuck, p50 ?? '-', max ?? '-'];
      }),
    ),
  );
  out.push('');
  out.push(
    table(
      ['kills (SIGKILL + restart)', 'count', 'down ms', 'restart→healthy ms', 'workers re-polling ms'],
      (['party', 'coordinator', 'ferretdb', 'temporal'] as const).map((k) => {
        const s = r.chaos.strikes.filter((x) => x.kind === k);
        const range = (v: number[]) => (v.length ? `${Math.min(...v)}-${Math.max(...v)}` : '-');
        return [
          k === 'party'
            ? `party worker (${s.map((x) => x.target.replace('party ', '')).join(',') || '-'})`
            : k,
          s.length,
          range(s.map((x) => x.downMs)),
          range(s.map((x) => x.restartMs)),
          range(s.flatMap((x) => (x.workersBackMs === undefined ? [] : [x.workersBackMs]))),
        ];
      }),
    ),
  );
  out.push('');
  out.push(
    table(
      ['check', 'result'],
      [
        ['stuck ceremonies', r.ceremonies.total.stuck],
        [
          `governed share changes stuck (rotation, reshare, recovery)`,
          shareChangeKinds.reduce((n, k) => n + r.ceremonies[k].stuck, 0),
        ],
        [
          'every kind of governed share change completed',
          g.everyKindCompleted
            ? 'yes'
            : `no (${shareChangeKinds.filter((k) => !r.ceremonies[k].completed).join(', ')})`,
        ],
        [
          `governed changes approved by the drill's admin (wait p50 ${g.approvals.waitP50Ms ?? '-'} ms, max ${g.approvals.waitMaxMs ?? '-'} ms)`,
          `${g.approvals.given} of ${g.approvals.asked} asked; ${g.approvalFailures.length} ran unapproved or differed`,
        ],
        [
          `governed changes the wallet did not sign after (${g.signedAfter.signed} of ${g.signedAfter.changes} signed)`,
          g.signedAfter.failed.length,
        ],
        [
          `governed shares lost (${g.wallets} wallets: current version not active on its committee, or pending)`,
          g.sharesLost,
        ],
        ['governed wallet versions not as the change reported', g.versionMismatches.length],
        [
          `signatures failing OpenSSL verification (incl. recovery proofs; signed: ${r.signing.single} single, ${r.signing.pool} with a filled pool's signers, ${r.signing.batches} batches of ${r.signing.batches ? r.signing.batchMessages / r.signing.batches : 0}; ${r.signing.poolFills} pool fills)`,
          r.badSignatures,
        ],
        [
          `shares lost (${r.coverage.wallets} wallets, ${r.coverage.signings} covering signings)`,
          r.sharesLost,
        ],
        [
          `nonces used twice (${r.nonces.documents} nonce docs: ${r.nonces.used} used, ${r.nonces.fresh} fresh)`,
          r.noncesReused,
        ],
        ['client calls that did not ride through (transport errors)', r.clientErrors.errors],
        ["approver's calls with no answer or refused (asked again)", g.approvals.errors],
        ['active shares of other versions left by aborted changes (valid)', g.leftoverActive],
        ['workers restarted by the operator watchdog', r.chaos.revivals.length],
        ['chaos errors', r.chaos.errors.length],
        ['verdict', r.pass ? 'PASS' : 'FAIL'],
      ],
    ),
  );
  const notes = [
    ...r.chaos.strikes.flatMap((s) => s.notes.map((n) => `${s.target}: ${n}`)),
    ...r.chaos.revivals.map(
      (v) =>
        `operator restarted ${v.worker} (pid ${v.deadPid} → ${v.newPid}): ${v.logTail.split('\n').at(-1)}`,
    ),
    ...r.chaos.errors.map((e) => `chaos error: ${e}`),
    ...r.clientErrors.examples.map((e) => `client error: ${e}`),
    ...r.stuckCeremonies.map((s) => `stuck: ${s.id}: ${s.state}`),
    ...r.abortedCeremonies
      .slice(0, 10)
      .map((a) => `aborted: ${a.id}: ${a.code}${a.culprit ? ` (${a.culprit})` : ''} ${a.reason ?? ''}`),
    ...r.missingShares.map((m) => `missing share: ${m.walletId} on ${m.partyId} (${m.active} active)`),
    ...g.shareIssues.map((m) => `governed share: ${m.walletId} v${m.version} on ${m.partyId}: ${m.problem}`),
    ...g.approvalFailures.map((f) => `approval: ${f}`),
    ...g.signedAfter.failed.map((f) => `no signing after: ${f}`),
    ...g.versionMismatches.map((f) => `version: ${f}`),
    ...g.approvals.examples.map((e) => `approver: ${e}`),
    ...r.coverage.failed.map((f) => `covering signing failed: ${f}`),
    ...r.nonces.examples.map((e) => `nonce: ${e}`),
    ...r.signing.poolFillErrors.map((e) => `pool fill failed (chaos): ${e}`),
  ];
  if (notes.length) out.push('', ...notes.map((n) => `  ${n}`));
  return out.join('\n');
}

export function formatMisbehavingReport(rows: MisbehavingRow[]): string {
  return table(
    ['misbehaving p6: case', 'expected', 'error code', 'named party', 'left active', 'result'],
    rows.map((r) => [r.case, r.expectedCode, r.code, r.culprit, r.leftovers, r.pass ? 'PASS' : 'FAIL']),
  );
}

const clip = (s: string, n: number) => (s.length > n ? `${s.slice(0, n - 1)}…` : s);

export function formatRogueCoordinatorReport(rows: RogueCoordinatorRow[]): string {
  return table(
    ['rogue coordinator: attack', 'tenant', 'call', 'expected', 'party said', 'result'],
    rows.map((r) => [r.attack, r.tenant, r.call, r.expected, clip(r.said, 110), r.pass ? 'PASS' : 'FAIL']),
  );
}
