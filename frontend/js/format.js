// Money (integer fen) and time (ISO UTC -> Asia/Shanghai) formatting.
import { locale, t } from './i18n.js';

const TZ = 'Asia/Shanghai';

/** 1250 -> "¥12.50". Integer arithmetic only; never divides into a float. */
export function money(fen) {
  let n = Number(fen);
  if (!Number.isFinite(n)) return '¥—';
  n = Math.trunc(n);
  const sign = n < 0 ? '-' : '';
  const abs = Math.abs(n);
  const yuan = Math.floor(abs / 100);
  const cents = abs % 100;
  return `${sign}¥${yuan}.${cents < 10 ? '0' : ''}${cents}`;
}

const fmtCache = new Map();
function formatter(loc, withYear) {
  const key = `${loc}|${withYear}`;
  if (!fmtCache.has(key)) {
    const opts = {
      timeZone: TZ, month: loc.startsWith('zh') ? 'long' : 'short', day: 'numeric',
      weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23',
    };
    if (withYear) opts.year = 'numeric';
    fmtCache.set(key, new Intl.DateTimeFormat(loc, opts));
  }
  return fmtCache.get(key);
}

function shanghaiYear(d) {
  return new Date(d.getTime() + 8 * 3600 * 1000).getUTCFullYear();
}

/** Fallback for browsers whose Intl lacks time zones: China has no DST, so UTC+8. */
function manual(d) {
  const s = new Date(d.getTime() + 8 * 3600 * 1000);
  const p = (x) => (x < 10 ? '0' : '') + x;
  return `${s.getUTCFullYear()}-${p(s.getUTCMonth() + 1)}-${p(s.getUTCDate())} ${p(s.getUTCHours())}:${p(s.getUTCMinutes())}`;
}

/** "2026-11-29T04:00:00Z" -> "11月29日周日 12:00" (zh) / "Sun 29 Nov, 12:00" (en), in Shanghai time. */
export function dateTime(iso) {
  if (!iso) return '';
  const d = new Date(iso);
  if (Number.isNaN(d.getTime())) return String(iso);
  const withYear = shanghaiYear(d) !== shanghaiYear(new Date());
  try {
    return formatter(locale(), withYear).format(d);
  } catch (e) {
    return manual(d);
  }
}

/** Time of day only, Shanghai time: "12:05". */
export function timeOfDay(iso) {
  const d = iso instanceof Date ? iso : new Date(iso);
  if (Number.isNaN(d.getTime())) return '';
  try {
    return new Intl.DateTimeFormat(locale(), { timeZone: TZ, hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(d);
  } catch (e) {
    return manual(d).slice(11);
  }
}

/** "482913" -> "482 913" so a volunteer can read it aloud. */
export function pickupCode(code) {
  const s = String(code ?? '').replace(/\s+/g, '');
  if (s.length > 4 && s.length % 3 === 0) return s.replace(/(.{3})(?=.)/g, '$1 ');
  if (s.length > 4 && s.length % 4 === 0) return s.replace(/(.{4})(?=.)/g, '$1 ');
  return s;
}

/** One bundle item: {name:"大米", qty:5, unit:"kg"} -> "大米 5 kg". */
export function item(it) {
  if (!it || typeof it !== 'object') return String(it ?? '');
  return t('item', { name: it.name ?? '', qty: it.qty ?? '', unit: it.unit ?? '' }).trim();
}

/** Flat label: {building:"1栋", unit:"2单元", room:"502"} -> "1栋 2单元 502". */
export function flat(f) {
  if (!f) return '';
  return [f.building, f.unit, f.room].filter(Boolean).join(' ');
}

/** Full-width ASCII (１２Ａ－ from Chinese IMEs) to normal ASCII, trimmed. */
export function halfWidth(s) {
  return String(s ?? '')
    .replace(/[\uFF01-\uFF5E]/g, (c) => String.fromCharCode(c.charCodeAt(0) - 0xFEE0))
    .replace(/\u3000/g, ' ')
    .trim();
}

/** A phone number as typed -> digits only ("138 0013-8000" -> "13800138000"). */
export function digits(s) {
  return halfWidth(s).replace(/[\s\-–—]/g, '');
}
