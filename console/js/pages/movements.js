// Movements: search by customer username (turned into the pseudonym by the API, never
// kept here), status and day; one movement's timeline with its Verify ids.
import { getJson } from '../api.js';
import { formatMinor } from '../money.js';
import { chip, facts, field, h, mount, select, table, toneOf } from '../view.js';
import { busy, dayAfter, messages, mono, when } from './common.js';

const STATUSES = ['recorded', 'session_created', 'awaiting_login_otp', 'logged_in', 'transfer_requested', 'awaiting_transfer_otp', 'interrupted', 'processed', 'failed', 'cancelled'];

// The last search, so that "back" from a movement shows the same list (filters only: the
// username is not kept, its pseudonym is).
let lastSearch = null;

export async function movementsPage(root) {
  const msg = messages();
  const results = h('div', { id: 'movement-results' });
  const button = h('button', { type: 'submit' }, 'Search');
  const form = h(
    'form',
    { class: 'inline', role: 'search', 'aria-label': 'Search movements' },
    field('Customer username', { id: 'username', name: 'username', type: 'text', autocomplete: 'off', maxlength: 256 }),
    select('Status', { id: 'status', name: 'status' }, [['', 'Any'], ...STATUSES.map((st) => [st, st])], lastSearch?.status ?? ''),
    field('Day (UTC)', { id: 'day', name: 'day', type: 'date', value: lastSearch?.day ?? '' }),
    button,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(button, msg, async () => {
      msg.clear();
      const username = form.querySelector('#username').value.trim();
      const status = form.querySelector('#status').value;
      const day = form.querySelector('#day').value;
      let pseudonym = null;
      if (username) pseudonym = await getJson('/customers/pseudonym', { username });
      lastSearch = { status, day, userId: pseudonym?.user_id ?? null };
      await show(results, lastSearch, pseudonym);
    });
  });
  mount(root, h('h1', { tabindex: '-1' }, 'Movements'), form, ...msg.nodes, results);
  await show(results, lastSearch ?? { status: '', day: '', userId: null }, null).catch((error) => msg.error(error));
}

async function show(results, search, pseudonym, cursor) {
  const query = { status: search.status, user_id: search.userId, limit: 50, cursor };
  if (search.day) Object.assign(query, { from: `${search.day}T00:00:00Z`, to: `${dayAfter(search.day)}T00:00:00Z` });
  const page = await getJson('/movements', query);
  const more = page.next_cursor ? h('button', { type: 'button', class: 'secondary' }, 'Next page') : null;
  more?.addEventListener('click', () => void show(results, search, null, page.next_cursor));
  mount(
    results,
    pseudonym ? h('p', { id: 'pseudonym' }, 'Customer pseudonym: ', mono(pseudonym.user_id), ` (bank ${pseudonym.bank_id})`) : search.userId ? h('p', {}, 'Customer pseudonym: ', mono(search.userId)) : null,
    table(
      'Movements, newest first',
      ['Movement', 'Kind', 'Status', 'Amount', 'Destination', 'Created'],
      page.items.map((m) => [
        h('a', { href: `#/movements/${encodeURIComponent(m.id)}` }, mono(m.id)),
        m.kind,
        chip(m.status, toneOf(m.status)),
        formatMinor(m.amount_minor, m.currency),
        m.destination?.name ?? m.destination?.reference ?? m.destination?.iban ?? '—',
        when(m.created_at),
      ]),
      'no movement matches.',
    ),
    more,
  );
}

export async function movementPage(root, id) {
  const { movement: m, history } = await getJson(`/movements/${encodeURIComponent(id)}`);
  mount(
    root,
    h('p', {}, h('a', { href: '#/movements' }, '← Movements')),
    h('h1', { tabindex: '-1' }, 'Movement ', mono(m.id)),
    h('p', {}, chip(m.status, toneOf(m.status)), ' ', `${m.kind} of ${formatMinor(m.amount_minor, m.currency)}`),
    m.failure_reason ? h('p', { class: 'alert' }, m.failure_reason) : null,
    h(
      'div',
      { class: 'grid' },
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'verify-ids' },
        h('h2', { id: 'verify-ids' }, 'Verify ids'),
        facts([
          ['Session', mono(m.verify_session_id)],
          ['Transfer', mono(m.verify_transfer_id)],
          ['Reference', mono(m.verify_reference)],
        ]),
      ),
      h(
        'section',
        { class: 'card', 'aria-labelledby': 'details' },
        h('h2', { id: 'details' }, 'Details'),
        facts([
          ['Customer', mono(m.user_id)],
          ['Source account', mono(m.source_account_id)],
          ['Destination', [m.destination?.name ?? '', ' ', mono(m.destination?.iban ?? m.destination?.reference ?? '')]],
          ['Exchange', m.fx ? `1 ${m.fx.base} = ${m.fx.rate} ${m.fx.quote}; source ${formatMinor(m.fx.source_amount_minor, m.fx.source_currency)}` : 'none'],
          ['Obligation', mono(m.obligation_id)],
          ['Created', when(m.created_at)],
          ['Completed', when(m.completed_at)],
        ]),
      ),
    ),
    h('h2', {}, 'Timeline'),
    h(
      'ol',
      { class: 'timeline', id: 'timeline' },
      history.map((step) => h('li', {}, chip(step.status, toneOf(step.status)), h('time', { datetime: step.at }, when(step.at)), step.reason ? h('div', {}, step.reason) : null)),
    ),
  );
}
