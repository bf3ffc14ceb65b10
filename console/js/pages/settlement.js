// Settlement: due obligations by currency, batches (create, CSV and pain.001 downloads,
// mark paid), and marking an obligation returned. A viewer sees the figures and the
// downloads, never the buttons that change money; the API refuses them anyway (403).
import { download, getJson, isSettler, postJson } from '../api.js';
import { formatMinor, sumMinor } from '../money.js';
import { chip, facts, field, h, mount, table, toneOf } from '../view.js';
import { busy, messages, mono, when } from './common.js';

// Batches seen in this tab (created here, found through batched obligations, or opened by
// id): the API lists obligations, not batches, so a paid batch is found again through this
// map or by its id. id → the batch as the API last answered it (null: to be fetched). The
// answer of a write (create, paid) is the batch's state after it, so it is shown as is.
const batches = new Map();

async function allObligations(state) {
  const items = [];
  let cursor;
  for (let page = 0; page < 20; page++) {
    const answer = await getJson('/obligations', { state, limit: 500, cursor });
    items.push(...answer.items);
    cursor = answer.next_cursor;
    if (!cursor) break;
  }
  return items;
}

export async function settlementPage(root) {
  const msg = messages();
  const dueBox = h('section', { 'aria-labelledby': 'due-title' });
  const batchBox = h('section', { 'aria-labelledby': 'batches-title' });
  for (const id of batches.keys()) batches.set(id, null); // a new visit shows fresh states
  const refresh = async () => {
    const [due, batched] = await Promise.all([allObligations('due'), allObligations('batched')]);
    for (const o of batched) if (o.batch_id && !batches.has(o.batch_id)) batches.set(o.batch_id, null);
    renderDue(dueBox, due, msg, refresh);
    await renderBatches(batchBox, msg, refresh);
  };
  mount(root, h('h1', { tabindex: '-1' }, 'Settlement'), ...msg.nodes, dueBox, batchBox, openBatchForm(msg, refresh));
  await refresh();
}

function renderDue(box, due, msg, refresh) {
  const byCurrency = new Map();
  for (const o of due) byCurrency.set(o.currency, [...(byCurrency.get(o.currency) ?? []), o]);
  const currencies = [...byCurrency.keys()].sort();
  const createAll = isSettler() && due.length > 0 ? h('button', { type: 'button', id: 'batch-all' }, 'Create a batch of every due obligation') : null;
  createAll?.addEventListener('click', () => void createBatch(createAll, {}, msg, refresh));
  mount(
    box,
    h('h2', { id: 'due-title' }, 'Due obligations'),
    due.length === 0 ? h('p', { class: 'empty' }, 'No obligation is due.') : null,
    createAll,
    currencies.map((currency) => {
      const items = byCurrency.get(currency);
      const caption = `Due in ${currency}: ${items.length}, ${formatMinor(sumMinor(items), currency)}`;
      const create = isSettler() ? h('button', { type: 'button', 'data-currency': currency, class: 'batch-currency' }, `Create a batch of due ${currency}`) : null;
      create?.addEventListener('click', () => void createBatch(create, { currency }, msg, refresh));
      return h(
        'div',
        { class: 'card batch' },
        h('h3', {}, caption),
        table(
          caption,
          ['Obligation', 'Amount', 'Creditor', 'IBAN', 'Movement', 'Created'],
          items.map((o) => [
            mono(o.id),
            formatMinor(o.amount_minor, o.currency),
            o.destination?.name ?? '—',
            o.destination?.iban ? mono(o.destination.iban) : chip('no IBAN: cannot be batched', 'warn'),
            h('a', { href: `#/movements/${encodeURIComponent(o.movement_id)}` }, mono(o.movement_id)),
            when(o.created_at),
          ]),
        ),
        create ? h('div', { class: 'actions' }, create) : null,
      );
    }),
  );
}

async function createBatch(button, body, msg, refresh) {
  await busy(button, msg, async () => {
    const batch = await postJson('/batches', body);
    batches.set(batch.id, batch);
    await refresh();
    const skipped = batch.skipped?.length ? `; ${batch.skipped.length} left out: ${batch.skipped.map((x) => x.reason).join('; ')}` : '';
    msg.info(`Batch ${batch.id} created with ${batch.obligation_ids.length} obligation(s)${skipped}.`);
    document.getElementById(`batch-${batch.id}`)?.querySelector('h3')?.focus();
  });
}

async function renderBatches(box, msg, refresh) {
  const shown = await Promise.all(
    [...batches].map(async ([id, known]) => {
      if (known) return known;
      try {
        const batch = await getJson(`/batches/${encodeURIComponent(id)}`);
        batches.set(id, batch);
        return batch;
      } catch (error) {
        return { id, error };
      }
    }),
  );
  mount(
    box,
    h('h2', { id: 'batches-title' }, 'Batches'),
    shown.length === 0 ? h('p', { class: 'empty' }, 'No open batch. Create one above, or open a batch by its id below.') : null,
    shown.reverse().map((batch) => (batch.error ? h('p', { class: 'alert' }, `${batch.id}: ${batch.error.message}`) : batchCard(batch, msg, refresh))),
  );
}

function batchCard(batch, msg, refresh) {
  const csv = h('button', { type: 'button', class: 'secondary', 'data-download': 'csv' }, 'Download CSV');
  const pain = h('button', { type: 'button', class: 'secondary', 'data-download': 'pain001' }, 'Download pain.001');
  const path = `/batches/${encodeURIComponent(batch.id)}`;
  csv.addEventListener('click', () =>
    void busy(csv, msg, async () => {
      const file = await download(`${path}/csv`, 'text/csv', `${batch.id}.csv`);
      msg.info(`Downloaded ${file.name} (${file.bytes} bytes).`);
    }),
  );
  pain.addEventListener('click', () =>
    void busy(pain, msg, async () => {
      const file = await download(`${path}/pain001`, 'application/xml', `${batch.id}.xml`);
      msg.info(`Downloaded ${file.name} (${file.bytes} bytes).`);
    }),
  );
  let paidForm = null;
  if (isSettler() && batch.state === 'open') {
    const ref = `paid-ref-${batch.id}`;
    const submit = h('button', { type: 'submit' }, 'Mark paid');
    paidForm = h(
      'form',
      { class: 'inline', 'aria-label': `Mark batch ${batch.id} paid` },
      field('Bank reference', { id: ref, name: 'bank_reference', type: 'text', required: true, maxlength: 35, autocomplete: 'off' }, 'From the bank statement; the key that created the batch cannot mark it paid.'),
      submit,
    );
    paidForm.addEventListener('submit', (event) => {
      event.preventDefault();
      void busy(submit, msg, async () => {
        const bankReference = paidForm.querySelector('input').value.trim();
        const paid = await postJson(`${path}/paid`, { bank_reference: bankReference });
        batches.set(paid.id, paid);
        await refresh();
        msg.info(`Batch ${paid.id} marked paid by ${paid.paid_by} with reference ${paid.bank_reference}.`);
      });
    });
  }
  return h(
    'article',
    { class: 'card batch', id: `batch-${batch.id}`, 'aria-labelledby': `batch-title-${batch.id}` },
    h('h3', { id: `batch-title-${batch.id}`, tabindex: '-1' }, 'Batch ', mono(batch.id), ' ', chip(batch.state, toneOf(batch.state))),
    facts([
      ['Created', `${when(batch.created_at)} by ${batch.created_by}`],
      ['Paid', batch.paid_at ? `${when(batch.paid_at)} by ${batch.paid_by}, reference ${batch.bank_reference}` : 'not yet'],
      ['Totals', batch.totals.map((t) => `${t.count} × ${t.currency}: ${formatMinor(t.amount_minor, t.currency)}`).join('; ')],
    ]),
    h('div', { class: 'actions' }, csv, pain),
    paidForm,
    obligationsOf(batch, msg, refresh),
  );
}

/** The batch's obligations, each with "Mark returned" for a settler (batched or paid ones). */
function obligationsOf(batch, msg, refresh) {
  return table(
    `Obligations of batch ${batch.id}`,
    isSettler() ? ['Obligation', 'Returned by the bank?'] : ['Obligation'],
    batch.obligation_ids.map((id) => (isSettler() ? [mono(id), returnedForm(id, msg, refresh)] : [mono(id)])),
  );
}

function returnedForm(obligationId, msg, refresh) {
  const inputId = `returned-${obligationId}`;
  const submit = h('button', { type: 'submit', class: 'danger' }, 'Mark returned');
  const form = h(
    'form',
    { class: 'inline', 'aria-label': `Mark obligation ${obligationId} returned` },
    field('Return reason', { id: inputId, name: 'reason', type: 'text', required: true, maxlength: 500, autocomplete: 'off' }),
    submit,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(submit, msg, async () => {
      const reason = form.querySelector('input').value.trim();
      const returned = await postJson(`/obligations/${encodeURIComponent(obligationId)}/returned`, { reason });
      await refresh();
      msg.info(`Obligation ${returned.id} is ${returned.state}: ${returned.returned_reason}. The customer is refunded.`);
    });
  });
  return form;
}

function openBatchForm(msg, refresh) {
  const submit = h('button', { type: 'submit', class: 'secondary' }, 'Open');
  const form = h(
    'form',
    { class: 'inline', 'aria-label': 'Open a batch by id' },
    field('Batch id', { id: 'open-batch', name: 'batch_id', type: 'text', required: true, maxlength: 35, autocomplete: 'off' }),
    submit,
  );
  form.addEventListener('submit', (event) => {
    event.preventDefault();
    void busy(submit, msg, async () => {
      const id = form.querySelector('input').value.trim();
      batches.set(id, await getJson(`/batches/${encodeURIComponent(id)}`)); // a 404 reports the API's message
      msg.clear();
      await refresh();
    });
  });
  return h('section', { 'aria-labelledby': 'open-title' }, h('h2', { id: 'open-title' }, 'Find a batch'), form);
}
