// The session client: the video SDK's session life cycle on top of the room
// client. roomkit.js exposes it as RoomKit.createClient:
//
//   const client = RoomKit.createClient();
//   await client.init('en-US', 'Global', { patchJsMedia: true });
//   await client.join(sessionName, token, userName, passcode);
//   const stream = client.getMediaStream();
//   ...
//   await client.leave(true); // the host ends it for everyone
//
// A session is a room: its ID comes from the session name
// (RoomKit.sessionRoomID), and the token admits that room alone. Roles,
// privileges, passcodes and the idle timeout are the server's. Its audio
// and video go through the server's media server (sfu.js), when it runs
// one: startAudio and startVideo turn this page's devices on and send
// them, attachVideo(userId) shows a user's video in an element.
//
// It imports listeners.js, media.js and sfu.js: roomkit.js hands it the
// RoomKit it needs.
import { Listeners } from './listeners.js';
import { LocalMedia } from './media.js';
import { SfuConnection, captureScreen } from './sfu.js';

const ROLE_HOST = 'host';
const ROLE_MANAGER = 'manager';

const SESSION_EVENTS = new Set(['user-added', 'user-removed', 'user-updated', 'connection-change', 'current-audio-change', 'session-info-change',
  'peer-video-state-change', 'active-speaker', 'active-share-change', 'share-privilege-change', 'passively-stop-share']);

// The share lock as share-privilege-change says it (the video SDK's
// SharePrivilege values).
const SHARE_UNLOCKED = 0;
const SHARE_LOCKED = 1;

// The camera a session asks for.
const SESSION_VIDEO = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24 } };

// Why the server took this client out, as connection-change says it.
const CLOSED_REASONS = { ended: 'ended by host', removed: 'kicked by host', idleTimeout: 'idle timeout' };

// showIn points the video elements of views (a Set, or nothing) at
// stream (null: nothing), playing it.
function showIn(views, stream) {
  for (const v of views ?? []) {
    if (v.srcObject !== stream) {
      v.srcObject = stream;
      if (stream) v.play().catch(() => {});
    }
  }
}

/**
 * makeSessionClients returns createClient and destroyClient over RoomKit;
 * invalid makes an Error with the invalid-parameter code.
 */
export function makeSessionClients(RoomKit, invalid) {
  let current = null;

  // userOf turns a room member into the user shape the session client
  // hands out (the video SDK's participant fields, and roomkit's own).
  function userOf(m) {
    return {
      userId: m.userID,
      displayName: m.userName || m.userID,
      role: m.role || 'participant',
      isHost: m.role === ROLE_HOST,
      isManager: m.role === ROLE_MANAGER,
      audio: m.audio ? 'computer' : '',
      muted: !m.audio,
      bVideoOn: !!m.video,
      sharerOn: !!m.share,
    };
  }

  /** The media stream of a session: its audio and video, and the published share state. */
  class MediaStream {
    constructor(client) { this._client = client; }

    /** Turns your microphone on and sends it (through the server's media server), and publishes your audio as on. */
    startAudio() { return this._client._device('audio', true); }

    /** Turns your microphone off and publishes your audio as off. */
    stopAudio() { return this._client._device('audio', false); }

    /** Mutes your audio (the microphone stays on, silent), or, as host or manager, another user's. */
    muteAudio(userId) { return this._client._setAudio(userId, false); }

    /** Unmutes your audio, or, as host or manager, another user's. */
    unmuteAudio(userId) { return this._client._setAudio(userId, true); }

    /** Whether a user's audio (yours by default) is muted. */
    isAudioMuted(userId) { return this._client._user(userId)?.muted ?? true; }

    /** Turns your camera on and sends it, and publishes your video as on. */
    startVideo() { return this._client._device('video', true); }

    /** Turns your camera off and publishes your video as off. */
    stopVideo() { return this._client._device('video', false); }

    /**
     * A video element showing userId's video (yours too), kept playing what
     * that user sends as it comes and goes; quality is accepted and, for
     * now, ignored. The page receives the video of the users attached
     * only (at most 25 others at once). The element is yours to place;
     * detachVideo ends it.
     */
    async attachVideo(userId, quality) { return this._client._attach(userId, quality); }

    /** Stops showing userId's video; resolves with the elements that showed it. */
    async detachVideo(userId) { return this._client._detach(userId); }

    /**
     * Shares your screen: asks the browser for a screen and the session
     * for the share together (call it inside a click: the browser's picker
     * needs the user's gesture), and sends the screen once both say yes.
     * Refused while sharing is locked for participants (6100013) or while
     * as many share as the server allows (6100022, one by default); a
     * picker the user cancels rejects with the browser's NotAllowedError.
     * Either way nothing is sent and your share stays off. element, a video
     * element, shows you your own screen. Without a media server only the
     * share state is published. The browser's own "Stop sharing" stops it
     * (passively-stop-share, reason StopScreenCapture), as does the lock
     * (reason PrivilegeChange).
     */
    startShareScreen(element) { return this._client._startShare(element); }

    /** Stops sharing your screen, and publishes your share as off. */
    stopShareScreen() { return this._client._stopShare(true); }

    /**
     * A video element showing the screen userId shares (yours too), kept
     * showing it as the share starts and stops; the page receives that
     * user's screen and video while attached. detachShareView ends it.
     */
    async attachShareView(userId) { return this._client._attachShare(userId); }

    /** Stops showing userId's screen; resolves with the elements that showed it. */
    async detachShareView(userId) { return this._client._detachShare(userId); }

    /** The user sharing a screen now (the first, when several may), or '' when no one is. */
    getActiveShareUserId() { return [...this._client._users.values()].find((u) => u.sharerOn)?.userId ?? ''; }

    /** Locks or unlocks screen sharing for participants (host or manager). */
    lockShare(locked) { return this._client._zimCall((zim) => zim.setShareLock(locked, this._client._roomID)); }

    /** Whether screen sharing is locked for participants. */
    isShareLocked() { return !!this._client._session?.shareLocked; }
  }

  /** The session client (the video SDK's VideoClient). */
  class SessionClient {
    constructor() {
      this._listeners = new Listeners(SESSION_EVENTS, invalid);
      this._users = new Map();
      this._inited = null;
      this._options = {};
      this._zim = null;
      this._roomID = '';
      this._topic = '';
      this._passcode = '';
      this._session = null;
      this._me = '';
      this._ownAudio = undefined; // the audio state this client last asked for, until the server confirms it
      this._stream = new MediaStream(this);
      this._local = null;         // LocalMedia: this page's microphone and camera, while in a session
      this._sfu = null;           // SfuConnection: to the media server, when the server runs one
      this._attached = new Map(); // userId -> Set of video elements attachVideo made
      this._shareViews = new Map(); // userId -> Set of video elements attachShareView made
      this._screen = null;        // the MediaStream of the screen this page shares, while it shares
      this._sharing = false;      // a share is being asked for
      this._ownShareElement = null; // the video element startShareScreen was given
      this._speakers = '';        // the last active speakers said, to say only changes
    }

    /**
     * Prepares the client. options.leaveOnPageUnload leaves the session when
     * the page goes away (others see the departure at once, but a reload
     * no longer resumes); options.server is the ws:// address of /ws
     * (default: this page's host). It loads the roomkit module if that has
     * not been done. Other options are accepted and ignored.
     */
    init(language = 'en-US', region = 'Global', options = {}) {
      this._options = { ...options };
      this._inited = RoomKit.init().then(() => {});
      return this._inited;
    }

    /**
     * Joins (or starts) the session topic with a session token. The first
     * host-capable joiner (token role 1) is host. passcode is required when
     * the session was started with one; sessionIdleTimeoutMins (default 40)
     * ends a session whose host is alone that long. roomkit's own sixth
     * argument, { maxUsers }, caps a session it starts.
     */
    async join(topic, token, userName, passcode = '', sessionIdleTimeoutMins, { maxUsers } = {}) {
      if (!this._inited) throw invalid('call init and wait for it to resolve before join');
      await this._inited;
      if (this._zim) throw invalid('already in a session; leave it first (one session a tab)');
      if (typeof topic !== 'string' || topic === '') throw invalid('the session name (topic) must be a non-empty string');
      const roomID = RoomKit.sessionRoomID(topic);
      const config = {};
      if (passcode) config.passcode = String(passcode);
      if (sessionIdleTimeoutMins) config.sessionIdleTimeoutMins = Number(sessionIdleTimeoutMins);
      if (maxUsers) config.maxMembers = Number(maxUsers);
      // A session is one tab's: resuming would bring back another session's rooms.
      const leaveOnPageUnload = !!this._options.leaveOnPageUnload;
      const zim = await RoomKit.login({ token, server: this._options.server, resume: !leaveOnPageUnload, leaveOnPageUnload, name: 'session' });
      try {
        this._listen(zim, roomID);
        if (!zim.getRooms().includes(roomID)) await zim.enterRoom({ roomID, roomName: topic.slice(0, 64) }, config);
        this._zim = zim;
        this._roomID = roomID;
        this._topic = topic;
        this._passcode = config.passcode ?? '';
        this._me = zim.user.userID;
        await this._load();
        this._startMedia(zim, roomID);
        if (userName && userName !== this._user()?.displayName) {
          await zim.renameMember(this._me, String(userName).slice(0, 200), roomID);
        }
      } catch (err) {
        this._zim = null;
        await zim.logout().catch(() => {});
        throw err;
      }
      this._emit('connection-change', { state: 'Connected' });
    }

    /** Leaves the session; leave(true) ends it for everyone (host only). */
    async leave(end = false) {
      const zim = this._zim;
      if (!zim) return;
      if (end && !this.isHost()) throw Object.assign(invalid('only the host can end the session for everyone'), { code: 6100013 });
      try {
        if (end) await zim.endRoom(this._roomID);
        else await zim.leaveRoom(this._roomID).catch(() => {});
      } finally {
        this._closed();
        await zim.logout().catch(() => {});
      }
    }

    /** Every user in the session, yourself included. */
    getAllUser() { return [...this._users.values()].map((u) => ({ ...u })); }

    /** One user, or undefined. */
    getUser(userId) { const u = this._users.get(userId); return u && { ...u }; }

    /** You, as the others see you. */
    getCurrentUserInfo() { return this.getUser(this._me); }

    /** The session: its name, passcode, you, the host and the share lock. */
    getSessionInfo() {
      const me = this._user();
      return {
        topic: this._topic,
        password: this._passcode,
        userId: this._me,
        userName: me?.displayName ?? '',
        isInMeeting: !!this._zim,
        sessionId: this._roomID,
        hostUserId: this._session?.hostUserID ?? '',
        shareLocked: !!this._session?.shareLocked,
        sessionIdleTimeoutMins: this._session?.sessionIdleTimeoutMins ?? 0,
      };
    }

    /** Whether you are the host. */
    isHost() { return !!this._user()?.isHost; }

    /** Whether you are a manager. */
    isManager() { return !!this._user()?.isManager; }

    /** Hands the host role to userId (host only); you become a manager. */
    makeHost(userId) { return this._zimCall((zim) => zim.setMemberRole(userId, ROLE_HOST, this._roomID)); }

    /** Makes userId a manager (host only). */
    makeManager(userId) { return this._zimCall((zim) => zim.setMemberRole(userId, ROLE_MANAGER, this._roomID)); }

    /** Makes a manager a participant again (host only). */
    revokeManager(userId) { return this._zimCall((zim) => zim.setMemberRole(userId, 'participant', this._roomID)); }

    /** Removes userId from the session (host: anyone; manager: participants). */
    removeUser(userId) { return this._zimCall((zim) => zim.removeMember(userId, this._roomID)); }

    /** Renames userId (yourself by default; others as host or manager). */
    changeName(name, userId) { return this._zimCall((zim) => zim.renameMember(userId || this._me, String(name), this._roomID)); }

    /** The session's media stream. */
    getMediaStream() { return this._stream; }

    /** Calls handler(payload) on each `event`. */
    on(event, handler) { this._listeners.add(event, handler); }

    /** Removes handler, or every handler of event when none is given. */
    off(event, handler) { this._listeners.remove(event, handler); }

    _user(userId) { return this._users.get(userId || this._me); }

    async _zimCall(f) {
      if (!this._zim) throw Object.assign(invalid('not in a session; join first'), { code: 6000321 });
      return f(this._zim);
    }

    _publish(state) {
      if ('audio' in state) this._ownAudio = state.audio;
      return this._zimCall((zim) => zim.setMemberState(state, this._roomID));
    }

    _setAudio(userId, on) {
      if (userId && userId !== this._me) return this._zimCall((zim) => zim.setMemberState({ audio: on }, this._roomID, userId));
      if (this._local?.audio) this._local.audio.enabled = on;
      return this._publish({ audio: on });
    }

    // _startMedia makes this page's media: its devices (off until asked
    // for) and, when the server runs a media server, its connection there.
    _startMedia(zim, roomID) {
      this._local = new LocalMedia({ video: SESSION_VIDEO });
      if (!zim.media) return;
      this._sfu = new SfuConnection({
        zim, roomID, local: this._local,
        events: {
          onStream: (userId) => { this._show(userId); this._showShare(userId); },
          onSpeakers: (speakers) => {
            const key = speakers.map((s) => s.userID).join(',');
            if (key === this._speakers) return;
            this._speakers = key;
            this._emit('active-speaker', speakers.map((s) => ({ userId: s.userID, displayName: this._users.get(s.userID)?.displayName ?? s.userID })));
          },
          onError: (message) => console.error(`roomkit: ${message}`),
        },
      });
      this._chooseVideo(); // the video of the users attached only (none yet)
      this._sfu.start();
    }

    // _device turns this page's kind on or off, sends it, and publishes it.
    async _device(kind, on) {
      if (!this._zim) throw Object.assign(invalid('not in a session; join first'), { code: 6000321 });
      const local = this._local;
      const track = await local.set(kind, on);
      if (local !== this._local) return; // left meanwhile
      await this._sfu?.replaceTrack(kind, track);
      if (kind === 'video') this._show(this._me);
      return this._publish({ [kind]: on && !!track });
    }

    _attach(userId, quality) {
      if (typeof userId !== 'string' || userId === '') throw invalid('attachVideo needs a userId');
      const video = this._addView(this._attached, userId);
      if (quality !== undefined) video.dataset.quality = String(quality);
      this._show(userId);
      this._chooseVideo();
      return video;
    }

    // _addView makes a muted video element for userId in views (the
    // audio plays on its own element: see _show).
    _addView(views, userId) {
      const video = document.createElement('video');
      video.autoplay = true;
      video.playsInline = true;
      video.muted = true;
      video.dataset.userId = userId;
      let set = views.get(userId);
      if (!set) {
        set = new Set();
        views.set(userId, set);
      }
      set.add(video);
      return video;
    }

    // _removeViews ends userId's elements in views, and returns them.
    _removeViews(views, userId) {
      const out = [...(views.get(userId) ?? [])];
      views.delete(userId);
      for (const v of out) v.srcObject = null;
      this._chooseVideo();
      return out;
    }

    // _chooseVideo has the media server send the video of the users
    // attached, and no one else's.
    _chooseVideo() {
      const users = new Set([...this._attached.keys(), ...this._shareViews.keys()]);
      users.delete(this._me);
      this._sfu?.setVideo([...users]);
    }

    // _startShare asks for a screen and the share at once, and sends the
    // screen when both say yes (see startShareScreen).
    async _startShare(element) {
      if (!this._zim) throw Object.assign(invalid('not in a session; join first'), { code: 6000321 });
      if (element !== undefined && !(element instanceof HTMLVideoElement)) throw invalid('startShareScreen takes a video element to show your screen in, or nothing');
      const sfu = this._sfu;
      if (!sfu) return this._publish({ share: true }); // no media server: the state only
      if (this._screen || this._sharing) throw invalid('you are sharing your screen already; stopShareScreen first');
      if (!navigator.mediaDevices?.getDisplayMedia) throw invalid('this browser cannot share a screen');
      this._sharing = true;
      let got;
      try {
        got = await captureScreen({
          allow: () => this._publish({ share: true }),
          undo: () => this._publish({ share: false }),
          still: () => this._sfu === sfu,
        });
      } finally {
        this._sharing = false;
      }
      const { stream } = got;
      if (!stream) throw got.refused ?? got.failed ?? Object.assign(invalid('the session was left meanwhile'), { code: 6000321 });
      const [track] = stream.getVideoTracks();
      track.addEventListener('ended', () => {
        if (this._screen !== stream) return;
        this._stopShare(true).catch(() => {});
        this._emit('passively-stop-share', { reason: 'StopScreenCapture' });
      });
      this._screen = stream;
      if (element) {
        element.muted = true;
        element.srcObject = stream;
        element.play().catch(() => {});
        this._ownShareElement = element;
      }
      await sfu.sendScreen(stream);
      this._showShare(this._me);
    }

    // _stopShare stops sending this page's screen and, when tell, publishes
    // the share as off (not when the room turned it off itself).
    async _stopShare(tell) {
      const stream = this._screen;
      this._screen = null;
      stream?.getTracks().forEach((t) => t.stop());
      if (this._ownShareElement) this._ownShareElement.srcObject = null;
      this._ownShareElement = null;
      await this._sfu?.sendScreen(null).catch(() => {});
      this._showShare(this._me);
      if (tell) return this._publish({ share: false });
    }

    _attachShare(userId) {
      if (typeof userId !== 'string' || userId === '') throw invalid('attachShareView needs a userId');
      const video = this._addView(this._shareViews, userId);
      video.dataset.share = '';
      this._showShare(userId);
      this._chooseVideo();
      return video;
    }

    _detachShare(userId) { return this._removeViews(this._shareViews, userId); }

    // _showShare points userId's share views at the screen this page has
    // of that user (its own, for this page's user).
    _showShare(userId) {
      showIn(this._shareViews.get(userId), userId === this._me ? this._screen : this._sfu?.screenOf(userId) ?? null);
    }

    _detach(userId) { return this._removeViews(this._attached, userId); }

    // _show points userId's attached elements at what this page has of
    // that user, and plays the user's audio (another user's) here.
    _show(userId) {
      const stream = userId === this._me ? this._local?.stream ?? null : this._sfu?.streamOf(userId) ?? null;
      showIn(this._attached.get(userId), stream);
      if (userId !== this._me) this._playAudio(userId, stream);
    }

    // _playAudio plays userId's audio on a hidden element of its own.
    _playAudio(userId, stream) {
      this._audio ??= new Map();
      let a = this._audio.get(userId);
      if (!stream) {
        if (a) { a.srcObject = null; this._audio.delete(userId); }
        return;
      }
      if (!a) {
        a = document.createElement('audio');
        a.autoplay = true;
        this._audio.set(userId, a);
      }
      if (a.srcObject !== stream) {
        a.srcObject = stream;
        a.play().catch(() => {});
      }
    }

    async _load() {
      const users = new Map();
      let nextFlag = '';
      do {
        const page = await this._zim.queryRoomMemberList(this._roomID, { count: 100, nextFlag });
        for (const m of page.memberList) users.set(m.userID, userOf(m));
        nextFlag = page.nextFlag;
      } while (nextFlag);
      this._users = users;
      this._session = await this._zim.querySessionInfo(this._roomID);
    }

    _listen(zim, roomID) {
      zim.on('roomMemberJoined', (z, { roomID: r, memberList }) => {
        if (r !== roomID) return;
        const added = memberList.filter((m) => !this._users.has(m.userID)).map(userOf);
        for (const u of added) this._users.set(u.userId, u);
        if (added.length) this._emit('user-added', added);
        for (const u of added) if (u.bVideoOn) this._emit('peer-video-state-change', { action: 'Start', userId: u.userId });
        for (const u of added) if (u.sharerOn) this._emit('active-share-change', { state: 'Active', userId: u.userId });
      });
      zim.on('roomMemberLeft', (z, { roomID: r, memberList }) => {
        if (r !== roomID) return;
        // A user with another tab still in stays; the room sends each tab's leave.
        zim.queryRoomMembers(memberList.map((m) => m.userID), roomID).then(({ errorUserList }) => {
          const gone = errorUserList.filter((id) => this._users.has(id)).map((id) => this._users.get(id));
          for (const u of gone) this._users.delete(u.userId);
          if (gone.length) this._emit('user-removed', gone);
          for (const u of gone) if (u.sharerOn) this._emit('active-share-change', { state: 'Inactive', userId: u.userId });
        }).catch(() => {});
      });
      zim.on('roomMemberUpdated', (z, { roomID: r, memberList }) => {
        if (r !== roomID) return;
        const updated = memberList.map(userOf);
        for (const u of updated) {
          const before = this._users.get(u.userId);
          this._users.set(u.userId, u);
          if (u.userId === this._me && before && before.muted !== u.muted) {
            // active: this client asked for it; passive: a host or manager did.
            const active = this._ownAudio === !u.muted;
            this._ownAudio = undefined;
            if (!active && u.muted && this._local?.audio) this._local.audio.enabled = false;
            this._emit('current-audio-change', { action: u.muted ? 'muted' : 'unmuted', source: active ? 'active' : 'passive' });
          }
          if (u.isHost && this._session) this._session.hostUserID = u.userId;
          if (u.userId !== this._me && before && before.bVideoOn !== u.bVideoOn) {
            this._emit('peer-video-state-change', { action: u.bVideoOn ? 'Start' : 'Stop', userId: u.userId });
          }
          if (before && before.sharerOn !== u.sharerOn) {
            this._emit('active-share-change', { state: u.sharerOn ? 'Active' : 'Inactive', userId: u.userId });
            // The room turned this page's share off (the lock): it stops here.
            if (u.userId === this._me && !u.sharerOn && this._screen && !this._sharing) {
              this._stopShare(false).catch(() => {});
              this._emit('passively-stop-share', { reason: 'PrivilegeChange' });
            }
          }
        }
        this._emit('user-updated', updated);
      });
      zim.on('roomSessionUpdated', (z, info) => {
        if (info.roomID !== roomID) return;
        const wasLocked = !!this._session?.shareLocked;
        this._session = info;
        if (wasLocked !== !!info.shareLocked) this._emit('share-privilege-change', { privilege: info.shareLocked ? SHARE_LOCKED : SHARE_UNLOCKED });
        this._emit('session-info-change', this.getSessionInfo());
      });
      zim.on('roomStateChanged', (z, { roomID: r, state, event, extendedData }) => {
        if (r !== roomID || state !== 0 || event !== 8 || !this._zim) return;
        let why = {};
        try { why = JSON.parse(extendedData || '{}'); } catch { /* not ours */ }
        this._closed();
        zim.logout().catch(() => {});
        this._emit('connection-change', { state: 'Closed', reason: CLOSED_REASONS[why.reason] ?? 'kicked by host', message: why.message ?? '' });
      });
      zim.on('connectionStateChanged', (z, { state }) => {
        if (!this._zim) return;
        if (state === 3) this._emit('connection-change', { state: 'Reconnecting' });
        else if (state === 2) this._emit('connection-change', { state: 'Connected' });
      });
    }

    _closed() {
      this._zim = null;
      this._sfu?.close();
      this._sfu = null;
      this._local?.stop();
      this._local = null;
      this._screen?.getTracks().forEach((t) => t.stop());
      this._screen = null;
      if (this._ownShareElement) this._ownShareElement.srcObject = null;
      this._ownShareElement = null;
      for (const userId of [...this._attached.keys()]) this._detach(userId);
      for (const userId of [...this._shareViews.keys()]) this._detachShare(userId);
      for (const a of this._audio?.values() ?? []) a.srcObject = null;
      this._audio?.clear();
      this._speakers = '';
    }

    _emit(name, payload) { this._listeners.emit(name, payload); }
  }

  return {
    createClient() {
      current ??= new SessionClient();
      return current;
    },
    async destroyClient() {
      const c = current;
      current = null;
      await c?.leave().catch(() => {});
      c?._listeners.clear();
    },
  };
}
