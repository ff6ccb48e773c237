// The member list view: the members section of the call view (the count,
// the list, and the list of invitees being called that the invitations
// fill), and each member's row with its role, microphone and camera, and
// the Mute and Remove actions the viewer's role allows. Drawing the list
// draws the video tiles too (the media's renderTiles).
//
// It reads the kit's _store.members, _kit, _zim, _roomID and writes its
// _view.memberList, memberCount and pendingList; it imports dom.js and the
// chat view (for a failed action's note).

import { el } from './dom.js';
import { addNote } from './chat.js';

// memberPanel makes the members section of the call view, with a search
// field over the list when the config's enableUserSearch is on.
export function memberPanel(kit) {
  const view = kit._view;
  view.memberList = el('ul', { testid: 'member-list', 'aria-live': 'polite' });
  view.memberCount = el('span', { testid: 'member-count' });
  view.pendingList = el('ul', { testid: 'pending-list', 'aria-label': 'Being called' });
  view.memberSearch = kit._config.enableUserSearch
    ? el('input', { type: 'search', testid: 'member-search', placeholder: 'Search members', 'aria-label': 'Search members', oninput: () => renderMembers(kit) })
    : null;
  return el('section', { 'aria-label': 'Members', testid: 'member-panel' }, el('h3', {}, 'Members (', view.memberCount, ')'),
    view.memberSearch, view.memberList, view.pendingList);
}

// offerAvatars hands the config's onUserAvatarSetter the users listed
// ([{ userID, userName }]), each with setUserAvatar(url): the image their
// tile shows while their camera is off, and their row in the list.
export function offerAvatars(kit, users) {
  const setter = kit._config.onUserAvatarSetter;
  if (typeof setter !== 'function' || users.length === 0) return;
  setter(users.map(({ userID, userName }) => ({ userID, userName,
    setUserAvatar: (url) => {
      if (typeof url !== 'string') throw new TypeError('setUserAvatar needs the image URL as a string');
      if (url === '') kit._store.avatars.delete(userID);
      else kit._store.avatars.set(userID, url);
      renderMembers(kit);
    } })));
}

export function renderMembers(kit) {
  const view = kit._view;
  if (!view.memberList) return;
  const members = kit._store.members;
  const me = kit._kit.userID;
  const myRole = members.get(me)?.role;
  // Offer only what the role allows (the server decides anyway): the
  // host mutes, turns the camera off of and removes anyone, a manager
  // mutes and turns the camera off of all but the host and removes
  // participants.
  // The config may leave either button out.
  const cfg = kit._config;
  const mayMute = (m) => cfg.showTurnOffRemoteMicrophoneButton && (myRole === 'host' || (myRole === 'manager' && m.role !== 'host'));
  const mayStopCamera = (m) => cfg.showTurnOffRemoteCameraButton && (myRole === 'host' || (myRole === 'manager' && m.role !== 'host'));
  const mayRemove = (m) => cfg.showRemoveUserButton && (myRole === 'host' || (myRole === 'manager' && m.role === 'participant'));
  const act = (label, testid, f) => el('button', { class: 'rk-secondary rk-small', testid, onclick: () => f().catch((err) => addNote(kit, `${label} failed (${err.code}): ${err.message}`)) }, label);
  view.memberCount.textContent = String(members.size);
  kit._media.renderTiles();
  // The search (enableUserSearch) matches names and user IDs, any case.
  const q = view.memberSearch?.value.trim().toLowerCase() ?? '';
  const matches = ([userID, m]) => !q || userID.toLowerCase().includes(q) || (m.userName ?? '').toLowerCase().includes(q);
  const avatar = (userID) => {
    const url = kit._store.avatars.get(userID);
    return url ? el('img', { class: 'rk-row-avatar', src: url, alt: '', testid: `member-avatar-${userID}` }) : null;
  };
  view.memberList.replaceChildren(...[...members].filter(matches).map(([userID, m]) =>
    el('li', { testid: `member-${userID}`, 'data-role': m.role, 'data-audio': String(m.audio) }, avatar(userID), m.userName || userID,
      userID === me ? el('span', { class: 'rk-you' }, ' (you)') : null,
      m.role === 'host' || m.role === 'manager' ? el('span', { class: 'rk-role' }, ` · ${m.role}`) : null,
      el('span', { class: 'rk-state', 'aria-label': m.audio ? 'microphone on' : 'microphone off' }, m.audio ? ' · mic on' : ' · muted'),
      m.video ? null : el('span', { class: 'rk-state', testid: `camera-off-${userID}` }, ' · camera off'),
      userID !== me && m.audio && mayMute(m) ? act('Mute', `mute-${userID}`, () => kit._zim.setMemberState({ audio: false }, kit._roomID, userID)) : null,
      userID !== me && m.video && mayStopCamera(m) ? act('Camera off', `camera-stop-${userID}`, () => kit._zim.setMemberState({ video: false }, kit._roomID, userID)) : null,
      userID !== me && mayRemove(m) ? act('Remove', `remove-${userID}`, () => kit._zim.removeMember(userID, kit._roomID)) : null)));
}
