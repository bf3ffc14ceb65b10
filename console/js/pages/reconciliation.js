// Reconciliation: run it for a UTC day (settler) or read the stored report (anyone); the
// counts per kind, what was corrected and what is flagged for a person.
import { ApiError, download, getJson, isSettler, postJson } from '../api.js';
import { formatMinor } from '../money.js';
import { chip, facts, field, h, mount, table } from '../view.js';
import { busy, dayBefore, messages, mono, todayUtc, when } from './common.js';

const KINDS = ['matched', 'verify_succeeded_ledger_behind', 'ledger_processed_verify_failed', 'ledger_processed_verify_unknown', 'amount_or_currency_differ', 'verify_transfer_unknown_to_ledger'];

export async function reconciliationPage(root) {
  const msg = messages();
  const report = h('div', { id: 'report' });
  const show = h('button', { type: 'submit', class: 'secondary', id: 'show-report' }, 'Show the stored report');
  const run = isSettler() ? h('button', { type: 'button', id: 'run-report' }, 'Run the reconciliation now') : null;
  const form = h(
    'form',
    { class: 'inline', 'aria-label': 'Reconciliation day' },
    field('Day (UTC)', { id: 'recon-date', name: 'date', type: 'date', required: true, value: dayBefore(todayUtc()), max: todayUtc() }),
    show,
    run,
  );
  const date = () => form.querySelector('#recon-date').value;
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(show, msg, async () => {
      msg.clear();
      try {
        renderReport(report, await getJson(`/reconciliations/${date()}`), msg);
      } catch (error) {
        mount(report);
        if (error instanceof ApiError && error.status === 404) msg.info(`No report is stored for ${date()}${isSettler() ? '; run it now.' : '.'}`);
        else throw error;
      }
    });
  });
  run?.addEventListener('click', () =>
    void busy(run, msg, async () => {
      msg.clear();
      const answer = await postJson('/reconciliations', { date: date() });
      renderReport(report, answer, msg);
      msg.info(`Reconciled ${answer.date}: ${answer.counts.total} movement(s), ${answer.counts.unexplained} unexplained.`);
    }),
  );
  mount(root, h('h1', { tabindex: '-1' }, 'Reconciliation'), h('p', {}, 'Compares each movement of a UTC day with Verify’s record. Safe differences are corrected; the others are flagged for a person.'), form, ...msg.nodes, report);
}

function side(s) {
  return s ? `${s.status}, ${formatMinor(s.amount_minor, s.currency)}` : '—';
}

function renderReport(box, r, msg) {
  const csv = h('button', { type: 'button', class: 'secondary' }, 'Download CSV');
  csv.addEventListener('click', () =>
    void busy(csv, msg, async () => {
      const file = await download(`/reconciliations/${r.date}/csv`, 'text/csv', `reconciliation-${r.date}.csv`);
      msg.info(`Downloaded ${file.name} (${file.bytes} bytes).`);
    }),
  );
  const mismatches = r.items.filter((item) => item.kind !== 'matched');
  mount(
    box,
    h('h2', {}, `Report of ${r.date}`),
    facts([
      ['Ran', `${when(r.ran_at)} by ${r.ran_by}`],
      ['Movements compared', String(r.counts.total)],
      ['Unexplained', chip(String(r.counts.unexplained), r.counts.unexplained ? 'bad' : 'good')],
    ]),
    h('div', { class: 'actions' }, csv),
    table('Items per kind', ['Kind', 'Count'], KINDS.map((kind) => [kind, String(r.counts[kind] ?? 0)])),
    table(
      'Mismatches and corrections',
      ['Kind', 'Outcome', 'Movement', 'Verify transfer', 'Ledger', 'Verify', 'Note'],
      mismatches.map((item) => [
        item.kind,
        item.corrected ? chip('corrected', 'good') : chip('flagged', 'bad'),
        item.movement_id ? h('a', { href: `#/movements/${encodeURIComponent(item.movement_id)}` }, mono(item.movement_id)) : '—',
        mono(item.verify_transfer_id),
        side(item.ledger),
        side(item.verify),
        item.note ?? '',
      ]),
      'every movement matched.',
    ),
  );
}
