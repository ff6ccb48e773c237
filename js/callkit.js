// The call kit: a prebuilt call page on top of the room client, shaped like
// the hosted prebuilt call kits. roomkit.js exposes it as RoomKit.create:
//
//   const zp = RoomKit.create(kitToken);
//   zp.joinRoom({ container: document.querySelector('#call'),
//                 onJoinRoom: () => sessionStorage.setItem('roomID', zp.getRoomID()) });
//
// It imports media.js (the WebRTC mesh and its places) and nothing else: roomkit.js hands
// it the RoomKit it needs, so the two modules do not import each other.

import { LevelMeter, LocalMedia, MediaSlots, Mesh, mediaErrorMessage } from './media.js';

// memberState is what the member list shows of a room member.
function memberState(m) {
  return { userName: m.userName, role: m.role || 'participant', audio: !!m.audio, video: !!m.video, share: !!m.share };
}

/** The sessionStorage key where a joined call is kept for a reload. */
export const CALL_STORAGE_KEY = 'roomkit:call';

const STYLE = `
.rk-call { font: 15px/1.4 system-ui, sans-serif; color: #14171a; background: #f4f5f7; border-radius: 10px;
  padding: 12px; box-sizing: border-box; max-width: 100%; min-height: 320px; display: flex; flex-direction: column; gap: 10px; }
.rk-call * { box-sizing: border-box; }
.rk-call button { font: inherit; min-height: 40px; padding: 6px 14px; border-radius: 8px; border: 1px solid #0a58ca;
  background: #0a58ca; color: #fff; cursor: pointer; }
.rk-call button.rk-secondary { background: #fff; color: #0a58ca; }
.rk-call button.rk-danger { background: #b42318; border-color: #b42318; }
.rk-call button:focus-visible, .rk-call input:focus-visible { outline: 3px solid #f0b400; outline-offset: 2px; }
.rk-call input { font: inherit; min-height: 40px; padding: 6px 10px; border: 1px solid #6b7280; border-radius: 8px; width: 100%; }
.rk-call input[type=checkbox] { width: 20px; min-width: 0; height: 20px; min-height: 0; padding: 0; margin: 0 8px 0 0; flex: none; }
.rk-call li:has(> input[type=checkbox]) { display: flex; align-items: center; }
.rk-call header { display: flex; align-items: center; gap: 8px; flex-wrap: wrap; }
.rk-call header h2 { font-size: 1.05rem; margin: 0; flex: 1; min-width: 8em; overflow-wrap: anywhere; }
.rk-call .rk-body { display: grid; grid-template-columns: minmax(180px, 1fr) 2fr; gap: 10px; flex: 1; }
@media (max-width: 560px) { .rk-call .rk-body { grid-template-columns: 1fr; } }
.rk-call section { background: #fff; border: 1px solid #d0d5dd; border-radius: 8px; padding: 10px; min-width: 0; }
.rk-call h3 { font-size: .95rem; margin: 0 0 6px; }
.rk-call ul, .rk-call ol { list-style: none; margin: 0; padding: 0; }
.rk-call li { padding: 4px 0; overflow-wrap: anywhere; }
.rk-call .rk-chat-list { max-height: 240px; overflow: auto; margin-bottom: 8px; }
.rk-call form { display: flex; gap: 6px; }
.rk-call .rk-menu-wrap { position: relative; }
.rk-call [role=menu] { position: absolute; right: 0; top: 44px; z-index: 10; background: #fff; border: 1px solid #d0d5dd;
  border-radius: 8px; padding: 4px; min-width: 180px; box-shadow: 0 4px 16px rgba(0,0,0,.15); }
.rk-call [role=menuitem] { display: block; width: 100%; text-align: left; background: #fff; color: #14171a; border: 0; }
.rk-call [role=menuitem]:hover, .rk-call [role=menuitem]:focus { background: #e8efff; }
.rk-call .rk-center { margin: auto; text-align: center; display: flex; flex-direction: column; gap: 10px; max-width: 360px; width: 100%; }
.rk-call .rk-error { color: #b42318; }
.rk-call .rk-you, .rk-call .rk-role, .rk-call .rk-state { color: #4b5563; font-size: .85em; }
.rk-call .rk-small { margin-left: .4em; padding: .1em .5em; font-size: .8em; }
.rk-call.rk-overlay { position: fixed; z-index: 1000; left: 50%; top: 20%; transform: translateX(-50%); min-height: 0;
  width: min(360px, calc(100vw - 24px)); box-shadow: 0 8px 32px rgba(0,0,0,.25); background: #fff; border: 1px solid #d0d5dd; }
.rk-call .rk-actions { display: flex; gap: 8px; justify-content: flex-end; }
.rk-call .rk-grid { display: grid; grid-template-columns: repeat(auto-fill, minmax(220px, 1fr)); gap: 8px; }
@media (max-width: 560px) { .rk-call .rk-grid { grid-template-columns: repeat(auto-fill, minmax(140px, 1fr)); } }
.rk-call .rk-tile { position: relative; background: #1f2937; border-radius: 8px; aspect-ratio: 16 / 9; overflow: hidden; color: #fff; }
.rk-call .rk-tile video { width: 100%; height: 100%; object-fit: cover; display: block; background: #111827; }
.rk-call .rk-tile[data-camera=off] video { visibility: hidden; }
.rk-call .rk-tile .rk-avatar { position: absolute; inset: 0; display: none; align-items: center; justify-content: center; font-size: 2rem; }
.rk-call .rk-tile[data-camera=off] .rk-avatar { display: flex; }
.rk-call .rk-tile .rk-name { position: absolute; left: 6px; bottom: 6px; background: rgba(0,0,0,.6); padding: 2px 8px; border-radius: 6px;
  font-size: .85em; max-width: calc(100% - 12px); overflow: hidden; text-overflow: ellipsis; white-space: nowrap; }
.rk-call .rk-tile .rk-net { position: absolute; right: 6px; top: 6px; background: rgba(180,35,24,.9); padding: 2px 8px; border-radius: 6px; font-size: .8em; }
.rk-call .rk-tile.rk-speaking { outline: 3px solid #16a34a; outline-offset: -3px; }
.rk-call .rk-controls { display: flex; gap: 8px; flex-wrap: wrap; justify-content: center; }
.rk-call button[aria-pressed=false] { background: #fff; color: #b42318; border-color: #b42318; }
.rk-call .rk-preview { width: 100%; aspect-ratio: 16 / 9; background: #111827; border-radius: 8px; object-fit: cover; }
.rk-call select { font: inherit; min-height: 40px; width: 100%; border-radius: 8px; border: 1px solid #6b7280; padding: 4px 8px; }
`;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'testid') node.dataset.testid = v;
    else if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k.startsWith('aria-') || k.startsWith('data-') || k === 'role') node.setAttribute(k, v);
    else node[k] = v;
  }
  node.append(...children.filter((c) => c != null));
  return node;
}

function readCall() {
  try {
    return JSON.parse(sessionStorage.getItem(CALL_STORAGE_KEY) ?? 'null');
  } catch {
    return null;
  }
}

function writeCall(value) {
  if (value) sessionStorage.setItem(CALL_STORAGE_KEY, JSON.stringify(value));
  else sessionStorage.removeItem(CALL_STORAGE_KEY);
}

const DEFAULTS = {
  container: null,
  roomID: '',
  server: undefined,
  showPreJoinView: true,
  maxUsers: 0,
  autoLeaveRoomWhenOnlySelfInRoom: true,
  onJoinRoom() {},
  onLeaveRoom() {},
  onUserJoin() {},
  onUserLeave() {},
  onYouRemovedFromRoom() {},
  onInRoomMessageReceived() {},
  showWaitingCallAcceptAudioVideoView: true,
  callingInvitationListConfig: null,
  // Media (a browser-to-browser mesh; see media.js).
  turnOnCameraWhenJoining: true,
  turnOnMicrophoneWhenJoining: true,
  showMyCameraToggleButton: true,
  showMyMicrophoneToggleButton: true,
  showAudioVideoSettingsButton: true,
  iceServers: [],       // STUN/TURN servers; none is enough on one host or LAN
  maxMediaUsers: 6,     // members a mesh call carries audio and video for
  onMediaError() {},    // ({ kind: 'audio'|'video'|'peer'|'limit', message, name?, userID? })
};

// The camera asked for: a mesh sends one copy to each member, so 360p is
// the default; a larger call needs an SFU, not more pixels.
const VIDEO = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24 } };

const INVITATION_DEFAULTS = {
  container: null, // where an answered call's UI goes (default: joinRoom's container, or the page)
  canInvitingInCalling: false,
  onlyInitiatorCanInvite: false,
  endCallWhenInitiatorLeave: false,
  onSetRoomConfigBeforeJoining: () => ({}),
  onConfirmDialogWhenReceiving: null,
  onWaitingPageWhenSending: null,
  onCallInvitationEnded() {},
  onIncomingCallReceived() {},
  onIncomingCallCanceled() {},
  onIncomingCallTimeout() {},
  onOutgoingCallAccepted() {},
  onOutgoingCallRejected() {},
  onOutgoingCallDeclined() {},
  onOutgoingCallTimeout() {},
};

const MAX_WAITING_SELECT_USERS = 9;

/** Makes the call kit class over a RoomKit (see roomkit.js). */
export function makeCallKit(RoomKit, invalid) {
  // checkWaitingUsers refuses an invitee list over the limit: a clear
  // error, never a silent cut.
  function checkWaitingUsers(users) {
    if (!Array.isArray(users)) throw invalid('waitingSelectUsers must be an array of {userID, userName}');
    if (users.length > MAX_WAITING_SELECT_USERS) {
      throw invalid(`waitingSelectUsers has ${users.length} users; at most ${MAX_WAITING_SELECT_USERS} may be listed`);
    }
  }

  return class CallKit {
    constructor(kitToken) {
      this._kit = RoomKit.parseKitToken(kitToken); // throws a clear Error at once

      this._zim = null;
      this._roomID = '';
      this._joined = false;
      this._members = new Map(); // userID -> { userName, places }
      this._messages = [];       // chat messages of this call, oldest first
      this._root = null;
      this._invitations = null; // the invitation config, once set
      this._config = { ...DEFAULTS };
      this._call = null;         // the call under way (protocol CallInfo), if any
      this._ringing = null;      // { call, close } of an incoming invitation
      this._outgoing = null;     // { call, close } of the waiting view
      this._inviteList = { waitingSelectUsers: [], defaultChecked: true };
      this._local = null;        // LocalMedia: this page's camera and microphone
      this._mesh = null;         // Mesh: a peer connection per other page in the call
      this._slots = null;        // MediaSlots: the call's places for audio and video
      this._meshUsers = new Set(); // the place holders the mesh was told of
      this._claiming = false;    // a claim of a freed place is under way
      this._meter = null;        // LevelMeter for the speaking highlight
      this._tiles = new Map();   // userID -> { tile, video, ... } of the video grid
      this._published = null;    // { audio, video } last published to the room
      this._publishing = 0;      // setMemberState requests under way
    }

    /** The room of the call under way (or being joined), or "". */
    getRoomID() { return this._roomID; }

    /**
     * Shows the call UI in config.container and joins the kit token's
     * room. After a reload of a page that was in this room, it rejoins with
     * no pre-join view. Resolves once in the room; rejects with the Error
     * (with code) when joining fails.
     */
    async joinRoom(config = {}) {
      if (this._joined) throw invalid('already in the room; hangUp first');
      this._config = { ...DEFAULTS, ...config };
      if (this._config.callingInvitationListConfig) this.updateCallingInvitationListConfig(this._config.callingInvitationListConfig);
      this._mount(this._config.container ?? document.body);
      const roomID = this._config.roomID || this._kit.roomID;
      const stored = readCall();
      const rejoining = !!stored && stored.roomID === roomID && stored.userID === this._kit.userID;
      this._roomID = roomID;
      this._wantMedia = rejoining && stored.media ? stored.media
        : { audio: !!this._config.turnOnMicrophoneWhenJoining, video: !!this._config.turnOnCameraWhenJoining };
      if (this._config.showPreJoinView && !rejoining) await this._preJoin();
      return this._enter(rejoining);
    }

    /** Leaves the call: the stored entry is deleted and onLeaveRoom fires. */
    async hangUp() {
      if (!this._joined) return;
      this._joined = false;
      writeCall(null);
      this._stopMedia();
      const call = this._call;
      this._call = null;
      this._renderPending();
      try {
        if (call) await this._zim.callQuit(call.callID).catch(() => {});
        if (this._invitations) {
          // Stay logged in: invitations keep coming.
          await this._zim.leaveRoom(this._roomID).catch(() => {});
        } else {
          const zim = this._zim;
          this._zim = null;
          await zim?.logout();
        }
      } finally {
        this._show(el('div', { class: 'rk-center', testid: 'left-view' },
          el('p', { role: 'status' }, 'You left the call.')));
        this._config.onLeaveRoom();
      }
    }

    /** Removes the UI and releases every listener and the connection. */
    async destroy() {
      const zim = this._zim;
      this._zim = null;
      this._joined = false;
      writeCall(null);
      this._stopMedia();
      this._root?.remove();
      this._root = null;
      await zim?.logout();
    }

    /** Sends a text message to everyone in the call. */
    async sendInRoomMessage(text) {
      if (!this._joined) throw invalid('not in a call; joinRoom first');
      const { message } = await this._zim.sendRoomMessage({ type: 1, message: String(text) }, this._roomID);
      this._addChat(message);
      return message;
    }

    /** Turns this page's camera on or off; resolves with whether it is on. */
    async turnCameraOn(on) { return this._setDevice('video', on); }

    /** Turns this page's microphone on or off; resolves with whether it is on. */
    async turnMicrophoneOn(on) { return this._setDevice('audio', on); }

    /**
     * The media connection with each other page in the call:
     * [{ userID, state, audioBytesReceived, videoBytesReceived,
     * framesDecoded, frameWidth }], from RTCPeerConnection.getStats().
     */
    async getMediaStats() {
      const peers = [...(this._mesh?.peers.values() ?? [])];
      return Promise.all(peers.map(async (p) => {
        const out = { userID: p.userID, state: p.state, audioBytesReceived: 0, videoBytesReceived: 0, framesDecoded: 0, frameWidth: 0 };
        const stats = await p.pc.getStats().catch(() => new Map());
        for (const r of stats.values()) {
          if (r.type !== 'inbound-rtp') continue;
          if (r.kind === 'audio') out.audioBytesReceived += r.bytesReceived ?? 0;
          if (r.kind === 'video') {
            out.videoBytesReceived += r.bytesReceived ?? 0;
            out.framesDecoded += r.framesDecoded ?? 0;
            out.frameWidth = Math.max(out.frameWidth, r.frameWidth ?? 0);
          }
        }
        return out;
      }));
    }

    /**
     * Turns invitations on with config (the call kit's invitation options and
     * callbacks) and logs in, so invitations reach this user. Resolves once
     * they can.
     */
    setCallInvitationConfig(config = {}) {
      const err = RoomKit.wasm.setCallInvitationConfig(config);
      if (err instanceof Error) throw err;
      this._invitations = { ...INVITATION_DEFAULTS, ...config };
      this._ready = this._login(this._config.server);
      return this._ready;
    }

    /**
     * Rings callees ([{userID, userName}], at most 9). In a call it invites
     * them into it; otherwise it starts a call and shows the waiting view
     * until someone answers. Resolves with { errorInvitees } (offline or
     * unknown users).
     */
    async sendCallInvitation({ callees = [], callType = 0, timeout = 60, data = '', roomID = '' } = {}) {
      if (!this._invitations) throw invalid('call setCallInvitationConfig first');
      if (!Array.isArray(callees) || callees.length === 0) throw invalid('callees must list at least one user');
      if (callees.length > MAX_WAITING_SELECT_USERS) {
        const err = invalid(`${callees.length} callees: one invitation may ring at most ${MAX_WAITING_SELECT_USERS} users`);
        err.code = 6000271;
        throw err;
      }
      await this._ready;
      const list = callees.map(({ userID, userName }) => ({ userID, userName: userName ?? '' }));
      if (this._call && this._joined) {
        const res = await this._zim.callAdd(this._call.callID, list, timeout);
        return { errorInvitees: res.errorInvitees };
      }
      const { canInvitingInCalling, onlyInitiatorCanInvite, endCallWhenInitiatorLeave } = this._invitations;
      // The call's first state events can come before the reply: they wait
      // in _early until the call is known.
      const early = [];
      this._early = early;
      let res;
      try {
        res = await this._zim.callInvite({ callees: list, callType, timeout, data, roomID: roomID || (this._joined ? this._roomID : ''),
          config: { canInvitingInCalling, onlyInitiatorCanInvite, endCallWhenInitiatorLeave } });
      } finally {
        this._early = null;
      }
      this._call = { callID: res.callID, roomID: res.roomID, callType, data, initiator: { userID: this._kit.userID }, config: { canInvitingInCalling, onlyInitiatorCanInvite, endCallWhenInitiatorLeave } };
      if (!this._joined && res.errorInvitees.length < list.length) this._showOutgoing(this._call, list);
      for (const ev of early.filter((e) => e.call.callID === res.callID)) this._onCallState(ev);
      return { errorInvitees: res.errorInvitees };
    }

    /** Sets the users the in-call "Invite members" list offers (at most 9). */
    updateCallingInvitationListConfig({ waitingSelectUsers = [], defaultChecked = true } = {}) {
      checkWaitingUsers(waitingSelectUsers);
      this._inviteList = { waitingSelectUsers: [...waitingSelectUsers], defaultChecked };
      this._renderMenu?.();
    }

    // _login logs the kit in once, with a connection of its own (a room
    // client on the same page keeps its own); the invitation features and
    // the call share it.
    async _login(server) {
      if (this._zim) return;
      this._zim = await RoomKit.login({ token: this._kit.token, server, name: 'call' });
      this._listen();
    }

    async _enter(rejoining) {
      const cfg = this._config;
      const roomID = this._roomID;
      this._show(el('div', { class: 'rk-center', testid: 'joining-view' }, el('p', { role: 'status' }, `Joining ${roomID}…`)));
      try {
        await this._login(cfg.server);
        if (!this._zim.getRooms().includes(roomID)) {
          // A reload rejoins only a room that still exists: a call that
          // ended meanwhile is not quietly made again.
          if (rejoining) await this._zim.joinRoom(roomID);
          else await this._zim.enterRoom({ roomID, roomName: roomID }, cfg.maxUsers ? { maxMembers: cfg.maxUsers } : undefined);
        }
        await this._loadMembers();
      } catch (err) {
        writeCall(null);
        if (!this._invitations) {
          const zim = this._zim;
          this._zim = null;
          await zim?.logout().catch(() => {});
        }
        this._show(el('div', { class: 'rk-center rk-error', testid: 'error-view', role: 'alert' },
          el('p', {}, err.code === 6000322 ? `The call in ${roomID} has ended.` : `Could not join: ${err.message}`)));
        throw err;
      }
      this._joined = true;
      this._saveCall();
      this._renderCall();
      cfg.onJoinRoom();
      // Not awaited: a device that is slow to start (or a permission
      // question nobody answers) holds up media only, not the call.
      this._startMedia().catch((err) => this._mediaNote(`Audio and video could not start: ${err.message}`));
    }

    // _saveCall keeps what a reload needs: the room, and whether the
    // camera and microphone were on.
    _saveCall() {
      writeCall({ roomID: this._roomID, userID: this._kit.userID, callID: this._call?.callID ?? '',
        media: this._local ? { audio: !!this._local.audio, video: !!this._local.video } : undefined });
    }

    _listen() {
      const zim = this._zim;
      zim.on('roomMemberJoined', (z, { roomID, memberList }) => {
        if (roomID !== this._roomID) return;
        for (const m of memberList) {
          const cur = this._members.get(m.userID);
          this._members.set(m.userID, { ...memberState(m), places: (cur?.places ?? 0) + 1 });
        }
        this._renderMembers();
        this._config.onUserJoin(memberList.map(({ userID, userName }) => ({ userID, userName })));
      });
      zim.on('roomMemberLeft', (z, { roomID, memberList }) => {
        if (roomID !== this._roomID) return;
        for (const m of memberList) {
          const cur = this._members.get(m.userID);
          if (cur && cur.places > 1) cur.places--;
          else {
            this._members.delete(m.userID);
            this._mesh?.drop(m.userID);
          }
        }
        this._renderMembers();
        this._config.onUserLeave(memberList.map(({ userID, userName }) => ({ userID, userName })));
        if (this._config.autoLeaveRoomWhenOnlySelfInRoom && this._joined && this._onlySelfLeft()) this.hangUp();
      });
      zim.on('roomMemberUpdated', (z, { roomID, memberList }) => {
        if (roomID !== this._roomID) return;
        for (const m of memberList) {
          const cur = this._members.get(m.userID);
          if (cur) Object.assign(cur, memberState(m));
          // Muted by the host or a manager: the microphone goes off here
          // too. (An echo of this page's own change is not that: those
          // arrive while its request is under way.)
          if (m.userID === this._kit.userID && !m.audio && this._local?.audio && this._publishing === 0 && this._published?.audio) {
            this._setDevice('audio', false).then(() => this._mediaNote('Your microphone was muted by the host.'));
          }
        }
        this._renderMembers();
      });
      zim.on('receiveRoomMessage', (z, { roomID, messageList }) => {
        if (roomID !== this._roomID) return;
        for (const m of messageList) {
          if (m.type !== 1) continue;
          this._addChat(m);
          this._config.onInRoomMessageReceived({
            fromUser: { userID: m.senderUserID, userName: m.senderUserName },
            message: m.message, sendTime: m.timestamp, messageID: m.messageID,
          });
        }
      });
      zim.on('callInvitationReceived', (z, ev) => this._onInvitation(ev));
      zim.on('callStateChanged', (z, ev) => this._onCallState(ev));
      zim.on('roomStateChanged', (z, { roomID, state, event, extendedData }) => {
        if (roomID !== this._roomID || state !== 0 || !this._joined) return;
        if (event === 8) {
          this._joined = false;
          writeCall(null);
          let why = {};
          try { why = JSON.parse(extendedData || '{}'); } catch { /* a reason of another shape */ }
          const notice = why.reason === 'ended' ? 'The host ended the session.'
            : why.reason === 'idleTimeout' ? 'The session ended: the host was alone in it too long.'
              : 'You were removed from the call.';
          this._show(el('div', { class: 'rk-center', testid: 'removed-view', role: 'alert' }, el('p', {}, notice)));
          this._config.onYouRemovedFromRoom();
        }
      });
    }

    _onInvitation({ call, inviter }) {
      const cfg = this._invitations;
      if (!cfg || this._ringing) return; // one ringing dialog at a time
      const caller = { userID: inviter.userID, userName: inviter.userName };
      const callees = call.users.filter((u) => u.userID !== call.initiator.userID).map(({ userID, userName }) => ({ userID, userName }));
      cfg.onIncomingCallReceived(call.callID, caller, call.callType, callees);
      const accept = () => this._answer(call, true);
      const refuse = () => this._answer(call, false);
      if (cfg.onConfirmDialogWhenReceiving) {
        this._ringing = { call, close() {} };
        cfg.onConfirmDialogWhenReceiving(call.callType, caller, refuse, accept, call.data);
        return;
      }
      const dialog = el('div', { class: 'rk-call rk-dialog', role: 'alertdialog', 'aria-label': 'Incoming call', testid: 'incoming-call' },
        el('p', {}, `${caller.userName || caller.userID} is calling you`),
        el('div', { class: 'rk-actions' },
          el('button', { testid: 'incoming-accept', onclick: accept }, 'Accept'),
          el('button', { class: 'rk-danger', testid: 'incoming-decline', onclick: refuse }, 'Decline')));
      this._overlay(dialog);
      dialog.querySelector('button').focus();
      this._ringing = { call, close: () => dialog.remove() };
    }

    async _answer(call, accept) {
      const ringing = this._ringing;
      if (!ringing || ringing.call.callID !== call.callID) return;
      this._ringing = null;
      ringing.close();
      if (!accept) {
        await this._zim.callReject(call.callID).catch(() => {});
        this._invitations.onCallInvitationEnded('Declined', call.data);
        return;
      }
      try {
        this._call = await this._zim.callAccept(call.callID);
      } catch (err) {
        this._invitations.onCallInvitationEnded(err.code === 6000274 ? 'Canceled' : 'Timeout', call.data);
        return;
      }
      await this._joinCallRoom(this._call);
    }

    // _joinCallRoom joins the room of an answered call, configured by
    // onSetRoomConfigBeforeJoining.
    async _joinCallRoom(call) {
      this._roomID = call.roomID;
      const roomConfig = this._invitations.onSetRoomConfigBeforeJoining(call.callType) ?? {};
      const container = this._invitations.container ?? this._config.container;
      await this.joinRoom({ ...this._config, container, ...roomConfig, roomID: call.roomID, showPreJoinView: false }).catch(() => {});
    }

    _onCallState({ call, changed }) {
      const me = this._kit.userID;
      const cfg = this._invitations;
      if (!cfg) return;
      // A ringing invitation that stops ringing: answered on another tab,
      // cancelled or timed out.
      if (this._ringing?.call.callID === call.callID) {
        const mine = call.users.find((u) => u.userID === me);
        if (mine && mine.state !== 'Received') {
          this._ringing.close();
          this._ringing = null;
          if (mine.state === 'Cancelled') { cfg.onIncomingCallCanceled(call.callID, call.initiator); cfg.onCallInvitationEnded(mine.reason || 'Canceled', call.data); }
          if (mine.state === 'Timeout') { cfg.onIncomingCallTimeout(call.callID, call.initiator); cfg.onCallInvitationEnded('Timeout', call.data); }
        }
      }
      if (this._early && !this._call && call.initiator.userID === me) {
        this._early.push({ call, changed });
        return;
      }
      if (this._call?.callID !== call.callID) return;
      this._call = { ...this._call, ...call };
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
      this._renderPending();
      // The caller joins the room once someone answers.
      if (this._outgoing && call.users.some((u) => u.userID !== me && u.state === 'Accepted')) {
        this._outgoing.close();
        this._outgoing = null;
        this._joinCallRoom(call);
        return;
      }
      if (call.ended) {
        const reason = call.reason || 'LeaveRoom';
        this._call = null;
        if (this._outgoing) {
          this._outgoing.close();
          this._outgoing = null;
        }
        cfg.onCallInvitationEnded(reason, call.data);
        if (this._joined && reason === 'LeaveRoom' && call.config.endCallWhenInitiatorLeave) this.hangUp();
      }
    }

    _showOutgoing(call, callees) {
      const cfg = this._invitations;
      const cancel = async () => {
        await this._zim.callCancel(call.callID).catch(() => {});
      };
      if (cfg.onWaitingPageWhenSending) {
        this._outgoing = { call, close() {} };
        cfg.onWaitingPageWhenSending(call.callType, callees, cancel);
        return;
      }
      const view = el('div', { class: 'rk-call rk-dialog', role: 'dialog', 'aria-label': 'Calling', testid: 'outgoing-call' },
        el('p', {}, `Calling ${callees.map((c) => c.userName || c.userID).join(', ')}…`),
        el('button', { class: 'rk-danger', testid: 'outgoing-cancel', onclick: cancel }, 'Cancel'));
      this._overlay(view);
      this._outgoing = { call, close: () => view.remove() };
    }

    _overlay(node) {
      if (!document.getElementById('rk-call-style')) document.head.append(el('style', { id: 'rk-call-style', textContent: STYLE }));
      node.classList.add('rk-overlay');
      document.body.append(node);
    }

    _canInvite() {
      const call = this._call;
      if (!call?.config?.canInvitingInCalling) return false;
      return !call.config.onlyInitiatorCanInvite || call.initiator.userID === this._kit.userID;
    }

    _openInviteList() {
      const { waitingSelectUsers, defaultChecked } = this._inviteList;
      const boxes = waitingSelectUsers.filter((u) => !this._members.has(u.userID)).map((u) => {
        const box = el('input', { type: 'checkbox', checked: defaultChecked, testid: `invitee-${u.userID}`, id: `rk-invitee-${u.userID}` });
        box.user = u;
        return el('li', {}, box, el('label', { htmlFor: `rk-invitee-${u.userID}` }, ` ${u.userName || u.userID}`));
      });
      const close = () => sidebar.remove();
      const sidebar = el('div', { class: 'rk-call rk-dialog', role: 'dialog', 'aria-label': 'Invite members', testid: 'invite-sidebar' },
        el('h3', {}, 'Invite members'),
        boxes.length ? el('ul', {}, ...boxes) : el('p', {}, 'Everyone on the list is in the call.'),
        el('div', { class: 'rk-actions' },
          el('button', { testid: 'invite-send', onclick: async () => {
            const callees = boxes.map((li) => li.querySelector('input')).filter((b) => b.checked).map((b) => b.user);
            close();
            if (callees.length) await this.sendCallInvitation({ callees }).catch((err) => this._addNote(`Invitation failed (${err.code}): ${err.message}`));
          } }, 'Invite'),
          el('button', { class: 'rk-secondary', testid: 'invite-close', onclick: close }, 'Close')));
      this._overlay(sidebar);
      sidebar.querySelector('input, button').focus();
    }

    // _renderPending shows the invitees still being rung, each with a
    // cancel control (showWaitingCallAcceptAudioVideoView).
    _renderPending() {
      if (!this._pendingList) return;
      const call = this._call;
      const ringing = call && this._config.showWaitingCallAcceptAudioVideoView ? (call.users ?? []).filter((u) => u.state === 'Received') : [];
      const mayCancel = call?.initiator?.userID === this._kit.userID;
      this._pendingList.replaceChildren(...ringing.map((u) => el('li', { testid: `pending-${u.userID}` }, `${u.userName || u.userID} (calling…) `,
        mayCancel ? el('button', { class: 'rk-secondary', testid: `cancel-${u.userID}`, onclick: () => this._zim.callCancel(call.callID, [u.userID]).catch(() => {}) }, 'Cancel') : null)));
    }

    _onlySelfLeft() {
      const me = this._kit.userID;
      return this._members.size === 1 && this._members.has(me) && this._members.get(me).places === 1;
    }

    async _loadMembers() {
      const members = new Map();
      let nextFlag = '';
      do {
        const page = await this._zim.queryRoomMemberList(this._roomID, { count: 100, nextFlag });
        for (const m of page.memberList) {
          const cur = members.get(m.userID);
          members.set(m.userID, { ...memberState(m), places: (cur?.places ?? 0) + 1 });
        }
        nextFlag = page.nextFlag;
      } while (nextFlag);
      this._members = members;
    }

    _mount(container) {
      if (!document.getElementById('rk-call-style')) {
        document.head.append(el('style', { id: 'rk-call-style', textContent: STYLE }));
      }
      this._root?.remove();
      this._chatList = null;
      this._memberList = null;
      this._pendingList = null;
      this._messages = [];
      this._root = el('div', { class: 'rk-call', testid: 'call-root' });
      container.append(this._root);
    }

    _show(view) {
      this._root?.replaceChildren(view);
    }

    _preJoin() {
      return new Promise((resolve) => {
        const name = el('input', { testid: 'prejoin-name', readOnly: true, value: this._kit.userName || this._kit.userID, id: 'rk-prejoin-name' });
        const join = el('button', { testid: 'prejoin-join', type: 'submit' }, 'Join');
        const preview = el('video', { class: 'rk-preview', testid: 'prejoin-preview', muted: true, autoplay: true, playsInline: true, 'aria-label': 'Your camera' });
        this._mediaNotes = el('div', { testid: 'media-notes' });
        this._show(el('form', { class: 'rk-center', testid: 'prejoin-view', onsubmit: (e) => { e.preventDefault(); resolve(); } },
          el('h2', {}, `Join ${this._roomID}`), preview, this._mediaNotes,
          el('label', { htmlFor: 'rk-prejoin-name' }, 'Your name'), name, join));
        join.focus();
        // The camera preview: the devices are asked for now, so the
        // browser's permission question comes before the call.
        this._startLocal().then(() => { preview.srcObject = this._local.stream; });
      });
    }

    // _startLocal turns on the camera and microphone the config (or, after
    // a reload, the page before it) asked for. A device that cannot start
    // stays off, with a message and onMediaError; joining goes on.
    _startLocal() {
      if (!this._localReady) {
        const local = new LocalMedia({ video: VIDEO });
        this._local = local;
        const want = this._wantMedia ?? { audio: false, video: false };
        this._localReady = Promise.all(['audio', 'video'].map((kind) => want[kind] && local.set(kind, true).catch((err) => this._mediaError(kind, err))));
      }
      return this._localReady;
    }

    // _startMedia joins the mesh: the devices on, the state published, and
    // a hello to every other member, whose pages answer and connect.
    async _startMedia() {
      const cfg = this._config;
      await this._startLocal();
      if (!this._joined) return;
      this._saveCall();
      this._renderControls?.();
      this._meter = new LevelMeter();
      this._speaking = setInterval(() => this._renderSpeaking(), 250);
      this._renderTile(this._kit.userID);
      await this._publishMedia();
      // A place for audio and video, given by the server (MediaSlots): of
      // pages joining at once, no more than maxMediaUsers get one.
      const slots = new MediaSlots({ zim: this._zim, roomID: this._roomID, userID: this._kit.userID, size: cfg.maxMediaUsers,
        onChange: () => this._placesChanged() });
      this._slots = slots;
      let placed = false;
      try {
        await slots.load();
        placed = await slots.claim();
      } catch (err) {
        this._mediaNote(`Could not get a place for audio and video (${err.code}): ${err.message}`);
      }
      if (this._slots !== slots || !this._joined) return;
      if (!placed) {
        const message = `The ${cfg.maxMediaUsers} places for audio and video in this call are taken (a browser-to-browser call carries up to ${cfg.maxMediaUsers}), so you are in it with chat only until one frees.`;
        this._mediaNote(message);
        cfg.onMediaError({ kind: 'limit', message });
        return;
      }
      this._openMesh();
    }

    // _openMesh connects to every page of the members holding a place.
    _openMesh() {
      const cfg = this._config;
      this._meshUsers = this._slots.holderIDs();
      this._mesh = new Mesh({
        zim: this._zim, roomID: this._roomID, userID: this._kit.userID, local: this._local, iceServers: cfg.iceServers,
        admits: (userID) => this._slots?.holds(userID) ?? false,
        events: {
          onStream: (peer) => this._renderTile(peer.userID),
          onPeerState: (peer) => {
            this._renderTile(peer.userID);
            if (peer.state === 'unreachable') {
              const message = `${this._members.get(peer.userID)?.userName || peer.userID} cannot be reached: no network path between you works (a TURN server in iceServers would relay it).`;
              this._mediaNote(message);
              cfg.onMediaError({ kind: 'peer', userID: peer.userID, message });
            }
          },
          onPeerGone: (peer) => this._renderTile(peer.userID),
          onError: (message, peer) => {
            this._mediaNote(message);
            cfg.onMediaError({ kind: 'peer', userID: peer?.userID, message });
          },
        },
      });
      this._mesh.hello([...this._meshUsers]);
    }

    // _placesChanged follows the places: a member who got one is greeted
    // (its own hello may have come before the news and been ignored), one
    // who lost it is dropped, and a page with chat only claims a freed one.
    async _placesChanged() {
      const slots = this._slots;
      if (!slots || !this._joined) return;
      if (this._mesh) {
        const now = slots.holderIDs();
        for (const u of now) if (!this._meshUsers.has(u)) this._mesh.hello([u]);
        for (const u of this._meshUsers) if (!now.has(u)) this._mesh.drop(u);
        this._meshUsers = now;
        return;
      }
      if (this._claiming || slots.holderIDs().size >= slots.size) return;
      this._claiming = true;
      try {
        if (await slots.claim() && this._slots === slots && this._joined && !this._mesh) {
          this._mediaNote('A place for audio and video freed up: you are in the call with audio and video now.');
          this._openMesh();
        }
      } catch {
        // Tried again at the next change of the places.
      } finally {
        this._claiming = false;
      }
    }

    _stopMedia() {
      this._mesh?.close();
      this._mesh = null;
      this._slots?.close();
      this._slots = null;
      this._local?.stop();
      this._local = null;
      this._localReady = null;
      this._meter?.close();
      this._meter = null;
      clearInterval(this._speaking);
      this._tiles.clear();
      this._published = null;
    }

    // _setDevice turns kind on or off here, on every connection, and in
    // the state the room sees.
    async _setDevice(kind, on) {
      if (!this._joined || !this._local) throw invalid('not in a call; joinRoom first');
      try {
        const track = await this._local.set(kind, on);
        await this._mesh?.replaceTrack(kind, track);
      } catch (err) {
        this._mediaError(kind, err);
      }
      this._saveCall();
      this._renderControls?.();
      this._renderTile(this._kit.userID);
      await this._publishMedia();
      return !!this._local?.[kind];
    }

    // _publishMedia tells the room whether the camera and microphone are
    // on, so every page shows it, also before its media connects.
    async _publishMedia() {
      if (!this._local || !this._joined) return;
      const state = { audio: !!this._local.audio, video: !!this._local.video };
      if (this._published && this._published.audio === state.audio && this._published.video === state.video) return;
      this._published = state;
      this._publishing++;
      try {
        await this._zim.setMemberState(state, this._roomID);
      } catch (err) {
        this._mediaNote(`Could not tell the others your camera and microphone state (${err.code}): ${err.message}`);
      } finally {
        this._publishing--;
      }
    }

    _mediaError(kind, err) {
      const message = mediaErrorMessage(kind, err);
      this._mediaNote(message);
      this._config.onMediaError({ kind, name: err?.name ?? '', message });
    }

    _mediaNote(text) {
      this._mediaNotes?.append(el('p', { class: 'rk-error', role: 'alert', testid: 'media-error' }, text));
    }

    // _renderTile draws userID's video tile: the stream (this page's own,
    // or the newest connection's with that user), the camera and
    // microphone state the member published, and the connection's state.
    _renderTile(userID) {
      if (!this._grid) return;
      const m = this._members.get(userID);
      let t = this._tiles.get(userID);
      if (!m) {
        t?.tile.remove();
        this._tiles.delete(userID);
        return;
      }
      const me = userID === this._kit.userID;
      if (!t) {
        const video = el('video', { autoplay: true, playsInline: true, muted: me, testid: `video-${userID}` });
        if (!me) video.dataset.remote = 'true';
        const name = el('span', { class: 'rk-name' });
        const net = el('span', { class: 'rk-net', testid: `net-${userID}`, hidden: true });
        const avatar = el('span', { class: 'rk-avatar', 'aria-hidden': 'true' });
        t = { tile: el('div', { class: 'rk-tile', testid: `tile-${userID}` }, video, avatar, name, net), video, name, net, avatar };
        this._tiles.set(userID, t);
      }
      if (t.tile.parentNode !== this._grid) this._grid.append(t.tile);
      let stream = null;
      let state = '';
      if (me) stream = this._local?.stream ?? null;
      else {
        const peers = [...(this._mesh?.peers.values() ?? [])].filter((p) => p.userID === userID);
        const peer = peers.find((p) => p.state === 'connected') ?? peers.at(-1);
        stream = peer?.stream ?? null;
        state = peer?.state ?? '';
      }
      if (t.video.srcObject !== stream) {
        t.video.srcObject = stream;
        if (stream) t.video.play().catch(() => { t.video.muted = true; t.video.play().catch(() => {}); });
      }
      t.stream = stream;
      const video = me ? !!this._local?.video : m.video;
      const audio = me ? !!this._local?.audio : m.audio;
      t.tile.dataset.camera = video ? 'on' : 'off';
      t.tile.dataset.microphone = audio ? 'on' : 'off';
      t.tile.dataset.peer = state;
      t.avatar.textContent = (m.userName || userID).slice(0, 1).toUpperCase();
      t.name.textContent = `${m.userName || userID}${me ? ' (you)' : ''}${audio ? '' : ' · muted'}`;
      t.net.hidden = !(state === 'reconnecting' || state === 'unreachable');
      t.net.textContent = state === 'unreachable' ? 'unreachable' : 'reconnecting…';
    }

    _renderTiles() {
      if (!this._grid) return;
      for (const userID of [...this._tiles.keys()]) if (!this._members.has(userID)) this._renderTile(userID);
      for (const userID of this._members.keys()) this._renderTile(userID);
    }

    // _renderSpeaking highlights the loudest tile above a threshold.
    _renderSpeaking() {
      if (!this._meter) return;
      let loudest = null;
      let best = 0.02;
      for (const [userID, t] of this._tiles) {
        const level = t.tile.dataset.microphone === 'on' ? this._meter.level(t.stream) : 0;
        if (level > best) { best = level; loudest = userID; }
      }
      for (const [userID, t] of this._tiles) {
        t.tile.classList.toggle('rk-speaking', userID === loudest);
        t.tile.dataset.speaking = String(userID === loudest);
      }
    }

    async _openSettings() {
      const devices = await navigator.mediaDevices.enumerateDevices().catch(() => []);
      const pick = (kind, label, testid) => {
        const current = kind === 'audioinput' ? this._local?.audio : this._local?.video;
        const currentID = current?.getSettings().deviceId ?? '';
        const select = el('select', { testid, id: `rk-${testid}` }, ...devices.filter((d) => d.kind === kind)
          .map((d, i) => el('option', { value: d.deviceId, selected: d.deviceId === currentID }, d.label || `${label} ${i + 1}`)));
        select.addEventListener('change', async () => {
          const k = kind === 'audioinput' ? 'audio' : 'video';
          try {
            const track = await this._local.useDevice(k, select.value);
            await this._mesh?.replaceTrack(k, track);
            this._renderTile(this._kit.userID);
          } catch (err) {
            this._mediaError(k, err);
          }
        });
        return [el('label', { htmlFor: `rk-${testid}` }, label), select];
      };
      const close = () => dialog.remove();
      const dialog = el('div', { class: 'rk-call rk-dialog', role: 'dialog', 'aria-label': 'Audio and video settings', testid: 'av-settings-dialog' },
        el('h3', {}, 'Audio and video'),
        ...pick('videoinput', 'Camera', 'select-camera'),
        ...pick('audioinput', 'Microphone', 'select-microphone'),
        el('div', { class: 'rk-actions' }, el('button', { testid: 'av-settings-close', onclick: close }, 'Done')));
      this._overlay(dialog);
      dialog.querySelector('select, button').focus();
    }

    _renderCall() {
      const menu = el('div', { role: 'menu', testid: 'more-menu', hidden: true, 'aria-label': 'More' });
      // Items the member may not use are left out (replaceChildren would
      // show a null as the text "null").
      this._renderMenu = () => menu.replaceChildren(...[
        this._canInvite() ? el('button', { role: 'menuitem', testid: 'menu-invite', onclick: () => { closeMenu(); this._openInviteList(); } }, 'Invite members') : null,
        el('button', { role: 'menuitem', testid: 'menu-toggle-chat', onclick: () => { chat.hidden = !chat.hidden; closeMenu(); } }, 'Show or hide chat'),
        el('button', { role: 'menuitem', testid: 'menu-copy-room', onclick: () => { navigator.clipboard?.writeText(this._roomID).catch(() => {}); closeMenu(); } }, 'Copy room ID'),
        this._members.get(this._kit.userID)?.role === 'host'
          ? el('button', { role: 'menuitem', testid: 'menu-end-all', onclick: () => { closeMenu(); this._zim.endRoom(this._roomID).catch((err) => this._addNote(`Could not end the call (${err.code}): ${err.message}`)); } }, 'End for everyone')
          : null,
      ].filter(Boolean));
      const more = el('button', { class: 'rk-secondary', testid: 'more-button', 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-label': 'More options',
        onclick: () => { this._renderMenu(); menu.hidden = !menu.hidden; more.setAttribute('aria-expanded', String(!menu.hidden)); if (!menu.hidden) menu.querySelector('button').focus(); } }, '⋯');
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
      this._memberList = el('ul', { testid: 'member-list', 'aria-live': 'polite' });
      this._memberCount = el('span', { testid: 'member-count' });
      this._pendingList = el('ul', { testid: 'pending-list', 'aria-label': 'Being called' });
      this._chatList = el('ol', { class: 'rk-chat-list', testid: 'chat-list', 'aria-live': 'polite' });
      for (const m of this._messages) this._appendChat(m);
      const input = el('input', { testid: 'chat-input', placeholder: 'Message', 'aria-label': 'Message' });
      const chat = el('section', { 'aria-label': 'Chat', testid: 'chat-panel' },
        el('h3', {}, 'Chat'), this._chatList,
        el('form', { onsubmit: async (e) => {
          e.preventDefault();
          const text = input.value.trim();
          if (!text) return;
          input.value = '';
          await this.sendInRoomMessage(text).catch((err) => this._addNote(`Not sent (${err.code}): ${err.message}`));
        } }, input, el('button', { testid: 'chat-send', type: 'submit' }, 'Send')));
      this._grid = el('div', { class: 'rk-grid', testid: 'video-grid', 'aria-label': 'Video' });
      this._tiles.clear();
      this._mediaNotes = el('div', { testid: 'media-notes' });
      const cfg = this._config;
      const toggle = (kind, testid, label) => {
        const b = el('button', { testid, onclick: () => this._setDevice(kind, !this._local?.[kind]).catch(() => {}) });
        b.kind = kind;
        b.label = label;
        return b;
      };
      const toggles = [
        cfg.showMyCameraToggleButton ? toggle('video', 'toggle-camera', 'Camera') : null,
        cfg.showMyMicrophoneToggleButton ? toggle('audio', 'toggle-microphone', 'Microphone') : null,
      ].filter(Boolean);
      this._renderControls = () => {
        for (const b of toggles) {
          const on = !!this._local?.[b.kind];
          b.setAttribute('aria-pressed', String(on));
          b.textContent = `${b.label} ${on ? 'on' : 'off'}`;
        }
      };
      this._renderControls();
      this._show(el('div', { testid: 'call-view', style: 'display:contents' },
        el('header', {},
          el('h2', { testid: 'room-title' }, this._roomID),
          el('div', { class: 'rk-menu-wrap' }, more, menu),
          el('button', { class: 'rk-danger', testid: 'leave-button', onclick: () => this.hangUp() }, 'Leave')),
        this._grid,
        el('div', { class: 'rk-controls', testid: 'media-controls' }, ...toggles,
          cfg.showAudioVideoSettingsButton ? el('button', { class: 'rk-secondary', testid: 'av-settings', onclick: () => this._openSettings() }, 'Settings') : null),
        this._mediaNotes,
        el('div', { class: 'rk-body' },
          el('section', { 'aria-label': 'Members' }, el('h3', {}, 'Members (', this._memberCount, ')'), this._memberList, this._pendingList),
          chat)));
      this._renderMembers();
      this._renderPending();
    }

    _renderMembers() {
      if (!this._memberList) return;
      const me = this._kit.userID;
      const myRole = this._members.get(me)?.role;
      // Offer only what the role allows (the server decides anyway): the
      // host mutes and removes anyone, a manager mutes all but the host and
      // removes participants.
      const mayMute = (m) => myRole === 'host' || (myRole === 'manager' && m.role !== 'host');
      const mayRemove = (m) => myRole === 'host' || (myRole === 'manager' && m.role === 'participant');
      const act = (label, testid, f) => el('button', { class: 'rk-secondary rk-small', testid, onclick: () => f().catch((err) => this._addNote(`${label} failed (${err.code}): ${err.message}`)) }, label);
      this._memberCount.textContent = String(this._members.size);
      this._renderTiles();
      this._memberList.replaceChildren(...[...this._members].map(([userID, m]) =>
        el('li', { testid: `member-${userID}`, 'data-role': m.role, 'data-audio': String(m.audio) }, m.userName || userID,
          userID === me ? el('span', { class: 'rk-you' }, ' (you)') : null,
          m.role === 'host' || m.role === 'manager' ? el('span', { class: 'rk-role' }, ` · ${m.role}`) : null,
          el('span', { class: 'rk-state', 'aria-label': m.audio ? 'microphone on' : 'microphone off' }, m.audio ? ' · mic on' : ' · muted'),
          m.video ? null : el('span', { class: 'rk-state', testid: `camera-off-${userID}` }, ' · camera off'),
          userID !== me && m.audio && mayMute(m) ? act('Mute', `mute-${userID}`, () => this._zim.setMemberState({ audio: false }, this._roomID, userID)) : null,
          userID !== me && mayRemove(m) ? act('Remove', `remove-${userID}`, () => this._zim.removeMember(userID, this._roomID)) : null)));
    }

    // _addChat keeps m and shows it once the call view is up: messages can
    // arrive (a resumed session's missed ones) before it is drawn.
    _addChat(m) {
      this._messages.push(m);
      if (this._chatList) this._appendChat(m);
    }

    _appendChat(m) {
      this._chatList.append(el('li', { testid: 'chat-message' }, el('strong', {}, `${m.senderUserName || m.senderUserID}: `), String(m.message)));
      this._chatList.lastChild.scrollIntoView?.({ block: 'nearest' });
    }

    _addNote(text) {
      this._chatList?.append(el('li', { class: 'rk-error', role: 'alert' }, text));
    }
  };
}
