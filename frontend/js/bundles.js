// A bundle (套餐) card with its +/− stepper: the resident's rounds page and the liaison's
// assisted order show the same card, so a bundle reads the same to both.
import { t } from './i18n.js';
import { h } from './ui.js';
import { money, item } from './format.js';

/**
 * bundleCard(b, {titleId, onStep, extra}) -> {card, refs}
 * onStep(delta) adds the stepper (refs: {minus, value, plus, card}); without it the card has
 * none and refs is null. `extra` is appended to the stock line (e.g. what the flat already ordered).
 */
export function bundleCard(b, { titleId, onStep = null, extra = null }) {
  const soldOut = !(Number.isFinite(b.stock_left) && b.stock_left > 0);
  const card = h('article', {
    class: `bundle${soldOut ? ' sold-out' : ''}`, 'data-testid': 'bundle-card', 'data-bundle-id': b.bundle_id,
    'data-sold-out': soldOut ? 'true' : 'false', 'aria-labelledby': titleId,
  },
  h('div', { class: 'bundle-head' },
    h('h3', { id: titleId }, b.name),
    h('p', { class: 'price' }, h('span', { 'data-testid': 'bundle-price' }, money(b.price_fen)), h('span', { class: 'price-unit' }, t('bundle.price_unit')))),
  Array.isArray(b.items) && b.items.length
    ? h('ul', { class: 'items', 'aria-label': t('bundle.items') }, b.items.map((it) => h('li', null, item(it))))
    : null,
  h('p', { class: 'stock' },
    soldOut
      ? h('span', { class: 'badge badge-soldout', 'data-testid': 'sold-out' }, t('bundle.sold_out'))
      : h('span', { 'data-testid': 'stock-left' }, t('bundle.stock_left', { n: b.stock_left })),
    Number.isFinite(b.per_household_limit) && b.per_household_limit > 0
      ? h('span', { class: 'limit' }, t('bundle.limit', { n: b.per_household_limit }))
      : null,
    extra));
  if (!onStep) return { card, refs: null };
  const minus = h('button', {
    type: 'button', class: 'step', 'data-testid': 'qty-minus', 'aria-label': t('qty.minus', { name: b.name }),
    onclick: () => onStep(-1),
  }, '−');
  const value = h('output', { class: 'qty', 'data-testid': 'qty-value', 'aria-live': 'polite', 'aria-label': t('qty.label') }, '0');
  const plus = h('button', {
    type: 'button', class: 'step', 'data-testid': 'qty-plus', 'aria-label': t('qty.plus', { name: b.name }),
    onclick: () => onStep(+1),
  }, '+');
  card.appendChild(h('div', { class: 'stepper', role: 'group', 'aria-label': `${t('qty.label')}: ${b.name}` }, minus, value, plus));
  return { card, refs: { minus, value, plus, card } };
}
