// roomkit: the room client for the browser.
//
//   import { RoomKit } from 'roomkit';
//   await RoomKit.init({ server: 'wss://rooms.example.com/ws' });   // loads roomkit.wasm
//   const zim = await RoomKit.login({ token });
//   zim.on('roomMemberJoined', (zim, { roomID, memberList }) => { ... });
//   await zim.enterRoom({ roomID: 'lobby', roomName: 'Lobby' });
//
// Importing this module does nothing but define it: RoomKit.init (or the
// first RoomKit.login) fetches and compiles roomkit.wasm, by default from
// next to this file. Every operation returns a Promise that rejects with an
// Error carrying a numeric `code` (see ErrorCode). No room logic lives here:
// the wasm client core owns each connection, its rooms and reconnection. A
// page may hold several clients at once (a room client, a call, two users
// for a test), each with its own connection.
import { goRuntime } from './wasm_exec.js';
import { makeCallKit, CALL_STORAGE_KEY } from './callkit.js';
import { makeSessionClients } from './session.js';
import { Listeners } from './listeners.js';
import * as tokens from './tokens.js';

export { CALL_STORAGE_KEY };

/** This module's version (package.json's). */
export const VERSION = '0.14.0';

// The classic-script build (roomkit.global.js: esbuild defines
// ROOMKIT_CLASSIC_SCRIPT) reads its own address while the script runs:
// its wasm is next to it and its default server is the script's origin.
/* global ROOMKIT_CLASSIC_SCRIPT */
const classicScriptURL = typeof ROOMKIT_CLASSIC_SCRIPT !== 'undefined' ? globalThis.document?.currentScript?.src ?? '' : '';

// The wasm module's namespace (globalThis.roomkit) once init has loaded it.
let rk = null;
let loading = null;
let defaultServerURL = '';
let markReady;
let markFailed;
const ready = new Promise((resolve, reject) => { markReady = resolve; markFailed = reject; });
ready.catch(() => {}); // init's own caller sees the failure; ready's listeners may be none

function loadError(message, cause) {
  const err = new Error(`roomkit could not load its wasm module: ${message}`, { cause });
  err.code = ErrorCode.Failed;
  return err;
}

// fetchWasm fetches the module, reporting the bytes read to onProgress.
// total is the decoded size when known: Content-Length of an unencoded
// response, or X-Decoded-Content-Length (sent by roomkit's server with a
// precompressed file); 0 when unknown.
async function fetchWasm(url, onProgress) {
  let res;
  try {
    res = await fetch(url);
  } catch (err) {
    throw loadError(`${url} could not be fetched (${err.message})`, err);
  }
  if (!res.ok) throw loadError(`${url} answered ${res.status} ${res.statusText}`.trim());
  if (typeof onProgress !== 'function' || !res.body) return res;
  const encoded = res.headers.get('content-encoding');
  const total = Number(res.headers.get(encoded ? 'x-decoded-content-length' : 'content-length')) || 0;
  let loaded = 0;
  const report = () => {
    try {
      onProgress({ loaded, total });
    } catch (err) {
      console.error('roomkit: the onProgress handler threw', err);
    }
  };
  report();
  const counted = res.body.pipeThrough(new TransformStream({
    transform(chunk, controller) {
      loaded += chunk.byteLength;
      report();
      controller.enqueue(chunk);
    },
  }));
  return new Response(counted, { status: res.status, statusText: res.statusText, headers: res.headers });
}

// instantiate compiles while the bytes arrive when the server labels the
// file application/wasm, and from the whole buffer otherwise.
async function instantiate(res, imports) {
  const type = (res.headers.get('content-type') ?? '').split(';')[0].trim();
  if (typeof WebAssembly.instantiateStreaming === 'function' && type === 'application/wasm') {
    return WebAssembly.instantiateStreaming(res, imports);
  }
  return WebAssembly.instantiate(await res.arrayBuffer(), imports);
}

async function load(wasmURL, onProgress) {
  if (typeof WebAssembly !== 'object' || typeof fetch !== 'function') {
    throw loadError('this environment has no WebAssembly or fetch (RoomKit runs in a browser)');
  }
  const runtime = goRuntime();
  const go = new runtime.Go();
  let instance;
  try {
    ({ instance } = await instantiate(await fetchWasm(wasmURL, onProgress), go.importObject));
  } catch (err) {
    throw err.code ? err : loadError(`${wasmURL} is not a roomkit module (${err.message})`, err);
  }
  // The Go runtime reads fs, process and path from the global object once,
  // as it starts (go.run runs it until main waits): they are there for that
  // moment only, unless the page already had its own.
  const lent = [];
  for (const name of ['fs', 'process', 'path']) {
    if (!(name in globalThis)) {
      globalThis[name] = runtime[name];
      lent.push(name);
    }
  }
  try {
    go.run(instance).catch((err) => console.error('roomkit: the wasm module stopped', err));
  } finally {
    for (const name of lent) delete globalThis[name];
  }
  const api = globalThis.roomkit;
  if (!api || typeof api.newClient !== 'function') throw loadError(`${wasmURL} did not start`);
  return api;
}

// api returns the wasm namespace, or throws when init has not finished.
function api() {
  if (rk) return rk;
  const err = new Error('the roomkit module is not loaded yet: await RoomKit.init() first');
  err.code = ErrorCode.ModuleNotReady;
  throw err;
}

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
  ModuleNotReady: 6100018,
  NoCodec: 6100019,
  TrackLimit: 6100020,
  NoSuchTrack: 6100021,
  ShareLimit: 6100022,
  NoSuchLayer: 6100023,
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
  'peerMessageReceived', 'mediaRenegotiate', 'mediaState', 'mediaRestart', 'activeSpeakers', 'mediaLayers',
]);

/** Message types: text, command (delivered, never kept), custom. */
export const MessageType = Object.freeze({ Text: 1, Command: 2, Custom: 200 });

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

// A page keeps, for each named client, what the next page needs to resume
// it after a reload: SESSION_STORAGE_KEY holds { [name]: { server, userID,
// sessionID, key, received } }.
function keepSession(name, entry) {
  const all = readStorage(SESSION_STORAGE_KEY) ?? {};
  all[name] = entry;
  writeStorage(SESSION_STORAGE_KEY, all);
}

// takeSession returns and forgets the entry kept for name: it is used once.
function takeSession(name) {
  const all = readStorage(SESSION_STORAGE_KEY);
  const entry = all?.[name];
  if (!entry) return null;
  delete all[name];
  writeStorage(SESSION_STORAGE_KEY, Object.keys(all).length ? all : null);
  return entry;
}

// What a client's calls reach after its logout: nothing.
const loggedOut = new Proxy({}, {
  get(_, op) {
    if (op === 'getRoomID') return () => '';
    if (op === 'getRooms') return () => [];
    return () => {
      const err = new Error('this client has logged out; log in again with RoomKit.login');
      err.code = ErrorCode.NotLoggedIn;
      return Promise.reject(err);
    };
  },
});

function roomsStorageKey(name) {
  return name === 'default' ? ROOMS_STORAGE_KEY : `${ROOMS_STORAGE_KEY}:${name}`;
}

/** The room client returned by RoomKit.login. */
export class RoomKitClient {
  constructor(handle, session, { server, name, leaveOnPageUnload }) {
    /** The logged-in user. */
    this.user = { userID: session.userID, userName: session.userName };
    this.sessionID = session.sessionID;
    /** True when this login took back the session of the page before a reload. */
    this.resumed = session.resumed;
    /** Why a resume asked for was not granted, or "". */
    this.resumeError = session.resumeError ?? '';
    /** True when the server runs a media server (mediaOffer): a call's audio and video go through it. */
    this.media = !!session.media;
    this._rk = handle;
    this._name = name;
    this._listeners = new Listeners(EVENTS, invalid);
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
        handle.logoutNow();
        return;
      }
      const state = handle.suspend();
      if (state && !(state instanceof Error)) keepSession(name, { server, userID: this.user.userID, ...state });
    };
    globalThis.addEventListener?.('pagehide', this._onPageHide);
  }

  /** Creates a room and joins it; fails 6000323 when it exists. */
  createRoom(roomInfo, config) { return this._rk.create(roomInfo, config); }

  /**
   * Joins an existing room; fails 6000322 when there is none, 6100014
   * without the passcode a room was created with.
   */
  joinRoom(roomID, passcode) { return this._rk.join(roomID, passcode); }

  /** Joins a room, creating it first when needed. */
  enterRoom(roomInfo, config) { return this._rk.enter(roomInfo, config); }

  /** Leaves fromRoomID and joins toRoomInfo as one step. */
  switchRoom(fromRoomID, toRoomInfo, isCreateWhenRoomNotExisted = false, config) {
    return this._rk.switch(fromRoomID, toRoomInfo, !!isCreateWhenRoomNotExisted, config);
  }

  /** Leaves a room. */
  leaveRoom(roomID) { return this._rk.leave(roomID); }

  /** Leaves every room of this connection; other tabs keep theirs. */
  /**
   * Leaves the rooms listed, or, with none listed (or an empty list, as the
   * room-messaging SDK's sample passes), every room of this connection.
   */
  async leaveAllRoom(roomIDs) {
    if (roomIDs == null || (Array.isArray(roomIDs) && roomIDs.length === 0)) return this._rk.leaveAll();
    if (!Array.isArray(roomIDs) || roomIDs.some((id) => typeof id !== 'string')) throw invalid('roomIDs must be an array of room IDs');
    const left = [];
    for (const id of roomIDs) left.push((await this._rk.leave(id)).roomID);
    return { roomIDs: left };
  }

  /** One page of a room's members in join order. */
  queryRoomMemberList(roomID, config = { count: 100, nextFlag: '' }) { return this._rk.queryMemberList(roomID, config); }

  /** How many members a room has. */
  queryRoomOnlineMemberCount(roomID) { return this._rk.queryMemberCount(roomID); }

  /**
   * Sends a message to a room: { type: 1, message: 'text' }, { type: 2,
   * message: <JSON> } (a command: delivered, not kept) or { type: 200,
   * message: <JSON>, subType }. Resolves with the message as the server
   * stamped it (messageID, timestamp, orderKey).
   */
  sendRoomMessage(message, roomID) { return this._rk.sendMessage({ roomID, message }); }
  /**
   * Sends `data` (any JSON value) to one other member of `roomID`: every tab
   * of `toUserID` there, or only `config.toConnectionID`. The recipient gets
   * `peerMessageReceived`; nobody else sees it. Media signalling runs on it.
   */
  sendPeerMessage(data, toUserID, roomID, config = {}) {
    return this._rk.sendPeerMessage({ roomID, toUserID, toConnectionID: config.toConnectionID, data });
  }

  /**
   * A page of a room's kept messages in orderKey order. With reverse (the
   * default) it pages back from the newest: pass the first message of a page
   * as nextMessage to get the one before it.
   */
  async queryHistoryRoomMessage(roomID, { count = 20, nextMessage, reverse = true } = {}) {
    return this._rk.queryHistoryMessage({ roomID, count, reverse, nextOrderKey: nextMessage?.orderKey ?? 0 });
  }

  /** Sets room attributes; keys owned by others come back in errorKeys unless isForce. */
  setRoomAttributes(roomAttributes, roomID, config = {}) { return this._rk.setRoomAttributes({ roomID, roomAttributes, config }); }

  /** Deletes room attributes. */
  deleteRoomAttributes(keys, roomID, config = {}) { return this._rk.deleteRoomAttributes({ roomID, keys, config }); }

  /** Holds the following set/delete calls of roomID until endRoomAttributesBatchOperation. */
  beginRoomAttributesBatchOperation(roomID, config = {}) { return this._rk.beginRoomAttributesBatch({ roomID, config }); }

  /** Sends the held operations as one change (one roomAttributesBatchUpdated). */
  endRoomAttributesBatchOperation(roomID) { return this._rk.endRoomAttributesBatch({ roomID }); }

  /** Every attribute of a room. */
  queryRoomAllAttributes(roomID) { return this._rk.queryRoomAllAttributes({ roomID }); }

  /** Sets member attributes (your own; others' come back in errorUserList). */
  setRoomMembersAttributes(attributes, userIDs, roomID) { return this._rk.setRoomMembersAttributes({ roomID, userIDs, attributes }); }

  /** The listed members' attributes. */
  queryRoomMembersAttributes(userIDs, roomID) { return this._rk.queryRoomMembersAttributes({ roomID, userIDs }); }

  /** A page of members' attributes in member-list order. */
  queryRoomMemberAttributesList(roomID, config = { count: 100, nextFlag: '' }) {
    return this._rk.queryRoomMemberAttributesList({ roomID, count: config.count, nextFlag: config.nextFlag ?? '' });
  }

  /** The listed users who are in the room; the others in errorUserList. */
  queryRoomMembers(userIDs, roomID) { return this._rk.queryRoomMembers({ roomID, userIDs }); }

  /** Starts a call and rings its callees (the call kit's sendCallInvitation uses it). */
  callInvite(request) { return this._rk.callInvite(request); }

  /** Invites more users into a call under way. */
  callAdd(callID, callees, timeout = 0) { return this._rk.callAdd({ callID, callees, timeout }); }

  /** Answers a ringing invitation. */
  callAccept(callID) { return this._rk.callAccept({ callID }); }

  /** Declines a ringing invitation; busy says the callee is in another call. */
  callReject(callID, busy = false) { return this._rk.callReject({ callID, busy }); }

  /** Stops ringing invitees (all ringing ones when userIDs is empty). */
  callCancel(callID, userIDs = []) { return this._rk.callCancel({ callID, userIDs }); }

  /** Leaves a call. */
  callQuit(callID) { return this._rk.callQuit({ callID }); }

  /** Ends a call for everyone (its initiator only). */
  callEnd(callID) { return this._rk.callEnd({ callID }); }

  /** Makes userID host (handing the role over), manager or participant; host only. */
  setMemberRole(userID, role, roomID) { return this._rk.setMemberRole({ roomID, userID, role }); }

  /** Renames a member: yourself, or another as host or manager. */
  renameMember(userID, userName, roomID) { return this._rk.renameMember({ roomID, userID, userName }); }

  /**
   * Publishes your {audio, video, share} flags (those given change), or,
   * with userID, turns another member's audio off or on as host or manager.
   */
  setMemberState(state, roomID, userID) { return this._rk.setMemberState({ roomID, userID, ...state }); }

  /** Removes a member from the room for as long as it lasts. */
  removeMember(userID, roomID) { return this._rk.removeMember({ roomID, userID }); }

  /** Ends the room for everyone (host only). */
  endRoom(roomID) { return this._rk.endRoom({ roomID }); }

  /** Locks or unlocks screen sharing for participants (host or manager). */
  setShareLock(locked, roomID) { return this._rk.setShareLock({ roomID, locked: !!locked }); }

  /**
   * Sends this page's SDP offer for its one connection to the room's media
   * server and returns the server's answer (with its candidates). `sources`
   * labels the sending sections by mid (`camera`, `microphone`, `screen`,
   * `screenAudio`). On `mediaRenegotiate`, offer again. Errors: 6000001
   * (malformed SDP, a bad source), 6100019 NoCodec, 6100020 TrackLimit,
   * 6000321 (not in the room).
   */
  mediaOffer(roomID, sdp, sources) { return this._rk.mediaOffer({ roomID, sdp, sources }); }

  /** Sends one of this page's trickled ICE candidates, after its offer. */
  mediaCandidate(roomID, candidate) { return this._rk.mediaCandidate({ roomID, candidate }); }

  /**
   * Says this page has set the answer to its last offer: the tracks that
   * answer started come from now on (the server holds them until then,
   * at most a second, so that their first packets, the video's key
   * frame, are not lost before the page knows them).
   */
  mediaAnswered(roomID) { return this._rk.mediaAnswered({ roomID }); }

  /**
   * Chooses whose video this page receives in the room (the tiles it
   * shows), from now on, including what those users publish later; an
   * empty list is no video. Until a page chooses it receives the first
   * 25 video tracks published. Audio is not chosen: every member hears
   * the loudest. sizes, by user, is how large (device pixels) the page
   * shows each camera: of a simulcast camera the page gets the smallest
   * layer that fills it (or the `layer` named, `q`, `h` or `f`); the
   * sizes replace the ones sent before, and none keeps them. Errors:
   * 6100020 TrackLimit (more users than the server's bound, 25 by
   * default), 6100023 NoSuchLayer (a layer that camera does not send),
   * 6000001 (a bad size), 6000321 (not in the room).
   */
  mediaSubscribe(roomID, video, sizes) { return this._rk.mediaSubscribe(sizes ? { roomID, video, sizes } : { roomID, video }); }

  /** The room's session settings: host, passcode, share lock, idle timeout, capacity. */
  querySessionInfo(roomID) { return this._rk.querySessionInfo({ roomID }); }

  /** Swaps in a fresh token (after tokenWillExpire). */
  renewToken(token) { return this._rk.renewToken(token); }

  /** The room most recently joined that this client is still in, or "". */
  getRoomID() { return sync(this._rk.getRoomID()); }

  /** Every room joined or being joined. */
  getRooms() { return sync(this._rk.getRooms()); }

  /** Calls handler(zim, data) on each `event`. */
  on(event, handler) { this._listeners.add(event, handler); }

  /** Removes handler, or every handler of event when none is given. */
  off(event, handler) { this._listeners.remove(event, handler); }

  /** Leaves every room and closes the connection. */
  async logout() {
    if (this._closed) return;
    this._closed = true;
    globalThis.removeEventListener?.('pagehide', this._onPageHide);
    takeSession(this._name);
    const handle = this._rk;
    try {
      await handle.logout();
    } finally {
      this._rk = loggedOut;
      handle.release();
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
    this._listeners.emit(name, this, data);
  }
}

function defaultServer() {
  const loc = classicScriptURL ? new URL(classicScriptURL) : globalThis.location;
  if (!loc || !/^https?:$/.test(loc.protocol)) throw invalid('login needs {server}: the ws:// address of the server\'s /ws');
  return `${loc.protocol === 'https:' ? 'wss' : 'ws'}://${loc.host}/ws`;
}

let readyPromise = ready;

/** The module's entry points. */
export const RoomKit = Object.freeze({
  /** This module's version. */
  version: VERSION,

  /** The cameras a call kit may ask for (joinRoom's videoResolutionDefault). */
  VideoResolution_180P: '180p',
  VideoResolution_360P: '360p',
  VideoResolution_480P: '480p',
  VideoResolution_720P: '720p',

  /** scenario.mode of a call of two: the server keeps a third out. */
  OneONoneCall: 'OneONoneCall',
  /** scenario.mode of a group call (the default). */
  GroupCall: 'GroupCall',
  /** scenario.mode of a conference: run as a group call. */
  VideoConference: 'VideoConference',
  /** scenario.mode of a live stream: not supported yet (warned about; run as a group call). */
  LiveStreaming: 'LiveStreaming',
  /** A live stream's roles (scenario.config.role), for when live streaming lands. */
  Host: 'Host',
  Cohost: 'Cohost',
  Audience: 'Audience',
  /** The live streaming modes, by the vendor's names. */
  LiveStreamingMode: Object.freeze({ LiveStreaming: 'LiveStreaming', InteractiveLiveStreaming: 'InteractiveLiveStreaming', RealTimeLive: 'RealTimeLive' }),
  /** sendCallInvitation's callType for a voice call. */
  InvitationTypeVoiceCall: 0,
  /** sendCallInvitation's callType for a video call. */
  InvitationTypeVideoCall: 1,
  /** Console levels (the config's console option), by the vendor's names. */
  ConsoleDebug: 'Debug',
  ConsoleInfo: 'Info',
  ConsoleWarning: 'Warning',
  ConsoleError: 'Error',
  ConsoleNone: 'None',
  /** The panels a call kit's rightPanelExpandedType may name. */
  RightPanelExpandedType: Object.freeze({ None: 'None', RoomDetails: 'RoomDetails', RoomMembers: 'RoomMembers', RoomMessages: 'RoomMessages' }),

  /**
   * Loads the wasm module: fetches wasmURL (by default roomkit.wasm next to
   * this file), compiling while it downloads, and resolves with RoomKit once
   * it is ready. Calls after the first return the same Promise; after a
   * failure the next call tries again. server (the ws:// or wss:// address
   * of the server's /ws) becomes the default of every login. onProgress is
   * called with { loaded, total } bytes as the module downloads (total is 0
   * when the server does not say the size).
   */
  init({ wasmURL, server, onProgress } = {}) {
    if (server !== undefined) {
      if (typeof server !== 'string' || !/^wss?:\/\//.test(server)) {
        return Promise.reject(invalid(`server must be a ws:// or wss:// address, not ${JSON.stringify(server)}`));
      }
      defaultServerURL = server;
    }
    if (onProgress !== undefined && typeof onProgress !== 'function') {
      return Promise.reject(invalid('onProgress must be a function'));
    }
    if (!loading) {
      // new URL('./roomkit.wasm', import.meta.url) as bundlers (Vite)
      // recognize it, to copy the wasm into an app's assets.
      const url = wasmURL ?? (classicScriptURL ? new URL('./roomkit.wasm', classicScriptURL) : new URL('./roomkit.wasm', import.meta.url));
      loading = load(url, onProgress).then((namespace) => {
        rk = namespace;
        markReady(RoomKit);
        return RoomKit;
      }, (err) => {
        loading = null;
        markFailed(err);
        readyPromise = new Promise((resolve, reject) => { markReady = resolve; markFailed = reject; });
        readyPromise.catch(() => {});
        throw err;
      });
    }
    return loading;
  },

  /**
   * A Promise that resolves with RoomKit once init has loaded the module,
   * and rejects if that load fails (a later init makes a new one).
   */
  get ready() { return readyPromise; },

  /** True once the module is loaded. */
  get isReady() { return rk !== null; },

  /**
   * Logs in with a token (a JWT from your app server, or a kit token) and
   * resolves with a new room client, with its own connection, once the
   * server has accepted it; init runs first if it has not. name tells this
   * page's clients apart when they resume after a reload (the call kit's
   * is "call", the session client's "session").
   */
  async login({ server, token, resume = true, leaveOnPageUnload = false, name = 'default' } = {}) {
    if (typeof token !== 'string' || token === '') throw invalid('login needs {token}');
    if (typeof name !== 'string' || name === '') throw invalid('name must be a non-empty string');
    await RoomKit.init();
    if (token.startsWith(tokens.KIT_TOKEN_PREFIX)) token = RoomKit.parseKitToken(token).token;
    server = server || defaultServerURL || defaultServer();
    // After a reload, take back the session the previous page left for this
    // name: its rooms, and the events it missed. The entry is used once.
    const stored = takeSession(name);
    const resumeState = resume && stored && stored.server === server
      ? { sessionID: stored.sessionID, key: stored.key, received: stored.received }
      : undefined;
    const handle = sync(rk.newClient({ roomsStorageKey: roomsStorageKey(name) }));
    // Events that arrive before login resolves (a resumed session's rooms,
    // its missed events) wait, so the handlers added right after login see
    // them. The login's own connectionStateChanged events are not kept: the
    // login Promise already says how it went.
    let client = null;
    const early = [];
    handle.setEventHandler((event, data) => {
      if (client) client._emit(event, data);
      else if (event !== 'connectionStateChanged') early.push([event, data]);
    });
    let session;
    try {
      session = await handle.login({ server, token, resume: resumeState });
    } catch (err) {
      handle.release();
      throw err;
    }
    client = new RoomKitClient(handle, session, { server, name, leaveOnPageUnload });
    // Events that came during login, and any until the caller has added its
    // handlers, are handed over in order on the next task.
    client._held = early;
    setTimeout(() => client._release(), 0);
    return client;
  },

  /**
   * Makes a kit token signed in the page with the server secret. For
   * development only: a page that holds the secret can log in as anyone.
   */
  generateKitTokenForTest(appID, serverSecret, roomID, userID, userName, expirationSeconds = 7200) {
    const token = tokens.mintTestToken(appID, serverSecret, userID, userName ?? '', '', 0, expirationSeconds);
    return RoomKit.generateKitTokenForProduction(appID, token, roomID, userID, userName);
  },

  /**
   * Wraps a token minted by your app server into a kit token. Like
   * generateKitTokenForTest and parseKitToken it works before init (plain
   * JavaScript: a page's first line may call it).
   */
  generateKitTokenForProduction(appID, token, roomID, userID, userName) {
    return tokens.makeKitToken({ appID, token, roomID: roomID ?? '', userID, userName: userName ?? '' });
  },

  /** Reads a kit token; throws a clear Error when it is not one. */
  parseKitToken(kitToken) {
    return tokens.parseKitToken(kitToken);
  },

  /**
   * The room IDs the client of this name (see login) was in, as last kept
   * in sessionStorage.
   */
  storedRooms(name = 'default') {
    return readStorage(roomsStorageKey(name)) ?? { rooms: [], current: '' };
  },

  /**
   * Makes a call kit (zp) for a kit token; a malformed kit token throws a
   * clear Error here.
   */
  create(kitToken) {
    return new CallKit(kitToken);
  },

  /** The session client of this tab (the video SDK's createClient); one a tab. */
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
    return sync(api().mintTestToken(appID, serverSecret, userID, '', roomID, role === 1 || role === '1' ? 1 : 0, expirationSeconds));
  },

  /** The room ID that holds a session name (lower-cased, %XX-escaped; see the README). */
  sessionRoomID(sessionName) { return sync(api().sessionRoomID(sessionName)); },

  /** The wasm module's raw exports (globalThis.roomkit), or null before init. */
  get wasm() { return rk; },
});

const CallKit = makeCallKit(RoomKit, invalid);
const sessions = makeSessionClients(RoomKit, invalid);

export default RoomKit;
