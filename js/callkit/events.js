// The room events the call kit follows, on its own connection: members
// joining, leaving and changing state (into the store, the member list and
// the tiles, and the muted-by-the-host case to the media), chat messages
// and in-room commands,
// invitations and call state (to the invitations), and this page's removal
// from the room. listen(kit) subscribes once, at login.
//
// It reads the kit's _zim, _roomID, _joined, _config, _kit and its parts
// (_store, _media, _invites), and ends the call through _leaveCall; it
// imports dom.js and the chat and member list views.

import { COMMAND } from './config.js';
import { el } from './dom.js';
import { addChat } from './chat.js';
import { offerAvatars, renderMembers } from './members.js';
import { noticeChat, noticeMembers } from './notices.js';

export function listen(kit) {
  const zim = kit._zim;
  zim.on('roomMemberJoined', (z, { roomID, memberList }) => {
    if (roomID !== kit._roomID) return;
    const fresh = memberList.filter((m) => kit._store.joined(m));
    renderMembers(kit);
    noticeMembers(kit, fresh, true);
    offerAvatars(kit, fresh);
    kit._config.onUserJoin(memberList.map(({ userID, userName }) => ({ userID, userName })));
  });
  zim.on('roomMemberLeft', (z, { roomID, memberList }) => {
    if (roomID !== kit._roomID) return;
    const gone = memberList.filter((m) => kit._store.left(m));
    for (const m of gone) kit._media.drop(m.userID);
    renderMembers(kit);
    noticeMembers(kit, gone, false);
    kit._config.onUserLeave(memberList.map(({ userID, userName }) => ({ userID, userName })));
    if (kit._config.autoLeaveRoomWhenOnlySelfInRoom && kit._joined && kit._store.onlySelfLeft(kit._kit.userID)) kit.hangUp();
  });
  zim.on('roomMemberUpdated', (z, { roomID, memberList }) => {
    if (roomID !== kit._roomID) return;
    for (const m of memberList) {
      kit._store.updated(m);
      if (m.userID === kit._kit.userID) kit._media.selfUpdated(m);
    }
    renderMembers(kit);
  });
  zim.on('receiveRoomMessage', (z, { roomID, messageList }) => {
    if (roomID !== kit._roomID) return;
    const texts = [];
    for (const m of messageList) {
      if (m.type === 2) {
        // A command to everyone (sendInRoomCommand).
        let command;
        try { ({ command } = JSON.parse(m.message)); } catch { /* another app's command */ }
        if (typeof command === 'string') kit._config.onInRoomCommandReceived({ userID: m.senderUserID, userName: m.senderUserName }, command);
        continue;
      }
      if (m.type !== 1) continue;
      addChat(kit, m);
      noticeChat(kit, m);
      kit._config.onInRoomMessageReceived({
        fromUser: { userID: m.senderUserID, userName: m.senderUserName },
        message: m.message, sendTime: m.timestamp, messageID: m.messageID,
      });
      texts.push({ messageID: m.messageID, timestamp: m.timestamp, orderKey: m.orderKey, senderUserID: m.senderUserID, text: m.message });
    }
    if (texts.length > 0) kit._config.onInRoomTextMessageReceived(texts);
  });
  // A command to this user (sendInRoomCommand with toUserIDs).
  zim.on('peerMessageReceived', (z, { roomID, fromUserID, data }) => {
    if (roomID !== kit._roomID || data?.kind !== COMMAND || typeof data.command !== 'string') return;
    kit._config.onInRoomCommandReceived({ userID: fromUserID, userName: kit._store.members.get(fromUserID)?.userName ?? '' }, data.command);
  });
  zim.on('callInvitationReceived', (z, ev) => kit._invites.onInvitation(ev));
  zim.on('callStateChanged', (z, ev) => kit._invites.onCallState(ev));
  zim.on('roomStateChanged', (z, { roomID, state, event, extendedData }) => {
    if (roomID !== kit._roomID || state !== 0 || !kit._joined) return;
    if (event === 8) {
      // Out of the room (removed, or the session ended): out of its call,
      // the camera and microphone off, the connections closed.
      const call = kit._leaveCall();
      if (call) kit._zim?.callQuit(call.callID).catch(() => {});
      let why = {};
      try { why = JSON.parse(extendedData || '{}'); } catch { /* a reason of another shape */ }
      const notice = why.reason === 'ended' ? 'The host ended the session.'
        : why.reason === 'idleTimeout' ? 'The session ended: the host was alone in it too long.'
          : 'You were removed from the call.';
      kit._show(el('div', { class: 'rk-center', testid: 'removed-view', role: 'alert' }, el('p', {}, notice)));
      kit._config.onYouRemovedFromRoom();
    }
  });
}
