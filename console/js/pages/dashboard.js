// Dashboard: today's movements by status, open obligations by currency, the last
// reconciliation with its mismatches, the circuit in front of Verify, movements per hour.
import { ApiError, getJson } from '../api.js';
import { formatMinor } from '../money.js';
import { chip, facts, h, mount, s, table, toneOf } from '../view.js';
import { dayAfter, errorText, mono, todayUtc, when } from './common.js';

const CIRCUIT_WORDS = {
  closed: 'Verify reachable (circuit closed)',
  half_open: 'Verify recovering (circuit half-open: trial calls only)',
  open: 'Verify unavailable (circuit open: calls refused)',
};

export async function dashboardPage(root) {
  const summary = await getJson('/summary');
  const today = summary.movements_today.date ?? todayUtc();
  const [movements, reconciliation] = await Promise.all([
    movementsOfDay(today),
    summary.last_reconciliation ? getJson(`/reconciliations/${summary.last_reconciliation.date}`).catch((error) => ({ error })) : null,
  ]);
  const by = summary.movements_today.by_status;
  mount(
    root,
    h('h1', { tabindex: '-1' }, 'Dashboard'),
    h('p', { class: 'hint' }, `Figures of ${when(summary.generated_at)}. Times are UTC.`),
    h(
      'div',
      { class: 'grid' },
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'today-title' },
        h('h2', { id: 'today-title' }, `Movements today (${today})`),
        facts([
          ['Processed', h('span', { class: 'big' }, String(by.processed))],
          ['In flight', String(by.in_flight)],
          ['Failed', String(by.failed)],
          ['Cancelled', String(by.cancelled)],
        ]),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'health-title' },
        h('h2', { id: 'health-title' }, 'Verify health'),
        h('p', { id: 'circuit' }, chip(summary.circuit, summary.circuit === 'closed' ? 'good' : summary.circuit === 'open' ? 'bad' : 'warn'), ' ', CIRCUIT_WORDS[summary.circuit] ?? summary.circuit),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'recon-title' },
        h('h2', { id: 'recon-title' }, 'Last reconciliation'),
        summary.last_reconciliation
          ? facts([
              ['Day', summary.last_reconciliation.date],
              ['Ran', when(summary.last_reconciliation.ran_at)],
              ['Unexplained mismatches', chip(String(summary.last_reconciliation.unexplained), summary.last_reconciliation.unexplained ? 'bad' : 'good')],
            ])
          : h('p', {}, 'No reconciliation has run yet.'),
      ),
    ),
    h('h2', {}, 'Obligations open, by currency'),
    table(
      'Obligations due or batched',
      ['Currency', 'State', 'Count', 'Amount'],
      summary.obligations_open.map((o) => [o.currency, chip(o.state, toneOf(o.state)), String(o.count), formatMinor(o.amount_minor, o.currency)]),
      'none open.',
    ),
    h('h2', {}, 'Movements per hour today'),
    movements.error ? h('p', { class: 'alert', role: 'alert' }, errorText(movements.error)) : hourChart(movements.items, today),
    mismatchesSection(summary.last_reconciliation, reconciliation),
  );
}

/** Today's movements, page after page (the chart counts them all; at most 10 pages). */
async function movementsOfDay(day) {
  const items = [];
  let cursor;
  try {
    for (let page = 0; page < 10; page++) {
      const answer = await getJson('/movements', { from: `${day}T00:00:00Z`, to: `${dayAfter(day)}T00:00:00Z`, limit: 500, cursor });
      items.push(...answer.items);
      cursor = answer.next_cursor;
      if (!cursor) break;
    }
  } catch (error) {
    return { items, error };
  }
  return { items };
}

/** Counts per UTC hour of `created_at`, for movements of `day`. */
export function perHour(items, day) {
  const counts = new Array(24).fill(0);
  for (const m of items) {
    if (typeof m.created_at !== 'string' || m.created_at.slice(0, 10) !== day) continue;
    const hour = Number(m.created_at.slice(11, 13));
    if (hour >= 0 && hour < 24) counts[hour] += 1;
  }
  return counts;
}

function hourChart(items, day) {
  const counts = perHour(items, day);
  const max = Math.max(1, ...counts);
  const W = 480;
  const H = 160;
  const left = 24;
  const bottom = 18;
  const slot = (W - left) / 24;
  const plot = H - bottom - 8;
  const busy = counts.map((c, hour) => [hour, c]).filter(([, c]) => c > 0);
  const label = busy.length
    ? `Movements per hour on ${day}: ${busy.map(([hour, c]) => `${String(hour).padStart(2, '0')}:00 ${c}`).join(', ')}`
    : `No movements on ${day}`;
  return h(
    'figure',
    { class: 'card' },
    s(
      'svg',
      { class: 'chart', viewBox: `0 0 ${W} ${H}`, role: 'img', 'aria-label': label, id: 'hour-chart' },
      s('title', {}, label),
      s('line', { class: 'axis', x1: left, y1: H - bottom, x2: W, y2: H - bottom }),
      s('text', { x: 0, y: 14 }, String(max)),
      counts.map((c, hour) => {
        const height = Math.round((c / max) * plot);
        return [
          c > 0 ? s('rect', { class: 'bar', x: (left + hour * slot + 2).toFixed(1), y: H - bottom - height, width: (slot - 4).toFixed(1), height, 'data-hour': hour, 'data-count': c }) : null,
          hour % 3 === 0 ? s('text', { x: (left + hour * slot).toFixed(1), y: H - 4 }, `${String(hour).padStart(2, '0')}h`) : null,
        ];
      }),
    ),
    h('figcaption', { class: 'hint' }, `${items.length} movement(s) created on ${day}, by UTC hour of creation.`),
  );
}

function mismatchesSection(last, report) {
  if (!last) return null;
  const title = h('h2', {}, `Mismatches of ${last.date}`);
  if (!report) return null;
  if (report.error) {
    const e = report.error;
    return [title, e instanceof ApiError && e.status === 404 ? h('p', {}, 'The report is not stored.') : h('p', { class: 'alert', role: 'alert' }, errorText(e))];
  }
  const flagged = report.items.filter((item) => item.kind !== 'matched');
  return [
    title,
    table(
      `Mismatches of ${report.date}`,
      ['Kind', 'Corrected', 'Movement', 'Verify transfer', 'Note'],
      flagged.map((item) => [
        item.kind,
        item.corrected ? chip('corrected', 'good') : chip('flagged', 'bad'),
        item.movement_id ? h('a', { href: `#/movements/${encodeURIComponent(item.movement_id)}` }, mono(item.movement_id)) : '—',
        mono(item.verify_transfer_id),
        item.note ?? '',
      ]),
      'none.',
    ),
  ];
}
