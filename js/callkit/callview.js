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
import { LAYOUTS, PANELS } from './config.js';
import { noticeArea } from './notices.js';

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

// menuButton makes a button with its menu (testid, label, the menu's
// aria-label), whose items render() draws anew each time it opens. It
// returns { element, close } (close gives the focus back to the button).
// The menu's keys: Escape closes it; the arrows, Home and End move
// between its items, wrapping around.
function menuButton({ testid, menuTestid, text, label, render }) {
  const menu = el('div', { role: 'menu', testid: menuTestid, hidden: true, 'aria-label': label });
  const button = el('button', { class: 'rk-secondary', testid, 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-label': label,
    onclick: () => {
      // Items the member may not use are left out (replaceChildren would
      // show a null as the text "null").
      menu.replaceChildren(...render().filter(Boolean));
      menu.hidden = !menu.hidden;
      button.setAttribute('aria-expanded', String(!menu.hidden));
      if (!menu.hidden) menu.querySelector('button')?.focus();
    } }, text);
  const close = () => { menu.hidden = true; button.setAttribute('aria-expanded', 'false'); button.focus(); };
  menu.addEventListener('keydown', (e) => {
    if (e.key === 'Escape') { close(); return; }
    const items = [...menu.querySelectorAll('[role^=menuitem]')];
    const at = items.indexOf(document.activeElement);
    const to = { ArrowDown: at + 1, ArrowUp: at - 1, Home: 0, End: items.length - 1 }[e.key];
    if (to === undefined || items.length === 0) return;
    e.preventDefault();
    items[(to + items.length) % items.length].focus();
  });
  return { element: el('div', { class: 'rk-menu-wrap' }, button, menu), close, render: () => { if (!menu.hidden) menu.replaceChildren(...render().filter(Boolean)); } };
}

// moreMenu makes the More button and its menu: invite (if this member
// may), show or hide chat, copy the room ID, and end for everyone (for
// the host). kit._view.renderMenu redraws it while open.
function moreMenu(kit, chat, members) {
  const m = menuButton({ testid: 'more-button', menuTestid: 'more-menu', text: '⋯', label: 'More options', render: () => [
    kit._invites.canInvite() ? el('button', { role: 'menuitem', testid: 'menu-invite', onclick: () => { m.close(); kit._invites.openInviteList(); } }, 'Invite members') : null,
    kit._config.showTextChat ? el('button', { role: 'menuitem', testid: 'menu-toggle-chat', onclick: () => { chat.hidden = !chat.hidden; m.close(); } }, 'Show or hide chat') : null,
    kit._config.showUserList ? el('button', { role: 'menuitem', testid: 'menu-toggle-members', onclick: () => { members.hidden = !members.hidden; m.close(); } }, 'Show or hide members') : null,
    el('button', { role: 'menuitem', testid: 'menu-copy-room', onclick: () => { navigator.clipboard?.writeText(kit._roomID).catch(() => {}); m.close(); } }, 'Copy room ID'),
    kit._store.members.get(kit._kit.userID)?.role === 'host'
      ? el('button', { role: 'menuitem', testid: 'menu-end-all', onclick: () => { m.close(); kit._zim.endRoom(kit._roomID).catch((err) => addNote(kit, `Could not end the call (${err.code}): ${err.message}`)); } }, 'End for everyone')
      : null,
  ] });
  kit._view.renderMenu = m.render;
  return m.element;
}

// layoutMenu makes the Layout button (showLayoutButton) and its menu of
// the layouts, the one in use checked.
function layoutMenu(kit) {
  const m = menuButton({ testid: 'layout-button', menuTestid: 'layout-menu', text: 'Layout', label: 'Layout', render: () =>
    LAYOUTS.map((layout) => el('button', { role: 'menuitemradio', testid: `layout-${layout}`, 'aria-checked': String(kit._media.gallery?.layout === layout),
      onclick: () => { kit._media.setLayout(layout); m.close(); } }, layout)) });
  return m.element;
}

// mediaControls makes the camera and microphone toggles the config shows,
// the screen share button and the settings button;
// kit._view.renderControls shows their state.
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
  const share = cfg.showScreenSharingButton ? media.share.button() : null;
  kit._view.renderControls = () => {
    for (const b of toggles) {
      const on = !!media.local?.[b.kind];
      b.setAttribute('aria-pressed', String(on));
      b.textContent = `${b.label} ${on ? 'on' : 'off'}`;
    }
    share?.render();
  };
  kit._view.renderControls();
  return el('div', { class: 'rk-controls', testid: 'media-controls' }, ...toggles, share,
    cfg.showAudioVideoSettingsButton ? el('button', { class: 'rk-secondary', testid: 'av-settings', onclick: () => media.openSettings() }, 'Settings') : null);
}

// autoHide hides controls (autoHideFooter) after 3 s without the pointer
// moving, a touch, a key or the focus in the call view, and shows them
// again at any of those.
function autoHide(view, controls) {
  let timer;
  const show = () => {
    clearTimeout(timer);
    if (!controls.isConnected) return; // the call view is gone
    controls.dataset.hidden = 'false';
    timer = setTimeout(() => { if (!controls.contains(document.activeElement)) controls.dataset.hidden = 'true'; else show(); }, AUTO_HIDE_MS);
  };
  for (const type of ['pointermove', 'pointerdown', 'keydown', 'focusin']) view.addEventListener(type, show);
  show();
}

/** How long the controls stay after the last move, with autoHideFooter. */
export const AUTO_HIDE_MS = 3000;

// renderCall shows the call view. The panels shown at first are the
// config's: showUserList and showTextChat, and of those, with
// rightPanelExpandedType, only the one it names (RoomMembers,
// RoomMessages; None: neither; RoomDetails: neither, with the Details
// dialog open); the More menu shows and hides them.
export function renderCall(kit) {
  const cfg = kit._config;
  const members = memberPanel(kit);
  const chat = chatPanel(kit);
  kit._view.chatPanel = chat;
  const panel = PANELS.includes(cfg.rightPanelExpandedType) ? cfg.rightPanelExpandedType : undefined;
  members.hidden = !cfg.showUserList || (panel !== undefined && panel !== 'RoomMembers');
  chat.hidden = !cfg.showTextChat || (panel !== undefined && panel !== 'RoomMessages');
  const menu = moreMenu(kit, chat, members);
  const grid = kit._media.newGrid();
  const notes = kit._media.newNotes();
  const controls = mediaControls(kit);
  const view = el('div', { testid: 'call-view', style: 'display:contents' },
    el('header', {},
      logo(kit._config),
      el('h2', { testid: 'room-title' }, kit._roomID),
      roomTimer(kit._config),
      kit._config.showRoomDetailsButton ? el('button', { class: 'rk-secondary', testid: 'room-details-button', onclick: () => openDetails(kit) }, 'Details') : null,
      kit._config.showLayoutButton ? layoutMenu(kit) : null,
      menu,
      el('button', { class: 'rk-danger', testid: 'leave-button', onclick: () => kit.hangUp() }, 'Leave')),
    grid,
    controls,
    notes,
    el('div', { class: 'rk-body' }, members, chat),
    noticeArea(kit));
  kit._show(view);
  if (cfg.autoHideFooter) autoHide(kit._root, controls);
  renderMembers(kit);
  kit._invites.renderPending();
  if (panel === 'RoomDetails') openDetails(kit);
}
