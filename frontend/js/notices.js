// The resident's notices (取货通知, 货已到): a poller of GET /api/notices/mine?since=<cursor>, a copy
// kept in localStorage (so the orders page reloaded without signal still shows the newest notice),
// and a system notification for a new notice when the resident allowed it. Never relies on push:
// it asks every ~30 s while the page is visible (less often while hidden, if the browser lets it
// run), and at once on `online` and when the page comes back into view.
//
// Also the pickup code's QR (`baogong:pickup:<round_id>:<code>`), drawn with the vendored,
// pinned qrcode-generator (frontend/vendor/README.md), loaded the first time a QR is needed.
import { t, pick, getLang, locale } from './i18n.js';
import { api } from './api.js';
import * as session from './session.js';
import { h } from './ui.js';
import { dateTime, timeOfDay } from './format.js';
import './strings/pickupday.js';

const KEY = 'baogong.cache.notices';
const VISIBLE_MS = 30000;
const HIDDEN_MS = 120000;
const KEEP_MS = 7 * 24 * 3600 * 1000; // the API's window without `since`
const MAX_KEPT = 60;
export const EVENT = 'baogong:notices';

let timer = null;
let inFlight = null;
let started = false;
let lastTry = 0;

/** The saved notices belong to one phone of one flat, like the saved orders. */
function ownerOf(s) {
  return s ? `${s.household_id}|${s.member_id || ''}` : '';
}

function readAll() {
  try {
    const v = JSON.parse(localStorage.getItem(KEY) || 'null');
    return v && typeof v === 'object' && Array.isArray(v.notices) ? v : null;
  } catch (e) {
    return null;
  }
}

/** This member's saved copy {owner, cursor, notices, checked_at}, or a fresh one. Another's is dropped. */
function load(s = session.get()) {
  const owner = ownerOf(s);
  const v = readAll();
  if (v && v.owner === owner) return v;
  if (v) { try { localStorage.removeItem(KEY); } catch (e) { /* ignore */ } }
  return { owner, cursor: null, notices: [], checked_at: null };
}

function save(v) {
  try { localStorage.setItem(KEY, JSON.stringify(v)); } catch (e) { /* ignore */ }
}

/** Forget the saved notices (a new registration, leaving the flat). */
export function forget() {
  try { localStorage.removeItem(KEY); } catch (e) { /* ignore */ }
}

/** The saved notices of the current member, newest first, and when they were last checked. */
export function cached() {
  const s = session.get();
  if (!s || session.isPending(s)) return { notices: [], checked_at: null };
  const v = load(s);
  const building = s.flat && s.flat.building;
  const list = v.notices
    .filter((n) => !building || !n.building || n.building === building)
    .sort((a, b) => String(b.created_at || '').localeCompare(String(a.created_at || '')));
  return { notices: list, checked_at: v.checked_at };
}

/** The newest notice for this flat's building, or null. */
export function newest() {
  return cached().notices[0] || null;
}

/**
 * Ask the API for notices newer than the cursor. Resolves to the notices that were new
 * (also sent as a `baogong:notices` event), or [] when there was nothing, no signal or no member.
 */
export function poll() {
  const s = session.get();
  if (!s || session.isPending(s)) return Promise.resolve([]);
  if (inFlight) return inFlight;
  lastTry = Date.now();
  const v = load(s);
  const first = !v.checked_at;
  const q = v.cursor ? `?since=${encodeURIComponent(v.cursor)}` : '';
  inFlight = api(`/api/notices/mine${q}`)
    .then((data) => {
      const now = session.get();
      if (!now || ownerOf(now) !== v.owner) return []; // signed out or re-registered meanwhile
      const cur = load(now);
      const known = new Set(cur.notices.map((n) => n.notice_id));
      const incoming = Array.isArray(data && data.notices) ? data.notices : [];
      const added = incoming.filter((n) => n && n.notice_id && !known.has(n.notice_id));
      const cutoff = Date.now() - KEEP_MS;
      cur.notices = [...cur.notices, ...added]
        .filter((n) => !Date.parse(n.created_at) || Date.parse(n.created_at) >= cutoff)
        .sort((a, b) => String(a.created_at || '').localeCompare(String(b.created_at || '')))
        .slice(-MAX_KEPT);
      if (data && data.cursor) cur.cursor = data.cursor;
      cur.checked_at = new Date().toISOString();
      save(cur);
      window.dispatchEvent(new CustomEvent(EVENT, { detail: { added, first } }));
      // A notice the resident has not seen yet: the phone says so (not for the first look at the last 7 days).
      if (added.length && !first) notify(added);
      return added;
    })
    .catch(() => []) // no signal, a pending phone (404), a removed one (401): the pages say so themselves
    .finally(() => { inFlight = null; });
  return inFlight;
}

function schedule() {
  clearTimeout(timer);
  timer = setTimeout(tick, document.visibilityState === 'visible' ? VISIBLE_MS : HIDDEN_MS);
}
async function tick() {
  await poll();
  schedule();
}
function soon() {
  if (Date.now() - lastTry < 1000) return; // a burst of events asks once
  clearTimeout(timer);
  tick();
}

/** Start polling for the whole app (a no-op while no resident member is signed in). */
export function start() {
  if (started) return;
  started = true;
  document.addEventListener('visibilitychange', () => { if (document.visibilityState === 'visible') soon(); });
  window.addEventListener('online', soon);
  window.addEventListener('baogong:session', () => {
    const s = session.get();
    if (!s) { forget(); return; }
    soon();
  });
  tick();
}

// ---- words for times ---------------------------------------------------------------------------

/** "11月29日周日" / "Sun 29 Nov": the day of a slot, in Beijing. */
export function dayText(iso) {
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  try {
    return new Intl.DateTimeFormat(locale(), {
      timeZone: 'Asia/Shanghai', month: getLang() === 'en' ? 'short' : 'long', day: 'numeric', weekday: 'short',
    }).format(d);
  } catch (e) {
    return new Date(d.getTime() + 8 * 3600 * 1000).toISOString().slice(0, 10);
  }
}

/** "14:00–14:20" (Beijing). */
export function spanText(start, end) {
  if (!start) return '';
  return end ? `${timeOfDay(start)}–${timeOfDay(end)}` : timeOfDay(start);
}

/** "更新于 5 分钟前": how old saved data is. */
export function agoText(iso, now = Date.now()) {
  const at = Date.parse(iso);
  if (!Number.isFinite(at)) return '';
  const mins = Math.floor(Math.max(0, now - at) / 60000);
  if (mins < 1) return t('notice.ago_now');
  if (mins < 60) return t('notice.ago_min', { n: mins });
  if (mins < 24 * 60) return t('notice.ago_hour', { n: Math.floor(mins / 60) });
  return t('notice.ago_at', { time: dateTime(iso) });
}

// ---- system notifications ---------------------------------------------------------------------

export function notificationsSupported() {
  return typeof window !== 'undefined' && 'Notification' in window;
}
export function permission() {
  return notificationsSupported() ? Notification.permission : 'unsupported';
}
/** Ask the phone for permission to show notifications; resolves to 'granted', 'denied' or 'default'. */
export async function askPermission() {
  if (!notificationsSupported()) return 'unsupported';
  try {
    const r = Notification.requestPermission();
    // Old Safari takes a callback and returns nothing.
    return await (r && typeof r.then === 'function' ? r : new Promise((resolve) => Notification.requestPermission(resolve)));
  } catch (e) {
    return Notification.permission;
  }
}

// ---- Web Push (an extra: push services are often unreachable in mainland China) --------------------

function keyBytes(b64url) {
  const b64 = b64url.replace(/-/g, '+').replace(/_/g, '/') + '='.repeat((4 - (b64url.length % 4)) % 4);
  const bin = atob(b64);
  return Uint8Array.from(bin, (c) => c.charCodeAt(0));
}

/**
 * Once notifications are allowed, subscribe this phone to Web Push where the browser has it, and
 * tell the server (its key from GET /api/push/key; 404 push_off: the server has none). Resolves to
 * true when subscribed. Every failure is quiet: the poll above stays the channel that always works.
 */
export async function enablePush() {
  try {
    if (permission() !== 'granted' || !('serviceWorker' in navigator) || !('PushManager' in window)) return false;
    const reg = await Promise.race([navigator.serviceWorker.ready, new Promise((r) => { setTimeout(() => r(null), 5000); })]);
    if (!reg || !reg.pushManager) return false;
    const { public_key: key } = await api('/api/push/key');
    const sub = (await reg.pushManager.getSubscription())
      || (await reg.pushManager.subscribe({ userVisibleOnly: true, applicationServerKey: keyBytes(key) }));
    await api('/api/push/subscriptions', { method: 'POST', body: sub.toJSON() });
    return true;
  } catch (e) {
    return false;
  }
}

export function noticeTitle(n) {
  return n && n.kind === 'arrival' ? t('notice.kind_arrival') : t('notice.kind_slot');
}

async function notify(added) {
  if (permission() !== 'granted') return;
  // Looking at the orders page already: the banner there shows it.
  if (document.visibilityState === 'visible' && /^#\/orders\/?$/.test(location.hash)) return;
  for (const n of added.slice(-3)) {
    const title = `${noticeTitle(n)}${n.round_name ? ` · ${n.round_name}` : ''}`;
    const opts = {
      body: pick(n.text, n.text_en) || '', tag: `baogong-${n.notice_id}`, icon: 'icons/icon-192.png',
      lang: 'zh-CN', data: { url: `${location.origin}${location.pathname}#/orders` },
    };
    try {
      const reg = 'serviceWorker' in navigator ? await navigator.serviceWorker.getRegistration() : null;
      if (reg && reg.showNotification) { await reg.showNotification(title, opts); continue; }
    } catch (e) { /* fall back to the page's own */ }
    try {
      const note = new Notification(title, opts);
      note.onclick = () => { window.focus(); location.hash = '#/orders'; note.close(); };
    } catch (e) { /* Android Chrome allows only the service worker's */ }
  }
}

// ---- the pickup code's QR ----------------------------------------------------------------------

const QR_SRC = new URL('../vendor/qrcode-generator-1.4.4/qrcode.js', import.meta.url).href;
let qrLib = null;

/** The vendored generator, a classic script that defines window.qrcode, loaded once. */
function loadQrLib() {
  if (window.qrcode) return Promise.resolve(window.qrcode);
  if (!qrLib) {
    qrLib = new Promise((resolve, reject) => {
      const el = document.createElement('script');
      el.src = QR_SRC;
      el.async = true;
      el.onload = () => (window.qrcode ? resolve(window.qrcode) : reject(new Error('qrcode missing')));
      el.onerror = () => { qrLib = null; el.remove(); reject(new Error('qrcode not loaded')); };
      document.head.appendChild(el);
    });
  }
  return qrLib;
}

export function pickupQrText(roundId, code) {
  return `baogong:pickup:${roundId}:${String(code).replace(/\s+/g, '')}`;
}

/**
 * The pickup code as a QR <img> (an image: a long press can save it), drawn when the generator
 * has loaded; the code in digits stays beside it for when a volunteer types it instead.
 */
export function pickupQr(roundId, code, { testid = 'pickup-qr', size = 200 } = {}) {
  const text = pickupQrText(roundId, code);
  const img = h('img', {
    class: 'qr-img', alt: t('notice.qr_alt', { code: String(code) }), 'data-testid': testid, 'data-qr-text': text,
    width: String(size), height: String(size), hidden: true,
  });
  const failed = h('p', { class: 'hint qr-failed', 'data-testid': `${testid}-failed`, hidden: true }, t('notice.qr_failed'));
  const wrap = h('div', { class: 'qr-wrap' }, img, failed);
  loadQrLib().then((qrcode) => {
    const qr = qrcode(0, 'M');
    qr.addData(text, 'Byte');
    qr.make();
    const margin = 4; // the quiet zone scanners need
    const modules = qr.getModuleCount() + 2 * margin;
    const cell = Math.max(3, Math.floor(size / modules)); // whole CSS pixels per module: sharp edges
    const px = cell * modules;
    img.src = qr.createDataURL(cell * 2, margin * cell * 2); // twice as fine, for high-density screens
    img.width = px;
    img.height = px;
    img.hidden = false;
    img.setAttribute('data-ready', 'true');
  }).catch(() => { failed.hidden = false; });
  return wrap;
}
