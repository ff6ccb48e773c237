// The call kit: a prebuilt call page on top of the room client, shaped like
// the hosted prebuilt call kits. roomkit.js exposes it as RoomKit.create:
//
//   const zp = RoomKit.create(kitToken);
//   zp.joinRoom({ container: document.querySelector('#call'),
//                 onJoinRoom: () => sessionStorage.setItem('roomID', zp.getRoomID()) });
//
// This file is the facade: the CallKit class with the public API, the
// call's life (login, entering the room, leaving) and the wiring of the
// parts in callkit/, each owning one thing:
//
//   config.js       the options' defaults and limits, the scenarios, the warnings
//   storage.js      the call kept in sessionStorage for a reload
//   store.js        the members and chat messages, fed by room events
//   events.js       the room events, to the store, the views and the parts
//   invitations.js  the incoming and outgoing invitation flows
//   callmedia.js    devices, places, the mesh (media.js), the video tiles
//   gallery.js      which tiles are shown, a page at a time
//   callview.js     the pre-join and call views, the More menu, the controls
//   details.js      shared links, Room details, the timer, the logo, the leaving view
//   members.js      the member list view, its search, the avatars
//   notices.js      the lower-left notices of members and chat
//   chat.js         the chat view
//   dom.js          el, the style sheet, overlays
//
// The parts are given the kit and read its shared state: _kit (the parsed
// kit token), _zim, _roomID, _joined, _joining, _config, _call, the store
// (_store) and the views' live nodes and hooks (_view). Imports go one way, from here to
// callkit/ and from there to media.js: roomkit.js hands the kit the RoomKit
// it needs, so no module here imports roomkit.js.

import { COMMAND, DEFAULTS, SCENARIOS, log, setConsoleLevel, warnUnsupported, warnUnsupportedInvitation, withScenario } from './callkit/config.js';
import { closeDetails, leavingView } from './callkit/details.js';
import { CALL_STORAGE_KEY, readCall, writeCall } from './callkit/storage.js';
import { addStyle, el } from './callkit/dom.js';
import { CallStore } from './callkit/store.js';
import { listen } from './callkit/events.js';
import { Invitations } from './callkit/invitations.js';
import { CallMedia } from './callkit/callmedia.js';
import { preJoin, renderCall } from './callkit/callview.js';
import { addChat } from './callkit/chat.js';
import { offerAvatars } from './callkit/members.js';

export { CALL_STORAGE_KEY };

// joinError is what the call view says when joining fails.
function joinError(err, roomID, cfg) {
  if (err.code === 6000322) return `The call in ${roomID} has ended.`;
  if (err.code === 6100008 && cfg.scenario?.mode === SCENARIOS.OneONoneCall) return 'This is a 1-on-1 call, and it has its two members already.';
  return `Could not join: ${err.message}`;
}

/** Makes the call kit class over a RoomKit (see roomkit.js). */
export function makeCallKit(RoomKit, invalid) {
  return class CallKit {
    constructor(kitToken) {
      this._kit = RoomKit.parseKitToken(kitToken); // throws a clear Error at once

      this._zim = null;
      this._roomID = '';
      this._joined = false;
      this._root = null;
      this._config = { ...DEFAULTS };
      this._call = null;         // the call under way (protocol CallInfo), if any
      this._ready = undefined;   // the login setCallInvitationConfig started
      this._joining = null;      // the joinRoom under way (pre-join view or entering), if any
      this._store = new CallStore();                 // members and chat messages
      this._invites = new Invitations(this, invalid); // the invitation config and flows
      this._media = new CallMedia(this, invalid);     // devices, places, mesh, tiles
      // The views' live nodes, and the call view's hooks to redraw its
      // More menu and its camera and microphone toggles.
      this._view = { chatList: null, memberList: null, memberCount: null, pendingList: null, renderMenu: null, renderControls: null };
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
      // One join at a time: a second one (an answered invitation while the
      // pre-join view waits, or a join while one is entering the room) is
      // refused, never run beside the first.
      if (this._joining) throw invalid('a join is under way (the pre-join view or entering the room); wait for it to end first');
      const joining = this._join(config);
      this._joining = joining;
      try {
        return await joining;
      } finally {
        if (this._joining === joining) this._joining = null;
      }
    }

    async _join(config) {
      setConsoleLevel(config.console);
      warnUnsupported(config);
      this._given = config; // for the leaving view's Rejoin
      this._config = withScenario({ ...DEFAULTS, ...config });
      if (this._config.callingInvitationListConfig) this.updateCallingInvitationListConfig(this._config.callingInvitationListConfig);
      this._mount(this._config.container ?? document.body);
      const roomID = this._config.roomID || this._kit.roomID;
      const stored = readCall();
      const rejoining = !!stored && stored.roomID === roomID && stored.userID === this._kit.userID;
      this._roomID = roomID;
      this._media.want = rejoining && stored.media ? stored.media
        : { audio: !!this._config.turnOnMicrophoneWhenJoining, video: !!this._config.turnOnCameraWhenJoining };
      if (this._config.showPreJoinView && !rejoining) await preJoin(this);
      return this._enter(rejoining);
    }

    /** Leaves the call: the stored entry is deleted and onLeaveRoom fires. */
    async hangUp() {
      // The dialogs of the call go with it: the settings dialog (closed by
      // the media's stop) and the Invite members list. Calling someone (the
      // waiting view) is hanging up too: that call is cancelled and its
      // view closed. A ringing invitation is not this call's: the kit stays
      // logged in for invitations, so it keeps ringing and the user may
      // still answer or decline it (destroy closes it too).
      if (!this._joined) {
        await this._invites.cancelOutgoing();
        return;
      }
      const call = this._leaveCall();
      try {
        if (call) await this._zim.callQuit(call.callID).catch(() => {});
        if (this._invites.config) {
          // Stay logged in: invitations keep coming.
          await this._zim.leaveRoom(this._roomID).catch(() => {});
        } else {
          const zim = this._zim;
          this._zim = null;
          await zim?.logout();
        }
      } finally {
        log('info', `left the call in ${this._roomID}`);
        this._show(leavingView(this, this._given, call));
        this._config.onLeaveRoom();
      }
    }

    // _leaveCall ends this page's part in the call, however it ends (a
    // hang-up, a removal, the session's end): not joined, nothing kept for
    // a reload, the camera and microphone off, the connections and the
    // call's dialogs closed. It returns the call that was under way (the
    // caller quits it).
    _leaveCall() {
      this._joined = false;
      writeCall(null);
      this._media.stop();
      this._invites.closeInviteList();
      closeDetails();
      const call = this._call;
      this._call = null;
      this._invites.renderPending();
      return call;
    }

    /** Removes the UI and releases every listener and the connection. */
    async destroy() {
      // Nothing of the kit stays on the page: its view, and every dialog
      // it showed over the page (ringing, waiting, Invite members,
      // settings). The style sheet stays: it shows nothing by itself.
      const zim = this._zim;
      this._zim = null;
      this._joined = false;
      this._joining = null;
      writeCall(null);
      this._media.stop();
      const closing = this._invites.closeAll(zim);
      this._root?.remove();
      this._root = null;
      await closing;
      await zim?.logout();
    }

    /** Sends a text message to everyone in the call. */
    async sendInRoomMessage(text) {
      if (!this._joined) throw invalid('not in a call; joinRoom first');
      const { message } = await this._zim.sendRoomMessage({ type: 1, message: String(text) }, this._roomID);
      addChat(this, message);
      return message;
    }

    /**
     * Sends command (a string) to the members listed, or, with none
     * listed, to everyone else in the call; each gets it in
     * onInRoomCommandReceived(fromUser, command). Nothing of it is kept
     * (the room's history holds chat only). Resolves with true once sent;
     * rejects with the Error (6100016 for a listed user not in the call).
     */
    async sendInRoomCommand(command, toUserIDs = []) {
      if (!this._joined) throw invalid('not in a call; joinRoom first');
      if (typeof command !== 'string') throw invalid('command must be a string');
      if (!Array.isArray(toUserIDs) || toUserIDs.some((u) => typeof u !== 'string')) throw invalid('toUserIDs must be an array of user IDs');
      if (toUserIDs.length === 0) {
        await this._zim.sendRoomMessage({ type: 2, message: JSON.stringify({ command }) }, this._roomID);
      } else {
        await Promise.all([...new Set(toUserIDs)].map((u) => this._zim.sendPeerMessage({ kind: COMMAND, command }, u, this._roomID)));
      }
      return true;
    }

    /** Turns this page's camera on or off; resolves with whether it is on. */
    async turnCameraOn(on) { return this._media.setDevice('video', on); }

    /** Turns this page's microphone on or off; resolves with whether it is on. */
    async turnMicrophoneOn(on) { return this._media.setDevice('audio', on); }

    /**
     * The media connection with each other page in the call:
     * [{ userID, state, audioBytesReceived, audioEnergy,
     * videoBytesReceived, framesDecoded, frameWidth, freezeCount }], from
     * RTCPeerConnection.getStats().
     */
    async getMediaStats() { return this._media.stats(); }

    /**
     * Accepts the hosted kit's plugins ({ ZIM }, ...): roomkit needs none
     * (its invitations and messaging are its own), so they are kept unused.
     */
    addPlugins(plugins = {}) { this._plugins = plugins; }

    /**
     * Turns invitations on with config (the call kit's invitation options and
     * callbacks) and logs in, so invitations reach this user. Resolves once
     * they can.
     */
    setCallInvitationConfig(config = {}) {
      if (config === null || typeof config !== 'object') throw invalid('setCallInvitationConfig needs a config object');
      warnUnsupportedInvitation(config);
      this._invites.configure(config);
      // Callable before the module has loaded, as a page's first lines
      // call it: the load starts here, and the login follows it.
      this._ready = RoomKit.init().then(() => {
        const err = RoomKit.wasm.setCallInvitationConfig(config);
        if (err instanceof Error) throw err;
        return this._login(this._config.server);
      });
      return this._ready;
    }

    /**
     * Rings callees ([{userID, userName}], at most 9). In a call it invites
     * them into it; otherwise it starts a call and shows the waiting view
     * until someone answers. Resolves with { errorInvitees } (offline or
     * unknown users).
     */
    async sendCallInvitation({ callees = [], callType = 0, timeout = 60, data = '', roomID = '' } = {}) {
      return this._invites.send({ callees, callType, timeout, data, roomID });
    }

    /** Sets the users the in-call "Invite members" list offers (at most 9). */
    updateCallingInvitationListConfig({ waitingSelectUsers = [], defaultChecked = true } = {}) {
      this._invites.setList(waitingSelectUsers, defaultChecked);
      this._view.renderMenu?.();
    }

    // _login logs the kit in once, with a connection of its own (a room
    // client on the same page keeps its own); the invitation features and
    // the call share it.
    async _login(server) {
      if (this._zim) return;
      this._zim = await RoomKit.login({ token: this._kit.token, server, name: 'call' });
      listen(this);
    }

    // _enter logs in, enters the room (after a reload: rejoins it), reads
    // its members and shows the call view; media starts after.
    async _enter(rejoining) {
      const cfg = this._config;
      const roomID = this._roomID;
      this._show(el('div', { class: 'rk-center', testid: 'joining-view' }, el('p', { role: 'status' }, `Joining ${roomID}…`)));
      try {
        await this._login(cfg.server);
        if (!this._zim.getRooms().includes(roomID)) {
          // A reload rejoins only a room that still exists: a call that
          // ended meanwhile is not quietly made again.
          // A 1-on-1 call's room holds two: the server keeps a third out.
          const maxMembers = cfg.scenario?.mode === SCENARIOS.OneONoneCall ? 2 : cfg.maxUsers;
          if (rejoining) await this._zim.joinRoom(roomID);
          else await this._zim.enterRoom({ roomID, roomName: roomID }, maxMembers ? { maxMembers } : undefined);
        }
        await this._store.load((nextFlag) => this._zim.queryRoomMemberList(this._roomID, { count: 100, nextFlag }));
      } catch (err) {
        writeCall(null);
        if (!this._invites.config) {
          const zim = this._zim;
          this._zim = null;
          await zim?.logout().catch(() => {});
        }
        this._show(el('div', { class: 'rk-center rk-error', testid: 'error-view', role: 'alert' },
          el('p', {}, joinError(err, roomID, cfg))));
        throw err;
      }
      this._joined = true;
      this._saveCall();
      renderCall(this);
      offerAvatars(this, [...this._store.members].map(([userID, m]) => ({ userID, userName: m.userName })));
      log('info', `joined the call in ${roomID}`);
      cfg.onJoinRoom();
      // Not awaited: a device that is slow to start (or a permission
      // question nobody answers) holds up media only, not the call.
      this._media.start().catch((err) => this._media.note(`Audio and video could not start: ${err.message}`));
    }

    // _saveCall keeps what a reload needs: the room, and whether the
    // camera and microphone were on.
    _saveCall() {
      writeCall({ roomID: this._roomID, userID: this._kit.userID, callID: this._call?.callID ?? '',
        media: this._media.local ? { audio: !!this._media.local.audio, video: !!this._media.local.video } : undefined });
    }

    // _mount puts a new root for the call's views in container, with the
    // style sheet, and forgets the views and messages of a call before.
    _mount(container) {
      addStyle();
      this._root?.remove();
      this._view.chatList = null;
      this._view.memberList = null;
      this._view.pendingList = null;
      this._store.messages = [];
      this._root = el('div', { class: 'rk-call', testid: 'call-root' });
      container.append(this._root);
    }

    // _show shows view, in place of the one shown.
    _show(view) {
      this._root?.replaceChildren(view);
    }
  };
}
