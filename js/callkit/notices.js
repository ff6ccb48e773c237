// Notices in the lower left of the call view (the config's
// lowerLeftNotification): members joining and leaving
// (showUserJoinAndLeave) and the newest chat messages (showTextChat, while
// the chat panel is hidden), each shown for a few seconds, the newest
// last, a few at a time.
//
// It reads the kit's _config and _view.chatPanel and writes its
// _view.notices; it imports dom.js.

import { el } from './dom.js';

/** How long a notice shows, in ms, and how many show at once. */
export const NOTICE_MS = 5000;
export const MAX_NOTICES = 3;

// noticeArea makes the notices' place in a new call view.
export function noticeArea(kit) {
  kit._view.notices = el('ul', { class: 'rk-notices', testid: 'notices', 'aria-live': 'polite', 'aria-label': 'Notices' });
  return kit._view.notices;
}

// noticeMembers tells of users ([{ userID, userName }]) who joined
// (joined true) or left, unless the config says not to.
export function noticeMembers(kit, users, joined) {
  if (kit._config.lowerLeftNotification?.showUserJoinAndLeave === false) return;
  for (const u of users) {
    if (u.userID === kit._kit.userID) continue;
    notice(kit, 'member', `${u.userName || u.userID} ${joined ? 'joined' : 'left'}`);
  }
}

// noticeChat tells of chat message m while the chat panel is not shown,
// unless the config says not to.
export function noticeChat(kit, m) {
  if (kit._config.lowerLeftNotification?.showTextChat === false) return;
  const panel = kit._view.chatPanel;
  if (panel && !panel.hidden) return;
  notice(kit, 'chat', `${m.senderUserName || m.senderUserID}: ${m.message}`);
}

// noticeShare tells that member m started sharing a screen (shown with
// the members' joins and leaves, unless the config says not to).
export function noticeShare(kit, m) {
  if (!m || kit._config.lowerLeftNotification?.showUserJoinAndLeave === false) return;
  notice(kit, 'share', `${m.userName || m.userID} is sharing a screen`);
}

function notice(kit, kind, text) {
  const list = kit._view.notices;
  if (!list?.isConnected) return;
  const item = el('li', { class: 'rk-notice', testid: 'notice', 'data-kind': kind }, text);
  list.append(item);
  while (list.children.length > MAX_NOTICES) list.firstChild.remove();
  setTimeout(() => item.remove(), NOTICE_MS);
}
