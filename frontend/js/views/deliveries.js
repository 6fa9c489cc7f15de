// The supplier's vehicles at the gate (入场审批, plan 2):
// #/staff/deliveries: the vehicles registered, newest first, each with its status and, if refused, why;
// #/staff/deliveries/new: register a vehicle the day before (提前一天报备): the site, plate, vehicle type,
// enter or hand over at the gate, the arrival window (Beijing time), the cargo, the rounds it carries, and
// each person in it (driver and up to 4 passengers) with their ID number, phone, test time and the five
// documents of the checklist, each sent straight to S3 as soon as it is picked.
//
// What is typed is kept: every input writes a draft to localStorage (the uploaded files are kept by their
// keys), a failed submit keeps it, and only a registered vehicle clears it.
import '../strings/roster.js';
import '../strings/sites.js';
import { t } from '../i18n.js';
import { staffApi } from '../api.js';
import * as staff from '../staff.js';
import { h, clear, showError, showSuccess, clearMessage } from '../ui.js';
import { dateTime, halfWidth, digits } from '../format.js';
import { go } from '../nav.js';
import { uuid } from '../outbox.js';
import { presignedPost } from '../upload.js';
import { drawLoadError, staffErrorText } from './roster.js';
import { beijingInputValue, fromBeijingInput } from './roster.js';
import {
  VEHICLES, MODES, CARGO, DOCS, spath, gateStaff, loadSites, vehicleText, modeText, cargoText, docText,
  deliveryBadge, personRoleText, msg, say, pathKit, placeErrors, focusFirstError,
} from './site.js';

const DOC_TYPES = ['image/png', 'image/jpeg', 'application/pdf'];
const DOC_MAX = 5 * 1024 * 1024;
const MAX_PASSENGERS = 4;
const HOUR = 3600 * 1000;

// ======================================================================
// #/staff/deliveries
// ======================================================================

let listCache = null; // {who, deliveries, sites: {site_id: name}}

export async function deliveriesView(root, params, ctx) {
  const s = gateStaff(root, ['supplier'], 'dv.only_supplier');
  if (!s) return;
  if (ctx.refresh || !listCache || listCache.who !== s.scope_id) {
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
    try {
      const [data, sites] = await Promise.all([
        staffApi('/api/suppliers/mine/deliveries'),
        loadSites().catch(() => []),
      ]);
      listCache = {
        who: s.scope_id,
        deliveries: Array.isArray(data && data.deliveries) ? data.deliveries : [],
        sites: Object.fromEntries(sites.map((x) => [x.site_id, x.name || x.site_id])),
      };
    } catch (err) {
      if (!ctx.isCurrent()) return;
      drawLoadError(root, err, ctx, [h('a', { class: 'back', href: '#/staff' }, `← ${t('console.to_staff')}`)]);
      return;
    }
    if (!ctx.isCurrent()) return;
  }
  clear(root);
  // app.js titles this route 'dl.title', a key the round console's downloads already use (下载清单).
  document.title = `${t('dv.title')} · ${t('app.name')}`;
  const list = listCache.deliveries;
  root.appendChild(h('section', { class: 'console gatedl', 'aria-labelledby': 'dl-title' },
    h('a', { class: 'back', href: '#/staff', 'data-testid': 'dl-back' }, `← ${t('console.to_staff')}`),
    h('h1', { id: 'dl-title', class: 'page-title', 'data-testid': 'dl-title' }, t('dv.title')),
    h('a', { class: 'btn btn-primary btn-big', href: '#/staff/deliveries/new', 'data-testid': 'dl-new' }, t('dv.new')),
    h('p', { class: 'hint' }, t('dv.intro')),
    list.length
      ? h('ul', { class: 'gs-cards', 'data-testid': 'dl-list' }, list.map((d) => deliveryCard(d)))
      : h('p', { class: 'empty', 'data-testid': 'dl-empty' }, t('dv.none'))));
}

function deliveryCard(d) {
  const review = d.review || null;
  return h('li', { class: `gs-card gs-card-${d.status}`, 'data-testid': 'dl-card', 'data-delivery-id': d.delivery_id, 'data-plate': d.plate },
    h('div', { class: 'gs-card-head' },
      h('span', { class: 'gs-plate', 'data-testid': 'dl-plate' }, d.plate),
      deliveryBadge(d.status)),
    h('p', { class: 'gs-line', 'data-testid': 'dl-site' }, listCache.sites[d.site_id] || d.site_id),
    h('p', { class: 'gs-line', 'data-testid': 'dl-window' }, t('dv.window_line', { from: dateTime(d.arrive_from), until: dateTime(d.arrive_until) })),
    h('p', { class: 'gs-line' }, `${vehicleText(d.vehicle_type)} · ${modeText(d.mode)} · ${t('dv.people_n', { n: (d.people || []).length })}`),
    d.status === 'rejected' && review
      ? h('p', { class: 'msg msg-error gs-reason', 'data-testid': 'dl-reason' }, t('dv.rejected_reason', { reason: review.reason || '' }))
      : null,
    d.status === 'approved' && review
      ? h('p', { class: 'gs-line gs-ok', 'data-testid': 'dl-approved' }, t('dv.approved_at', { time: dateTime(review.at) }))
      : null,
    d.status === 'submitted' ? h('p', { class: 'hint' }, t('dv.waiting')) : null);
}

// ======================================================================
// #/staff/deliveries/new
// ======================================================================

let state = null; // {who, sites, rounds, draft, errors: Map, uploading: Map(uid.doc -> Promise), restored}

const draftKey = (s) => `baogong.delivery-draft.${s.scope_id}`;
const person = (role) => ({
  uid: uuid(), role, name: '', id_number: '', phone: '', test_at: '',
  docs: Object.fromEntries(DOCS.map((d) => [d, null])), // {key, name, site_id}
});

/**
 * A first guess at the window: two hours from the first whole hour the site allows (lead hours and a
 * little ahead), moved to 08:00 when that falls in the night (Beijing time).
 */
function defaultWindow(leadHours = 24, now = Date.now()) {
  let from = Math.ceil((now + leadHours * HOUR + 30 * 60000) / HOUR) * HOUR;
  const hour = new Date(from + 8 * HOUR).getUTCHours();
  if (hour < 7) from += (8 - hour) * HOUR;
  else if (hour > 18) from += (24 - hour + 8) * HOUR;
  return { arrive_from: beijingInputValue(new Date(from)), arrive_until: beijingInputValue(new Date(from + 2 * HOUR)) };
}

function freshDraft(lead) {
  return {
    site_id: '', plate: '', vehicle_type: 'van', mode: 'enter', ...defaultWindow(lead),
    cargo: [], round_ids: [], note: '', people: [person('driver')], submit_key: '', submit_body: '',
  };
}

function loadDraft(s) {
  try {
    const d = JSON.parse(localStorage.getItem(draftKey(s)) || 'null');
    if (!d || typeof d !== 'object' || !Array.isArray(d.people) || !d.people.length) return null;
    const out = { ...freshDraft(), ...d };
    out.people = d.people.map((p, i) => ({
      ...person(i === 0 ? 'driver' : 'passenger'), ...p,
      docs: { ...Object.fromEntries(DOCS.map((x) => [x, null])), ...(p && p.docs) },
    }));
    out.cargo = Array.isArray(d.cargo) ? d.cargo.filter((c) => CARGO.includes(c)) : [];
    out.round_ids = Array.isArray(d.round_ids) ? d.round_ids.map(String) : [];
    return out;
  } catch (e) {
    return null;
  }
}

function saveDraft() {
  const s = staff.get();
  if (!s || !state) return;
  try { localStorage.setItem(draftKey(s), JSON.stringify(state.draft)); } catch (e) { /* storage full: keep going */ }
}

function dropDraft(s) {
  try { localStorage.removeItem(draftKey(s)); } catch (e) { /* ignore */ }
}

const siteOfDraft = () => state.sites.find((x) => x.site_id === state.draft.site_id) || null;

export async function newDeliveryView(root, params, ctx) {
  const s = gateStaff(root, ['supplier'], 'dv.only_supplier');
  if (!s) return;
  if (ctx.refresh || !state || state.who !== s.scope_id) {
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
    let sites;
    let rounds = [];
    try {
      const [a, b] = await Promise.all([
        loadSites(),
        staffApi('/api/suppliers/mine/rounds').catch(() => null), // the rounds are optional
      ]);
      sites = a;
      rounds = Array.isArray(b && b.rounds) ? b.rounds : [];
    } catch (err) {
      if (!ctx.isCurrent()) return;
      drawLoadError(root, err, ctx, [h('a', { class: 'back', href: '#/staff/deliveries' }, t('dv.back'))]);
      return;
    }
    if (!ctx.isCurrent()) return;
    const keep = state && state.who === s.scope_id ? state.draft : null;
    const saved = keep ? null : loadDraft(s);
    const lead = sites.length === 1 ? sites[0].lead_hours : 24;
    state = {
      who: s.scope_id, sites, rounds, draft: keep || saved || freshDraft(lead),
      errors: new Map(), uploading: new Map(), restored: !!saved,
    };
    const d = state.draft;
    if (!sites.some((x) => x.site_id === d.site_id)) d.site_id = sites.length === 1 ? sites[0].site_id : '';
  }
  draw(root, ctx);
}

function draw(root, ctx, focus = null) {
  const d = state.draft;
  const redraw = (f) => draw(root, ctx, f);
  const kit = pathKit('dl', () => state.errors, () => saveDraft());
  clear(root);
  const sec = h('section', { class: 'console gatedl newdl', 'aria-labelledby': 'dl-new-title' },
    h('a', { class: 'back', href: '#/staff/deliveries', 'data-testid': 'dl-back' }, t('dv.back')),
    h('h1', { id: 'dl-new-title', class: 'page-title', 'data-testid': 'dl-new-title', tabindex: '-1' }, t('dl.new_title')),
    h('p', { class: 'hint' }, t('dv.new_intro')));
  if (!state.sites.length) {
    sec.appendChild(h('p', { class: 'msg msg-warn', 'data-testid': 'dl-no-sites' }, t('dv.no_sites')));
    root.appendChild(sec);
    return;
  }
  const submit = h('button', { type: 'submit', class: 'btn btn-primary btn-big', 'data-testid': 'dl-submit' }, t('dv.submit'));
  const form = h('form', { class: 'dl-form', novalidate: true, 'data-testid': 'dl-form' },
    state.restored ? restoredNote(redraw) : null,
    siteField(kit, redraw),
    vehicleBlock(kit, redraw),
    timesBlock(kit),
    cargoBlock(kit),
    roundsBlock(kit),
    h('div', { class: 'block' },
      h('h2', null, t('dv.people')),
      h('p', { class: 'hint' }, t('dv.people_hint')),
      d.people.map((p, i) => personBox(p, i, kit, root, ctx, redraw)),
      kit.errorLine('people', 'dl-people-error'),
      d.people.length - 1 < MAX_PASSENGERS
        ? h('button', {
          type: 'button', class: 'btn btn-secondary', 'data-testid': 'dl-passenger-add',
          onclick: () => {
            d.people.push(person('passenger'));
            saveDraft();
            redraw(`[data-testid="dl-person"][data-index="${d.people.length - 1}"] [data-testid="dl-person-name"]`);
          },
        }, t('dv.passenger_add'))
        : h('p', { class: 'hint', 'data-testid': 'dl-passengers-full' }, t('dv.passengers_full'))),
    kit.field('note', t('dv.note'),
      kit.bound('textarea', { rows: '2', maxlength: '200' }, () => d.note, (v) => { d.note = v; }),
      { hint: t('console.optional'), testid: 'dl-note' }),
    kit.errorLine('_top', 'dl-top-error'),
    submit,
    h('p', { class: 'hint' }, t('dv.draft_hint')));
  form.addEventListener('submit', (ev) => { ev.preventDefault(); send(root, ctx, submit); });
  sec.appendChild(form);
  root.appendChild(sec);
  if (focus) {
    const el = typeof focus === 'string' ? root.querySelector(focus) : focus;
    if (el) el.focus();
  }
}

function restoredNote(redraw) {
  return h('div', { class: 'msg msg-info', 'data-testid': 'dl-restored' },
    h('p', null, t('dv.restored')),
    h('button', {
      type: 'button', class: 'btn btn-secondary btn-sm', 'data-testid': 'dl-start-over',
      onclick: () => {
        dropDraft(staff.get());
        const site = siteOfDraft();
        state.draft = freshDraft(site ? site.lead_hours : 24);
        if (site) state.draft.site_id = site.site_id;
        state.errors = new Map();
        state.restored = false;
        clearMessage();
        redraw('#dl-new-title');
      },
    }, t('dv.start_over')));
}

// ---- where, which vehicle, when --------------------------------------------------------------

function siteField(kit, redraw) {
  const d = state.draft;
  const sel = kit.bound('select', {}, () => d.site_id, (v) => { d.site_id = v; });
  sel.appendChild(h('option', { value: '' }, t('join.choose')));
  state.sites.forEach((x) => sel.appendChild(h('option', { value: x.site_id }, x.name || x.site_id)));
  sel.value = d.site_id || '';
  sel.addEventListener('change', () => { d.site_id = sel.value; saveDraft(); redraw('#dl-site_id'); });
  const site = siteOfDraft();
  return h('div', { class: 'block' },
    kit.field('site_id', t('dv.site'), sel, { testid: 'dl-site' }),
    site ? h('p', { class: 'hint', 'data-testid': 'dl-site-rules' },
      t('dv.site_rules', { lead: site.lead_hours, valid: site.test_valid_hours, rest: site.rest_minutes })) : null);
}

function tiles(name, legend, values, label, get, set, path, tid, hint) {
  const kit = pathKit('dl', () => state.errors);
  return h('fieldset', { class: 'tiles tiles-stack', 'data-testid': `${tid}-group` },
    h('legend', null, legend),
    hint ? h('p', { class: 'hint' }, hint) : null,
    h('div', { class: 'tiles-row' }, values.map((v, i) => h('label', { class: 'tile' },
      h('input', {
        type: 'radio', name, value: v, checked: get() === v, 'data-testid': `${tid}-${v}`, 'data-path': i === 0 ? path : null,
        onchange: () => { set(v); saveDraft(); },
      }),
      h('span', null, label(v))))),
    kit.errorLine(path, `${tid}-error`));
}

function vehicleBlock(kit) {
  const d = state.draft;
  const plate = kit.bound('input', {
    type: 'text', maxlength: '12', autocomplete: 'off', autocapitalize: 'characters', spellcheck: 'false',
    placeholder: t('dv.plate_eg'), class: 'gs-plate-input',
  }, () => d.plate, (v) => { d.plate = v; });
  return h('div', { class: 'block' },
    h('h2', null, t('dv.vehicle')),
    kit.field('plate', t('dv.plate'), plate, { hint: t('dv.plate_hint'), testid: 'dl-plate' }),
    tiles('dl-vehicle', t('dv.vehicle_type'), VEHICLES, vehicleText, () => d.vehicle_type, (v) => { d.vehicle_type = v; }, 'vehicle_type', 'dl-vehicle'),
    tiles('dl-mode', t('dv.mode'), MODES, (v) => t('dv.mode_tile', { mode: modeText(v), hint: t(`mode.${v}_hint`) }), () => d.mode, (v) => { d.mode = v; }, 'mode', 'dl-mode'));
}

function timesBlock(kit) {
  const d = state.draft;
  const site = siteOfDraft();
  const lead = site ? Number(site.lead_hours) || 24 : 24;
  const earliest = new Date(Date.now() + lead * HOUR).toISOString();
  const time = (key, label) => kit.field(key, label,
    kit.bound('input', { type: 'datetime-local' }, () => d[key], (v) => { d[key] = v; }),
    { testid: `dl-${key}` });
  return h('div', { class: 'block' },
    h('h2', null, t('dv.window')),
    h('p', { class: 'hint', 'data-testid': 'dl-window-hint' }, t('dv.window_hint', { lead, earliest: dateTime(earliest) })),
    h('div', { class: 'gs-two' }, time('arrive_from', t('dv.arrive_from')), time('arrive_until', t('dv.arrive_until'))));
}

function cargoBlock(kit) {
  const d = state.draft;
  return h('fieldset', { class: 'block gs-checks-block', 'data-testid': 'dl-cargo-group' },
    h('legend', null, t('dv.cargo')),
    h('div', { class: 'gs-checks' }, CARGO.map((c, i) => {
      const box = h('input', {
        type: 'checkbox', value: c, checked: d.cargo.includes(c), 'data-testid': `dl-cargo-${c}`, 'data-path': i === 0 ? 'cargo' : null,
      });
      box.addEventListener('change', () => {
        const set = new Set(d.cargo);
        if (box.checked) set.add(c); else set.delete(c);
        d.cargo = CARGO.filter((x) => set.has(x));
        saveDraft();
      });
      return h('label', { class: 'tile gs-check' }, box, h('span', null, cargoText(c)));
    })),
    kit.errorLine('cargo', 'dl-cargo-error'));
}

function roundsBlock(kit) {
  const d = state.draft;
  const site = siteOfDraft();
  const cid = site && site.community_id;
  const rounds = state.rounds.filter((r) => !cid || !Array.isArray(r.community_ids) || r.community_ids.includes(cid));
  d.round_ids = d.round_ids.filter((id) => rounds.some((r) => r.round_id === id));
  if (!rounds.length) return null;
  return h('fieldset', { class: 'block gs-checks-block', 'data-testid': 'dl-rounds-group' },
    h('legend', null, t('dv.rounds')),
    h('p', { class: 'hint' }, t('dv.rounds_hint')),
    h('div', { class: 'gs-checks gs-checks-stack' }, rounds.map((r, i) => {
      const box = h('input', {
        type: 'checkbox', value: r.round_id, checked: d.round_ids.includes(r.round_id), 'data-testid': 'dl-round',
        'data-round-id': r.round_id, 'data-path': i === 0 ? 'round_ids' : null,
      });
      box.addEventListener('change', () => {
        const set = new Set(d.round_ids);
        if (box.checked) set.add(r.round_id); else set.delete(r.round_id);
        d.round_ids = rounds.map((x) => x.round_id).filter((x) => set.has(x));
        saveDraft();
      });
      return h('label', { class: 'tile gs-check' }, box, h('span', null, r.name || r.round_id));
    })),
    kit.errorLine('round_ids', 'dl-round_ids-error'));
}

// ---- the people in the vehicle -----------------------------------------------------------------

function personBox(p, i, kit, root, ctx, redraw) {
  const d = state.draft;
  const base = `people.${i}`;
  const input = (key, label, attrs, hint) => kit.field(`${base}.${key}`, label,
    kit.bound('input', { type: 'text', autocomplete: 'off', ...attrs }, () => p[key], (v) => { p[key] = v; }),
    { testid: `dl-person-${key}`, hint });
  return h('fieldset', { class: 'gs-person', 'data-testid': 'dl-person', 'data-index': i, 'data-role': p.role },
    h('legend', null, i === 0 ? personRoleText('driver') : t('dv.passenger_n', { n: i })),
    input('name', t('dv.person_name'), { maxlength: '20' }),
    input('id_number', t('dv.id_number'), { maxlength: '18', autocapitalize: 'characters', spellcheck: 'false', inputmode: 'text' }, t('dv.id_number_hint')),
    input('phone', t('dv.phone'), { type: 'tel', maxlength: '13', inputmode: 'tel' }),
    input('test_at', t('dv.test_at'), { type: 'datetime-local' }, t('dv.test_at_hint', { hours: (siteOfDraft() || {}).test_valid_hours || 48 })),
    h('fieldset', { class: 'gs-docs', 'data-testid': 'dl-docs' },
      h('legend', null, t('dv.docs')),
      h('p', { class: 'hint' }, t('dv.docs_hint')),
      DOCS.map((doc) => docRow(p, i, doc, root, ctx))),
    i > 0
      ? h('button', {
        type: 'button', class: 'btn btn-link gs-remove', 'data-testid': 'dl-passenger-remove',
        onclick: () => {
          d.people.splice(i, 1);
          shiftErrors(i);
          saveDraft();
          redraw('[data-testid="dl-passenger-add"]');
        },
      }, t('dv.passenger_remove', { n: i }))
      : null);
}

/** Error messages of people after a removed one move up with their person. */
function shiftErrors(removed) {
  const next = new Map();
  for (const [path, msgs] of state.errors) {
    const m = /^people\.(\d+)(\..*)?$/.exec(path);
    if (!m) { next.set(path, msgs); continue; }
    const n = Number(m[1]);
    if (n === removed) continue;
    next.set(`people.${n > removed ? n - 1 : n}${m[2] || ''}`, msgs);
  }
  state.errors = next;
}

const docKey = (p, doc) => `${p.uid}.${doc}`;
// An upload is the supplier's, whichever site it was asked at (the server names any it refuses).
const docOk = (p, doc) => !!(p.docs[doc] && p.docs[doc].key);

function docRow(p, i, doc, root, ctx) {
  const path = `people.${i}.documents.${doc}`;
  const id = `dl-doc-${p.uid}-${doc}`;
  const errs = state.errors.get(path) || [];
  const uploading = state.uploading.has(docKey(p, doc));
  const have = p.docs[doc];
  const ok = docOk(p, doc);
  const fileInput = h('input', {
    type: 'file', id, class: 'file-input', accept: DOC_TYPES.join(','), 'data-testid': `dl-doc-${doc}`, 'data-path': path,
    disabled: uploading, 'aria-describedby': `${id}-status ${id}-error`, 'aria-invalid': errs.length ? 'true' : null,
  });
  fileInput.addEventListener('change', () => {
    const file = fileInput.files && fileInput.files[0];
    if (file) pickDoc(p, doc, file, root, ctx);
  });
  let status = null;
  if (uploading) {
    status = h('p', { class: 'gs-doc-status gs-doc-uploading', id: `${id}-status`, role: 'status', 'data-testid': `dl-doc-${doc}-status`, 'data-state': 'uploading' },
      t('dv.doc_uploading'));
  } else if (ok) {
    status = h('p', { class: 'gs-doc-status gs-doc-done', id: `${id}-status`, role: 'status', 'data-testid': `dl-doc-${doc}-status`, 'data-state': 'done' },
      t('dv.doc_done', { name: have.name || '' }));
  } else {
    status = h('p', { class: 'gs-doc-status', id: `${id}-status`, 'data-testid': `dl-doc-${doc}-status`, 'data-state': 'none' }, t('dv.doc_none'));
  }
  return h('div', { class: `gs-doc${ok ? ' gs-doc-ok' : ''}`, 'data-testid': 'dl-doc', 'data-doc': doc, 'data-doc-row': docKey(p, doc) },
    h('p', { class: 'gs-doc-name' }, docText(doc)),
    status,
    fileInput,
    h('label', { class: 'btn btn-secondary btn-sm file-label', for: id }, ok ? t('dv.doc_again') : t('dv.doc_choose')),
    h('p', {
      class: 'field-error', id: `${id}-error`, 'data-error-for': path, 'data-testid': `dl-doc-${doc}-error`, hidden: errs.length === 0,
    }, errs.map(say).join(t('list_sep'))));
}

/** Re-draw one document row in place (an upload finished), keeping the rest of the form as typed. */
function repaintDoc(p, doc, root, ctx, focusLabel = false) {
  const i = state.draft.people.indexOf(p);
  if (i < 0) return;
  const old = root.querySelector(`[data-doc-row="${CSS.escape(docKey(p, doc))}"]`);
  if (!old) return;
  const had = old.contains(document.activeElement);
  const row = docRow(p, i, doc, root, ctx);
  old.replaceWith(row);
  if (had || focusLabel) {
    const input = row.querySelector('.file-input');
    if (input && !input.disabled) input.focus();
  }
}

async function pickDoc(p, doc, file, root, ctx) {
  const d = state.draft;
  const i = d.people.indexOf(p);
  const path = `people.${i}.documents.${doc}`;
  clearMessage();
  state.errors.delete(path);
  const type = (file.type || '').toLowerCase();
  if (!d.site_id) state.errors.set(path, [msg('dv.doc_site_first')]);
  else if (!DOC_TYPES.includes(type)) state.errors.set(path, [msg('dv.doc_bad_type')]);
  else if (file.size > DOC_MAX) state.errors.set(path, [msg('dv.doc_too_big')]);
  if (state.errors.has(path)) { repaintDoc(p, doc, root, ctx, true); return; }
  const sid = d.site_id;
  const k = docKey(p, doc);
  const job = (async () => {
    const presigned = await staffApi(spath(sid, '/documents'), { method: 'POST', body: {} });
    return presignedPost(presigned, file, doc);
  })();
  state.uploading.set(k, job);
  repaintDoc(p, doc, root, ctx);
  try {
    const key = await job;
    if (state.uploading.get(k) !== job) return;
    p.docs[doc] = { key, name: file.name || docText(doc), site_id: sid };
    saveDraft();
  } catch (err) {
    if (state.uploading.get(k) !== job) return;
    const j = d.people.indexOf(p);
    if (j >= 0) {
      state.errors.set(`people.${j}.documents.${doc}`, [err && err.status === 0 ? msg('dv.doc_offline')
        : err && err.code && err.status >= 400 && err.status !== 403 && (err.message || err.message_en) ? staffErrorText(err) : msg('dv.doc_failed')]);
    }
  } finally {
    if (state.uploading.get(k) === job) state.uploading.delete(k);
  }
  if (ctx.isCurrent()) repaintDoc(p, doc, root, ctx);
}

// ---- checking and sending -----------------------------------------------------------------------

const ID_WEIGHTS = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2];
/** An 18-character ID number whose check digit is right (GB 11643). */
function isIdNumber(v) {
  if (!/^[1-9]\d{16}[\dX]$/.test(v)) return false;
  const sum = ID_WEIGHTS.reduce((a, w, k) => a + w * Number(v[k]), 0);
  return '10X98765432'[sum % 11] === v[17];
}
const idText = (v) => halfWidth(v).replace(/\s/g, '').toUpperCase();
const plateText = (v) => halfWidth(v).replace(/[\s·•・.-]/g, '').toUpperCase();

function check() {
  const d = state.draft;
  const e = new Map();
  const need = (path, v) => { if (!String(v ?? '').trim()) { e.set(path, [msg('console.required')]); return false; } return true; };
  need('site_id', d.site_id);
  need('plate', d.plate);
  const from = fromBeijingInput(d.arrive_from);
  const until = fromBeijingInput(d.arrive_until);
  if (need('arrive_from', d.arrive_from) && !from) e.set('arrive_from', [msg('dv.bad_time')]);
  if (need('arrive_until', d.arrive_until) && !until) e.set('arrive_until', [msg('dv.bad_time')]);
  if (from && until) {
    const span = Date.parse(until) - Date.parse(from);
    if (span <= 0) e.set('arrive_until', [msg('dv.until_before_from')]);
    else if (span > 24 * HOUR) e.set('arrive_until', [msg('dv.window_too_long')]);
  }
  if (!d.cargo.length) e.set('cargo', [msg('dv.pick_cargo')]);
  d.people.forEach((p, i) => {
    const b = `people.${i}`;
    need(`${b}.name`, p.name);
    if (need(`${b}.id_number`, p.id_number) && !isIdNumber(idText(p.id_number))) e.set(`${b}.id_number`, [msg('dv.bad_id')]);
    if (need(`${b}.phone`, p.phone) && !/^1\d{10}$/.test(digits(p.phone))) e.set(`${b}.phone`, [msg('err.phone')]);
    const at = fromBeijingInput(p.test_at);
    if (need(`${b}.test_at`, p.test_at)) {
      if (!at) e.set(`${b}.test_at`, [msg('dv.bad_time')]);
      else if (Date.parse(at) > Date.now() + 60000) e.set(`${b}.test_at`, [msg('dv.test_in_future')]);
    }
    DOCS.forEach((doc) => {
      if (!docOk(p, doc) && !state.uploading.has(docKey(p, doc))) e.set(`${b}.documents.${doc}`, [msg('dv.doc_missing')]);
    });
  });
  return e;
}

function body() {
  const d = state.draft;
  const out = {
    plate: plateText(d.plate),
    vehicle_type: d.vehicle_type,
    mode: d.mode,
    arrive_from: fromBeijingInput(d.arrive_from),
    arrive_until: fromBeijingInput(d.arrive_until),
    cargo: d.cargo.slice(),
    people: d.people.map((p, i) => ({
      role: i === 0 ? 'driver' : 'passenger',
      name: p.name.trim(),
      id_number: idText(p.id_number),
      phone: digits(p.phone),
      test_at: fromBeijingInput(p.test_at),
      documents: Object.fromEntries(DOCS.map((doc) => [doc, p.docs[doc] ? p.docs[doc].key : ''])),
    })),
  };
  if (d.round_ids.length) out.round_ids = d.round_ids.slice();
  if (d.note.trim()) out.note = d.note.trim();
  return out;
}

/** The same key while the same vehicle is sent again (a lost answer): the server gives back the one made. */
function submitKey(payload) {
  const d = state.draft;
  const text = JSON.stringify([d.site_id, payload]);
  if (!d.submit_key || d.submit_body !== text) {
    d.submit_key = `delivery-${uuid()}`;
    d.submit_body = text;
    saveDraft();
  }
  return d.submit_key;
}

// 422s that name no field still belong to one.
const CODE_FIELD = { too_late: 'arrive_from', window_too_long: 'arrive_until' };

async function send(root, ctx, submit) {
  clearMessage();
  if (state.uploading.size) {
    submit.disabled = true;
    submit.textContent = t('dv.waiting_upload');
    try { await Promise.allSettled([...state.uploading.values()]); } catch (e) { /* each has its own message */ }
    if (!ctx.isCurrent()) return;
  }
  const found = check();
  state.errors = found;
  if (found.size) {
    draw(root, ctx);
    focusFirstError(root, state.errors);
    showError(() => t('err.form'), { scroll: false });
    return;
  }
  submit.disabled = true;
  submit.setAttribute('aria-busy', 'true');
  submit.textContent = t('dv.submitting');
  const d = state.draft;
  let created;
  try {
    const payload = body();
    created = await staffApi(spath(d.site_id, '/deliveries'), {
      method: 'POST', body: payload, timeoutMs: 30000, headers: { 'Idempotency-Key': submitKey(payload) },
    });
  } catch (err) {
    if (!ctx.isCurrent()) return;
    if (err && (err.status === 400 || err.status === 422)) {
      const form = root.querySelector('[data-testid="dl-form"]') || root;
      const { map, extra } = placeErrors(form, err);
      state.errors = map;
      if (!map.size && CODE_FIELD[err.code]) state.errors.set(CODE_FIELD[err.code], [err.message ? `${err.message} / ${err.message_en || ''}` : msg('dv.refused')]);
      else if (extra.length) state.errors.set('_top', extra);
      draw(root, ctx);
      focusFirstError(root, state.errors);
      showError(() => staffErrorText(err), { scroll: false });
      return;
    }
    draw(root, ctx);
    const kept = err && (err.status === 0 || err.status === 429 || err.status >= 500);
    showError(() => (kept ? `${staffErrorText(err)} ${t('dv.kept')}` : staffErrorText(err)));
    return;
  }
  dropDraft(staff.get());
  state = null;
  listCache = null;
  showSuccess(() => t('dv.created', { plate: (created && created.plate) || '' }));
  go('#/staff/deliveries');
}
