// Staff sign-in: #/signin/<token> (links printed by `make dev`), #/invite/<code>
// (links from POST /api/invites) and #/staff (who is signed in, sign out).
// A liaison or information officer also gets the doors into the community's console, a
// supplier the door into their payment board; the gate's roles (and the site's managers, and a
// supplier for vehicle registration) the doors into the gate screens; the supply chain's the doors
// into its screens (admin: the dashboard; supply point: the daily report; liaison and information
// officer: demand and ledger).
import '../strings/roster.js';
import '../strings/payments.js';
import '../strings/supplier.js';
import { t } from '../i18n.js';
import { api, errorText } from '../api.js';
import * as staff from '../staff.js';
import { h, clear, showError, showSuccess, clearMessage } from '../ui.js';
import { dateTime } from '../format.js';
import { uuid } from '../outbox.js';
import '../strings/pickup.js';
import '../strings/pickupday.js';
import { PICKUP_ROLES } from './pickup.js';

/** Roles whose doors lead to the gate screens (plan 2), and where. */
const GATE_DOORS = {
  gate_officer: [['gate', '#/staff/gate', 'gs.door_gate']],
  reviewer: [['review', '#/staff/review', 'gs.door_review'], ['gate-log', '#/staff/gate-log', 'gs.door_log']],
  supervisor: [['gate-log', '#/staff/gate-log', 'gs.door_log']],
  supplier: [['deliveries', '#/staff/deliveries', 'gs.door_deliveries']],
  admin: [['site', '#/staff/site', 'gs.door_site'], ['review', '#/staff/review', 'gs.door_review'], ['gate-log', '#/staff/gate-log', 'gs.door_log']],
  liaison: [['site', '#/staff/site', 'gs.door_site']],
};

/** The supply chain (plans 3, 4): the sub-district's dashboard, a supply point's daily report, a community's demand and ledger. */
const SUPPLY_DOORS = {
  admin: [['supply', '#/staff/supply', 'sup.door']],
  supply_point: [['market', '#/staff/market', 'mk.door']],
  liaison: [['demand', '#/staff/demand', 'dm.door'], ['ledger', '#/staff/ledger', 'lg.door']],
  info_officer: [['demand', '#/staff/demand', 'dm.door'], ['ledger', '#/staff/ledger', 'lg.door']],
};

/** Take the token (or invite code) out of the address bar and the history entry. */
function leaveForStaffPage() {
  history.replaceState(history.state, '', '#/staff');
}

export const roleText = staff.roleText;

// #/signin/<token>
export async function signinView(root, [token], ctx) {
  // First of all: the token must not stay in the address bar or in history.
  leaveForStaffPage();
  const p = staff.parse(token);
  if (p.error) {
    showError(() => t(p.error === 'expired' ? 'staff.link_expired' : 'staff.link_invalid'));
  } else {
    staff.save(p);
    clearMessage();
  }
  await ctx.rerender({ refresh: false });
}

// #/staff
export async function staffView(root, params, ctx) {
  const s = staff.get();
  clear(root);
  const signout = h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': 'staff-signout' }, t('staff.signout'));
  signout.addEventListener('click', () => {
    staff.clear();
    showSuccess(() => t('staff.signed_out'));
    ctx.rerender({ refresh: false });
  });
  root.appendChild(h('section', { class: 'staff', 'aria-labelledby': 'staff-title', 'data-testid': 'staff-signed-in' },
    h('div', { class: 'staff-icon', 'aria-hidden': 'true' }, '✓'),
    h('h1', { id: 'staff-title', 'data-testid': 'staff-title' }, t('staff.signed_in')),
    h('p', { class: 'staff-as' }, t('staff.as')),
    h('p', { class: 'staff-role', 'data-testid': 'staff-role', 'data-role': s.role }, roleText(s.role)),
    PICKUP_ROLES.includes(s.role) ? pickupDoor() : null,
    staff.CONSOLE_ROLES.includes(s.role) ? consoleDoors() : null,
    s.role === 'liaison' ? forSupplierDoor() : null,
    s.role === 'supplier' ? supplierDoors() : null,
    GATE_DOORS[s.role] ? gateDoors(s.role) : null,
    SUPPLY_DOORS[s.role] ? supplyDoors(s.role) : null,
    h('dl', { class: 'facts' },
      h('dt', null, t('staff.scope')), h('dd', { class: 'staff-scope', 'data-testid': 'staff-scope' }, s.scope_id),
      Number.isFinite(s.exp)
        ? [h('dt', null, t('staff.valid_until')), h('dd', { 'data-testid': 'staff-valid-until' }, dateTime(new Date(s.exp * 1000).toISOString()))]
        : null),
    signout));
}

/** Big doors into the liaison's console; the community is the staff member's scope. */
function consoleDoors() {
  const door = (name, href, label, hint) => h('a', { class: 'door', href, 'data-testid': `staff-console-${name}` },
    h('span', { class: 'door-label' }, label),
    h('span', { class: 'door-hint' }, hint));
  return h('nav', { class: 'doors', 'aria-label': t('console.nav') },
    door('roster', '#/staff/roster', t('console.open_roster'), t('console.open_roster_hint')),
    door('special', '#/staff/special', t('console.open_special'), t('console.open_special_hint')),
    door('unpaid', '#/staff/unpaid', t('console.open_unpaid'), t('console.open_unpaid_hint')),
    door('community', '#/staff/community', t('console.open_community'), t('console.open_community_hint')));
}

/** The supplier's doors: their rounds (each with its console and payment board), a new round. */
function supplierDoors() {
  return h('nav', { class: 'doors', 'aria-label': t('sd.my_rounds') },
    h('a', { class: 'door', href: '#/staff/rounds', 'data-testid': 'staff-payments' },
      h('span', { class: 'door-label' }, t('sd.my_rounds')),
      h('span', { class: 'door-hint' }, t('sd.my_rounds_hint'))),
    h('a', { class: 'door door-2', href: '#/staff/rounds/new', 'data-testid': 'staff-new-round' },
      h('span', { class: 'door-label' }, t('sd.new_round')),
      h('span', { class: 'door-hint' }, t('sd.new_round_hint'))));
}

/** A liaison's door: a round for a supplier, serving their community (POST /api/rounds allows the liaison). */
function forSupplierDoor() {
  return h('nav', { class: 'doors', 'aria-label': t('sd.for_supplier') },
    h('a', { class: 'door door-2', href: '#/staff/rounds/new', 'data-testid': 'staff-new-round' },
      h('span', { class: 'door-label' }, t('sd.for_supplier')),
      h('span', { class: 'door-hint' }, t('sd.for_supplier_hint'))));
}

/** The gate (plan 2): the gate officer's screen, the reviewer's queue, the log, vehicle registration, the site's settings. */
function gateDoors(role) {
  const more = role === 'supplier' || role === 'liaison'; // beside their other doors: the quieter style
  return h('nav', { class: 'doors', 'aria-label': t('gs.doors') }, GATE_DOORS[role].map(([name, href, key], i) => h('a', {
    class: `door${i || more ? ' door-2' : ''}`, href, 'data-testid': `staff-${name}`,
  },
  h('span', { class: 'door-label' }, t(key)),
  h('span', { class: 'door-hint' }, t(`${key}_hint`)))));
}

/** The supply chain's doors; the supply point's report is its only tool, so the big style. */
function supplyDoors(role) {
  return h('nav', { class: 'doors', 'aria-label': t('sup.doors') }, SUPPLY_DOORS[role].map(([name, href, key]) => h('a', {
    class: `door${role === 'supply_point' ? '' : ' door-2'}`, href, 'data-testid': `staff-${name}`,
  },
  h('span', { class: 'door-label' }, t(key)),
  h('span', { class: 'door-hint' }, t(`${key}_hint`)))));
}

/** 取货登记 Pickup: the gate on pickup day (volunteer, information officer, liaison). */
function pickupDoor() {
  return h('nav', { class: 'doors', 'aria-label': t('pk.door') },
    h('a', { class: 'door', href: '#/staff/pickup', 'data-testid': 'staff-pickup' },
      h('span', { class: 'door-label' }, t('pk.door')),
      h('span', { class: 'door-hint' }, t('pk.door_hint'))),
    h('a', { class: 'door door-2', href: '#/staff/progress', 'data-testid': 'staff-progress' },
      h('span', { class: 'door-label' }, t('progress.title')),
      h('span', { class: 'door-hint' }, t('progress.door_hint'))));
}

function inviteErrorText(err) {
  if (err && err.status === 404) return t('invite.not_found');
  if (err && err.status === 409) return t('invite.used');
  if (err && err.status === 422 && err.code === 'invite_expired') return t('invite.expired');
  return errorText(err);
}

// #/invite/<code>
export async function inviteView(root, [code], ctx) {
  clear(root);
  const current = staff.get();
  const accept = h('button', { type: 'button', class: 'btn btn-primary btn-big', 'data-testid': 'invite-accept' }, t('invite.accept'));
  accept.addEventListener('click', async () => {
    clearMessage();
    accept.disabled = true;
    accept.textContent = t('invite.accepting');
    let res;
    try {
      // One key per invite on this device, kept until accepted: if the reply is lost,
      // tapping again gets this device its account back instead of "already used".
      const keyName = `baogong.invite-key.${code}`;
      let key = localStorage.getItem(keyName);
      if (!key) { key = uuid(); localStorage.setItem(keyName, key); }
      res = await api(`/api/invites/${encodeURIComponent(code)}/accept`,
        { method: 'POST', auth: false, headers: { 'Idempotency-Key': key } });
      localStorage.removeItem(keyName);
    } catch (err) {
      if (!ctx.isCurrent()) return;
      accept.textContent = t('invite.accept');
      // Used, expired or unknown invites will not work on a second tap either.
      accept.disabled = !(err && err.retryable);
      showError(() => inviteErrorText(err), { scroll: false });
      return;
    }
    const p = staff.parse(res && res.token);
    if (p.error) {
      if (!ctx.isCurrent()) return;
      accept.textContent = t('invite.accept');
      accept.disabled = false;
      showError(() => t('err.unknown'), { scroll: false });
      return;
    }
    staff.save(p);
    showSuccess(() => t('invite.accepted'));
    if (!ctx.isCurrent()) return;
    leaveForStaffPage();
    ctx.rerender({ refresh: false });
  });
  root.appendChild(h('section', { class: 'invite', 'aria-labelledby': 'invite-title', 'data-testid': 'invite' },
    h('h1', { id: 'invite-title' }, t('invite.title')),
    h('p', null, t('invite.body')),
    current ? h('p', { class: 'msg msg-info', 'data-testid': 'invite-replaces' }, t('invite.replaces', { role: roleText(current.role) })) : null,
    accept));
}
