// #/staff/community: the community's distribution point, information officer and settings.
// Every community has one distribution point and one information officer (配送点 / 信息员).
import '../strings/roster.js';
import { saveFile } from '../download.js';
import { t } from '../i18n.js';
import { staffApi } from '../api.js';
import { h, clear, showError, showSuccess, clearMessage } from '../ui.js';
import { dateTime, halfWidth } from '../format.js';
import { makeForm } from '../forms.js';
import {
  consoleStaff, consoleNav, drawLoadError, showStaffError, showFormError, cpath, busy, confirmBox,
} from './roster.js';

let state = null; // {cid, data}
const ui = { confirm: null, invite: null }; // confirm: 'dp' | 'io'; invite: {url} once created

export async function communityView(root, params, ctx) {
  const s = consoleStaff(root);
  if (!s) return;
  const cid = s.scope_id;
  if (ctx.refresh || !state || state.cid !== cid) {
    ui.confirm = null;
    ui.invite = null;
    clear(root);
    root.appendChild(h('p', { class: 'loading' }, t('loading')));
    try {
      state = { cid, data: await staffApi(cpath(cid)) };
    } catch (err) {
      if (!ctx.isCurrent()) return;
      drawLoadError(root, err, ctx, [consoleNav('community')]);
      return;
    }
    if (!ctx.isCurrent()) return;
  }
  draw(root, s, ctx);
}

function draw(root, s, ctx, focusTestid) {
  const c = state.data || {};
  const canEdit = s.role === 'liaison';
  const redraw = (f) => draw(root, s, ctx, f);
  /** A write that answers with the community. */
  const write = async (path, opts, okText, after) => {
    try {
      const data = await staffApi(path, opts);
      if (!ctx.isCurrent()) return true;
      state.data = data || state.data;
      ui.confirm = null;
      if (after) after();
      showSuccess(okText, { scroll: false });
      redraw();
      return true;
    } catch (err) {
      if (!ctx.isCurrent()) return false;
      showStaffError(err);
      if (err && (err.status === 409 || err.status === 404)) {
        // Someone else changed it meanwhile (a second liaison): show it as it is now.
        ui.confirm = null;
        try { state.data = await staffApi(cpath(state.cid)); } catch (e2) { /* keep */ }
        if (ctx.isCurrent()) redraw();
      }
      return false;
    }
  };

  clear(root);
  root.appendChild(h('section', { class: 'console community', 'aria-labelledby': 'community-title' },
    consoleNav('community'),
    h('h1', { id: 'community-title', class: 'page-title', 'data-testid': 'community-title' }, t('community.title')),
    h('p', { class: 'community-line', 'data-testid': 'cm-name' }, c.name || ''),
    canEdit ? null : h('p', { class: 'msg msg-info', 'data-testid': 'cm-read-only' }, t('community.only_liaison_edit')),
    dpSection(c, canEdit, write, redraw),
    ioSection(c, canEdit, write, redraw, ctx),
    settingsSection(c, canEdit, write),
    fairShareSection(c, canEdit, ctx, redraw),
    joinSection(c),
    posterSection(c)));
  if (focusTestid) {
    const el = root.querySelector(`[data-testid="${focusTestid}"]`);
    if (el) el.focus();
  }
}

function dpSection(c, canEdit, write, redraw) {
  const dp = c.distribution_point;
  const sec = h('section', { class: 'block', 'aria-labelledby': 'dp-title', 'data-testid': 'cm-dp' },
    h('h2', { id: 'dp-title' }, t('community.dp')));
  if (dp) {
    sec.appendChild(h('div', { class: 'current', 'data-testid': 'dp-current' },
      h('p', { class: 'current-name', 'data-testid': 'dp-current-name' }, dp.name),
      dp.note ? h('p', { 'data-testid': 'dp-current-note' }, dp.note) : null,
      dp.since ? h('p', { class: 'hint' }, t('community.dp_since_at', { time: dateTime(dp.since) })) : null));
    if (!canEdit) return sec;
    if (ui.confirm === 'dp') {
      sec.appendChild(confirmBox({
        testid: 'dp-retire-confirm', question: t('community.dp_retire_ask', { name: dp.name }), hint: t('community.dp_retire_hint'),
        yes: t('community.dp_retire_yes'),
        onNo: () => { ui.confirm = null; redraw('dp-retire'); },
        onYes: () => write(cpath(state.cid, '/distribution-point/retire'), { method: 'POST' }, () => t('community.dp_retired')),
      }));
    } else {
      sec.appendChild(h('button', {
        type: 'button', class: 'btn btn-danger', 'data-testid': 'dp-retire',
        onclick: () => { ui.confirm = 'dp'; clearMessage(); redraw(); },
      }, t('community.dp_retire')));
    }
    return sec;
  }
  sec.appendChild(h('p', { class: 'empty-inline', 'data-testid': 'dp-none' }, t('community.dp_none')));
  if (!canEdit) return sec;
  const f = makeForm('dp');
  const name = h('input', { type: 'text', name: 'name', maxlength: '60', autocomplete: 'off', required: true });
  const note = h('input', { type: 'text', name: 'note', maxlength: '200', autocomplete: 'off' });
  const submit = h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'dp-submit' }, t('community.dp_set'));
  const form = h('form', { novalidate: true, 'data-testid': 'dp-form' },
    f.field('name', t('community.dp_name'), name, t('community.dp_name_hint')),
    f.field('note', t('community.dp_note'), note),
    submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessage();
    f.clearErrors();
    const body = { name: name.value.trim() };
    if (note.value.trim()) body.note = note.value.trim();
    if (!body.name) { f.setError('name', [t('console.required')]); showError(() => t('err.form'), { scroll: false }); f.focusFirst(); return; }
    const done = busy(submit);
    try {
      const data = await staffApi(cpath(state.cid, '/distribution-point'), { method: 'PUT', body });
      state.data = data || state.data;
      showSuccess(() => t('community.dp_saved', { name: body.name }), { scroll: false });
      redraw('dp-title');
    } catch (err) {
      done();
      showFormError(f, err);
      if (err && err.status === 409) {
        // distribution_point_active: one was set meanwhile. Keep the message, show the one that is active.
        try { state.data = await staffApi(cpath(state.cid)); } catch (e2) { return; }
        redraw();
      }
    }
  });
  sec.appendChild(form);
  return sec;
}

function ioSection(c, canEdit, write, redraw, ctx) {
  const io = c.info_officer;
  const sec = h('section', { class: 'block', 'aria-labelledby': 'io-title', 'data-testid': 'cm-io' },
    h('h2', { id: 'io-title' }, t('community.io')));
  if (io) {
    sec.appendChild(h('div', { class: 'current', 'data-testid': 'io-current' },
      h('p', { class: 'current-name', 'data-testid': 'io-current-name' }, io.name || t('role.info_officer')),
      io.since ? h('p', { class: 'hint' }, t('community.io_since_at', { time: dateTime(io.since) })) : null));
    if (!canEdit) return sec;
    if (ui.confirm === 'io') {
      sec.appendChild(confirmBox({
        testid: 'io-retire-confirm', question: t('community.io_retire_ask', { name: io.name || t('role.info_officer') }),
        hint: t('community.io_retire_hint'), yes: t('community.io_retire_yes'),
        onNo: () => { ui.confirm = null; redraw('io-retire'); },
        onYes: () => write(cpath(state.cid, '/info-officer/retire'), { method: 'POST' }, () => t('community.io_retired')),
      }));
    } else {
      sec.appendChild(h('button', {
        type: 'button', class: 'btn btn-danger', 'data-testid': 'io-retire',
        onclick: () => { ui.confirm = 'io'; clearMessage(); redraw(); },
      }, t('community.io_retire')));
    }
    return sec;
  }
  sec.appendChild(h('p', { class: 'empty-inline', 'data-testid': 'io-none' }, t('community.io_none')));
  if (!canEdit) return sec;
  if (ui.invite) {
    sec.appendChild(h('p', { class: 'hint' }, t('community.io_invite_hint')));
    sec.appendChild(copyBox(ui.invite.url, 'io-invite-url'));
    return sec;
  }
  const f = makeForm('io');
  const name = h('input', { type: 'text', name: 'name', maxlength: '40', autocomplete: 'off' });
  const submit = h('button', { type: 'submit', class: 'btn btn-secondary', 'data-testid': 'io-invite-submit' }, t('community.io_invite'));
  const form = h('form', { novalidate: true, 'data-testid': 'io-invite-form' },
    f.field('name', t('community.io_invite_name'), name), submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessage();
    f.clearErrors();
    const body = { role: 'info_officer', scope_id: state.cid };
    if (name.value.trim()) body.name = name.value.trim();
    const done = busy(submit);
    try {
      const inv = await staffApi('/api/invites', { method: 'POST', body });
      if (!ctx.isCurrent()) return;
      ui.invite = { url: inv.url };
      redraw('io-invite-url');
    } catch (err) {
      done();
      if (ctx.isCurrent()) showFormError(f, err);
    }
  });
  sec.appendChild(form);
  return sec;
}

function settingsSection(c, canEdit, write) {
  const n = c.settings && Number.isFinite(c.settings.check_in_interval_days) ? c.settings.check_in_interval_days : null;
  const sec = h('section', { class: 'block', 'aria-labelledby': 'settings-title', 'data-testid': 'cm-settings' },
    h('h2', { id: 'settings-title' }, t('community.settings')));
  const f = makeForm('settings');
  const input = h('input', {
    type: 'number', name: 'check_in_interval_days', min: '1', max: '30', step: '1', inputmode: 'numeric',
    value: n === null ? '' : String(n), disabled: !canEdit, 'data-testid': 'settings-interval',
  });
  const submit = canEdit ? h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'settings-save' }, t('community.save')) : null;
  const form = h('form', { novalidate: true, 'data-testid': 'settings-form' },
    f.field('check_in_interval_days', t('community.interval'), input), submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    clearMessage();
    f.clearErrors();
    const v = halfWidth(input.value);
    if (!/^\d+$/.test(v) || +v < 1 || +v > 30) {
      f.setError('check_in_interval_days', [t('community.interval_bad')]);
      showError(() => t('err.form'), { scroll: false });
      f.focusFirst();
      return;
    }
    const done = busy(submit);
    const ok = await write(cpath(state.cid, '/settings'), { method: 'PATCH', body: { check_in_interval_days: +v } },
      () => t('community.saved', { n: +v }));
    if (!ok && submit.isConnected) done();
  });
  sec.appendChild(form);
  return sec;
}

/**
 * 每户几天只能下一单: the fair-share rule (0 = no limit). Checked here only for being a whole number;
 * the range is the server's to refuse, and its field message shows under the field.
 */
function fairShareSection(c, canEdit, ctx, redraw) {
  const n = c.settings && Number.isFinite(c.settings.fair_share_days) ? c.settings.fair_share_days : null;
  const sec = h('section', { class: 'block', 'aria-labelledby': 'fair-title', 'data-testid': 'cm-fair' },
    h('h2', { id: 'fair-title', tabindex: '-1', 'data-testid': 'fair-title' }, t('community.fair')));
  const f = makeForm('fair', 'fair');
  const input = h('input', {
    type: 'number', name: 'fair_share_days', min: '0', max: '30', step: '1', inputmode: 'numeric',
    value: n === null ? '' : String(n), disabled: !canEdit, 'data-testid': 'settings-fair-share',
  });
  const submit = canEdit ? h('button', { type: 'submit', class: 'btn btn-primary', 'data-testid': 'fair-save' }, t('community.save')) : null;
  const form = h('form', { novalidate: true, 'data-testid': 'fair-form' },
    f.field('fair_share_days', t('community.fair_days'), input, t('community.fair_hint')), submit);
  form.addEventListener('submit', async (ev) => {
    ev.preventDefault();
    if (!submit) return;
    clearMessage();
    f.clearErrors();
    const v = halfWidth(input.value).trim();
    if (!/^\d{1,3}$/.test(v)) {
      f.setError('fair_share_days', [t('community.fair_bad')]);
      showError(() => t('err.form'), { scroll: false });
      f.focusFirst();
      return;
    }
    const days = +v;
    const done = busy(submit);
    try {
      const data = await staffApi(cpath(state.cid, '/settings'), { method: 'PATCH', body: { fair_share_days: days } });
      if (!ctx.isCurrent()) return;
      state.data = data || state.data;
      ui.confirm = null;
      showSuccess(() => (days === 0 ? t('community.fair_saved_off') : t('community.fair_saved', { n: days })), { scroll: false });
      redraw('fair-title');
    } catch (err) {
      if (submit.isConnected) done();
      if (ctx.isCurrent()) showFormError(f, err);
    }
  });
  sec.appendChild(form);
  return sec;
}

/** A link shown whole (it wraps; a person may need to read it out) with a copy button. */
function copyBox(url, testid) {
  const status = h('span', { class: 'copy-status', 'aria-live': 'polite', 'data-testid': `${testid}-copied` }, '');
  const btn = h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': `${testid}-copy` }, t('community.copy'));
  btn.addEventListener('click', async () => {
    let ok = false;
    try {
      if (navigator.clipboard && window.isSecureContext) { await navigator.clipboard.writeText(url); ok = true; }
    } catch (e) { /* fall back */ }
    if (!ok) {
      // Plain http on a phone (no clipboard API): copy through a selected, off-screen text area.
      const ta = h('textarea', { class: 'visually-hidden', readonly: true }, url);
      document.body.appendChild(ta);
      ta.select();
      try { ok = document.execCommand('copy'); } catch (e) { ok = false; }
      ta.remove();
      btn.focus();
    }
    status.textContent = ok ? t('community.copied') : '';
  });
  return h('div', { class: 'copy' },
    h('p', { class: 'copy-url', 'data-testid': testid }, url),
    btn, status);
}

function joinSection(c) {
  if (!c.join_url) return null;
  return h('section', { class: 'block', 'aria-labelledby': 'join-link-title', 'data-testid': 'cm-join' },
    h('h2', { id: 'join-link-title' }, t('community.join')),
    h('p', { class: 'hint' }, t('community.join_hint')),
    copyBox(c.join_url, 'join-url'));
}

/** The community's A4 join-QR poster (GET …/poster), fetched with the staff token and saved as a file. */
function posterSection(c) {
  if (!c.community_id) return null;
  const btn = h('button', { type: 'button', class: 'btn btn-secondary', 'data-testid': 'poster-download' },
    t('community.poster_download'));
  btn.addEventListener('click', () => downloadPoster(c, btn));
  return h('section', { class: 'block', 'aria-labelledby': 'poster-title', 'data-testid': 'cm-poster' },
    h('h2', { id: 'poster-title' }, t('community.poster')),
    h('p', { class: 'hint' }, t('community.poster_hint')),
    btn);
}

async function downloadPoster(c, btn) {
  clearMessage();
  const done = busy(btn, t('community.poster_downloading'));
  try {
    const name = await saveFile(cpath(c.community_id, '/poster'), `poster-${c.community_id}.pdf`, 'application/pdf');
    showSuccess(() => t('community.poster_done', { name }), { scroll: false });
  } catch (e) {
    showStaffError(e);
  } finally {
    if (btn.isConnected) done();
  }
}
