// The invitations: the invitation config, the incoming flow (the ringing
// dialog or the page's own, answering, joining the answered call's room),
// the outgoing flow (ringing callees, the waiting view, joining once
// someone answers, the callbacks on each callee's answer), and inviting
// into the call under way (the Invite members list, the invitees being
// called in the member list).
//
// Invitations is one part of the kit; it reads and writes the kit's _call
// (the call under way, which the facade and the call view read too),
// _roomID, _joined, _joining, _ready, _zim, _config, _kit and
// _view.pendingList, and calls its joinRoom, hangUp and
// sendCallInvitation. It imports config.js, dom.js and the chat view (for
// a failed invitation's note).

import { INVITATION_DEFAULTS, MAX_WAITING_SELECT_USERS } from './config.js';
import { el, overlay } from './dom.js';
import { addNote } from './chat.js';
import { Ringtones } from './ringtones.js';

export class Invitations {
  constructor(kit, invalid) {
    this.kit = kit;
    this.invalid = invalid;
    this.config = null;   // the invitation config, once set
    this.ringing = null;  // { call, close } of an incoming invitation
    this.outgoing = null; // { call, close } of the waiting view
    this.inviteList = null; // the Invite members list, while open
    this.early = null;    // call state events that came before callInvite's reply
    this.list = { waitingSelectUsers: [], defaultChecked: true }; // the Invite members list
    this.tones = new Ringtones(); // ringtoneConfig's, while ringing
  }

  configure(config) {
    this.config = { ...INVITATION_DEFAULTS, ...config };
  }

  // setList sets the users the Invite members list offers. It refuses a
  // list over the limit: a clear error, never a silent cut.
  setList(waitingSelectUsers, defaultChecked) {
    const { invalid } = this;
    if (!Array.isArray(waitingSelectUsers)) throw invalid('waitingSelectUsers must be an array of {userID, userName}');
    if (waitingSelectUsers.length > MAX_WAITING_SELECT_USERS) {
      throw invalid(`waitingSelectUsers has ${waitingSelectUsers.length} users; at most ${MAX_WAITING_SELECT_USERS} may be listed`);
    }
    this.list = { waitingSelectUsers: [...waitingSelectUsers], defaultChecked };
  }

  // send is sendCallInvitation: into the call under way, or a new call
  // with the waiting view.
  async send({ callees, callType, timeout, data, roomID }) {
    const { kit, invalid } = this;
    if (!this.config) throw invalid('call setCallInvitationConfig first');
    if (!Array.isArray(callees) || callees.length === 0) throw invalid('callees must list at least one user');
    if (callees.length > MAX_WAITING_SELECT_USERS) {
      const err = invalid(`${callees.length} callees: one invitation may ring at most ${MAX_WAITING_SELECT_USERS} users`);
      err.code = 6000271;
      throw err;
    }
    await kit._ready;
    const list = callees.map(({ userID, userName }) => ({ userID, userName: userName ?? '' }));
    if (kit._call && kit._joined) {
      const res = await kit._zim.callAdd(kit._call.callID, list, timeout);
      return { errorInvitees: res.errorInvitees };
    }
    // One call at a time: while one rings (the waiting view) or is being
    // made, or a join is under way, calling again is refused, not started
    // over the first (whose view would be left behind).
    if (this.outgoing || this.early) throw invalid('a call is ringing already; cancel it or wait for an answer before calling again');
    if (kit._joining) throw invalid('a join is under way; wait for it to end before calling');
    const { canInvitingInCalling, onlyInitiatorCanInvite, endCallWhenInitiatorLeave } = this.config;
    // The call's first state events can come before the reply: they wait
    // in early until the call is known.
    const early = [];
    this.early = early;
    let res;
    try {
      res = await kit._zim.callInvite({ callees: list, callType, timeout, data, roomID: roomID || (kit._joined ? kit._roomID : ''),
        config: { canInvitingInCalling, onlyInitiatorCanInvite, endCallWhenInitiatorLeave } });
    } finally {
      this.early = null;
    }
    kit._call = { callID: res.callID, roomID: res.roomID, callType, data, initiator: { userID: kit._kit.userID }, config: { canInvitingInCalling, onlyInitiatorCanInvite, endCallWhenInitiatorLeave } };
    if (!kit._joined && res.errorInvitees.length < list.length) this.showOutgoing(kit._call, list);
    for (const ev of early.filter((e) => e.call.callID === res.callID)) this.onCallState(ev);
    return { errorInvitees: res.errorInvitees };
  }

  onInvitation({ call, inviter }) {
    const cfg = this.config;
    if (!cfg || this.ringing) return; // one ringing dialog at a time
    const caller = { userID: inviter.userID, userName: inviter.userName };
    const callees = call.users.filter((u) => u.userID !== call.initiator.userID).map(({ userID, userName }) => ({ userID, userName }));
    cfg.onIncomingCallReceived(call.callID, caller, call.callType, callees);
    const accept = () => this.answer(call, true);
    const refuse = () => this.answer(call, false);
    this.tones.start('incoming', cfg.ringtoneConfig?.incomingCallUrl);
    // The page's own dialog (enableCustomCallInvitationDialog): the kit
    // shows none, and the page calls accept or refuse.
    if (cfg.enableCustomCallInvitationDialog && typeof cfg.onConfirmDialogWhenReceiving === 'function') {
      this.ringing = { call, close: () => this.tones.stop('incoming') };
      cfg.onConfirmDialogWhenReceiving(call.callType, caller, refuse, accept, call.data);
      return;
    }
    // The built-in dialog; onConfirmDialogWhenReceiving, if given, is
    // told, and may return the dialog's texts ({ title, cancelButtonName,
    // confirmButtonName }).
    const texts = typeof cfg.onConfirmDialogWhenReceiving === 'function'
      ? cfg.onConfirmDialogWhenReceiving(call.callType, caller, refuse, accept, call.data) : null;
    const text = (name, fallback) => (typeof texts?.[name] === 'string' && texts[name] !== '' ? texts[name] : fallback);
    const dialog = el('div', { class: 'rk-call rk-dialog', role: 'alertdialog', 'aria-label': 'Incoming call', testid: 'incoming-call' },
      el('p', {}, text('title', `${caller.userName || caller.userID} is calling you`)),
      el('div', { class: 'rk-actions' },
        el('button', { testid: 'incoming-accept', onclick: accept }, text('confirmButtonName', 'Accept')),
        el('button', { class: 'rk-danger', testid: 'incoming-decline', onclick: refuse }, text('cancelButtonName', 'Decline'))));
    overlay(dialog);
    dialog.querySelector('button').focus();
    this.ringing = { call, close: () => { dialog.remove(); this.tones.stop('incoming'); } };
  }

  async answer(call, accept) {
    const { kit } = this;
    const ringing = this.ringing;
    if (!ringing || ringing.call.callID !== call.callID) return;
    this.ringing = null;
    ringing.close();
    if (!accept) {
      await kit._zim.callReject(call.callID).catch(() => {});
      this.config.onCallInvitationEnded('Declined', call.data);
      return;
    }
    if (kit._joining) {
      // A join is under way (the pre-join view, or entering a room): the
      // page is busy, as a page in a call is. Accepting would run a second
      // join beside it, so the caller is told busy instead.
      await kit._zim.callReject(call.callID, true).catch(() => {});
      this.config.onCallInvitationEnded('Busy', call.data);
      return;
    }
    try {
      kit._call = await kit._zim.callAccept(call.callID);
    } catch (err) {
      this.config.onCallInvitationEnded(err.code === 6000274 ? 'Canceled' : 'Timeout', call.data);
      return;
    }
    await this.joinCallRoom(kit._call);
  }

  // rejoinCall takes this user back into a call they left that is still
  // under way (the leaving view's Rejoin), then into its room with the
  // options it had; a call that ended meanwhile is said so, and its room
  // is not made again.
  async rejoinCall(call, given) {
    const { kit } = this;
    try {
      kit._call = await kit._zim.callAccept(call.callID);
    } catch (err) {
      const why = err.code === 6000272 ? 'The call has ended.' : `You could not rejoin the call: ${err.message}`;
      kit._show(el('div', { class: 'rk-center', testid: 'left-view' }, el('p', { role: 'status' }, why)));
      return;
    }
    await kit.joinRoom({ ...given, showPreJoinView: false });
  }

  // joinCallRoom joins the room of an answered call, configured by
  // onSetRoomConfigBeforeJoining.
  async joinCallRoom(call) {
    const { kit } = this;
    kit._roomID = call.roomID;
    const roomConfig = this.config.onSetRoomConfigBeforeJoining(call.callType) ?? {};
    const container = this.config.container ?? kit._config.container;
    await kit.joinRoom({ ...kit._config, container, ...roomConfig, roomID: call.roomID, showPreJoinView: false }).catch(() => {});
  }

  onCallState({ call, changed }) {
    const { kit } = this;
    const me = kit._kit.userID;
    const cfg = this.config;
    if (!cfg) return;
    // A ringing invitation that stops ringing: answered on another tab,
    // cancelled or timed out.
    if (this.ringing?.call.callID === call.callID) {
      const mine = call.users.find((u) => u.userID === me);
      if (mine && mine.state !== 'Received') {
        this.ringing.close();
        this.ringing = null;
        if (mine.state === 'Cancelled') { cfg.onIncomingCallCanceled(call.callID, call.initiator); cfg.onCallInvitationEnded(mine.reason || 'Canceled', call.data); }
        if (mine.state === 'Timeout') { cfg.onIncomingCallTimeout(call.callID, call.initiator); cfg.onCallInvitationEnded('Timeout', call.data); }
      }
    }
    if (this.early && !kit._call && call.initiator.userID === me) {
      this.early.push({ call, changed });
      return;
    }
    if (kit._call?.callID !== call.callID) return;
    kit._call = { ...kit._call, ...call };
    for (const u of changed) {
      if (u.userID === me) continue;
      const callee = { userID: u.userID, userName: u.userName };
      if (call.initiator.userID === me) {
        if (u.state === 'Accepted') cfg.onOutgoingCallAccepted(call.callID, callee);
        if (u.state === 'Rejected' && u.reason === 'Busy') cfg.onOutgoingCallRejected(call.callID, callee);
        if (u.state === 'Rejected' && u.reason === 'Declined') cfg.onOutgoingCallDeclined(call.callID, callee);
        if (u.state === 'Timeout') cfg.onOutgoingCallTimeout(call.callID, [callee]);
      }
    }
    this.renderPending();
    // The caller joins the room once someone answers.
    if (this.outgoing && call.users.some((u) => u.userID !== me && u.state === 'Accepted')) {
      this.outgoing.close();
      this.outgoing = null;
      this.joinCallRoom(call);
      return;
    }
    if (call.ended) {
      const reason = call.reason || 'LeaveRoom';
      kit._call = null;
      if (this.outgoing) {
        this.outgoing.close();
        this.outgoing = null;
      }
      cfg.onCallInvitationEnded(reason, call.data);
      if (kit._joined && reason === 'LeaveRoom' && call.config.endCallWhenInitiatorLeave) kit.hangUp();
    }
  }

  // cancelOutgoing cancels the call the waiting view rings, and closes
  // the view (hangUp before anyone answers).
  async cancelOutgoing() {
    const out = this.outgoing;
    if (!out) return;
    this.outgoing = null;
    out.close();
    await this.kit._zim?.callCancel(out.call.callID).catch(() => {});
  }

  // closeInviteList closes the Invite members list, if open.
  closeInviteList() {
    this.inviteList?.remove();
    this.inviteList = null;
  }

  // closeAll is the invitations' part of destroy: the config goes (no
  // more invitations are shown), the ringing dialog, the waiting view and
  // the Invite members list close, and the call the waiting view rings is
  // cancelled on zim (the kit's connection, before it logs out). A ringing
  // invitation is not declined: another tab of the user may still answer.
  async closeAll(zim) {
    this.config = null;
    this.tones.stopAll();
    this.ringing?.close();
    this.ringing = null;
    this.closeInviteList();
    const out = this.outgoing;
    this.outgoing = null;
    out?.close();
    if (out) await zim?.callCancel(out.call.callID).catch(() => {});
  }

  showOutgoing(call, callees) {
    const { kit } = this;
    const cfg = this.config;
    const cancel = async () => {
      await kit._zim.callCancel(call.callID).catch(() => {});
    };
    this.tones.start('outgoing', cfg.ringtoneConfig?.outgoingCallUrl);
    // The page's own waiting page (enableCustomCallInvitationWaitingPage):
    // the kit shows none, and the page may call cancel.
    if (cfg.enableCustomCallInvitationWaitingPage && typeof cfg.onWaitingPageWhenSending === 'function') {
      this.outgoing = { call, close: () => this.tones.stop('outgoing') };
      cfg.onWaitingPageWhenSending(call.callType, callees, cancel);
      return;
    }
    if (typeof cfg.onWaitingPageWhenSending === 'function') cfg.onWaitingPageWhenSending(call.callType, callees, cancel);
    const view = el('div', { class: 'rk-call rk-dialog', role: 'dialog', 'aria-label': 'Calling', testid: 'outgoing-call' },
      el('p', {}, `Calling ${callees.map((c) => c.userName || c.userID).join(', ')}…`),
      el('button', { class: 'rk-danger', testid: 'outgoing-cancel', onclick: cancel }, 'Cancel'));
    overlay(view);
    this.outgoing = { call, close: () => { view.remove(); this.tones.stop('outgoing'); } };
  }

  // canInvite is whether this member may invite into the call under way.
  canInvite() {
    const call = this.kit._call;
    if (!call?.config?.canInvitingInCalling) return false;
    return !call.config.onlyInitiatorCanInvite || call.initiator.userID === this.kit._kit.userID;
  }

  // openInviteList shows the Invite members list: the listed users not in
  // the call, each with a checkbox.
  openInviteList() {
    const { kit } = this;
    const { waitingSelectUsers, defaultChecked } = this.list;
    const boxes = waitingSelectUsers.filter((u) => !kit._store.members.has(u.userID)).map((u) => {
      const box = el('input', { type: 'checkbox', checked: defaultChecked, testid: `invitee-${u.userID}`, id: `rk-invitee-${u.userID}` });
      box.user = u;
      return el('li', {}, box, el('label', { htmlFor: `rk-invitee-${u.userID}` }, ` ${u.userName || u.userID}`));
    });
    const close = () => this.closeInviteList();
    this.closeInviteList();
    const sidebar = el('div', { class: 'rk-call rk-dialog', role: 'dialog', 'aria-label': 'Invite members', testid: 'invite-sidebar' },
      el('h3', {}, 'Invite members'),
      boxes.length ? el('ul', {}, ...boxes) : el('p', {}, 'Everyone on the list is in the call.'),
      el('div', { class: 'rk-actions' },
        el('button', { testid: 'invite-send', onclick: async () => {
          const callees = boxes.map((li) => li.querySelector('input')).filter((b) => b.checked).map((b) => b.user);
          close();
          if (callees.length) await kit.sendCallInvitation({ callees }).catch((err) => addNote(kit, `Invitation failed (${err.code}): ${err.message}`));
        } }, 'Invite'),
        el('button', { class: 'rk-secondary', testid: 'invite-close', onclick: close }, 'Close')));
    overlay(sidebar);
    this.inviteList = sidebar;
    sidebar.querySelector('input, button').focus();
  }

  // renderPending shows the invitees still being rung, each with a
  // cancel control (showWaitingCallAcceptAudioVideoView).
  renderPending() {
    const { kit } = this;
    const pendingList = kit._view.pendingList;
    if (!pendingList) return;
    const call = kit._call;
    const ringing = call && kit._config.showWaitingCallAcceptAudioVideoView ? (call.users ?? []).filter((u) => u.state === 'Received') : [];
    const mayCancel = call?.initiator?.userID === kit._kit.userID;
    pendingList.replaceChildren(...ringing.map((u) => el('li', { testid: `pending-${u.userID}` }, `${u.userName || u.userID} (calling…) `,
      mayCancel ? el('button', { class: 'rk-secondary', testid: `cancel-${u.userID}`, onclick: () => kit._zim.callCancel(call.callID, [u.userID]).catch(() => {}) }, 'Cancel') : null)));
  }
}
