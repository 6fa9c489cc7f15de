// #/staff/unpaid: the liaison's list of flats that have not paid yet, by building, and the
// reminder for the residents' group chat (it names flats, never phones) to copy in one tap.
import '../strings/roster.js';
import '../strings/payments.js';
import { t } from '../i18n.js';
import { staffApi } from '../api.js';
import { h, clear, copyText } from '../ui.js';
import { money, dateTime } from '../format.js';
import { consoleStaff, consoleNav, drawLoadError, cpath, statusText } from './roster.js';

let state = null; // {cid, roundId, data}

export async function unpaidView(root, params, ctx) {
  const s = consoleStaff(root);
  if (!s) return;
  const cid = s.scope_id;
  if (ctx.refresh || !state || state.cid !== cid) {
    await load(root, ctx, cid, state && state.cid === cid ? state.roundId : null);
    if (!state || state.cid !== cid || !ctx.isCurrent()) return;
  }
  draw(root, ctx);
}

/** The unpaid list of one round (null: the community's newest). */
async function load(root, ctx, cid, roundId) {
  clear(root);
  root.appendChild(h('p', { class: 'loading' }, t('loading')));
  try {
    const query = roundId ? `?round_id=${encodeURIComponent(roundId)}` : '';
    state = { cid, roundId, data: await staffApi(cpath(cid, `/unpaid${query}`)) };
  } catch (err) {
    if (!ctx.isCurrent()) return;
    drawLoadError(root, err, ctx, [consoleNav('unpaid')]);
  }
}

/** With more than one recent round, the liaison chooses whose unpaid orders to chase. */
function roundPicker(root, ctx, d) {
  const choices = Array.isArray(d.rounds) ? d.rounds : [];
  if (choices.length < 2 || !d.round) return null;
  const select = h('select', { id: 'unpaid-round-pick', class: 'input', 'data-testid': 'unpaid-round-pick' },
    choices.map((r) => h('option', { value: r.round_id, selected: r.round_id === d.round.round_id },
      `${r.name} · ${t(`rounds.status.${r.status}`)}`)));
  select.addEventListener('change', async () => {
    await load(root, ctx, state.cid, select.value);
    if (ctx.isCurrent() && state && state.data) draw(root, ctx);
  });
  return h('div', { class: 'field' }, h('label', { for: 'unpaid-round-pick' }, t('unpaid.pick_round')), select);
}

function draw(root, ctx) {
  const d = state.data || {};
  const round = d.round || null;
  const buildings = Array.isArray(d.buildings) ? d.buildings : [];
  const orders = buildings.flatMap((b) => (Array.isArray(b.orders) ? b.orders : []));
  const fen = orders.reduce((a, o) => a + (Number(o.total_fen) || 0), 0);
  const reminder = typeof d.reminder === 'string' ? d.reminder : '';
  clear(root);

  const area = h('textarea', {
    id: 'unpaid-text', class: 'reminder-text', readonly: true, rows: '6', 'data-testid': 'unpaid-reminder',
    'aria-describedby': 'unpaid-text-hint',
  }, reminder);
  const status = h('p', { class: 'copy-status', 'aria-live': 'polite', 'data-testid': 'unpaid-copied' }, '');
  const btn = h('button', { type: 'button', class: 'btn btn-primary btn-big', 'data-testid': 'unpaid-copy' }, t('unpaid.copy'));
  btn.addEventListener('click', async () => {
    const ok = await copyText(reminder, area);
    status.textContent = ok ? t('unpaid.copied') : t('unpaid.copy_failed');
    status.classList.toggle('copy-failed', !ok);
    if (!ok) { area.focus(); area.select(); }
  });

  root.appendChild(h('section', { class: 'console unpaid', 'aria-labelledby': 'unpaid-title' },
    consoleNav('unpaid'),
    h('h1', { id: 'unpaid-title', class: 'page-title', 'data-testid': 'unpaid-title' }, t('unpaid.title')),
    roundPicker(root, ctx, d),
    h('p', { class: 'round-line', 'data-testid': 'unpaid-round' },
      round ? (round.name || '') : t('unpaid.no_round'),
      d.deadline ? ` · ${t('unpaid.deadline', { time: dateTime(d.deadline) })}` : ''),
    round
      ? h('p', { class: 'unpaid-sum', 'data-testid': 'unpaid-count', 'data-count': orders.length },
        orders.length ? t('unpaid.count', { n: orders.length, amount: money(fen) }) : t('unpaid.none'))
      : null,
    reminder && orders.length
      ? h('div', { class: 'reminder' },
        btn, status,
        h('label', { for: 'unpaid-text', class: 'reminder-label' }, t('unpaid.text_label')),
        h('p', { class: 'hint', id: 'unpaid-text-hint' }, t('unpaid.text_hint')),
        area)
      : null,
    buildings.filter((b) => Array.isArray(b.orders) && b.orders.length).map((b) => h('section', {
      class: 'block unpaid-building', 'data-testid': 'unpaid-building', 'data-building': b.building,
      'aria-labelledby': `ub-${b.building}`,
    },
    h('h2', { id: `ub-${b.building}` }, b.building, h('span', { class: 'count-badge' }, String(b.orders.length))),
    h('ul', { class: 'unpaid-list' }, b.orders.map((o) => h('li', { class: 'unpaid-row', 'data-testid': 'unpaid-row', 'data-order-id': o.order_id },
      h('div', { class: 'flat-head' },
        h('span', { class: 'flat-label', 'data-testid': 'unpaid-flat' }, o.flat_label || ''),
        h('strong', { class: 'payrow-amount' }, money(o.total_fen))),
      h('p', { class: 'unpaid-meta' },
        o.phone_masked ? h('span', { class: 'phone', 'data-testid': 'unpaid-phone' }, o.phone_masked) : null,
        h('span', { class: `badge status-${o.status}`, 'data-testid': 'unpaid-status' }, statusText(o.status)))))))),
  ));
}
