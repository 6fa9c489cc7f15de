// Entry point: header, hash router, language switch, outbox replay.
import { t, getLang, toggleLang, onLangChange } from './i18n.js';
import * as session from './session.js';
import * as outbox from './outbox.js';
import { h, clear, showSuccess, showError, clearMessage, repaintMessage } from './ui.js';
import { errorText } from './api.js';
import { flat as flatLabel } from './format.js';
import { go, takeKeep } from './nav.js';
import { joinView } from './views/join.js';
import { roundsView } from './views/rounds.js';
import { ordersView } from './views/orders.js';
import * as staff from './staff.js';
import { householdView } from './views/household.js';
import './strings/household.js';
import * as notices from './notices.js';

/** The staff screens' style sheet, added once, before the first staff screen draws. */
let staffCss = null;
function loadStaffCss() {
  if (!staffCss) {
    staffCss = new Promise((resolve) => {
      // index.html adds it already when a staff link is opened directly.
      let link = document.querySelector('link[data-staff-css]');
      if (link && link.sheet) { resolve(); return; }
      if (!link) {
        link = h('link', { rel: 'stylesheet', href: 'css/staff.css', 'data-staff-css': '' });
        document.head.appendChild(link);
      }
      // Offline and the file not cached: draw anyway, unstyled is better than nothing.
      link.addEventListener('load', resolve);
      link.addEventListener('error', resolve);
      setTimeout(resolve, 3000); // a sheet that failed before we listened sends no more events
    });
  }
  return staffCss;
}

/** A view loaded on first use: every staff screen stays off a resident's first load (the join link). */
function lazy(path, name) {
  return async (root, params, ctx) => {
    const [module] = await Promise.all([import(path), loadStaffCss()]);
    return module[name](root, params, ctx);
  };
}
const signinView = lazy('./views/staff.js', 'signinView');
const inviteView = lazy('./views/staff.js', 'inviteView');
const staffView = lazy('./views/staff.js', 'staffView');
const rosterView = lazy('./views/roster.js', 'rosterView');
const staffHouseholdView = lazy('./views/roster.js', 'staffHouseholdView');
const specialView = lazy('./views/special.js', 'specialView');
const assistView = lazy('./views/assist.js', 'assistView');
const communityView = lazy('./views/community.js', 'communityView');
const slotsView = lazy('./views/slots.js', 'slotsView');
const progressView = lazy('./views/progress.js', 'progressView');
const unpaidView = lazy('./views/unpaid.js', 'unpaidView');
const supplierRoundsView = lazy('./views/payments.js', 'supplierRoundsView');
const paymentsBoardView = lazy('./views/payments.js', 'paymentsBoardView');
const newRoundView = lazy('./views/newround.js', 'newRoundView');
const roundConsoleView = lazy('./views/supplier.js', 'roundConsoleView');
const pickupHomeView = lazy('./views/pickup.js', 'pickupHomeView');
const pickupListView = lazy('./views/pickup.js', 'pickupListView');
const doorListView = lazy('./views/pickup.js', 'doorListView');
const gateView = lazy('./views/gate.js', 'gateView');
const gateDeliveryView = lazy('./views/gate.js', 'gateDeliveryView');
const siteView = lazy('./views/site.js', 'siteView');
const deliveriesView = lazy('./views/deliveries.js', 'deliveriesView');
const newDeliveryView = lazy('./views/deliveries.js', 'newDeliveryView');
const reviewView = lazy('./views/review.js', 'reviewView');
const gateLogView = lazy('./views/gatelog.js', 'gateLogView');
const supplyDashboardView = lazy('./views/supply.js', 'supplyDashboardView');
const marketReportView = lazy('./views/market.js', 'marketReportView');
const demandView = lazy('./views/demand.js', 'demandView');
const ledgerView = lazy('./views/ledger.js', 'ledgerView');

const ROUTES = [
  { re: /^#\/join\/([^/?#]+)$/, view: joinView, name: 'join', title: 'join.title', needsSession: false },
  { re: /^#\/rounds\/?$/, view: roundsView, name: 'rounds', title: 'rounds.title', needsSession: true },
  { re: /^#\/orders\/?$/, view: ordersView, name: 'orders', title: 'orders.title', needsSession: true },
  { re: /^#\/household\/?$/, view: householdView, name: 'household', title: 'household.title', needsSession: true },
  // Staff: kept apart from the resident session (see staff.js).
  { re: /^#\/signin\/([^/?#]+)$/, view: signinView, name: 'signin', title: 'staff.title', needsSession: false },
  { re: /^#\/invite\/([^/?#]+)$/, view: inviteView, name: 'invite', title: 'invite.title', needsSession: false },
  { re: /^#\/staff\/?$/, view: staffView, name: 'staff', title: 'staff.title', needsSession: false, needsStaff: true },
  // The liaison's console (liaison and information officer of one community).
  { re: /^#\/staff\/roster\/?$/, view: rosterView, name: 'roster', title: 'roster.title', needsSession: false, needsStaff: true },
  { re: /^#\/staff\/households\/([A-Za-z0-9.-]+)\/order$/, view: assistView, name: 'assist', title: 'assist.title', needsSession: false, needsStaff: true },
  { re: /^#\/staff\/households\/([A-Za-z0-9.-]+)$/, view: staffHouseholdView, name: 'staff-household', title: 'roster.household_title', needsSession: false, needsStaff: true },
  { re: /^#\/staff\/special\/?$/, view: specialView, name: 'special', title: 'special.title', needsSession: false, needsStaff: true },
  { re: /^#\/staff\/community\/?$/, view: communityView, name: 'community', title: 'community.title', needsSession: false, needsStaff: true },
  { re: /^#\/staff\/unpaid\/?$/, view: unpaidView, name: 'unpaid', title: 'unpaid.title', needsSession: false, needsStaff: true },
  // Pickup day: the liaison's slot plan, notices and 货已到; the progress dashboard (also volunteers').
  { re: /^#\/staff\/slots\/?$/, view: slotsView, name: 'slots', title: 'slots.title', needsSession: false, needsStaff: true },
  { re: /^#\/staff\/progress\/?$/, view: progressView, name: 'progress', title: 'progress.title', needsSession: false, needsStaff: true },
  // The supplier: their rounds, a new round (also a liaison's, for a supplier), one round's console
  // and its payment board. "new" comes before the round id, which it would otherwise match.
  { re: /^#\/staff\/rounds\/?$/, view: supplierRoundsView, name: 'supplier-rounds', title: 'sd.my_rounds', needsSession: false, needsStaff: true },
  { re: /^#\/staff\/rounds\/new\/?$/, view: newRoundView, name: 'new-round', title: 'nr.title', needsSession: false, needsStaff: true },
  { re: /^#\/staff\/rounds\/([A-Za-z0-9-]+)\/?$/, view: roundConsoleView, name: 'round-console', title: 'rc.title', needsSession: false, needsStaff: true },
  { re: /^#\/staff\/rounds\/([A-Za-z0-9-]+)\/payments\/?$/, view: paymentsBoardView, name: 'payments', title: 'board.title', needsSession: false, needsStaff: true },
  // Pickup day at the gate (volunteer, liaison, information officer): choose round and building, then
  // the building's list (codes, scanning, marks that wait for a signal), and the door deliveries.
  { re: /^#\/staff\/pickup\/?$/, view: pickupHomeView, name: 'pickup', title: 'pk.title', needsSession: false, needsStaff: true },
  { re: /^#\/staff\/pickup\/([A-Za-z0-9-]+)\/([^/?#]+)\/?$/, view: pickupListView, name: 'pickup-list', title: 'pk.title', needsSession: false, needsStaff: true },
  { re: /^#\/staff\/pickup\/([A-Za-z0-9-]+)\/([^/?#]+)\/door\/?$/, view: doorListView, name: 'pickup-door', title: 'pk.door_title', needsSession: false, needsStaff: true },
  // The gate (plan 2): today's vehicles and one vehicle's steps (gate officer); the site's settings
  // (its managers); a supplier's vehicle registrations; the reviewer's queue; the supervisor's log.
  { re: /^#\/staff\/gate\/?$/, view: gateView, name: 'gate', title: 'gate.title', needsSession: false, needsStaff: true },
  { re: /^#\/staff\/gate\/([A-Za-z0-9-]+)\/([0-9A-Za-z-]+)\/?$/, view: gateDeliveryView, name: 'gate-delivery', title: 'gate.title', needsSession: false, needsStaff: true },
  { re: /^#\/staff\/site\/?$/, view: siteView, name: 'site', title: 'site.title', needsSession: false, needsStaff: true },
  { re: /^#\/staff\/deliveries\/?$/, view: deliveriesView, name: 'deliveries', title: 'dv.title', needsSession: false, needsStaff: true },
  { re: /^#\/staff\/deliveries\/new\/?$/, view: newDeliveryView, name: 'new-delivery', title: 'dv.new', needsSession: false, needsStaff: true },
  { re: /^#\/staff\/review\/?$/, view: reviewView, name: 'review', title: 'rv.title', needsSession: false, needsStaff: true },
  { re: /^#\/staff\/gate-log\/?$/, view: gateLogView, name: 'gate-log', title: 'gl.title', needsSession: false, needsStaff: true },
  // The sub-district's supply chain (plans 3, 4): its dashboard (admin); a supply point's daily report;
  // a community's demand report and ledgers (liaison, information officer).
  { re: /^#\/staff\/supply\/?$/, view: supplyDashboardView, name: 'supply', title: 'sup.title', needsSession: false, needsStaff: true },
  { re: /^#\/staff\/market\/?$/, view: marketReportView, name: 'market', title: 'mk.title', needsSession: false, needsStaff: true },
  { re: /^#\/staff\/demand\/?$/, view: demandView, name: 'demand', title: 'dm.title', needsSession: false, needsStaff: true },
  { re: /^#\/staff\/ledger\/?$/, view: ledgerView, name: 'ledger', title: 'lg.title', needsSession: false, needsStaff: true },
];

let navId = 0;
let currentRoute = null;

function startView(root) {
  root.appendChild(h('section', { class: 'start', 'aria-labelledby': 'start-title' },
    h('div', { class: 'start-icon', 'aria-hidden': 'true' }, '▣'),
    h('h1', { id: 'start-title' }, t('start.title')),
    h('p', { class: 'start-body', 'data-testid': 'start-message' }, t('start.body')),
    h('p', { class: 'hint' }, t('start.hint')),
  ));
  const st = staff.get();
  if (st) {
    root.appendChild(h('p', { class: 'start-staff' },
      h('a', { class: 'btn btn-secondary', href: '#/staff', 'data-testid': 'start-staff-link' },
        t('start.staff_link', { role: staff.roleText(st.role) }))));
  }
}

function renderHeader() {
  const header = document.getElementById('header');
  clear(header);
  const s = session.get();
  const top = h('div', { class: 'header-top' },
    h('div', { class: 'brand' },
      h('span', { class: 'brand-name' }, t('app.name')),
      s && s.community_name ? h('span', { class: 'brand-sub' }, s.community_name, s.flat ? ` · ${flatLabel(s.flat)}` : '') : null),
    h('button', {
      type: 'button', class: 'lang-toggle', 'data-testid': 'lang-toggle',
      lang: getLang() === 'en' ? 'zh-CN' : 'en',
      'aria-label': t('lang.toggle_aria'),
      onclick: () => toggleLang(),
    }, t('lang.toggle')));
  header.appendChild(top);
  if (s) {
    const name = currentRoute && currentRoute.name;
    header.appendChild(h('nav', { class: 'nav', 'aria-label': t('nav.label') },
      h('a', { href: '#/rounds', 'data-testid': 'nav-order', 'aria-current': name === 'rounds' ? 'page' : null }, t('nav.order')),
      h('a', { href: '#/orders', 'data-testid': 'nav-orders', 'aria-current': name === 'orders' ? 'page' : null }, t('nav.orders')),
      householdLink(s, name === 'household')));
  }
}

/** 「家人」, with the number of requests to join waiting for this member's approval. */
function householdLink(s, here) {
  const n = !session.isPending(s) ? Number(s.pending_requests) || 0 : 0;
  return h('a', {
    href: '#/household', 'data-testid': 'nav-household', 'aria-current': here ? 'page' : null,
    'aria-label': n ? `${t('nav.household')}: ${t('nav.household_requests', { n })}` : null,
  },
  t('nav.household'),
  n ? h('span', { class: 'nav-badge', 'data-testid': 'nav-household-badge', 'aria-hidden': 'true' }, String(n)) : null);
}

function safeDecode(s) {
  try { return decodeURIComponent(s); } catch (e) { return s; } // a mangled link: let the view refuse it
}

function match(hash) {
  for (const r of ROUTES) {
    const m = r.re.exec(hash);
    if (m) return { ...r, params: m.slice(1).map(safeDecode) };
  }
  return null;
}

/** Render the current hash. refresh=false re-draws from data already loaded (language switch). */
async function render({ refresh = true } = {}) {
  const id = ++navId;
  document.body.classList.remove('has-cartbar'); // only the rounds view shows the checkout bar
  const hash = location.hash || '';
  const s = session.get();
  let route = match(hash);

  if (!route || (route.needsSession && !s) || (route.needsStaff && !staff.get())) {
    if (s) { go(session.isPending(s) ? '#/household' : '#/rounds', { replace: true }); return; }
    currentRoute = { name: 'start' };
    document.title = t('app.title');
    renderHeader();
    const root = document.getElementById('main');
    clear(root);
    startView(root);
    return;
  }
  currentRoute = route;
  document.title = `${t(route.title)} · ${t('app.name')}`;
  renderHeader();
  const root = document.getElementById('main');
  const ctx = {
    refresh,
    isCurrent: () => id === navId,
    rerender: (opts) => render(opts),
  };
  try {
    await route.view(root, route.params, ctx);
    // A lazily loaded view brings its own strings: name the page again now that they are there.
    if (ctx.isCurrent()) document.title = `${t(route.title)} · ${t('app.name')}`;
  } catch (err) {
    if (!ctx.isCurrent()) return;
    if (err && err.status === 401) {
      session.clear();
      localStorage.removeItem('baogong.cart');
      // A member removed this phone (or it left on another screen): say so, not "registration expired".
      showError(() => (err.code === 'membership_ended' ? t('household.ended') : t('err.session')));
      go('#/', { replace: true });
      return;
    }
    showError(() => errorText(err));
  }
}

// A checkout or a payment claim that was stuck offline went through in the background.
outbox.onResult((r) => {
  if (r.origin !== 'replay') return;
  if (outbox.kindOf(r.entry) === outbox.PICKUP) return; // the pickup screens report their own (views/pickup.js)
  if (outbox.kindOf(r.entry) === outbox.PAYMENT_CLAIM) {
    if (r.state === 'sent') showSuccess(() => t('pay.claim_sent_later'));
    else if (r.state === 'rejected') showError(() => errorText(r.error));
    else return;
    if (currentRoute && currentRoute.name === 'orders') render();
    return;
  }
  if (r.state === 'sent') {
    localStorage.removeItem('baogong.cart');
    showSuccess(() => t('order.sent_later'));
    go('#/orders');
  } else if (r.state === 'rejected') {
    showError(() => errorText(r.error));
    render();
  }
});

window.addEventListener('hashchange', () => {
  // A message survives the navigation that produced it (e.g. "order placed")
  // and is cleared by the next one.
  if (!takeKeep()) clearMessage();
  render();
  window.scrollTo(0, 0);
});
window.addEventListener('baogong:rerender', () => render());
// The session changed under the page (membership approved, requests to join): the header follows.
window.addEventListener('baogong:session', () => { if (currentRoute) renderHeader(); });

onLangChange(() => {
  repaintMessage();
  render({ refresh: false });
});

document.documentElement.lang = getLang();
render();
outbox.startReplay();
notices.start(); // the resident's pickup notices: polled while the app is open (no push)
