// The outbox: writes that have not been confirmed by the server yet — checkouts (orders) and
// payment claims (「我已付款」). This module is the only owner of the IndexedDB outbox.
//
// IndexedDB schema (the only place it is defined):
//   database "baogong", version 1
//   object store "outbox", keyPath "key"   (key = the Idempotency-Key, a UUID)
//   entry: {key, kind, path, household_id, body, created_at (ISO), attempts, last_error, ...}
//     kind "order" (the default: entries saved before kinds existed have none and are orders):
//       path "/api/orders", body {round_id, lines: [{bundle_id, qty}]}, round_name
//     kind "payment_claim":
//       path "/api/orders/<order_id>/payment-claim", body {reference?}, order_id
// One store for both kinds: no schema upgrade, and replay sends them in the order they were made.
// If IndexedDB is unavailable (some in-app browsers, private modes) the same
// entries are kept in localStorage under "baogong.outbox".
//
// One Idempotency-Key is made per attempt and stored *before* the request is
// sent, so every retry (a tap on "try again", coming back online, reopening the
// app) sends the same key and the server never makes a second order or claim.
// Replay runs at start-up, on `online` and on `visibilitychange`; it does not
// rely on Background Sync (missing in Safari/iOS and in WeChat).
import { api } from './api.js';
import * as session from './session.js';

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

/** An entry's kind: entries written before kinds existed are orders. */
export function kindOf(entry) {
  return (entry && entry.kind) || ORDER;
}
function pathOf(entry) {
  return entry.path || (kindOf(entry) === ORDER ? '/api/orders' : null);
}

/** The current household's entries (all kinds). */
async function mine() {
  const s = session.get();
  if (!s) return [];
  return (await list()).filter((e) => e.household_id === s.household_id);
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
 * (see kindOf) says whether it was a checkout or a payment claim; `order` is the server's order either way.
 */
export function onResult(fn) { listeners.add(fn); }
function emit(r) { listeners.forEach((fn) => { try { fn(r); } catch (e) { console.error(e); } }); }

async function sendOne(entry, origin) {
  try {
    const path = pathOf(entry);
    if (!path) throw new Error(`outbox entry without a path: ${entry.key}`);
    const { status, data } = await api(path, {
      method: 'POST',
      body: entry.body,
      headers: { 'Idempotency-Key': entry.key },
      full: true,
    });
    await remove(entry.key);
    return { state: 'sent', entry, order: data, httpStatus: status, origin };
  } catch (error) {
    if (error && error.retryable) {
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

/** Send every unconfirmed entry (checkouts and payment claims) of this household, one at a time. */
export function flush(origin = 'replay') {
  const run = chain.then(async () => {
    const entries = await mine();
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
  const entry = {
    key: uuid(), kind, path, household_id: session.get().household_id, body, ...extra,
    created_at: new Date().toISOString(), attempts: 0, last_error: null,
  };
  await put(entry);
  return entry;
}

/** Send everything waiting (this entry among it, in order) and answer for this entry. */
async function sendNow(entry) {
  const results = await flush('user');
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

let started = false;
/** Replay at start-up, when the connection comes back, and when the app is shown again. */
export function startReplay() {
  if (started) return;
  started = true;
  const maybe = async () => {
    if (navigator.onLine === false) return;
    if ((await mine()).length) flush('replay');
  };
  self.addEventListener('online', maybe);
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') maybe(); });
  maybe();
}
