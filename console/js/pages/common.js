// Small pieces the pages share.
import { ApiError } from '../api.js';
import { h } from '../view.js';

export function errorText(error) {
  if (error instanceof ApiError) return `${error.code}: ${error.message}`;
  return `error: ${error?.message ?? String(error)}`;
}

/** A live region for a page's errors (the API's `{code, message}`) and one for notices. */
export function messages() {
  const alert = h('p', { class: 'alert', role: 'alert' });
  const notice = h('p', { class: 'notice', role: 'status' });
  return {
    nodes: [alert, notice],
    error(error) {
      notice.textContent = '';
      alert.textContent = errorText(error);
    },
    info(text) {
      alert.textContent = '';
      notice.textContent = text;
    },
    clear() {
      alert.textContent = '';
      notice.textContent = '';
    },
  };
}

/** Runs `work` with the button disabled, reporting a failure through `msg`. */
export async function busy(button, msg, work) {
  button.disabled = true;
  try {
    return await work();
  } catch (error) {
    msg.error(error);
    return undefined;
  } finally {
    button.disabled = false;
  }
}

/** '2026-11-30T08:00:00.120Z' → '2026-11-30 08:00:00 UTC' (times are UTC throughout). */
export function when(iso) {
  if (!iso) return '—';
  return `${iso.slice(0, 10)} ${iso.slice(11, 19)} UTC`;
}

export function mono(text) {
  return h('span', { class: 'mono' }, text ?? '—');
}

export function todayUtc() {
  return new Date().toISOString().slice(0, 10);
}

export function dayAfter(date) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() + 1);
  return d.toISOString().slice(0, 10);
}

export function dayBefore(date) {
  const d = new Date(`${date}T00:00:00Z`);
  d.setUTCDate(d.getUTCDate() - 1);
  return d.toISOString().slice(0, 10);
}
