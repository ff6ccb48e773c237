// The room's details around the call view: the shared links (the config's
// sharedLinks, [{ name, url }], each with a copy button) in the pre-join
// view and in the Room details dialog (showRoomDetailsButton), the room
// timer in the header (showRoomTimer), the logo (branding.logoURL), and
// the leaving view (showLeavingView: "You left the call" with Rejoin).
//
// It reads the kit's _roomID and _config and calls its joinRoom (Rejoin);
// it imports dom.js.

import { el, overlay } from './dom.js';

// linksOf is the config's shared links that have a url, as given.
function linksOf(cfg) {
  return (Array.isArray(cfg.sharedLinks) ? cfg.sharedLinks : []).filter((l) => l && typeof l.url === 'string' && l.url !== '');
}

// copyButton copies text to the clipboard, and says so on itself.
function copyButton(text, testid, label) {
  const b = el('button', { class: 'rk-secondary', testid, type: 'button', 'aria-label': label,
    onclick: () => navigator.clipboard?.writeText(text).then(() => { b.textContent = 'Copied'; }, () => { b.textContent = 'Copy failed'; }) }, 'Copy');
  return b;
}

/** sharedLinks is the list of the config's shared links, or null for none. */
export function sharedLinks(cfg) {
  const links = linksOf(cfg);
  if (links.length === 0) return null;
  return el('ul', { class: 'rk-links', testid: 'shared-links', 'aria-label': 'Links to this call' },
    ...links.map((l, i) => el('li', { testid: `shared-link-${i}` },
      el('span', { class: 'rk-link-name' }, l.name || 'Link'), ' ',
      el('a', { href: l.url, target: '_blank', rel: 'noopener' }, l.url), ' ',
      copyButton(l.url, `copy-link-${i}`, `Copy ${l.name || 'the link'}`))));
}

/** openDetails shows the Room details dialog: the room ID and the shared links. */
export function openDetails(kit) {
  document.querySelector('[data-testid=room-details-dialog]')?.remove();
  const close = () => dialog.remove();
  const dialog = el('div', { class: 'rk-call rk-dialog', role: 'dialog', 'aria-label': 'Room details', testid: 'room-details-dialog' },
    el('h3', {}, 'Room details'),
    el('p', {}, 'Room ID: ', el('code', { testid: 'details-room-id' }, kit._roomID), ' ', copyButton(kit._roomID, 'copy-room-id', 'Copy the room ID')),
    sharedLinks(kit._config),
    el('div', { class: 'rk-actions' }, el('button', { testid: 'room-details-close', onclick: close }, 'Done')));
  dialog.addEventListener('keydown', (e) => { if (e.key === 'Escape') close(); });
  overlay(dialog);
  dialog.querySelector('button').focus();
  return dialog;
}

/** closeDetails closes the Room details dialog, if open (the call ended). */
export function closeDetails() {
  document.querySelector('[data-testid=room-details-dialog]')?.remove();
}

/** logo is the config's branding.logoURL as an image, or null. */
export function logo(cfg) {
  const url = cfg.branding?.logoURL;
  return typeof url === 'string' && url !== '' ? el('img', { class: 'rk-logo', testid: 'brand-logo', src: url, alt: '', height: 28 }) : null;
}

/**
 * roomTimer is the room timer for the call view's header (with
 * showRoomTimer, else null): it counts from now, every second, until its
 * element has left the page.
 */
export function roomTimer(cfg) {
  if (cfg.showRoomTimer) {
    const start = Date.now();
    const timer = el('span', { class: 'rk-timer', testid: 'room-timer', role: 'timer', 'aria-label': 'Time in the call' }, '00:00');
    const tick = setInterval(() => {
      if (!timer.isConnected && Date.now() - start > 2000) { clearInterval(tick); return; }
      const s = Math.floor((Date.now() - start) / 1000);
      const hh = Math.floor(s / 3600);
      const mm = String(Math.floor(s / 60) % 60).padStart(2, '0');
      const ss = String(s % 60).padStart(2, '0');
      timer.textContent = hh > 0 ? `${hh}:${mm}:${ss}` : `${mm}:${ss}`;
    }, 1000);
    return timer;
  }
  return null;
}

/**
 * leavingView is what the kit shows when this page has left the call:
 * with showLeavingView (the default) "You left the call." and Rejoin,
 * which joins the same room again with the same options (after an
 * invitation call: back into that call, while it is under way); without
 * it, nothing.
 */
export function leavingView(kit, given, call) {
  if (kit._config.showLeavingView === false) return el('div', { testid: 'left-view', hidden: true });
  const rejoin = () => (call && kit._zim ? kit._invites.rejoinCall(call, given) : kit.joinRoom({ ...given, showPreJoinView: false })).catch(() => {});
  return el('div', { class: 'rk-center', testid: 'left-view' },
    el('p', { role: 'status' }, 'You left the call.'),
    el('button', { testid: 'rejoin-button', onclick: rejoin }, 'Rejoin'));
}
