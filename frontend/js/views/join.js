// #/join/<join_key>: show the community and register the flat.
import { t } from '../i18n.js';
import { api, errorText } from '../api.js';
import * as session from '../session.js';
import { h, clear, showError, showSuccess, showInfo, clearMessage } from '../ui.js';
import '../strings/household.js';
import { digits, halfWidth, flat as flatLabel } from '../format.js';
import { go } from '../nav.js';
import { asList, makeForm } from '../forms.js';

const FIELDS = ['building', 'unit', 'room', 'phone', 'name'];

// Loaded community (per key) and what the user has typed, so a language
// switch re-draws the form without a refetch and without losing input.
let cache = { key: null, data: null };
let draft = { building: '', unit: '', room: '', phone: '', name: '' };
let fieldErrors = {};

export async function joinView(root, [key], ctx) {
  if (cache.key !== key || !cache.data || ctx.refresh) {
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
    const data = await api(`/api/join/${encodeURIComponent(key)}`, { auth: false });
    if (!ctx.isCurrent()) return;
    if (cache.key !== key) {
      draft = { building: '', unit: '', room: '', phone: '', name: '' };
      fieldErrors = {};
    }
    cache = { key, data };
  }
  draw(root, key, cache.data);
}

function draw(root, key, c) {
  clear(root);
  // Shapes doc: [{name, units: [...]}]; a plain list of names is accepted too.
  const buildings = (Array.isArray(c.buildings) ? c.buildings : [])
    .map((b) => (typeof b === 'string' ? { name: b, units: [] } : { name: b.name ?? b.id, units: b.units || [] }))
    .filter((b) => b.name);
  if (!draft.building && buildings.length === 1) draft.building = buildings[0].name;
  const unitsOf = (name) => {
    const b = buildings.find((x) => x.name === name);
    return b && Array.isArray(b.units) ? b.units : [];
  };

  const s = session.get();
  // Error lines keep their own test ids (field-error-<name>), as before the shared helper.
  const fields = makeForm('join', 'join', { errorTestId: (name) => `field-error-${name}` });
  const field = fields.field;
  const setFieldError = fields.setError;

  // Building
  const building = h('select', { name: 'building', 'data-testid': 'building', required: true, autocomplete: 'off' },
    h('option', { value: '' }, t('join.choose')),
    buildings.map((b) => h('option', { value: b.name, selected: b.name === draft.building }, b.name)));

  // Unit: only shown when the chosen building has units.
  const unit = h('select', { name: 'unit', 'data-testid': 'unit' });
  const unitField = field('unit', t('join.unit'), unit);
  function fillUnits() {
    const units = unitsOf(draft.building);
    clear(unit);
    unit.appendChild(h('option', { value: '' }, t('join.choose')));
    units.forEach((u) => unit.appendChild(h('option', { value: u, selected: u === draft.unit }, u)));
    if (!units.includes(draft.unit)) draft.unit = units.length === 1 ? units[0] : '';
    unit.value = draft.unit;
    unitField.hidden = units.length === 0;
    unit.required = units.length > 0;
  }
  building.addEventListener('change', () => {
    draft.building = building.value;
    setFieldError('building', []);
    setFieldError('unit', []);
    fillUnits();
  });
  unit.addEventListener('change', () => { draft.unit = unit.value; setFieldError('unit', []); });

  const room = h('input', {
    type: 'text', name: 'room', inputmode: 'numeric', autocomplete: 'off', maxlength: '10',
    required: true, 'data-testid': 'room', value: draft.room,
  });
  const phone = h('input', {
    type: 'tel', name: 'phone', inputmode: 'tel', autocomplete: 'tel-national', maxlength: '13',
    required: true, 'data-testid': 'phone', value: draft.phone,
  });
  const name = h('input', { type: 'text', name: 'name', autocomplete: 'name', maxlength: '40', 'data-testid': 'name', value: draft.name });
  for (const [k, el] of [['room', room], ['phone', phone], ['name', name]]) {
    el.addEventListener('input', () => { draft[k] = el.value; });
  }
  // Chinese keyboards may type full-width digits (１３８…): show them as normal digits.
  for (const [k, el, fn] of [['room', room, halfWidth], ['phone', phone, digits]]) {
    el.addEventListener('blur', () => { el.value = fn(el.value); draft[k] = el.value; });
  }

  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'join-submit' }, t('join.submit'));

  const form = h('form', { class: 'join-form', 'data-testid': 'join-form', novalidate: true },
    field('building', t('join.building'), building),
    unitField,
    field('room', t('join.room'), room, t('join.room_hint')),
    field('phone', t('join.phone'), phone, t('join.phone_hint')),
    field('name', t('join.name'), name),
    submit);
  fillUnits();
  for (const f of FIELDS) if (fieldErrors[f]) setFieldError(f, fieldErrors[f]);

  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessage();
    fieldErrors = {};
    FIELDS.forEach((f) => setFieldError(f, []));

    const units = unitsOf(draft.building);
    const body = { building: draft.building, room: halfWidth(draft.room), phone: digits(draft.phone) };
    if (units.length) body.unit = draft.unit;
    if (draft.name.trim()) body.name = draft.name.trim();

    // Checks the browser can make before sending anything over a weak line.
    const local = {};
    if (!body.building) local.building = [t('err.choose')];
    if (units.length && !body.unit) local.unit = [t('err.choose')];
    if (!body.room) local.room = [t('err.required')];
    if (!/^1\d{10}$/.test(body.phone)) local.phone = [body.phone ? t('err.phone') : t('err.required')];
    if (Object.keys(local).length) {
      fieldErrors = local;
      Object.entries(local).forEach(([f, m]) => setFieldError(f, m));
      showError(() => t('err.form'), { scroll: false });
      focusFirstInvalid();
      return;
    }

    submit.disabled = true;
    submit.textContent = t('join.submitting');
    try {
      const res = await api(`/api/join/${encodeURIComponent(key)}/households`, { method: 'POST', body, auth: false });
      const pending = res.membership === 'pending';
      // A fresh registration: forget the cart and the saved orders of whatever this phone was before.
      session.forgetMemberData();
      session.save({
        token: res.token,
        household_id: res.household_id,
        member_id: res.member_id || null,
        membership: pending ? 'pending' : 'member',
        pending_requests: 0,
        community_id: res.community_id || c.community_id,
        community_name: c.name,
        flat: res.flat || { building: body.building, unit: body.unit || '', room: body.room },
        phone_masked: res.phone_masked || '',
        join_key: key,
        info_officer_name: (c.info_officer && c.info_officer.name) || null,
      });
      localStorage.removeItem('baogong.cart');
      draft = { building: '', unit: '', room: '', phone: '', name: '' };
      if (pending) {
        // Someone already registered this flat: this phone waits until a member approves it.
        showInfo(() => t('join.pending_done'));
        go('#/household');
      } else {
        showSuccess(() => t('join.done'));
        go('#/rounds');
      }
    } catch (err) {
      submit.disabled = false;
      submit.textContent = t('join.submit');
      const extra = [];
      if (err && err.fields) {
        for (const [f, msgs] of Object.entries(err.fields)) {
          if (FIELDS.includes(f)) { fieldErrors[f] = asList(msgs); setFieldError(f, msgs); } else extra.push(...asList(msgs));
        }
      }
      showError(() => [errorText(err), ...extra].join(t('list_sep')), { scroll: false });
      focusFirstInvalid();
    }
  });

  function focusFirstInvalid() {
    const f = FIELDS.find((n) => fields.inputs[n] && fields.inputs[n].getAttribute('aria-invalid') === 'true');
    if (f) fields.inputs[f].focus();
    else window.scrollTo(0, 0);
  }

  // The community's one distribution point (发放点) and its information officer (信息员), when set;
  // without a distribution point, the pickup points as before.
  const dp = c.distribution_point && c.distribution_point.name ? c.distribution_point : null;
  const officer = c.info_officer && c.info_officer.name ? c.info_officer.name : null;
  const facts = dp || officer
    ? h('section', { class: 'card community-facts', 'data-testid': 'community-facts' },
      dp ? h('p', { class: 'fact', 'data-testid': 'distribution-point' },
        t('join.distribution_point', { name: dp.name }),
        dp.note ? h('span', { class: 'hint fact-note', 'data-testid': 'distribution-point-note' }, dp.note) : null) : null,
      officer ? h('p', { class: 'fact', 'data-testid': 'info-officer' }, t('join.info_officer', { name: officer })) : null)
    : null;
  const pickup = !dp && Array.isArray(c.pickup_points) && c.pickup_points.length
    ? h('section', { class: 'card pickup-points', 'data-testid': 'pickup-points' },
      h('h2', null, t('join.pickup_points')),
      h('ul', null, c.pickup_points.map((p) => h('li', null, p.name, p.note ? h('span', { class: 'hint' }, ` — ${p.note}`) : null))))
    : null;

  root.appendChild(h('section', { class: 'join', 'aria-labelledby': 'join-title' },
    h('p', { class: 'community-name', 'data-testid': 'community-name' }, c.name),
    c.sub_district && c.sub_district.name ? h('p', { class: 'hint' }, c.sub_district.name) : null,
    facts,
    h('h1', { id: 'join-title' }, t('join.title')),
    h('p', { class: 'hint' }, t('join.subtitle')),
    s ? h('p', { class: 'msg msg-info' }, t('join.already', { flat: flatLabel(s.flat) || s.community_name || '' })) : null,
    form,
    pickup));
}
