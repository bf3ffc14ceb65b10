// The audit log: every operator action (who, what, when), newest first, page by page.
import { getJson } from '../api.js';
import { field, h, mount, select, table } from '../view.js';
import { busy, dayAfter, messages, mono, when } from './common.js';

const ACTIONS = ['batch_created', 'batch_paid', 'obligation_returned', 'reconciliation_run', 'reconciliation_corrected', 'fx_rates_reloaded'];

export async function auditPage(root) {
  const msg = messages();
  const list = h('div', { id: 'audit-list' });
  const button = h('button', { type: 'submit' }, 'Filter');
  const form = h(
    'form',
    { class: 'inline', role: 'search', 'aria-label': 'Filter the audit log' },
    field('Actor (key name)', { id: 'actor', name: 'actor', type: 'text', maxlength: 64, autocomplete: 'off' }),
    select('Action', { id: 'action', name: 'action' }, [['', 'Any'], ...ACTIONS.map((a) => [a, a])]),
    field('Day (UTC)', { id: 'audit-day', name: 'day', type: 'date' }),
    button,
  );
  const filters = () => {
    const day = form.querySelector('#audit-day').value;
    return {
      actor: form.querySelector('#actor').value.trim(),
      action: form.querySelector('#action').value,
      ...(day ? { from: `${day}T00:00:00Z`, to: `${dayAfter(day)}T00:00:00Z` } : {}),
    };
  };
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(button, msg, async () => {
      msg.clear();
      mount(list);
      await load(list, filters(), undefined, msg);
    });
  });
  mount(root, h('h1', { tabindex: '-1' }, 'Audit log'), form, ...msg.nodes, list);
  await load(list, {}, undefined, msg);
}

/** Appends one page; "More" fetches the next with the answer's cursor. */
async function load(list, query, cursor, msg) {
  const page = await getJson('/audit', { ...query, limit: 100, cursor });
  list.querySelector('.more')?.remove();
  list.append(
    table(
      cursor ? 'Audit log, next page' : 'Audit log, newest first',
      ['When', 'Actor', 'Role', 'Action', 'Target', 'Details'],
      page.items.map((e) => [when(e.at), e.actor, e.role, e.action, mono(e.target), mono(JSON.stringify(e.details))]),
      'no entry.',
    ),
  );
  if (page.next_cursor) {
    const more = h('button', { type: 'button', class: 'secondary more' }, 'More');
    more.addEventListener('click', () => void busy(more, msg, () => load(list, query, page.next_cursor, msg)));
    list.append(more);
  }
}
