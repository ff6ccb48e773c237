// roomkit: the room client for the browser. Importing this module loads
// roomkit.wasm (streamed and compiled while it downloads) and resolves once
// the module is ready; then `RoomKit.login({ server, token })` gives a room
// client shaped like the room-messaging SDK's:
//
//   import { RoomKit } from './js/roomkit.js';
//   const zim = await RoomKit.login({ token });
//   zim.on('roomMemberJoined', (zim, { roomID, memberList }) => { ... });
//   await zim.enterRoom({ roomID: 'lobby', roomName: 'Lobby' });
//
// Every operation returns a Promise that rejects with an Error carrying a
// numeric `code` (see ErrorCode). No room logic lives here: the wasm client
// core owns the connection, the rooms and reconnection.
import './wasm_exec.js';
import { makeCallKit, CALL_STORAGE_KEY } from './callkit.js';
import { makeSessionClients } from './session.js';

export { CALL_STORAGE_KEY };

const wasmURL = new URL('./roomkit.wasm', import.meta.url);

async function load() {
  const ready = new Promise((resolve) => { globalThis.roomkitReady = resolve; });
  const go = new Go();
  const { instance } = await WebAssembly.instantiateStreaming(fetch(wasmURL), go.importObject);
  go.run(instance);
  await ready;
  delete globalThis.roomkitReady;
  return globalThis.roomkit;
}

const rk = await load();

/** Error codes carried by rejected operations (`err.code`). */
export const ErrorCode = Object.freeze({
  Failed: 1,
  InvalidParameter: 6000001,
  RateLimited: 6000004,
  MessageRateLimited: 6000005,
  TokenInvalid: 6000103,
  NetworkError: 6000104,
  RequestTimeout: 6000105,
  TokenExpired: 6000106,
  NotLoggedIn: 6000121,
  AlreadyInRoom: 6000320,
  NotInRoom: 6000321,
  RoomNotExist: 6000322,
  RoomAlreadyExists: 6000323,
  RoomLimitReached: 6000324,
  JoinedRoomsLimit: 6000325,
  RoomConnecting: 6000326,
  AttributeKeyCount: 6000331,
  AttributeKeyLength: 6000332,
  AttributeValueLength: 6000333,
  AttributesTotalSize: 6000334,
  CallTooManyInvitees: 6000271,
  CallNotExist: 6000272,
  CallNotParty: 6000273,
  CallStateInvalid: 6000274,
  CallInviteNotPermitted: 6000275,
  CallInvitationLimit: 6000276,
  UnsupportedVersion: 6100001,
  UnknownOperation: 6100002,
  MalformedFrame: 6100003,
  TokenRoomMismatch: 6100004,
  SlowConsumer: 6100005,
  LoginTimeout: 6100006,
  ServerShutdown: 6100007,
  RoomFull: 6100008,
  MessageTooLarge: 6100009,
  SessionTakenOver: 6100010,
  StorageLimit: 6100011,
  ConnectionLimit: 6100012,
  NotPermitted: 6100013,
  WrongPasscode: 6100014,
  RemovedFromRoom: 6100015,
  UserNotInRoom: 6100016,
  OriginNotAllowed: 6100017,
});

/** roomStateChanged states. */
export const RoomState = Object.freeze({ Disconnected: 0, Connecting: 1, Connected: 2 });

/** roomStateChanged events. */
export const RoomEvent = Object.freeze({
  Success: 0, NetworkInterrupted: 1, NetworkDisconnected: 2, RoomNotExist: 3,
  ActiveCreate: 4, CreateFailed: 5, ActiveEnter: 6, EnterFailed: 7, KickedOut: 8,
  ConnectTimeout: 9, KickedOutByOtherDevice: 10, ActiveSwitch: 11, SwitchFailed: 12,
});

/** connectionStateChanged states and events. */
export const ConnectionState = Object.freeze({ Disconnected: 0, Connecting: 1, Connected: 2, Reconnecting: 3 });
export const ConnectionEvent = Object.freeze({
  Success: 0, ActiveLogin: 1, LoginTimeout: 2, LoginInterrupted: 3, KickedOut: 4, TokenExpired: 5,
});

// The room-messaging SDK's names for the same values.
export const ZIMRoomState = RoomState;
export const ZIMRoomEvent = RoomEvent;
export const ZIMConnectionState = ConnectionState;
export const ZIMConnectionEvent = ConnectionEvent;
export const ZIMErrorCode = Object.freeze({ SUCCESS: 0, ...ErrorCode });

/** The sessionStorage key where the joined rooms are kept. */
export const ROOMS_STORAGE_KEY = 'roomkit:rooms';

/**
 * The sessionStorage key where a reloading page leaves what the next page
 * needs to resume its session (sessionStorage is per tab, so two tabs never
 * share it).
 */
export const SESSION_STORAGE_KEY = 'roomkit:session';

function readStorage(key) {
  try {
    return JSON.parse(globalThis.sessionStorage?.getItem(key) ?? 'null');
  } catch {
    return null;
  }
}

function writeStorage(key, value) {
  try {
    if (value == null) globalThis.sessionStorage?.removeItem(key);
    else globalThis.sessionStorage?.setItem(key, JSON.stringify(value));
  } catch {
    // storage full or disabled: resuming falls back to rejoining
  }
}

const EVENTS = new Set([
  'roomMemberJoined', 'roomMemberLeft', 'roomStateChanged', 'connectionStateChanged', 'tokenWillExpire',
  'receiveRoomMessage', 'roomAttributesUpdated', 'roomAttributesBatchUpdated', 'roomMemberAttributesUpdated',
  'callInvitationReceived', 'callStateChanged', 'roomMemberUpdated', 'roomSessionUpdated',
  'peerMessageReceived',
]);

/** Message types: text, command (delivered, never kept), custom. */
export const MessageType = Object.freeze({ Text: 1, Command: 2, Custom: 200 });

// The one logged-in client of this page and its listeners. Events that
// arrive before login resolves (a resumed session's rooms, its missed
// events) wait here, so the handlers registered right after login see them.
let active = null;
let early = [];
// (The login's own connectionStateChanged events are not kept: the login
// Promise already says how it went.)
rk.setEventHandler((name, data) => {
  if (active) active._emit(name, data);
  else if (name !== 'connectionStateChanged') early.push([name, data]);
});

// sync calls return an Error object instead of throwing; throw it here.
function sync(value) {
  if (value instanceof Error) throw value;
  return value;
}

function invalid(message) {
  const err = new Error(message);
  err.code = ErrorCode.InvalidParameter;
  return err;
}

/** The room client returned by RoomKit.login. */
export class RoomKitClient {
  constructor(session, server, leaveOnPageUnload = false) {
    /** The logged-in user. */
    this.user = { userID: session.userID, userName: session.userName };
    this.sessionID = session.sessionID;
    /** True when this login took back the session of the page before a reload. */
    this.resumed = session.resumed;
    /** Why a resume asked for was not granted, or "". */
    this.resumeError = session.resumeError ?? '';
    this._listeners = new Map();
    this._closed = false;
    this._held = null;
    // When the page unloads (a reload), keep the session for the next page
    // instead of leaving the rooms: the server holds our places for its
    // grace period. With leaveOnPageUnload, log out at once instead, so
    // the others see us go.
    this._onPageHide = () => {
      if (this._closed) return;
      this._closed = true;
      if (leaveOnPageUnload) {
        rk.logoutNow();
        return;
      }
      const state = rk.suspend();
      if (state && !(state instanceof Error)) writeStorage(SESSION_STORAGE_KEY, { server, userID: this.user.userID, ...state });
    };
    globalThis.addEventListener?.('pagehide', this._onPageHide);
  }

  /** Creates a room and joins it; fails 6000323 when it exists. */
  createRoom(roomInfo, config) { return rk.create(roomInfo, config); }

  /**
   * Joins an existing room; fails 6000322 when there is none, 6100014
   * without the passcode a room was created with.
   */
  joinRoom(roomID, passcode) { return rk.join(roomID, passcode); }

  /** Joins a room, creating it first when needed. */
  enterRoom(roomInfo, config) { return rk.enter(roomInfo, config); }

  /** Leaves fromRoomID and joins toRoomInfo as one step. */
  switchRoom(fromRoomID, toRoomInfo, isCreateWhenRoomNotExisted = false, config) {
    return rk.switch(fromRoomID, toRoomInfo, !!isCreateWhenRoomNotExisted, config);
  }

  /** Leaves a room. */
  leaveRoom(roomID) { return rk.leave(roomID); }

  /** Leaves every room of this connection; other tabs keep theirs. */
  /**
   * Leaves the rooms listed, or, with none listed (or an empty list, as the
   * room-messaging SDK's sample passes), every room of this connection.
   */
  async leaveAllRoom(roomIDs) {
    if (roomIDs == null || (Array.isArray(roomIDs) && roomIDs.length === 0)) return rk.leaveAll();
    if (!Array.isArray(roomIDs) || roomIDs.some((id) => typeof id !== 'string')) throw invalid('roomIDs must be an array of room IDs');
    const left = [];
    for (const id of roomIDs) left.push((await rk.leave(id)).roomID);
    return { roomIDs: left };
  }

  /** One page of a room's members in join order. */
  queryRoomMemberList(roomID, config = { count: 100, nextFlag: '' }) { return rk.queryMemberList(roomID, config); }

  /** How many members a room has. */
  queryRoomOnlineMemberCount(roomID) { return rk.queryMemberCount(roomID); }

  /**
   * Sends a message to a room: { type: 1, message: 'text' }, { type: 2,
   * message: <JSON> } (a command: delivered, not kept) or { type: 200,
   * message: <JSON>, subType }. Resolves with the message as the server
   * stamped it (messageID, timestamp, orderKey).
   */
  sendRoomMessage(message, roomID) { return rk.sendMessage({ roomID, message }); }
  /**
   * Sends `data` (any JSON value) to one other member of `roomID`: every tab
   * of `toUserID` there, or only `config.toConnectionID`. The recipient gets
   * `peerMessageReceived`; nobody else sees it. Media signalling runs on it.
   */
  sendPeerMessage(data, toUserID, roomID, config = {}) {
    return rk.sendPeerMessage({ roomID, toUserID, toConnectionID: config.toConnectionID, data });
  }

  /**
   * A page of a room's kept messages in orderKey order. With reverse (the
   * default) it pages back from the newest: pass the first message of a page
   * as nextMessage to get the one before it.
   */
  async queryHistoryRoomMessage(roomID, { count = 20, nextMessage, reverse = true } = {}) {
    return rk.queryHistoryMessage({ roomID, count, reverse, nextOrderKey: nextMessage?.orderKey ?? 0 });
  }

  /** Sets room attributes; keys owned by others come back in errorKeys unless isForce. */
  setRoomAttributes(roomAttributes, roomID, config = {}) { return rk.setRoomAttributes({ roomID, roomAttributes, config }); }

  /** Deletes room attributes. */
  deleteRoomAttributes(keys, roomID, config = {}) { return rk.deleteRoomAttributes({ roomID, keys, config }); }

  /** Holds the following set/delete calls of roomID until endRoomAttributesBatchOperation. */
  beginRoomAttributesBatchOperation(roomID, config = {}) { return rk.beginRoomAttributesBatch({ roomID, config }); }

  /** Sends the held operations as one change (one roomAttributesBatchUpdated). */
  endRoomAttributesBatchOperation(roomID) { return rk.endRoomAttributesBatch({ roomID }); }

  /** Every attribute of a room. */
  queryRoomAllAttributes(roomID) { return rk.queryRoomAllAttributes({ roomID }); }

  /** Sets member attributes (your own; others' come back in errorUserList). */
  setRoomMembersAttributes(attributes, userIDs, roomID) { return rk.setRoomMembersAttributes({ roomID, userIDs, attributes }); }

  /** The listed members' attributes. */
  queryRoomMembersAttributes(userIDs, roomID) { return rk.queryRoomMembersAttributes({ roomID, userIDs }); }

  /** A page of members' attributes in member-list order. */
  queryRoomMemberAttributesList(roomID, config = { count: 100, nextFlag: '' }) {
    return rk.queryRoomMemberAttributesList({ roomID, count: config.count, nextFlag: config.nextFlag ?? '' });
  }

  /** The listed users who are in the room; the others in errorUserList. */
  queryRoomMembers(userIDs, roomID) { return rk.queryRoomMembers({ roomID, userIDs }); }

  /** Starts a call and rings its callees (the call kit's sendCallInvitation uses it). */
  callInvite(request) { return rk.callInvite(request); }

  /** Invites more users into a call under way. */
  callAdd(callID, callees, timeout = 0) { return rk.callAdd({ callID, callees, timeout }); }

  /** Answers a ringing invitation. */
  callAccept(callID) { return rk.callAccept({ callID }); }

  /** Declines a ringing invitation; busy says the callee is in another call. */
  callReject(callID, busy = false) { return rk.callReject({ callID, busy }); }

  /** Stops ringing invitees (all ringing ones when userIDs is empty). */
  callCancel(callID, userIDs = []) { return rk.callCancel({ callID, userIDs }); }

  /** Leaves a call. */
  callQuit(callID) { return rk.callQuit({ callID }); }

  /** Ends a call for everyone (its initiator only). */
  callEnd(callID) { return rk.callEnd({ callID }); }

  /** Makes userID host (handing the role over), manager or participant; host only. */
  setMemberRole(userID, role, roomID) { return rk.setMemberRole({ roomID, userID, role }); }

  /** Renames a member: yourself, or another as host or manager. */
  renameMember(userID, userName, roomID) { return rk.renameMember({ roomID, userID, userName }); }

  /**
   * Publishes your {audio, video, share} flags (those given change), or,
   * with userID, turns another member's audio off or on as host or manager.
   */
  setMemberState(state, roomID, userID) { return rk.setMemberState({ roomID, userID, ...state }); }

  /** Removes a member from the room for as long as it lasts. */
  removeMember(userID, roomID) { return rk.removeMember({ roomID, userID }); }

  /** Ends the room for everyone (host only). */
  endRoom(roomID) { return rk.endRoom({ roomID }); }

  /** Locks or unlocks screen sharing for participants (host or manager). */
  setShareLock(locked, roomID) { return rk.setShareLock({ roomID, locked: !!locked }); }

  /** The room's session settings: host, passcode, share lock, idle timeout, capacity. */
  querySessionInfo(roomID) { return rk.querySessionInfo({ roomID }); }

  /** Swaps in a fresh token (after tokenWillExpire). */
  renewToken(token) { return rk.renewToken(token); }

  /** The room most recently joined that this client is still in, or "". */
  getRoomID() { return sync(rk.getRoomID()); }

  /** Every room joined or being joined. */
  getRooms() { return sync(rk.getRooms()); }

  /** Calls handler(zim, data) on each `event`. */
  on(event, handler) {
    if (!EVENTS.has(event)) throw invalid(`unknown event "${event}"; use one of ${[...EVENTS].join(', ')}`);
    if (typeof handler !== 'function') throw invalid('the handler must be a function');
    if (!this._listeners.has(event)) this._listeners.set(event, new Set());
    this._listeners.get(event).add(handler);
  }

  /** Removes handler, or every handler of event when none is given. */
  off(event, handler) {
    const set = this._listeners.get(event);
    if (!set) return;
    if (handler) set.delete(handler); else set.clear();
  }

  /** Leaves every room and closes the connection. */
  async logout() {
    if (this._closed) return;
    this._closed = true;
    globalThis.removeEventListener?.('pagehide', this._onPageHide);
    writeStorage(SESSION_STORAGE_KEY, null);
    try {
      await rk.logout();
    } finally {
      if (active === this) active = null;
      this._listeners.clear();
    }
  }

  _release() {
    const held = this._held;
    this._held = null;
    for (const [name, data] of held ?? []) this._emit(name, data);
  }

  _emit(name, data) {
    if (this._held) {
      this._held.push([name, data]);
      return;
    }
    const set = this._listeners.get(name);
    if (!set) return;
    for (const handler of [...set]) {
      try {
        handler(this, data);
      } catch (err) {
        console.error(`roomkit: a ${name} handler threw`, err);
      }
    }
  }
}

const KIT_PREFIX = 'rk1.';

function defaultServer() {
  const loc = globalThis.location;
  if (!loc || !/^https?:$/.test(loc.protocol)) throw invalid('login needs {server}: the ws:// address of the server\'s /ws');
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

/** The module's entry points. */
export const RoomKit = Object.freeze({
  /**
   * Logs in with a token (a JWT from your app server, or a kit token) and
   * resolves with the room client once the server has accepted it.
   */
  async login({ server, token, resume = true, leaveOnPageUnload = false } = {}) {
    if (typeof token !== 'string' || token === '') throw invalid('login needs {token}');
    if (token.startsWith(KIT_PREFIX)) token = RoomKit.parseKitToken(token).token;
    server = server || defaultServer();
    // After a reload, take back the session the previous page left: its
    // rooms, and the events it missed. The entry is used once.
    const stored = readStorage(SESSION_STORAGE_KEY);
    writeStorage(SESSION_STORAGE_KEY, null);
    const resumeState = resume && stored && stored.server === server
      ? { sessionID: stored.sessionID, key: stored.key, received: stored.received }
      : undefined;
    early = [];
    const client = new RoomKitClient(await rk.login({ server, token, resume: resumeState }), server, leaveOnPageUnload);
    // Events that came during login, and any until the caller has added its
    // handlers, are handed over in order on the next task.
    client._held = early;
    early = [];
    active = client;
    setTimeout(() => client._release(), 0);
    return client;
  },

  /**
   * Makes a kit token signed in the page with the server secret. For
   * development only: a page that holds the secret can log in as anyone.
   */
  generateKitTokenForTest(appID, serverSecret, roomID, userID, userName, expirationSeconds = 7200) {
    const token = sync(rk.mintTestToken(appID, serverSecret, userID, userName ?? '', '', 0, expirationSeconds));
    return RoomKit.generateKitTokenForProduction(appID, token, roomID, userID, userName);
  },

  /** Wraps a token minted by your app server into a kit token. */
  generateKitTokenForProduction(appID, token, roomID, userID, userName) {
    if (typeof token !== 'string') throw invalid('token must be a JWT minted by your app server');
    if (typeof userID !== 'string' || userID === '') throw invalid('userID must be a non-empty string');
    return sync(rk.makeKitToken({ appID, token, roomID: roomID ?? '', userID, userName: userName ?? '' }));
  },

  /** Reads a kit token; throws a clear Error when it is not one. */
  parseKitToken(kitToken) {
    return sync(rk.parseKitToken(kitToken));
  },

  /** The room IDs this tab was in, as last kept in sessionStorage. */
  storedRooms() {
    return readStorage(ROOMS_STORAGE_KEY) ?? { rooms: [], current: '' };
  },

  /**
   * Makes a call kit (zp) for a kit token; a malformed kit token throws a
   * clear Error here.
   */
  create(kitToken) {
    return new CallKit(kitToken);
  },

  /** The session client of this tab (seed 003's createClient); one a tab. */
  createClient() { return sessions.createClient(); },

  /** Leaves and releases the session client, so createClient makes a new one. */
  destroyClient() { return sessions.destroyClient(); },

  /**
   * Mints a session token in the page (development only: a page that holds
   * the secret can log in as anyone). role 1 asks for host. The token admits
   * the session's room alone, as a video SDK token's topic does.
   */
  generateSessionTokenForTest(appID, serverSecret, sessionName, userID, role = 0, expirationSeconds = 7200) {
    const roomID = RoomKit.sessionRoomID(sessionName);
    return sync(rk.mintTestToken(appID, serverSecret, userID, '', roomID, role === 1 || role === '1' ? 1 : 0, expirationSeconds));
  },

  /** The room ID that holds a session name (lower-cased, %XX-escaped; see the README). */
  sessionRoomID(sessionName) { return sync(rk.sessionRoomID(sessionName)); },

  /** The wasm module's raw exports (globalThis.roomkit). */
  wasm: rk,
});

const CallKit = makeCallKit(RoomKit, invalid);
const sessions = makeSessionClients(RoomKit, invalid);

export default RoomKit;
