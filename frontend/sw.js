// Service worker: caches the app shell only. API responses are never cached.
// Bump VERSION whenever any shell file changes; old caches are deleted on activate.
const VERSION = 'v31';
const CACHE = `baogong-shell-${VERSION}`;
const CACHE_PREFIX = 'baogong-shell-';

const SHELL = [
  './',
  './index.html',
  './manifest.webmanifest',
  './css/app.css',
  './css/staff.css',
  './js/app.js',
  './js/i18n.js',
  './js/session.js',
  './js/api.js',
  './js/ui.js',
  './js/format.js',
  './js/nav.js',
  './js/outbox.js',
  './js/staff.js',
  './js/bundles.js',
  './js/forms.js',
  './js/views/join.js',
  './js/views/rounds.js',
  './js/views/orders.js',
  './js/views/staff.js',
  './js/strings/household.js',
  './js/strings/roster.js',
  './js/views/household.js',
  './js/views/roster.js',
  './js/views/special.js',
  './js/views/assist.js',
  './js/views/community.js',
  './js/strings/payments.js',
  './js/views/payments.js',
  './js/views/unpaid.js',
  './js/notices.js',
  './js/strings/pickupday.js',
  './js/views/slots.js',
  './js/views/progress.js',
  './vendor/qrcode-generator-1.4.4/qrcode.js', // the pickup code's QR; loaded by notices.js when first drawn
  './js/strings/supplier.js',
  './js/views/newround.js',
  './js/views/supplier.js',
  './js/scan.js',
  './js/strings/pickup.js',
  './js/views/pickup.js',
  './vendor/jsQR.js', // the QR decoder where the browser has no BarcodeDetector; loaded only there
  // The gate's and the supply chain's screens: loaded on first use (app.js), kept for use without a signal.
  './js/upload.js',
  './js/download.js',
  './js/strings/gate.js',
  './js/views/gate.js',
  './js/strings/sites.js',
  './js/views/site.js',
  './js/views/deliveries.js',
  './js/views/review.js',
  './js/views/gatelog.js',
  './js/strings/supply.js',
  './js/views/supply.js',
  './js/views/market.js',
  './js/views/demand.js',
  './js/views/ledger.js',
  './vendor/uplot-1.6.32/uPlot.iife.min.js', // the dashboard's charts; loaded when the first is drawn
  './vendor/uplot-1.6.32/uPlot.min.css',
  './icons/icon-192.png',
  './icons/icon-512.png',
];
const SHELL_URLS = new Set(SHELL.map((p) => new URL(p, self.location).href));

self.addEventListener('install', (event) => {
  event.waitUntil(
    caches.open(CACHE)
      .then((cache) => cache.addAll(SHELL.map((p) => new Request(p, { cache: 'reload' }))))
      .then(() => self.skipWaiting()),
  );
});

self.addEventListener('activate', (event) => {
  event.waitUntil(
    caches.keys()
      .then((keys) => Promise.all(keys
        .filter((k) => k.startsWith(CACHE_PREFIX) && k !== CACHE)
        .map((k) => caches.delete(k))))
      .then(() => self.clients.claim()),
  );
});

self.addEventListener('fetch', (event) => {
  const req = event.request;
  if (req.method !== 'GET') return;
  const url = new URL(req.url);
  if (url.origin !== self.location.origin) return;
  // The API is network only: never answered from, nor written to, any cache.
  if (url.pathname.startsWith('/api/')) return;

  const shellUrl = url.origin + url.pathname; // "/?from=qr" and "/#/join/x" are the shell too
  if (!SHELL_URLS.has(shellUrl)) return; // not part of the shell: plain network

  // Cache first for the shell; fall back to the network if the cache lost it.
  event.respondWith(
    caches.open(CACHE)
      .then((cache) => cache.match(shellUrl))
      .then((hit) => hit || fetch(req)),
  );
});

// A pickup notice the page showed through the service worker (notices.js): a tap opens the orders page.
self.addEventListener('notificationclick', (event) => {
  event.notification.close();
  const url = (event.notification.data && event.notification.data.url) || new URL('./#/orders', self.location).href;
  event.waitUntil(self.clients.matchAll({ type: 'window', includeUncontrolled: true }).then((list) => {
    for (const c of list) {
      if (new URL(c.url).origin === self.location.origin && 'focus' in c) {
        if ('navigate' in c && c.url !== url) c.navigate(url).catch(() => {});
        return c.focus();
      }
    }
    return self.clients.openWindow ? self.clients.openWindow(url) : null;
  }));
});

// Web Push (api/push.py): a notice pushed by the server, shown as a system notification.
self.addEventListener('push', (event) => {
  let msg = {};
  try { msg = event.data ? event.data.json() : {}; } catch (e) { msg = { body: event.data ? event.data.text() : '' }; }
  const url = new URL(msg.url || './#/orders', self.location).href;
  event.waitUntil(self.registration.showNotification(msg.title || '保供', {
    body: msg.body || '', tag: msg.notice_id ? `baogong-${msg.notice_id}` : undefined, icon: 'icons/icon-192.png',
    lang: 'zh-CN', data: { url },
  }));
});
