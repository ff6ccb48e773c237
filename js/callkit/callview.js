// The call view, and the views around it: the pre-join view (the name,
// the camera preview and the shared links, before joining), and the call
// view's layout (the
// header with the room, the More menu and Leave; the video grid; the
// camera, microphone and settings controls; the media notes; the members
// and chat panels). The panels are members.js's and chat.js's, the grid
// and the notes the media's (callmedia.js).
//
// It reads the kit's _kit, _roomID, _config, _zim, _store.members and its
// parts (_media, _invites), writes its _view.renderMenu and renderControls,
// and calls its hangUp and _show. It imports dom.js, the member list and
// chat views, and the room's details (details.js).

import { el } from './dom.js';
import { addNote, chatPanel } from './chat.js';
import { memberPanel, renderMembers } from './members.js';
import { logo, openDetails, roomTimer, sharedLinks } from './details.js';

// preJoin shows the pre-join view; it resolves when the user joins.
export function preJoin(kit) {
  return new Promise((resolve) => {
    const name = el('input', { testid: 'prejoin-name', readOnly: true, value: kit._kit.userName || kit._kit.userID, id: 'rk-prejoin-name' });
    const join = el('button', { testid: 'prejoin-join', type: 'submit' }, 'Join');
    const preview = el('video', { class: 'rk-preview', testid: 'prejoin-preview', muted: true, autoplay: true, playsInline: true, 'aria-label': 'Your camera' });
    const notes = kit._media.newNotes();
    const title = kit._config.preJoinViewConfig?.title;
    kit._show(el('form', { class: 'rk-center', testid: 'prejoin-view', onsubmit: (e) => { e.preventDefault(); resolve(); } },
      el('h2', { testid: 'prejoin-title' }, typeof title === 'string' && title !== '' ? title : `Join ${kit._roomID}`), preview, notes,
      sharedLinks(kit._config),
      el('label', { htmlFor: 'rk-prejoin-name' }, 'Your name'), name, join));
    join.focus();
    // The camera preview: the devices are asked for now, so the
    // browser's permission question comes before the call.
    // The kit may be destroyed (or the call left) before the devices
    // start: the preview then shows nothing.
    const started = kit._media.startLocal();
    const local = kit._media.local;
    started.then(() => { if (local && kit._media.local === local) preview.srcObject = local.stream; }).catch(() => {});
  });
}

// moreMenu makes the More button and its menu: invite (if this member
// may), show or hide chat, copy the room ID, and end for everyone (for
// the host). The menu is drawn anew each time it opens
// (kit._view.renderMenu).
function moreMenu(kit, chat) {
  const menu = el('div', { role: 'menu', testid: 'more-menu', hidden: true, 'aria-label': 'More' });
  // Items the member may not use are left out (replaceChildren would
  // show a null as the text "null").
  kit._view.renderMenu = () => menu.replaceChildren(...[
    kit._invites.canInvite() ? el('button', { role: 'menuitem', testid: 'menu-invite', onclick: () => { closeMenu(); kit._invites.openInviteList(); } }, 'Invite members') : null,
    kit._config.showTextChat ? el('button', { role: 'menuitem', testid: 'menu-toggle-chat', onclick: () => { chat.hidden = !chat.hidden; closeMenu(); } }, 'Show or hide chat') : null,
    el('button', { role: 'menuitem', testid: 'menu-copy-room', onclick: () => { navigator.clipboard?.writeText(kit._roomID).catch(() => {}); closeMenu(); } }, 'Copy room ID'),
    kit._store.members.get(kit._kit.userID)?.role === 'host'
      ? el('button', { role: 'menuitem', testid: 'menu-end-all', onclick: () => { closeMenu(); kit._zim.endRoom(kit._roomID).catch((err) => addNote(kit, `Could not end the call (${err.code}): ${err.message}`)); } }, 'End for everyone')
      : null,
  ].filter(Boolean));
  const more = el('button', { class: 'rk-secondary', testid: 'more-button', 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-label': 'More options',
    onclick: () => { kit._view.renderMenu(); menu.hidden = !menu.hidden; more.setAttribute('aria-expanded', String(!menu.hidden)); if (!menu.hidden) menu.querySelector('button').focus(); } }, '⋯');
  const closeMenu = () => { menu.hidden = true; more.setAttribute('aria-expanded', 'false'); more.focus(); };
  // The menu's keys: Escape closes it; the arrows, Home and End move
  // between its items, wrapping around.
  menu.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { closeMenu(); return; }
    const items = [...menu.querySelectorAll('[role=menuitem]')];
    const at = items.indexOf(document.activeElement);
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: items.length - 1 }[e.key];
    if (to === undefined || items.length === 0) return;
    e.preventDefault();
    items[(to + items.length) % items.length].focus();
  });
  return el('div', { class: 'rk-menu-wrap' }, more, menu);
}

// mediaControls makes the camera and microphone toggles the config shows
// and the settings button; kit._view.renderControls shows the toggles'
// state.
function mediaControls(kit) {
  const cfg = kit._config;
  const media = kit._media;
  const toggle = (kind, testid, label) => {
    const b = el('button', { testid, onclick: () => media.setDevice(kind, !media.local?.[kind]).catch(() => {}) });
    b.kind = kind;
    b.label = label;
    return b;
  };
  const toggles = [
    cfg.showMyCameraToggleButton ? toggle('video', 'toggle-camera', 'Camera') : null,
    cfg.showMyMicrophoneToggleButton ? toggle('audio', 'toggle-microphone', 'Microphone') : null,
  ].filter(Boolean);
  kit._view.renderControls = () => {
    for (const b of toggles) {
      const on = !!media.local?.[b.kind];
      b.setAttribute('aria-pressed', String(on));
      b.textContent = `${b.label} ${on ? 'on' : 'off'}`;
    }
  };
  kit._view.renderControls();
  return el('div', { class: 'rk-controls', testid: 'media-controls' }, ...toggles,
    cfg.showAudioVideoSettingsButton ? el('button', { class: 'rk-secondary', testid: 'av-settings', onclick: () => media.openSettings() }, 'Settings') : null);
}

// renderCall shows the call view.
export function renderCall(kit) {
  const members = memberPanel(kit);
  const chat = chatPanel(kit);
  members.hidden = !kit._config.showUserList;
  chat.hidden = !kit._config.showTextChat;
  const menu = moreMenu(kit, chat);
  const grid = kit._media.newGrid();
  const notes = kit._media.newNotes();
  const controls = mediaControls(kit);
  kit._show(el('div', { testid: 'call-view', style: 'display:contents' },
    el('header', {},
      logo(kit._config),
      el('h2', { testid: 'room-title' }, kit._roomID),
      roomTimer(kit._config),
      kit._config.showRoomDetailsButton ? el('button', { class: 'rk-secondary', testid: 'room-details-button', onclick: () => openDetails(kit) }, 'Details') : null,
      menu,
      el('button', { class: 'rk-danger', testid: 'leave-button', onclick: () => kit.hangUp() }, 'Leave')),
    grid,
    controls,
    notes,
    el('div', { class: 'rk-body' }, members, chat)));
  renderMembers(kit);
  kit._invites.renderPending();
}
