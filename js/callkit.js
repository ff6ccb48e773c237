// The call kit: a prebuilt call page on top of the room client, shaped like
// the hosted prebuilt call kits. roomkit.js exposes it as RoomKit.create:
//
//   const zp = RoomKit.create(kitToken);
//   zp.joinRoom({ container: document.querySelector('#call'),
//                 onJoinRoom: () => sessionStorage.setItem('roomID', zp.getRoomID()) });
//
// This file has no imports: roomkit.js hands it the RoomKit it needs, so
// the two modules do not import each other.

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
.rk-call .rk-you { color: #4b5563; font-size: .85em; }
`;

function el(tag, props = {}, ...children) {
  const node = document.createElement(tag);
  for (const [k, v] of Object.entries(props)) {
    if (k === 'testid') node.dataset.testid = v;
    else if (k === 'class') node.className = v;
    else if (k.startsWith('on')) node.addEventListener(k.slice(2), v);
    else if (k.startsWith('aria-') || k === 'role') node.setAttribute(k, v);
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
};

/** Makes the call kit class over a RoomKit (see roomkit.js). */
export function makeCallKit(RoomKit, invalid) {
  return class CallKit {
    constructor(kitToken) {
      this._kit = RoomKit.parseKitToken(kitToken); // throws a clear Error at once
      if (!this._kit.roomID) throw invalid('the kit token names no room: pass a roomID to generateKitToken...');
      this._zim = null;
      this._roomID = '';
      this._joined = false;
      this._members = new Map(); // userID -> { userName, places }
      this._messages = [];       // chat messages of this call, oldest first
      this._root = null;
      this._invitationConfig = {};
      this._config = { ...DEFAULTS };
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
      this._mount(this._config.container ?? document.body);
      const stored = readCall();
      const rejoining = !!stored && stored.roomID === this._kit.roomID && stored.userID === this._kit.userID;
      this._roomID = this._kit.roomID;
      if (this._config.showPreJoinView && !rejoining) await this._preJoin();
      return this._enter(rejoining);
    }

    /** Leaves the call: the stored entry is deleted and onLeaveRoom fires. */
    async hangUp() {
      if (!this._joined) return;
      this._joined = false;
      writeCall(null);
      const zim = this._zim;
      this._zim = null;
      try {
        await zim?.logout();
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

    /** Keeps the call invitation config (used by invitations). */
    setCallInvitationConfig(config = {}) {
      const err = RoomKit.wasm.setCallInvitationConfig(config);
      if (err instanceof Error) throw err;
      this._invitationConfig = config;
    }

    async _enter(rejoining) {
      const cfg = this._config;
      const roomID = this._roomID;
      this._show(el('div', { class: 'rk-center', testid: 'joining-view' }, el('p', { role: 'status' }, `Joining ${roomID}…`)));
      try {
        this._zim = await RoomKit.login({ token: this._kit.token, server: cfg.server });
        this._listen();
        if (!this._zim.getRooms().includes(roomID)) {
          // A reload rejoins only a room that still exists: a call that
          // ended meanwhile is not quietly made again.
          if (rejoining) await this._zim.joinRoom(roomID);
          else await this._zim.enterRoom({ roomID, roomName: roomID }, cfg.maxUsers ? { maxMembers: cfg.maxUsers } : undefined);
        }
        await this._loadMembers();
      } catch (err) {
        writeCall(null);
        const zim = this._zim;
        this._zim = null;
        await zim?.logout().catch(() => {});
        this._show(el('div', { class: 'rk-center rk-error', testid: 'error-view', role: 'alert' },
          el('p', {}, err.code === 6000322 ? `The call in ${roomID} has ended.` : `Could not join: ${err.message}`)));
        throw err;
      }
      this._joined = true;
      writeCall({ roomID, userID: this._kit.userID });
      this._renderCall();
      cfg.onJoinRoom();
    }

    _listen() {
      const zim = this._zim;
      zim.on('roomMemberJoined', (z, { roomID, memberList }) => {
        if (roomID !== this._roomID) return;
        for (const m of memberList) {
          const cur = this._members.get(m.userID);
          this._members.set(m.userID, { userName: m.userName, places: (cur?.places ?? 0) + 1 });
        }
        this._renderMembers();
        this._config.onUserJoin(memberList.map(({ userID, userName }) => ({ userID, userName })));
      });
      zim.on('roomMemberLeft', (z, { roomID, memberList }) => {
        if (roomID !== this._roomID) return;
        for (const m of memberList) {
          const cur = this._members.get(m.userID);
          if (cur && cur.places > 1) cur.places--;
          else this._members.delete(m.userID);
        }
        this._renderMembers();
        this._config.onUserLeave(memberList.map(({ userID, userName }) => ({ userID, userName })));
        if (this._config.autoLeaveRoomWhenOnlySelfInRoom && this._joined && this._onlySelfLeft()) this.hangUp();
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
      zim.on('roomStateChanged', (z, { roomID, state, event }) => {
        if (roomID !== this._roomID || state !== 0 || !this._joined) return;
        if (event === 8) {
          this._joined = false;
          writeCall(null);
          this._show(el('div', { class: 'rk-center', testid: 'removed-view', role: 'alert' }, el('p', {}, 'You were removed from the call.')));
          this._config.onYouRemovedFromRoom();
        }
      });
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
          members.set(m.userID, { userName: m.userName, places: (cur?.places ?? 0) + 1 });
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
        this._show(el('form', { class: 'rk-center', testid: 'prejoin-view', onsubmit: (e) => { e.preventDefault(); resolve(); } },
          el('h2', {}, `Join ${this._roomID}`),
          el('label', { htmlFor: 'rk-prejoin-name' }, 'Your name'), name, join));
        join.focus();
      });
    }

    _renderCall() {
      const menu = el('div', { role: 'menu', testid: 'more-menu', hidden: true, 'aria-label': 'More' },
        el('button', { role: 'menuitem', testid: 'menu-toggle-chat', onclick: () => { chat.hidden = !chat.hidden; closeMenu(); } }, 'Show or hide chat'),
        el('button', { role: 'menuitem', testid: 'menu-copy-room', onclick: () => { navigator.clipboard?.writeText(this._roomID).catch(() => {}); closeMenu(); } }, 'Copy room ID'));
      const more = el('button', { class: 'rk-secondary', testid: 'more-button', 'aria-haspopup': 'menu', 'aria-expanded': 'false', 'aria-label': 'More options',
        onclick: () => { menu.hidden = !menu.hidden; more.setAttribute('aria-expanded', String(!menu.hidden)); if (!menu.hidden) menu.querySelector('button').focus(); } }, '⋯');
      const closeMenu = () => { menu.hidden = true; more.setAttribute('aria-expanded', 'false'); more.focus(); };
      menu.addEventListener('keydown', (e) => { if (e.key === 'Escape') closeMenu(); });
      this._memberList = el('ul', { testid: 'member-list', 'aria-live': 'polite' });
      this._memberCount = el('span', { testid: 'member-count' });
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
      this._show(el('div', { testid: 'call-view', style: 'display:contents' },
        el('header', {},
          el('h2', { testid: 'room-title' }, this._roomID),
          el('div', { class: 'rk-menu-wrap' }, more, menu),
          el('button', { class: 'rk-danger', testid: 'leave-button', onclick: () => this.hangUp() }, 'Leave')),
        el('div', { class: 'rk-body' },
          el('section', { 'aria-label': 'Members' }, el('h3', {}, 'Members (', this._memberCount, ')'), this._memberList),
          chat)));
      this._renderMembers();
    }

    _renderMembers() {
      if (!this._memberList) return;
      const me = this._kit.userID;
      this._memberCount.textContent = String(this._members.size);
      this._memberList.replaceChildren(...[...this._members].map(([userID, m]) =>
        el('li', { testid: `member-${userID}` }, m.userName || userID, userID === me ? el('span', { class: 'rk-you' }, ' (you)') : null)));
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
