// The outbox: writes that have not been confirmed by the server yet — checkouts (orders), payment
// claims (「我已付款」) and pickup marks (取货登记 at the gate). This module is the only owner of the
// IndexedDB outbox.
//
// IndexedDB schema (the only place it is defined):
//   database "baogong", version 1
//   object store "outbox", keyPath "key"   (key = the Idempotency-Key, a UUID)
//   entry: {key, kind, path, household_id, body, created_at (ISO), attempts, last_error, ...}
//     kind "order" (the default: entries saved before kinds existed have none and are orders):
//       path "/api/orders", body {round_id, lines: [{bundle_id, qty}]}, round_name
//     kind "payment_claim":
//       path "/api/orders/<order_id>/payment-claim", body {reference?}, order_id
//     kind "pickup" (a staff member's write: no household_id, sent with the staff token):
//       path "/api/orders/<order_id>/pickup", body {method: "self"|"door"}, order_id, round_id,
//       staff_scope (the community), flat_label (to name it in messages)
// One store for every kind: no schema upgrade, and replay sends them in the order they were made.
// A resident's entries belong to their household, a pickup mark to the staff sign-in's community:
// each is replayed only while that sign-in is on this phone.
// If IndexedDB is unavailable (some in-app browsers, private modes) the same
// entries are kept in localStorage under "baogong.outbox".
//
// One Idempotency-Key is made per attempt and stored *before* the request is
// sent, so every retry (a tap on "try again", coming back online, reopening the
// app) sends the same key and the server never makes a second order or claim.
// Replay runs at start-up, on `online` and on `visibilitychange`; it does not
// rely on Background Sync (missing in Safari/iOS and in WeChat).
import { api, staffApi } from './api.js';
import * as session from './session.js';
import * as staff from './staff.js';

const DB_NAME = 'baogong';
const DB_VERSION = 1;
const STORE = 'outbox';
const LS_KEY = 'baogong.outbox';

let dbPromise = null;

function openDb() {
  if (!dbPromise) {
    dbPromise = new Promise((resolve) => {
      try {
        if (!self.indexedDB) { resolve(null); return; }
        const req = indexedDB.open(DB_NAME, DB_VERSION);
        req.onupgradeneeded = () => {
          const db = req.result;
          if (!db.objectStoreNames.contains(STORE)) db.createObjectStore(STORE, { keyPath: 'key' });
        };
        req.onsuccess = () => resolve(req.result);
        req.onerror = () => resolve(null);
        req.onblocked = () => resolve(null);
      } catch (e) {
        resolve(null);
      }
    });
  }
  return dbPromise;
}

function lsRead() {
  try { return JSON.parse(localStorage.getItem(LS_KEY) || '[]'); } catch (e) { return []; }
}
function lsWrite(list) { localStorage.setItem(LS_KEY, JSON.stringify(list)); }

function tx(db, mode, fn) {
  return new Promise((resolve, reject) => {
    const t = db.transaction(STORE, mode);
    const store = t.objectStore(STORE);
    let result;
    const r = fn(store);
    if (r) r.onsuccess = () => { result = r.result; };
    t.oncomplete = () => resolve(result);
    t.onerror = () => reject(t.error);
    t.onabort = () => reject(t.error);
  });
}

export async function put(entry) {
  const db = await openDb();
  if (db) return tx(db, 'readwrite', (s) => s.put(entry));
  lsWrite(lsRead().filter((e) => e.key !== entry.key).concat([entry]));
  return undefined;
}

export async function list() {
  const db = await openDb();
  const all = db ? await tx(db, 'readonly', (s) => s.getAll()) : lsRead();
  return (all || []).sort((a, b) => (a.created_at < b.created_at ? -1 : 1));
}

export async function remove(key) {
  const db = await openDb();
  if (db) return tx(db, 'readwrite', (s) => s.delete(key));
  lsWrite(lsRead().filter((e) => e.key !== key));
  return undefined;
}

export const ORDER = 'order';
export const PAYMENT_CLAIM = 'payment_claim';
export const PICKUP = 'pickup';

/** An entry's kind: entries written before kinds existed are orders. */
export function kindOf(entry) {
  return (entry && entry.kind) || ORDER;
}
function pathOf(entry) {
  return entry.path || (kindOf(entry) === ORDER ? '/api/orders' : null);
}

/** True for a staff member's entry (a pickup mark), false for a resident's. */
function isStaffEntry(e) {
  return kindOf(e) === PICKUP;
}

/** The current household's entries (orders and payment claims). */
async function mine() {
  const s = session.get();
  if (!s) return [];
  return (await list()).filter((e) => !isStaffEntry(e) && e.household_id === s.household_id);
}

/** The signed-in staff member's entries (pickup marks of their community). */
async function staffMine() {
  const s = staff.get();
  if (!s) return [];
  return (await list()).filter((e) => isStaffEntry(e) && e.staff_scope === s.scope_id);
}

/** Everything this phone may send now, oldest first: the household's entries and the staff member's. */
async function sendable(only) {
  const [a, b] = await Promise.all([only === 'staff' ? [] : mine(), only === 'household' ? [] : staffMine()]);
  return a.concat(b).sort((x, y) => (x.created_at < y.created_at ? -1 : 1));
}

/** The current household's unconfirmed checkout, if any (an order, never a payment claim). */
export async function pending() {
  return (await mine()).find((e) => kindOf(e) === ORDER) || null;
}

/** The current household's unconfirmed payment claims, by order id. */
export async function pendingClaims() {
  const m = new Map();
  for (const e of await mine()) if (kindOf(e) === PAYMENT_CLAIM) m.set(e.order_id, e);
  return m;
}

export function uuid() {
  if (self.crypto && typeof crypto.randomUUID === 'function') return crypto.randomUUID();
  // Older browsers / non-secure contexts: RFC 4122 v4 from getRandomValues.
  const b = crypto.getRandomValues(new Uint8Array(16));
  b[6] = (b[6] & 0x0f) | 0x40;
  b[8] = (b[8] & 0x3f) | 0x80;
  const x = Array.from(b, (v) => (v < 16 ? '0' : '') + v.toString(16)).join('');
  return `${x.slice(0, 8)}-${x.slice(8, 12)}-${x.slice(12, 16)}-${x.slice(16, 20)}-${x.slice(20)}`;
}

// --- sending --------------------------------------------------------------

const listeners = new Set();
/**
 * fn({state: 'sent'|'rejected'|'pending', entry, order?, httpStatus?, error?, origin}); `entry.kind`
 * (see kindOf) says whether it was a checkout, a payment claim or a pickup mark; `order` is the
 * server's answer (the order, or for a pickup mark its PickupEntry).
 */
export function onResult(fn) { listeners.add(fn); }
function emit(r) { listeners.forEach((fn) => { try { fn(r); } catch (e) { console.error(e); } }); }

async function sendOne(entry, origin) {
  try {
    const path = pathOf(entry);
    if (!path) throw new Error(`outbox entry without a path: ${entry.key}`);
    const { status, data } = await (isStaffEntry(entry) ? staffApi : api)(path, {
      method: 'POST',
      body: entry.body,
      headers: { 'Idempotency-Key': entry.key },
      full: true,
    });
    await remove(entry.key);
    return { state: 'sent', entry, order: data, httpStatus: status, origin };
  } catch (error) {
    // Refused for the sign-in (a token expired, or signed out elsewhere): kept, not dropped. An order, a
    // payment claim or a pickup mark waits for the next sign-in of the same household (or of this
    // community's staff) and is sent then. Only a phone removed from its flat drops its household's
    // entries: it may no longer act for that flat.
    const keep = error && error.status === 401 && (isStaffEntry(entry) || error.code !== 'membership_ended');
    if (error && (error.retryable || keep)) {
      entry.attempts = (entry.attempts || 0) + 1;
      entry.last_error = error.code;
      try { await put(entry); } catch (e) { /* keep going */ }
      return { state: 'pending', entry, error, origin };
    }
    // A definite answer (400/401/403/409/422...): this attempt is over.
    await remove(entry.key);
    return { state: 'rejected', entry, error, origin };
  }
}

let chain = Promise.resolve();

/**
 * Send every unconfirmed entry of this phone, one at a time: the household's checkouts and payment
 * claims and the staff member's pickup marks. only: 'household' or 'staff' sends just those.
 */
export function flush(origin = 'replay', only = null) {
  const run = chain.then(async () => {
    const entries = await sendable(only);
    const results = [];
    for (const e of entries) {
      const r = await sendOne(e, origin);
      results.push(r);
      emit(r);
    }
    return results;
  });
  chain = run.catch(() => []);
  return run;
}

/**
 * Start a checkout: reuse the pending attempt if there is one (same key),
 * otherwise store a new attempt with a fresh key, then send.
 * Resolves to the result for that attempt.
 */
export async function submit(body, meta = {}) {
  let entry = await pending();
  if (!entry) entry = await store(ORDER, '/api/orders', body, { round_name: meta.round_name || '' });
  return sendNow(entry);
}

/** Store a new attempt with a fresh key, before anything is sent: every retry then sends that key. */
async function store(kind, path, body, extra) {
  const owner = kind === PICKUP ? { staff_scope: staff.get().scope_id } : { household_id: session.get().household_id };
  const entry = {
    key: uuid(), kind, path, ...owner, body, ...extra,
    created_at: new Date().toISOString(), attempts: 0, last_error: null,
  };
  await put(entry);
  return entry;
}

/** Send everything of the same owner waiting (this entry among it, in order) and answer for this entry. */
async function sendNow(entry) {
  const results = await flush('user', isStaffEntry(entry) ? 'staff' : 'household');
  return results.find((r) => r.entry.key === entry.key) || { state: 'sent', entry, origin: 'user' };
}

/**
 * 「我已付款」: claim payment of one order. A claim still waiting for this order with the same body
 * is sent again with its key; another body (a corrected reference) replaces it with a new key (the
 * server treats a second claim as a no-op, so nothing is done twice). Resolves like submit().
 */
export async function submitClaim(orderId, body) {
  const waiting = (await pendingClaims()).get(orderId);
  let entry = waiting && JSON.stringify(waiting.body) === JSON.stringify(body) ? waiting : null;
  if (!entry) {
    if (waiting) await remove(waiting.key);
    entry = await store(PAYMENT_CLAIM, `/api/orders/${encodeURIComponent(orderId)}/payment-claim`, body,
      { order_id: orderId });
  }
  return sendNow(entry);
}

/** The signed-in staff member's pickup marks not confirmed yet, by order id. */
export async function pendingPickups() {
  const m = new Map();
  for (const e of await staffMine()) m.set(e.order_id, e);
  return m;
}

/**
 * 取货登记: mark one order picked up (method "self" or "door"). The mark is stored first (with its own
 * Idempotency-Key) and then sent; without signal it stays stored and is sent on replay with the same
 * key, so the server records it once. A mark already waiting for this order is sent again as it is.
 * meta: {round_id, flat_label}. Resolves like submit(): state 'sent' (order = the PickupEntry),
 * 'pending' (stored, not confirmed) or 'rejected' (error: e.g. 422 not_paid).
 */
export async function submitPickup(orderId, method, meta = {}) {
  let entry = (await pendingPickups()).get(orderId);
  if (!entry) {
    entry = await store(PICKUP, `/api/orders/${encodeURIComponent(orderId)}/pickup`, { method },
      { order_id: orderId, round_id: meta.round_id || '', flat_label: meta.flat_label || '' });
  }
  return sendNow(entry);
}

/**
 * Take back a pickup mark that is still waiting (「撤销」 before it was confirmed). Waits for a replay in
 * progress, so it never drops an entry mid-send. Resolves to the removed entry, or null if there was none
 * (it was sent: undo it on the server instead). An entry with attempts > 0 may have reached the server
 * with its answer lost: the caller checks the server too.
 */
export async function cancelPickup(orderId) {
  const run = chain.then(async () => {
    const entry = (await pendingPickups()).get(orderId);
    if (!entry) return null;
    await remove(entry.key);
    return entry;
  });
  chain = run.catch(() => null);
  return run;
}

let started = false;
/** Replay at start-up, when the connection comes back, and when the app is shown again. */
export function startReplay() {
  if (started) return;
  started = true;
  const maybe = async () => {
    if (navigator.onLine === false) return;
    if ((await sendable()).length) flush('replay');
  };
  self.addEventListener('online', maybe);
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') maybe(); });
  maybe();
}
