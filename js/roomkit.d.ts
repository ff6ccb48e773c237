// Type declarations for js/roomkit.js.

/** An Error from a roomkit operation: `code` is one of ErrorCode. */
export interface RoomKitError extends Error {
  code: number;
}

export declare const ErrorCode: Readonly<{
  Failed: 1;
  InvalidParameter: 6000001;
  RateLimited: 6000004;
  MessageRateLimited: 6000005;
  TokenInvalid: 6000103;
  NetworkError: 6000104;
  RequestTimeout: 6000105;
  TokenExpired: 6000106;
  NotLoggedIn: 6000121;
  AlreadyInRoom: 6000320;
  NotInRoom: 6000321;
  RoomNotExist: 6000322;
  RoomAlreadyExists: 6000323;
  RoomLimitReached: 6000324;
  JoinedRoomsLimit: 6000325;
  RoomConnecting: 6000326;
  AttributeKeyCount: 6000331;
  AttributeKeyLength: 6000332;
  AttributeValueLength: 6000333;
  AttributesTotalSize: 6000334;
  CallTooManyInvitees: 6000271;
  CallNotExist: 6000272;
  CallNotParty: 6000273;
  CallStateInvalid: 6000274;
  CallInviteNotPermitted: 6000275;
  CallInvitationLimit: 6000276;
  UnsupportedVersion: 6100001;
  UnknownOperation: 6100002;
  MalformedFrame: 6100003;
  TokenRoomMismatch: 6100004;
  SlowConsumer: 6100005;
  LoginTimeout: 6100006;
  ServerShutdown: 6100007;
  RoomFull: 6100008;
  MessageTooLarge: 6100009;
  SessionTakenOver: 6100010;
  StorageLimit: 6100011;
  ConnectionLimit: 6100012;
  NotPermitted: 6100013;
  WrongPasscode: 6100014;
  RemovedFromRoom: 6100015;
  UserNotInRoom: 6100016;
  OriginNotAllowed: 6100017;
  ModuleNotReady: 6100018;
  NoCodec: 6100019;
  TrackLimit: 6100020;
  NoSuchTrack: 6100021;
  ShareLimit: 6100022;
  NoSuchLayer: 6100023;
}>;

export declare const RoomState: Readonly<{ Disconnected: 0; Connecting: 1; Connected: 2 }>;
export declare const RoomEvent: Readonly<{
  Success: 0; NetworkInterrupted: 1; NetworkDisconnected: 2; RoomNotExist: 3;
  ActiveCreate: 4; CreateFailed: 5; ActiveEnter: 6; EnterFailed: 7; KickedOut: 8;
  ConnectTimeout: 9; KickedOutByOtherDevice: 10; ActiveSwitch: 11; SwitchFailed: 12;
}>;
export declare const ConnectionState: Readonly<{ Disconnected: 0; Connecting: 1; Connected: 2; Reconnecting: 3 }>;
export declare const ConnectionEvent: Readonly<{
  Success: 0; ActiveLogin: 1; LoginTimeout: 2; LoginInterrupted: 3; KickedOut: 4; TokenExpired: 5;
}>;

/** The values of RoomState, RoomEvent, ConnectionState, ConnectionEvent and ErrorCode. */
export type RoomStateValue = (typeof RoomState)[keyof typeof RoomState];
export type RoomEventValue = (typeof RoomEvent)[keyof typeof RoomEvent];
export type ConnectionStateValue = (typeof ConnectionState)[keyof typeof ConnectionState];
export type ConnectionEventValue = (typeof ConnectionEvent)[keyof typeof ConnectionEvent];
export type ErrorCodeValue = (typeof ErrorCode)[keyof typeof ErrorCode];

// The room-messaging SDK's names, for code written against it: each is a
// value (where the SDK has an enum) and a type.
export declare const ZIMRoomState: typeof RoomState;
export type ZIMRoomState = RoomStateValue;
export declare const ZIMRoomEvent: typeof RoomEvent;
export type ZIMRoomEvent = RoomEventValue;
export declare const ZIMConnectionState: typeof ConnectionState;
export type ZIMConnectionState = ConnectionStateValue;
export declare const ZIMConnectionEvent: typeof ConnectionEvent;
export type ZIMConnectionEvent = ConnectionEventValue;
/** ErrorCode, with SUCCESS (0) as the SDK has it. */
export declare const ZIMErrorCode: Readonly<typeof ErrorCode & { SUCCESS: 0 }>;
export type ZIMErrorCode = ErrorCodeValue | 0;
export type ZIMError = RoomKitError;
export type ZIMRoomInfo = RoomInfo;
export type ZIMRoomFullInfo = RoomFullInfo;
export type ZIMRoomAdvancedConfig = RoomAdvancedConfig;
export type ZIMUserInfo = RoomMember;
export type ZIMRoomMemberQueryConfig = RoomMemberQueryConfig;
export declare const ROOMS_STORAGE_KEY: 'roomkit:rooms';
export declare const SESSION_STORAGE_KEY: 'roomkit:session';
export declare const CALL_STORAGE_KEY: 'roomkit:call';

export interface RoomInfo {
  roomID: string;
  roomName?: string;
}

export interface RoomAdvancedConfig {
  /** Attributes the room starts with (applied only by the call that creates it). */
  roomAttributes?: Record<string, string>;
  /** Seconds an empty room lives on; 0 ends it at once; at most 10800. */
  roomDestroyDelayTime?: number;
  /** Members the room may hold, below the server's limit; 0 = the server's. */
  maxMembers?: number;
  /** Set at creation: required to join (at most 10 printable ASCII characters). Presented by enterRoom and switchRoom to join a room that has one. */
  passcode?: string;
  /** Minutes a room whose host is alone lives on; default 40, at most 1440. */
  sessionIdleTimeoutMins?: number;
}

export interface RoomFullInfo {
  baseInfo: { roomID: string; roomName: string };
}

export interface RoomResult {
  roomInfo: RoomFullInfo;
}

export type MemberRole = 'host' | 'manager' | 'participant';

export interface RoomMember {
  userID: string;
  userName: string;
  /** The member's role in the room (absent outside rooms, e.g. in calls). */
  role?: MemberRole;
  /** What the member publishes; absent means false. */
  audio?: boolean;
  video?: boolean;
  share?: boolean;
}

/** A room's session settings. */
export interface SessionInfo {
  roomID: string;
  roomName: string;
  hostUserID: string;
  passcode: string;
  shareLocked: boolean;
  sessionIdleTimeoutMins: number;
  maxMembers: number;
}

export interface RoomMemberQueryConfig {
  count: number;
  nextFlag: string;
}

export interface RoomMembersEvent {
  roomID: string;
  memberList: RoomMember[];
}

export interface RoomStateChangedEvent {
  roomID: string;
  state: RoomStateValue;
  event: RoomEventValue;
  extendedData: string;
}

export interface ConnectionStateChangedEvent {
  state: ConnectionStateValue;
  event: ConnectionEventValue;
  extendedData: string;
}

export interface TokenWillExpireEvent {
  second: number;
}

export declare const MessageType: Readonly<{ Text: 1; Command: 2; Custom: 200 }>;

/** A message as sent: text (type 1), command (2) or custom (200). */
export interface RoomMessageToSend {
  type: 1 | 2 | 200;
  /** A string for text; any JSON value for command and custom. */
  message: unknown;
  subType?: number;
  extendedData?: string;
}

/** A message as the server stamped it. */
export interface RoomMessage extends RoomMessageToSend {
  messageID: string;
  timestamp: number;
  orderKey: number;
  senderUserID: string;
  senderUserName: string;
  conversationID: string;
  conversationType: 1;
}

export interface RoomAttributesConfig {
  isForce?: boolean;
  isDeleteAfterOwnerLeft?: boolean;
  isUpdateOwner?: boolean;
}

export interface RoomAttributesResult {
  roomID: string;
  errorKeys: string[];
}

export interface RoomAttributesUpdateInfo {
  /** 0 set, 1 delete (deleted keys map to ""). */
  action: 0 | 1;
  roomAttributes: Record<string, string>;
}

export interface RoomAttributesEvent {
  roomID: string;
  infos: RoomAttributesUpdateInfo[];
}

export interface RoomMemberAttributes {
  userID: string;
  attributes: Record<string, string>;
}

export interface RoomMemberAttributesEvent {
  roomID: string;
  infos: { attributesInfo: RoomMemberAttributes }[];
  operatedInfo: RoomMember;
}

export interface CallUserState {
  userID: string;
  userName: string;
  state: 'Inviting' | 'Received' | 'Accepted' | 'Rejected' | 'Cancelled' | 'Timeout' | 'Quit' | 'Offline';
  reason?: CallEndReason;
}

export interface CallInfo {
  callID: string;
  initiator: CallUserState;
  roomID: string;
  callType: number;
  data: string;
  config: { canInvitingInCalling: boolean; onlyInitiatorCanInvite: boolean; endCallWhenInitiatorLeave: boolean };
  users: CallUserState[];
  ended: boolean;
  reason?: CallEndReason;
}

export interface RoomKitEvents {
  callInvitationReceived: { call: CallInfo; inviter: CallUserState; timeout: number };
  callStateChanged: { call: CallInfo; changed: CallUserState[] };
  receiveRoomMessage: { roomID: string; messageList: RoomMessage[] };
  roomAttributesUpdated: RoomAttributesEvent;
  roomAttributesBatchUpdated: RoomAttributesEvent;
  roomMemberAttributesUpdated: RoomMemberAttributesEvent;
  roomMemberJoined: RoomMembersEvent;
  roomMemberLeft: RoomMembersEvent;
  roomStateChanged: RoomStateChangedEvent;
  connectionStateChanged: ConnectionStateChangedEvent;
  tokenWillExpire: TokenWillExpireEvent;
  roomMemberUpdated: RoomMembersEvent;
  roomSessionUpdated: SessionInfo;
  peerMessageReceived: PeerMessageEvent;
  mediaRenegotiate: MediaRenegotiateEvent;
  mediaState: MediaStateEvent;
  /** The room moved to another node (a graceful stop, a failover): make a new media connection and offer on it. */
  mediaRestart: { roomID: string };
  activeSpeakers: ActiveSpeakersEvent;
  mediaLayers: MediaLayersEvent;
}

/** To a page sending a simulcast camera: keep the layers (rids) listed, lowest first, sending in section mid, and pause the others (nobody watches them). */
export interface MediaLayersEvent {
  roomID: string;
  trackID: string;
  mid: string;
  active: ('q' | 'h' | 'f')[];
}

/** Who speaks in a room, loudest first (empty when nobody does), when that changes; at most every 400 ms. */
export interface ActiveSpeakersEvent {
  roomID: string;
  speakers: { userID: string; level: number }[];
}

/** What a media track carries. */
export type MediaSource = 'camera' | 'microphone' | 'screen' | 'screenAudio';
/** How large a page shows a user's camera, in device pixels; layer names one of a simulcast camera's (q, h, f) instead. */
export interface VideoSize {
  width: number;
  height: number;
  layer?: 'q' | 'h' | 'f';
}

/** One published track as this page receives it: its msid is userID (the stream) and trackID. */
export interface MediaTrack {
  trackID: string;
  userID: string;
  kind: 'audio' | 'video';
  source: MediaSource;
}

/** The media server has more (or less) for this page: offer again, with at least as many receiving sections of each kind as tracks lists. */
export interface MediaRenegotiateEvent {
  roomID: string;
  tracks: MediaTrack[];
}

/** This page's media connection changed state, as the server sees it. */
export interface MediaStateEvent {
  roomID: string;
  state: 'new' | 'connecting' | 'connected' | 'disconnected' | 'failed' | 'closed';
}

/** A member-to-member message (see sendPeerMessage). */
export interface PeerMessageEvent {
  roomID: string;
  fromUserID: string;
  /** The sender's connection (tab) in the room; answer it with config.toConnectionID. It stays the same across a resume after a page refresh; a new join gets a new one. */
  fromConnectionID: string;
  data: unknown;
}

export declare class RoomKitClient {
  /** The logged-in user: { userID, userName }. */
  readonly user: RoomMember;
  /** This login's session on the server (the same after a resume). */
  readonly sessionID: string;
  /** True when this login took back the session of the page before a reload. */
  readonly resumed: boolean;
  /** True when the server runs a media server (mediaOffer): a call's audio and video go through it. */
  readonly media: boolean;
  /** Why a resume asked for was not granted, or "". */
  readonly resumeError: string;
  createRoom(roomInfo: RoomInfo, config?: RoomAdvancedConfig): Promise<RoomResult>;
  joinRoom(roomID: string, passcode?: string): Promise<RoomResult>;
  enterRoom(roomInfo: RoomInfo, config?: RoomAdvancedConfig): Promise<RoomResult>;
  setMemberRole(userID: string, role: MemberRole, roomID: string): Promise<{ roomID: string; member: RoomMember }>;
  renameMember(userID: string, userName: string, roomID: string): Promise<{ roomID: string; member: RoomMember }>;
  setMemberState(state: { audio?: boolean; video?: boolean; share?: boolean }, roomID: string, userID?: string): Promise<{ roomID: string; member: RoomMember }>;
  removeMember(userID: string, roomID: string): Promise<{ roomID: string; userID: string }>;
  endRoom(roomID: string): Promise<{ roomID: string }>;
  setShareLock(locked: boolean, roomID: string): Promise<SessionInfo>;
  querySessionInfo(roomID: string): Promise<SessionInfo>;
  mediaOffer(roomID: string, sdp: string, sources?: Record<string, MediaSource>): Promise<{ sdp: string }>;
  mediaCandidate(roomID: string, candidate: RTCIceCandidateInit): Promise<object>;
  mediaAnswered(roomID: string): Promise<object>;
  mediaSubscribe(roomID: string, video: string[], sizes?: Record<string, VideoSize>): Promise<object>;
  switchRoom(fromRoomID: string, toRoomInfo: RoomInfo, isCreateWhenRoomNotExisted?: boolean, config?: RoomAdvancedConfig): Promise<RoomResult>;
  leaveRoom(roomID: string): Promise<{ roomID: string }>;
  /** Leaves the rooms listed, or, with none listed (or an empty list), every room this connection is in. */
  leaveAllRoom(roomIDs?: string[]): Promise<{ roomIDs: string[] }>;
  queryRoomMemberList(roomID: string, config?: RoomMemberQueryConfig): Promise<{ roomID: string; memberList: RoomMember[]; nextFlag: string }>;
  /** The number of members this client has been told of: those its member list shows, so a join still waiting in a `roomMemberJoined` batch counts once that event arrives. */
  queryRoomOnlineMemberCount(roomID: string): Promise<{ roomID: string; count: number }>;
  sendRoomMessage(message: RoomMessageToSend, roomID: string): Promise<{ message: RoomMessage }>;
  /**
   * Sends `data` (any JSON value, at most 16 KiB by default) to one other member of the room: every
   * connection of `toUserID` there, or the one `config.toConnectionID` names. Only the recipient gets
   * `peerMessageReceived`; messages from one connection arrive in the order sent. Fails 6000321 when
   * you are not in the room, 6100016 when the recipient (or that connection) is not.
   */
  sendPeerMessage(data: unknown, toUserID: string, roomID: string, config?: { toConnectionID?: string }): Promise<{ roomID: string; connectionID: string; delivered: number }>;
  queryHistoryRoomMessage(roomID: string, config?: { count?: number; nextMessage?: RoomMessage; reverse?: boolean }): Promise<{ roomID: string; messageList: RoomMessage[]; nextOrderKey: number }>;
  setRoomAttributes(roomAttributes: Record<string, string>, roomID: string, config?: RoomAttributesConfig): Promise<RoomAttributesResult>;
  deleteRoomAttributes(keys: string[], roomID: string, config?: RoomAttributesConfig): Promise<RoomAttributesResult>;
  beginRoomAttributesBatchOperation(roomID: string, config?: RoomAttributesConfig): Promise<{ roomID: string }>;
  endRoomAttributesBatchOperation(roomID: string): Promise<RoomAttributesResult>;
  queryRoomAllAttributes(roomID: string): Promise<{ roomID: string; roomAttributes: Record<string, string> }>;
  setRoomMembersAttributes(attributes: Record<string, string>, userIDs: string[], roomID: string): Promise<{ roomID: string; infos: { attributesInfo: RoomMemberAttributes }[]; errorUserList: string[] }>;
  queryRoomMembersAttributes(userIDs: string[], roomID: string): Promise<{ roomID: string; infos: RoomMemberAttributes[] }>;
  queryRoomMemberAttributesList(roomID: string, config?: RoomMemberQueryConfig): Promise<{ roomID: string; infos: RoomMemberAttributes[]; nextFlag: string }>;
  queryRoomMembers(userIDs: string[], roomID: string): Promise<{ roomID: string; memberList: RoomMember[]; errorUserList: string[] }>;
  callInvite(request: { callees: { userID: string; userName?: string }[]; callType: number; timeout: number; data: string; roomID: string; config: CallInfo['config'] }): Promise<{ callID: string; roomID: string; errorInvitees: { userID: string; userName?: string }[] }>;
  callAdd(callID: string, callees: { userID: string; userName?: string }[], timeout?: number): Promise<{ callID: string; roomID: string; errorInvitees: { userID: string; userName?: string }[] }>;
  callAccept(callID: string): Promise<CallInfo>;
  callReject(callID: string, busy?: boolean): Promise<CallInfo>;
  callCancel(callID: string, userIDs?: string[]): Promise<CallInfo>;
  callQuit(callID: string): Promise<CallInfo>;
  callEnd(callID: string): Promise<CallInfo>;
  renewToken(token: string): Promise<{ expiresAt: number }>;
  getRoomID(): string;
  getRooms(): string[];
  on<K extends keyof RoomKitEvents>(event: K, handler: (zim: RoomKitClient, data: RoomKitEvents[K]) => void): void;
  off<K extends keyof RoomKitEvents>(event: K, handler?: (zim: RoomKitClient, data: RoomKitEvents[K]) => void): void;
  logout(): Promise<void>;
}

export interface KitToken {
  appID: number | string;
  token: string;
  roomID: string;
  userID: string;
  userName: string;
}

export interface CallUser {
  userID: string;
  userName: string;
}

/** A user to invite: the call kit's name for it. userName defaults to the user ID. */
export interface ZegoUser {
  userID: string;
  userName?: string;
}

export interface CallJoinConfig {
  /** The element the call UI fills (default: the page's body). */
  container?: HTMLElement;
  /** ws:// address of the server's /ws; defaults to this page's host. */
  server?: string;
  /** The room to join (default: the kit token's). */
  roomID?: string;
  /** Show the pre-join view (name, camera preview, Join button) first (default true). */
  showPreJoinView?: boolean;
  /** Show the inviter a waiting view, with Cancel, until a callee answers (default true). */
  showWaitingCallAcceptAudioVideoView?: boolean;
  /** The users the in-call "Invite members" list offers. */
  callingInvitationListConfig?: CallingInvitationListConfig;
  /** The most members the call's room takes, set when this join creates it (default: the server's limit). */
  maxUsers?: number;
  /** Leave the call when everyone else has left (default true). */
  autoLeaveRoomWhenOnlySelfInRoom?: boolean;
  /** Called once this page is in the call (also after a reload rejoins it). */
  onJoinRoom?: () => void;
  /** Called when this page leaves the call (hang up, removal, the call ending). */
  onLeaveRoom?: () => void;
  /** Members who joined the call. */
  onUserJoin?: (users: CallUser[]) => void;
  /** Members who left the call. */
  onUserLeave?: (users: CallUser[]) => void;
  /** A host or manager removed you from the call. */
  onYouRemovedFromRoom?: () => void;
  /** A chat message from another member. */
  onInRoomMessageReceived?: (info: { fromUser: CallUser; message: string; sendTime: number; messageID: string }) => void;
  /** Chat messages from other members, as the hosted kit's in-room text messages. */
  onInRoomTextMessageReceived?: (messages: { messageID: string; timestamp: number; orderKey: number; senderUserID: string; text: string }[]) => void;
  /** A command another member sent with sendInRoomCommand (to you, or to everyone). */
  onInRoomCommandReceived?: (fromUser: CallUser, command: string) => void;
  /** Camera on when joining (default true). After a reload, the state before it. */
  turnOnCameraWhenJoining?: boolean;
  /** Microphone on when joining (default true). */
  turnOnMicrophoneWhenJoining?: boolean;
  /** A button to turn the camera on and off (default true). */
  showMyCameraToggleButton?: boolean;
  /** A button to turn the microphone on and off (default true). */
  showMyMicrophoneToggleButton?: boolean;
  /** A "Share screen" button (default true; shown with the media server, not in a browser-to-browser mesh). The shared screen is the large tile on every page, the cameras in a strip beside it; the others are told "X is sharing a screen". The room decides who may share: refused while the host has locked sharing (6100013 NotPermitted) or while as many share as may at once (6100022 ShareLimit, one by default), and a share the host's lock turns off stops. The browser's own "Stop sharing" stops it too. */
  showScreenSharingButton?: boolean;
  /** A Settings button to pick the camera and microphone (default true). */
  showAudioVideoSettingsButton?: boolean;
  /** STUN/TURN servers for RTCPeerConnection (default none: enough on one host or a LAN). */
  iceServers?: RTCIceServer[];
  /** On a server without a media server (started with -media=false), members a browser-to-browser (mesh) call carries audio and video for (default 6): that many places, given out by the server as the room attributes `rk.media.1`…; a page without one has chat only, with a message, until one frees. With a media server (the default) a call carries everyone's. */
  maxMediaUsers?: number;
  /** Tiles on one page of the video grid (default and most 25): the grid shows this page's own tile first, then the others in the order they joined, with a pager under it when there are more; the active speaker is brought onto the first page. With the media server a page receives the video of the shown tiles only. */
  galleryPageSize?: number;
  /** How the video grid shows the tiles: 'Auto' (the default: with two in the call the other fills the view and your own tile sits small in its corner; with a member pinned, Sidebar; otherwise Grid), 'Grid' (tiles of one size; a pinned member's first and twice as large) or 'Sidebar' (one large tile, the pinned member or else the active speaker, and the others in a strip beside it). Another value is warned about and taken as Auto. */
  layout?: 'Auto' | 'Grid' | 'Sidebar';
  /** A Layout button in the header to switch between the layouts (default true). */
  showLayoutButton?: boolean;
  /** A Pin button on each tile: the pinned member gets the large tile; a second press unpins (default true). */
  showPinButton?: boolean;
  /** Tiles for members whose camera is off (default true); false shows only members sending video (and your own tile). */
  showNonVideoUser?: boolean;
  /** Tiles for members whose camera is off and microphone on (default true). */
  showOnlyAudioUser?: boolean;
  /** Notices in the lower left of the call view, a few seconds each: members joining and leaving (showUserJoinAndLeave, default true) and, while the chat panel is hidden, the newest chat messages (showTextChat, default true). */
  lowerLeftNotification?: { showUserJoinAndLeave?: boolean; showTextChat?: boolean };
  /** The one panel shown at first (RoomKit.RightPanelExpandedType): 'RoomMembers' or 'RoomMessages' (the other hidden), 'None' (neither), 'RoomDetails' (neither, and the Details dialog open). Not given: the member list and the chat both (as showUserList and showTextChat say). The More menu shows and hides them. */
  rightPanelExpandedType?: 'None' | 'RoomDetails' | 'RoomMembers' | 'RoomMessages';
  /** The camera and microphone controls fade out 3 s after the pointer last moved in the call view (or a key, a touch, the focus), and come back at any of those (default false: they stay). */
  autoHideFooter?: boolean;
  /** A search field over the member list, matching names and user IDs (default false). */
  enableUserSearch?: boolean;
  /** Called with the members as they join (and, on joining, with every member, this page's user among them), each with setUserAvatar(url): the image their tile shows while their camera is off, and beside their name in the member list; "" removes it. It changes this page only. */
  onUserAvatarSetter?: (users: { userID: string; userName: string; setUserAvatar: (url: string) => void }[]) => void;
  /** What the call kit writes to the console (RoomKit.ConsoleDebug … ConsoleNone): 'Info' adds joining and leaving, 'Warning' (the default) its warnings (options it does not do, say) and errors, 'Error' errors only, 'None' nothing. */
  console?: 'Debug' | 'Info' | 'Warning' | 'Error' | 'None';
  /** Links to the call (name and URL), shown with a Copy button each in the pre-join view and in Room details. */
  sharedLinks?: { name?: string; url: string }[];
  /** The pre-join view's title (default "Join <room ID>"). */
  preJoinViewConfig?: { title?: string };
  /** A Details button in the header: the room ID and the shared links, each with Copy (default true). */
  showRoomDetailsButton?: boolean;
  /** The time in the call, in the header (default false). */
  showRoomTimer?: boolean;
  /** After leaving, "You left the call." with a Rejoin button (default true): it joins the room again, and after an invitation call goes back into that call while it is under way ("The call has ended." once it has); false shows nothing. */
  showLeavingView?: boolean;
  /** A logo in the header. */
  branding?: { logoURL?: string };
  /** The chat panel (default true). */
  showTextChat?: boolean;
  /** The member list (default true). */
  showUserList?: boolean;
  /** A Mute button on other members, for a host or manager; the server checks the role (default true). */
  showTurnOffRemoteMicrophoneButton?: boolean;
  /** A "Camera off" button on other members whose camera is on, for a host or manager; the server checks the role, and only a camera's owner turns it back on (default true). */
  showTurnOffRemoteCameraButton?: boolean;
  /** A Remove button on other members, for a host or manager; the server checks the role (default true). */
  showRemoveUserButton?: boolean;
  /** The camera facing the user (default true); false asks for the one facing away. */
  useFrontFacingCamera?: boolean;
  /** A stereo microphone: two channels, echo cancellation off (default false). */
  enableStereo?: boolean;
  /** The call's scenario: mode RoomKit.OneONoneCall (two members at most, the server keeping a third out), GroupCall (the default) or VideoConference (every control the options give); LiveStreaming is not supported yet (warned about, run as a group call). As in the hosted kit, a 1-on-1 call shows no Layout or Pin button and no Mute, Camera off or Remove on the other member; config.role 'Audience' pins nothing and acts on no one, 'Cohost' removes no one (who may act on another stays the server's say, by the token's role). Any option roomkit does not do yet is warned about once in the console with its name, never dropped silently. */
  scenario?: { mode?: 'OneONoneCall' | 'GroupCall' | 'VideoConference' | 'LiveStreaming'; config?: { role?: 'Host' | 'Cohost' | 'Audience' } };
  /** The camera asked for (default '360p'; RoomKit.VideoResolution_180P … _720P); another value is warned about in the console and taken as 360p. */
  videoResolutionDefault?: VideoResolution;
  /** A device that could not start, a member who cannot be reached, the media server's connection failing, or the mesh limit; the UI shows the message too. */
  onMediaError?: (error: MediaError) => void;
}

/** A camera resolution a call kit may ask for. */
export type VideoResolution = '180p' | '360p' | '480p' | '720p';

export interface MediaError {
  kind: 'audio' | 'video' | 'peer' | 'limit' | 'server';
  message: string;
  /** The browser's error name for a device (NotAllowedError, NotFoundError, ...). */
  name?: string;
  /** The member, for kind 'peer'. */
  userID?: string;
}

export interface MediaStats {
  userID: string;
  state: 'connecting' | 'connected' | 'reconnecting' | 'unreachable';
  audioBytesReceived: number;
  /** The received audio's totalAudioEnergy (getStats), summed: it grows while that user is heard. */
  audioEnergy: number;
  videoBytesReceived: number;
  framesDecoded: number;
  frameWidth: number;
  /** The received video's freezeCount (getStats), summed: how often it stood still. */
  freezeCount: number;
}

/**
 * Why a call ended. ServerShutdown: the server stopped and ended every
 * call. Disconnected: this page lost its session (the server restarted, or
 * the connection was down past the grace period), so the call ended for it.
 * RoomEnded: the call's room ended (its host ended it for everyone, or it
 * passed its idle timeout), and the call with it.
 */
export type CallEndReason = 'Declined' | 'Timeout' | 'Canceled' | 'Busy' | 'LeaveRoom' | 'ServerShutdown' | 'Disconnected' | 'RoomEnded';

export interface CallInvitationConfig {
  /** Where an answered call's UI goes (default: joinRoom's container, or the page). */
  container?: HTMLElement;
  /** Members may invite more users into a call under way (default false). */
  canInvitingInCalling?: boolean;
  /** With canInvitingInCalling, only the call's initiator may (default false). */
  onlyInitiatorCanInvite?: boolean;
  /** The call ends for everyone when its initiator leaves (default false). */
  endCallWhenInitiatorLeave?: boolean;
  /** The joinRoom options of a call this user answers or starts, by call type. */
  onSetRoomConfigBeforeJoining?: (callType: number) => Partial<CallJoinConfig> | void;
  /** An invitation rings this page. With enableCustomCallInvitationDialog it is the page's own dialog: show it, and call accept() or refuse(). Without, the built-in dialog shows, with the texts this returns, if any. */
  onConfirmDialogWhenReceiving?: (callType: number, caller: CallUser, refuse: () => void, accept: () => void, data: string) => void | { title?: string; confirmButtonName?: string; cancelButtonName?: string };
  /** This page's call rings its callees. With enableCustomCallInvitationWaitingPage it is the page's own waiting page: show it, and call cancel() to stop ringing. */
  onWaitingPageWhenSending?: (callType: number, callees: CallUser[], cancel: () => void) => void;
  /** The page shows its own incoming-call dialog from onConfirmDialogWhenReceiving; the kit shows none (default false). */
  enableCustomCallInvitationDialog?: boolean;
  /** The page shows its own waiting page from onWaitingPageWhenSending; the kit shows none (default false). */
  enableCustomCallInvitationWaitingPage?: boolean;
  /** Ringtones, looped: incomingCallUrl while an invitation rings this page, outgoingCallUrl while this page's call rings; each stops at any answer, a cancel or a timeout. None by default. The browser's autoplay policy decides whether a page the user has not interacted with may sound. */
  ringtoneConfig?: { incomingCallUrl?: string; outgoingCallUrl?: string };
  /** This user's invitation is over without a call: declined, timed out, canceled, busy, or the call ended. */
  onCallInvitationEnded?: (reason: CallEndReason, data: string) => void;
  /** An invitation rings this user. */
  onIncomingCallReceived?: (callID: string, caller: CallUser, callType: number, callees: CallUser[]) => void;
  /** The inviter stopped ringing this user. */
  onIncomingCallCanceled?: (callID: string, caller: CallUser) => void;
  /** This user did not answer in time. */
  onIncomingCallTimeout?: (callID: string, caller: CallUser) => void;
  /** A callee accepted (the inviter's side). */
  onOutgoingCallAccepted?: (callID: string, callee: CallUser) => void;
  /** A callee was busy in another call (the inviter's side). */
  onOutgoingCallRejected?: (callID: string, callee: CallUser) => void;
  /** A callee declined (the inviter's side). */
  onOutgoingCallDeclined?: (callID: string, callee: CallUser) => void;
  /** Callees who did not answer in time (the inviter's side). */
  onOutgoingCallTimeout?: (callID: string, callees: CallUser[]) => void;
}

export interface CallingInvitationListConfig {
  /** At most 9 users; more is an error. */
  waitingSelectUsers: ZegoUser[];
  /** Preselect them (default true). */
  defaultChecked?: boolean;
}

/** The call kit (zp) made by RoomKit.create. */
export interface CallKit {
  joinRoom(config?: CallJoinConfig): Promise<void>;
  getRoomID(): string;
  hangUp(): Promise<void>;
  destroy(): Promise<void>;
  sendInRoomMessage(text: string): Promise<RoomMessage>;
  /** Turns the camera on or off; resolves with whether it is on (a device that cannot start stays off). */
  turnCameraOn(on: boolean): Promise<boolean>;
  turnMicrophoneOn(on: boolean): Promise<boolean>;
  /** The media connection with each other page in the call, from getStats(). */
  getMediaStats(): Promise<MediaStats[]>;
  /** Sends command to the members listed, or, with none listed, to everyone else in the call: each gets onInRoomCommandReceived(fromUser, command). Nothing is kept in the room's history. Resolves with true once sent (6100016 for a listed user not in the call). */
  sendInRoomCommand(command: string, toUserIDs?: string[]): Promise<boolean>;
  /** Accepts the hosted kit's plugins ({ ZIM }, ...): roomkit needs none (its invitations and messaging are its own). */
  addPlugins(plugins?: Record<string, unknown>): void;
  /** Turns invitations on; resolves once they can reach this user. */
  setCallInvitationConfig(config: CallInvitationConfig): Promise<void>;
  sendCallInvitation(invitation: { callees: ZegoUser[]; callType?: number; timeout?: number; data?: string; roomID?: string }): Promise<{ errorInvitees: { userID: string; userName?: string }[] }>;
  updateCallingInvitationListConfig(config: CallingInvitationListConfig): void;
}

export interface ResumeState {
  sessionID: string;
  key: string;
  received: number;
}

/** One client of the wasm module: one connection, logged in at most once at a time. */
export interface RoomKitWasmClient {
  login(options: { server: string; token: string; resume?: ResumeState }): Promise<{ sessionID: string; userID: string; userName: string; expiresAt: number; resumeKey: string; resumed: boolean; resumeError?: string; media?: boolean; rooms?: { roomID: string; roomName: string }[] }>;
  suspend(): ResumeState | null;
  logout(): Promise<object>;
  renewToken(token: string): Promise<{ expiresAt: number }>;
  create(roomInfo: RoomInfo, config?: RoomAdvancedConfig): Promise<RoomResult>;
  join(roomID: string, passcode?: string): Promise<RoomResult>;
  enter(roomInfo: RoomInfo, config?: RoomAdvancedConfig): Promise<RoomResult>;
  switch(fromRoomID: string, toRoomInfo: RoomInfo, isCreateWhenRoomNotExisted: boolean, config?: RoomAdvancedConfig): Promise<RoomResult>;
  leave(roomID: string): Promise<{ roomID: string }>;
  leaveAll(): Promise<{ roomIDs: string[] }>;
  queryMemberList(roomID: string, config?: RoomMemberQueryConfig): Promise<{ roomID: string; memberList: RoomMember[]; nextFlag: string }>;
  queryMemberCount(roomID: string): Promise<{ roomID: string; count: number }>;
  sendMessage(request: { roomID: string; message: RoomMessageToSend }): Promise<{ message: RoomMessage }>;
  queryHistoryMessage(request: { roomID: string; count: number; nextOrderKey: number; reverse: boolean }): Promise<{ roomID: string; messageList: RoomMessage[]; nextOrderKey: number }>;
  setRoomAttributes(request: { roomID: string; roomAttributes: Record<string, string>; config: RoomAttributesConfig }): Promise<RoomAttributesResult>;
  deleteRoomAttributes(request: { roomID: string; keys: string[]; config: RoomAttributesConfig }): Promise<RoomAttributesResult>;
  beginRoomAttributesBatch(request: { roomID: string; config: RoomAttributesConfig }): Promise<{ roomID: string }>;
  endRoomAttributesBatch(request: { roomID: string }): Promise<RoomAttributesResult>;
  queryRoomAllAttributes(request: { roomID: string }): Promise<{ roomID: string; roomAttributes: Record<string, string> }>;
  setRoomMembersAttributes(request: { roomID: string; userIDs: string[]; attributes: Record<string, string> }): Promise<{ roomID: string; infos: { attributesInfo: RoomMemberAttributes }[]; errorUserList: string[] }>;
  queryRoomMembersAttributes(request: { roomID: string; userIDs: string[] }): Promise<{ roomID: string; infos: RoomMemberAttributes[] }>;
  queryRoomMemberAttributesList(request: { roomID: string; count: number; nextFlag: string }): Promise<{ roomID: string; infos: RoomMemberAttributes[]; nextFlag: string }>;
  queryRoomMembers(request: { roomID: string; userIDs: string[] }): Promise<{ roomID: string; memberList: RoomMember[]; errorUserList: string[] }>;
  callInvite(request: object): Promise<{ callID: string; roomID: string; errorInvitees: { userID: string; userName?: string }[] }>;
  callAdd(request: { callID: string; callees: { userID: string; userName?: string }[]; timeout: number }): Promise<{ callID: string; roomID: string; errorInvitees: { userID: string; userName?: string }[] }>;
  callAccept(request: { callID: string }): Promise<CallInfo>;
  callReject(request: { callID: string; busy: boolean }): Promise<CallInfo>;
  callCancel(request: { callID: string; userIDs: string[] }): Promise<CallInfo>;
  callQuit(request: { callID: string }): Promise<CallInfo>;
  callEnd(request: { callID: string }): Promise<CallInfo>;
  getRoomID(): string;
  getRooms(): string[] | RoomKitError;
  setEventHandler(handler: ((name: string, data: unknown) => void) | null): void | RoomKitError;
  setMemberRole(appID: number | string, serverSecret: string, userID: string, userName: string, roomID: string, role: number, expirationSeconds: number): string | RoomKitError;
  setMemberRole(request: { roomID: string; userID: string; role: MemberRole }): Promise<{ roomID: string; member: RoomMember }>;
  renameMember(request: { roomID: string; userID: string; userName: string }): Promise<{ roomID: string; member: RoomMember }>;
  setMemberState(request: { roomID: string; userID?: string; audio?: boolean; video?: boolean; share?: boolean }): Promise<{ roomID: string; member: RoomMember }>;
  removeMember(request: { roomID: string; userID: string }): Promise<{ roomID: string; userID: string }>;
  endRoom(request: { roomID: string }): Promise<{ roomID: string }>;
  setShareLock(request: { roomID: string; locked: boolean }): Promise<SessionInfo>;
  querySessionInfo(request: { roomID: string }): Promise<SessionInfo>;
  mediaOffer(request: { roomID: string; sdp: string; sources?: Record<string, MediaSource> }): Promise<{ sdp: string }>;
  mediaCandidate(request: { roomID: string; candidate: RTCIceCandidateInit }): Promise<object>;
  mediaAnswered(request: { roomID: string }): Promise<object>;
  mediaSubscribe(request: { roomID: string; video: string[]; sizes?: Record<string, VideoSize> }): Promise<object>;
  logoutNow(): object;
}

/** A client made by newClient; release() logs it out at once and frees it. */
export interface RoomKitWasmHandle extends RoomKitWasmClient {
  release(): void;
}

/**
 * globalThis.roomkit, the wasm module's exports: the page-wide functions,
 * newClient for each connection, and the functions of a default client.
 */
export interface RoomKitWasm extends RoomKitWasmClient {
  newClient(options?: { roomsStorageKey?: string }): RoomKitWasmHandle | RoomKitError;
  setCallInvitationConfig(config: object): void | RoomKitError;
  getCallInvitationConfig(): object | undefined;
  mintTestToken(appID: number | string, serverSecret: string, userID: string, userName: string, roomID: string, role: number, expirationSeconds: number): string | RoomKitError;
  makeKitToken(kit: KitToken): string | RoomKitError;
  parseKitToken(kitToken: string): KitToken | RoomKitError;
  sessionRoomID(sessionName: string): string | RoomKitError;
  readonly protocolVersion: number;
}

/** RoomKit.init's options. */
export interface InitOptions {
  /** Where roomkit.wasm is (default: next to roomkit.js). */
  wasmURL?: string | URL;
  /** The ws:// or wss:// address of the server's /ws: every login's default (else this page's host). */
  server?: string;
  /** Called as the module downloads; total is 0 when the server does not say the size. */
  onProgress?: (progress: { loaded: number; total: number }) => void;
}

/** RoomKit.login's options. */
export interface LoginOptions {
  /** The ws:// or wss:// address of /ws (default: init's server, else this page's host). */
  server?: string;
  /** A JWT from your app server, or a kit token. */
  token: string;
  /** Take back the session a reloaded page left (default true). */
  resume?: boolean;
  /** Log out on pagehide instead, so the others see the user leave at once (default false). */
  leaveOnPageUnload?: boolean;
  /** Tells this page's clients apart when they resume after a reload (default "default"). */
  name?: string;
}

export declare const VERSION: string;

export declare const RoomKit: Readonly<{
  /** This module's version. */
  version: string;
  /** A 320×180 camera at 15 frames a second (joinRoom's videoResolutionDefault). */
  VideoResolution_180P: '180p';
  /** A 640×360 camera at 24 frames a second: the call kit's default. */
  VideoResolution_360P: '360p';
  /** A 640×480 camera at 24 frames a second. */
  VideoResolution_480P: '480p';
  /** A 1280×720 camera at 24 frames a second. */
  VideoResolution_720P: '720p';
  /** scenario.mode of a call of two: the server keeps a third out ("This is a 1-on-1 call"). */
  OneONoneCall: 'OneONoneCall';
  /** scenario.mode of a group call (the default). */
  GroupCall: 'GroupCall';
  /** scenario.mode of a conference: run as a group call. */
  VideoConference: 'VideoConference';
  /** scenario.mode of a live stream: not supported yet (warned about in the console; run as a group call). */
  LiveStreaming: 'LiveStreaming';
  /** A live stream's host (scenario.config.role), for when live streaming lands. */
  Host: 'Host';
  /** A live stream's co-host. */
  Cohost: 'Cohost';
  /** A live stream's audience. */
  Audience: 'Audience';
  /** The live streaming modes, by the vendor's names. */
  LiveStreamingMode: Readonly<{ LiveStreaming: 'LiveStreaming'; InteractiveLiveStreaming: 'InteractiveLiveStreaming'; RealTimeLive: 'RealTimeLive' }>;
  /** sendCallInvitation's callType for a voice call. */
  InvitationTypeVoiceCall: 0;
  /** sendCallInvitation's callType for a video call. */
  InvitationTypeVideoCall: 1;
  /** Console level Debug (the config's console option, accepted and not yet acted on). */
  ConsoleDebug: 'Debug';
  /** Console level Info. */
  ConsoleInfo: 'Info';
  /** Console level Warning. */
  ConsoleWarning: 'Warning';
  /** Console level Error. */
  ConsoleError: 'Error';
  /** Console level None. */
  ConsoleNone: 'None';
  /** The panels a call kit's rightPanelExpandedType may name. */
  readonly RightPanelExpandedType: { readonly None: 'None'; readonly RoomDetails: 'RoomDetails'; readonly RoomMembers: 'RoomMembers'; readonly RoomMessages: 'RoomMessages' };
  /** Loads the wasm module; resolves with RoomKit once it is ready. The same Promise for every call until one fails. */
  init(options?: InitOptions): Promise<typeof RoomKit>;
  /** Resolves once init has loaded the module; rejects if that load fails. */
  readonly ready: Promise<typeof RoomKit>;
  /** True once the module is loaded. */
  readonly isReady: boolean;
  /** A new client with its own connection; runs init first when needed. */
  login(options: LoginOptions): Promise<RoomKitClient>;
  create(kitToken: string): CallKit;
  generateKitTokenForTest(appID: number | string, serverSecret: string, roomID: string, userID: string, userName?: string, expirationSeconds?: number): string;
  /** roomID may be null (sessionStorage.getItem's "nothing stored"): the token then names no room. Like generateKitTokenForTest, parseKitToken and create, it works before init, from a page's first line. */
  generateKitTokenForProduction(appID: number | string, token: string, roomID: string | null, userID: string, userName?: string): string;
  parseKitToken(kitToken: string): KitToken;
  storedRooms(name?: string): { rooms: string[]; current: string };
  createClient(): SessionClient;
  destroyClient(): Promise<void>;
  generateSessionTokenForTest(appID: number | string, serverSecret: string, sessionName: string, userID: string, role?: 0 | 1, expirationSeconds?: number): string;
  sessionRoomID(sessionName: string): string;
  /** The wasm module's exports (globalThis.roomkit), or null before init. */
  readonly wasm: RoomKitWasm | null;
}>;

/** A user of a session, as the session client hands it out. */
export interface SessionUser {
  userId: string;
  displayName: string;
  role: MemberRole;
  isHost: boolean;
  isManager: boolean;
  /** 'computer' while the user publishes audio, '' otherwise. */
  audio: '' | 'computer';
  muted: boolean;
  bVideoOn: boolean;
  sharerOn: boolean;
}

export interface SessionInitOptions {
  /** Leave when the page goes away (pagehide): others see it at once, but a reload no longer resumes. Default false. */
  leaveOnPageUnload?: boolean;
  /** The ws:// address of the server's /ws; default this page's host. */
  server?: string;
  [ignored: string]: unknown;
}

export interface ConnectionChange {
  state: 'Connected' | 'Reconnecting' | 'Closed';
  /** With Closed: why the server took this client out. */
  reason?: 'ended by host' | 'kicked by host' | 'idle timeout';
  message?: string;
}

export interface SessionEvents {
  'user-added': SessionUser[];
  'user-removed': SessionUser[];
  'user-updated': SessionUser[];
  'connection-change': ConnectionChange;
  'current-audio-change': { action: 'muted' | 'unmuted'; source: 'active' | 'passive' };
  'session-info-change': ReturnType<SessionClient['getSessionInfo']>;
  /** Another user's camera went on (Start) or off (Stop), as they published it. */
  'peer-video-state-change': { action: 'Start' | 'Stop'; userId: string };
  /** Who speaks, loudest first, as the media server hears it (when that changes). */
  'active-speaker': { userId: string; displayName: string }[];
  /** A user's screen share started (Active) or stopped (Inactive), as they published it (also on joining and leaving while sharing). */
  'active-share-change': { state: 'Active' | 'Inactive'; userId: string };
  /** The share lock changed: 1 locked for participants, 0 unlocked (the video SDK's SharePrivilege values). */
  'share-privilege-change': { privilege: 0 | 1 };
  /** Your screen share stopped without stopShareScreen: the browser's own stop (StopScreenCapture) or the lock (PrivilegeChange). */
  'passively-stop-share': { reason: 'StopScreenCapture' | 'PrivilegeChange' };
}

/** A session's audio and video (through the server's media server) and its published state. */
export interface SessionMediaStream {
  startAudio(): Promise<unknown>;
  stopAudio(): Promise<unknown>;
  muteAudio(userId?: string): Promise<unknown>;
  unmuteAudio(userId?: string): Promise<unknown>;
  isAudioMuted(userId?: string): boolean;
  startVideo(): Promise<unknown>;
  stopVideo(): Promise<unknown>;
  attachVideo(userId: string, quality?: number): Promise<HTMLVideoElement>;
  detachVideo(userId: string): Promise<HTMLVideoElement[]>;
  /** Shares your screen (inside a click); refused while locked (6100013) or while as many share as allowed (6100022). element shows your own screen. */
  startShareScreen(element?: HTMLVideoElement): Promise<unknown>;
  stopShareScreen(): Promise<unknown>;
  /** A video element showing the screen userId shares, as it starts and stops. */
  attachShareView(userId: string): Promise<HTMLVideoElement>;
  detachShareView(userId: string): Promise<HTMLVideoElement[]>;
  /** The user sharing a screen now, or ''. */
  getActiveShareUserId(): string;
  lockShare(locked: boolean): Promise<SessionInfo>;
  isShareLocked(): boolean;
}

/** The video SDK's VideoClient shape: RoomKit.createClient(). */
export interface SessionClient {
  init(language?: string, region?: string, options?: SessionInitOptions): Promise<void>;
  join(topic: string, token: string, userName?: string, passcode?: string, sessionIdleTimeoutMins?: number, options?: { maxUsers?: number }): Promise<void>;
  leave(end?: boolean): Promise<void>;
  getAllUser(): SessionUser[];
  getUser(userId: string): SessionUser | undefined;
  getCurrentUserInfo(): SessionUser | undefined;
  getSessionInfo(): { topic: string; password: string; userId: string; userName: string; isInMeeting: boolean; sessionId: string; hostUserId: string; shareLocked: boolean; sessionIdleTimeoutMins: number };
  isHost(): boolean;
  isManager(): boolean;
  makeHost(userId: string): Promise<unknown>;
  makeManager(userId: string): Promise<unknown>;
  revokeManager(userId: string): Promise<unknown>;
  removeUser(userId: string): Promise<unknown>;
  changeName(name: string, userId?: string): Promise<unknown>;
  getMediaStream(): SessionMediaStream;
  on<K extends keyof SessionEvents>(event: K, handler: (payload: SessionEvents[K]) => void): void;
  off<K extends keyof SessionEvents>(event: K, handler?: (payload: SessionEvents[K]) => void): void;
}

export default RoomKit;
