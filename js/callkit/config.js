// The call kit's options: the defaults of joinRoom's config and of
// setCallInvitationConfig's, the scenarios, the cameras it may ask for,
// the warnings about what it does not do yet, and the limit on an
// invitee list. This file has no imports.

export const DEFAULTS = {
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
  onInRoomTextMessageReceived() {}, // ([{ messageID, timestamp, orderKey, senderUserID, text }])
  onInRoomCommandReceived() {},     // (fromUser, command)
  showWaitingCallAcceptAudioVideoView: true,
  callingInvitationListConfig: null,
  // Media (a browser-to-browser mesh; see media.js).
  turnOnCameraWhenJoining: true,
  turnOnMicrophoneWhenJoining: true,
  showMyCameraToggleButton: true,
  showScreenSharingButton: true,  // a Share screen button (with the media server; the room's share lock and -max-shares apply)
  showMyMicrophoneToggleButton: true,
  showAudioVideoSettingsButton: true,
  iceServers: [],       // STUN/TURN servers; none is enough on one host or LAN
  maxMediaUsers: 6,     // members a mesh call carries audio and video for
  // The room's details and the views around the call (details.js).
  sharedLinks: [],             // [{ name, url }]: shown with copy buttons before joining and in Room details
  preJoinViewConfig: null,     // { title }: the pre-join view's title (default "Join <room>")
  showRoomDetailsButton: true, // a Details button: the room ID and the shared links
  showRoomTimer: false,        // the time in the call, in the header
  showLeavingView: true,       // after leaving, "You left the call." with Rejoin
  branding: null,              // { logoURL }: a logo in the header
  showTextChat: true,                       // the chat panel
  showUserList: true,                       // the member list
  showTurnOffRemoteMicrophoneButton: true,  // Mute on others, for a host or manager (the server checks the role)
  showRemoveUserButton: true,               // Remove on others, for a host or manager (the server checks the role)
  showTurnOffRemoteCameraButton: true,      // Camera off on others, for a host or manager (the server checks the role; only their owner turns a camera on)
  useFrontFacingCamera: true,               // the camera facing the user (false: the one facing away)
  enableStereo: false,                      // a stereo microphone (echo cancellation off)
  galleryPageSize: 25,            // tiles on one page of the video grid (1..25); the media server sends the shown page's video
  videoResolutionDefault: '360p', // the camera asked for: '180p', '360p', '480p' or '720p'
  // The video grid (gallery.js).
  layout: 'Auto',          // 'Auto', 'Grid' or 'Sidebar' (LAYOUTS)
  showLayoutButton: true,  // a Layout button to switch between them
  showPinButton: true,     // a Pin button on each tile: the pinned member gets the large tile
  showNonVideoUser: true,  // tiles for members whose camera is off
  showOnlyAudioUser: true, // tiles for members whose camera is off and microphone on
  onMediaError() {},    // ({ kind: 'audio'|'video'|'peer'|'limit', message, name?, userID? })
  // The views around the video (notices.js, members.js, callview.js).
  lowerLeftNotification: null,   // { showUserJoinAndLeave, showTextChat }: notices in the lower left (both default true)
  rightPanelExpandedType: undefined, // the one panel shown at first: 'None', 'RoomDetails', 'RoomMembers', 'RoomMessages' (default: both)
  autoHideFooter: false,         // the camera and microphone controls hide 3 s after the pointer last moved
  enableUserSearch: false,       // a search field over the member list
  onUserAvatarSetter: null,      // ([{ userID, userName, setUserAvatar(url) }]): set the avatars tiles show
  console: 'Warning',            // what the kit writes to the console: 'Debug', 'Info', 'Warning', 'Error' or 'None'
};

// The call kit's scenarios (joinRoom's scenario.mode), by the vendor's
// names: RoomKit.OneONoneCall and the rest.
export const SCENARIOS = Object.freeze({
  OneONoneCall: 'OneONoneCall',
  GroupCall: 'GroupCall',
  VideoConference: 'VideoConference',
  LiveStreaming: 'LiveStreaming',
});

/** The roles scenario.config.role may name, by the vendor's names. */
export const SCENARIO_ROLES = Object.freeze(['Host', 'Cohost', 'Audience']);

// withScenario returns cfg (DEFAULTS under the page's options) with the
// controls its scenario takes, as the hosted kit has them: a 1-on-1 call
// has no Layout or Pin button and no Mute, Camera off or Remove on the
// other member; a GroupCall or VideoConference keeps every control the
// options give; an Audience role (scenario.config.role) pins nothing and
// acts on no one, and a Cohost removes no one. Who may act on another is
// still the server's say, by the member's role in the token.
export function withScenario(cfg) {
  const out = { ...cfg };
  const { mode, config: { role } = {} } = cfg.scenario ?? {};
  if (mode === SCENARIOS.OneONoneCall) {
    Object.assign(out, { showLayoutButton: false, showPinButton: false, showTurnOffRemoteCameraButton: false, showTurnOffRemoteMicrophoneButton: false, showRemoveUserButton: false });
  }
  if (role === 'Audience') {
    Object.assign(out, { showPinButton: false, showTurnOffRemoteCameraButton: false, showTurnOffRemoteMicrophoneButton: false, showRemoveUserButton: false });
  } else if (role === 'Cohost') {
    out.showRemoveUserButton = false;
  }
  return out;
}

/** The panels rightPanelExpandedType may name (RoomKit.RightPanelExpandedType). */
export const PANELS = Object.freeze(['None', 'RoomDetails', 'RoomMembers', 'RoomMessages']);

/** The video grid's layouts, by the vendor's names (the config's layout). */
export const LAYOUTS = Object.freeze(['Auto', 'Grid', 'Sidebar']);

// warnUnsupported warns once per name, in the console, of each joinRoom
// option roomkit does not do yet (any name that is not one of DEFAULTS'
// or scenario), and of a scenario it does not run yet: they are never
// dropped silently.
export function warnUnsupported(config) {
  for (const name of Object.keys(config)) {
    if (name in DEFAULTS || name === 'scenario') continue;
    warnOnce(`option ${name}`, `roomkit: the call kit option ${name} is not supported yet; it is ignored`);
  }
  if (config.layout !== undefined && !LAYOUTS.includes(config.layout)) {
    warnOnce(`layout ${config.layout}`, `roomkit: layout ${JSON.stringify(config.layout)} is not one of ${LAYOUTS.join(', ')}; Auto is used`);
  }
  if (config.rightPanelExpandedType !== undefined && !PANELS.includes(config.rightPanelExpandedType)) {
    warnOnce(`panel ${config.rightPanelExpandedType}`, `roomkit: rightPanelExpandedType ${JSON.stringify(config.rightPanelExpandedType)} is not one of ${PANELS.join(', ')}; it is ignored`);
  }
  const mode = config.scenario?.mode;
  if (mode === SCENARIOS.LiveStreaming) {
    warnOnce('scenario LiveStreaming', 'roomkit: scenario.mode LiveStreaming is not supported yet; the call runs as a group call');
  } else if (mode !== undefined && !Object.values(SCENARIOS).includes(mode)) {
    warnOnce(`scenario ${mode}`, `roomkit: scenario.mode ${JSON.stringify(mode)} is not one of ${Object.keys(SCENARIOS).join(', ')}; the call runs as a group call`);
  }
  const role = config.scenario?.config?.role;
  if (role !== undefined && !SCENARIO_ROLES.includes(role)) {
    warnOnce(`scenario role ${role}`, `roomkit: scenario.config.role ${JSON.stringify(role)} is not one of ${SCENARIO_ROLES.join(', ')}; it is ignored`);
  }
}

// warnUnsupportedInvitation is warnUnsupported for setCallInvitationConfig's
// options (INVITATION_DEFAULTS' names are the ones done).
export function warnUnsupportedInvitation(config) {
  for (const name of Object.keys(config)) {
    if (!(name in INVITATION_DEFAULTS)) warnOnce(`invitation option ${name}`, `roomkit: the call invitation option ${name} is not supported yet; it is ignored`);
  }
}

const warned = new Set();
function warnOnce(key, message) {
  if (warned.has(key)) return;
  warned.add(key);
  log('warning', message);
}

/** The console levels (the config's console; RoomKit.ConsoleDebug … ConsoleNone), least severe first. */
export const CONSOLE_LEVELS = Object.freeze(['Debug', 'Info', 'Warning', 'Error', 'None']);
let consoleLevel = 2; // Warning: the kit's warnings and errors

// setConsoleLevel sets what the call kit writes to the console (the
// config's console): messages of level at or above it; Warning when
// not given, and for a level not one of CONSOLE_LEVELS (warned about).
export function setConsoleLevel(level) {
  const at = CONSOLE_LEVELS.indexOf(level ?? 'Warning');
  consoleLevel = at < 0 ? 2 : at;
  if (at < 0) warnOnce(`console ${level}`, `roomkit: console ${JSON.stringify(level)} is not one of ${CONSOLE_LEVELS.join(', ')}; Warning is used`);
}

// log writes message to the console at level ('debug', 'info',
// 'warning' or 'error') if the console level takes it.
export function log(level, message) {
  const at = { debug: 0, info: 1, warning: 2, error: 3 }[level];
  if (at < consoleLevel) return;
  const write = { debug: console.debug, info: console.info, warning: console.warn, error: console.error }[level];
  write.call(console, message.startsWith('roomkit:') ? message : `roomkit: ${message}`);
}

// The cameras a call may ask for (videoResolutionDefault), by the
// vendor's names ('180p' is ZegoUIKitPrebuilt.VideoResolution_180P);
// 360p is the default.
export const RESOLUTIONS = Object.freeze({
  '180p': { width: { ideal: 320 }, height: { ideal: 180 }, frameRate: { ideal: 15 } },
  '360p': { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24 } },
  '480p': { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24 } },
  '720p': { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 24 } },
});

// videoConstraints is the camera the config asks for: its
// videoResolutionDefault (one of RESOLUTIONS' names; another is warned
// about once and taken as 360p), facing the user unless
// useFrontFacingCamera is false.
export function videoConstraints(cfg) {
  const resolution = cfg.videoResolutionDefault;
  let c = RESOLUTIONS[resolution ?? '360p'];
  if (!c) {
    warnOnce(`resolution ${resolution}`, `roomkit: videoResolutionDefault ${JSON.stringify(resolution)} is not one of ${Object.keys(RESOLUTIONS).join(', ')}: 360p is used`);
    c = RESOLUTIONS['360p'];
  }
  return { ...c, facingMode: { ideal: cfg.useFrontFacingCamera === false ? 'environment' : 'user' } };
}

// simulcastCamera reports whether the camera the config asks for is
// large enough (960 pixels wide or more: 720p) to send three simulcast
// layers through the media server (sfu.js's SIMULCAST), so that each
// viewer gets the one that fills its tile.
export function simulcastCamera(cfg) {
  return (videoConstraints(cfg).width?.ideal ?? 0) >= 960;
}

// audioConstraints is the microphone the config asks for: stereo (two
// channels, no echo cancellation, which would mix them down) with
// enableStereo, the browser's default otherwise.
export function audioConstraints(cfg) {
  return cfg.enableStereo ? { channelCount: { ideal: 2 }, echoCancellation: false } : {};
}

export const INVITATION_DEFAULTS = {
  container: null, // where an answered call's UI goes (default: joinRoom's container, or the page)
  canInvitingInCalling: false,
  onlyInitiatorCanInvite: false,
  endCallWhenInitiatorLeave: false,
  onSetRoomConfigBeforeJoining: () => ({}),
  onConfirmDialogWhenReceiving: null, // told of an incoming call; with enableCustomCallInvitationDialog, the page's own dialog
  onWaitingPageWhenSending: null,     // told of an outgoing call; with enableCustomCallInvitationWaitingPage, the page's own waiting page
  enableCustomCallInvitationDialog: false,     // the page shows its own incoming-call dialog (onConfirmDialogWhenReceiving)
  enableCustomCallInvitationWaitingPage: false, // the page shows its own waiting page (onWaitingPageWhenSending)
  ringtoneConfig: null, // { incomingCallUrl, outgoingCallUrl }: looped while ringing, stopped at any answer
  onCallInvitationEnded() {},
  onIncomingCallReceived() {},
  onIncomingCallCanceled() {},
  onIncomingCallTimeout() {},
  onOutgoingCallAccepted() {},
  onOutgoingCallRejected() {},
  onOutgoingCallDeclined() {},
  onOutgoingCallTimeout() {},
};

// The kind of a member-to-member message carrying sendInRoomCommand's
// command (the mesh's signalling has a kind of its own).
export const COMMAND = 'rk.command';

// The most users one invitation may ring, and the in-call invite list may offer.
export const MAX_WAITING_SELECT_USERS = 9;
