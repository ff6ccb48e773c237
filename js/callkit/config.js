// The call kit's options: the defaults of joinRoom's config and of
// setCallInvitationConfig's, the cameras it may ask for, and the limit on
// an invitee list. Plain values; this file has no imports.

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
  galleryPageSize: 25,
  videoResolutionDefault: '360p', // the camera asked for: '180p', '360p', '480p' or '720p'  // tiles on one page of the video grid (1..25); the media server sends the shown page's video
  onMediaError() {},    // ({ kind: 'audio'|'video'|'peer'|'limit', message, name?, userID? })
};

// The cameras a call may ask for (videoResolutionDefault), by the
// vendor's names ('180p' is ZegoUIKitPrebuilt.VideoResolution_180P);
// 360p is the default.
export const RESOLUTIONS = Object.freeze({
  '180p': { width: { ideal: 320 }, height: { ideal: 180 }, frameRate: { ideal: 15 } },
  '360p': { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24 } },
  '480p': { width: { ideal: 640 }, height: { ideal: 480 }, frameRate: { ideal: 24 } },
  '720p': { width: { ideal: 1280 }, height: { ideal: 720 }, frameRate: { ideal: 24 } },
});

// videoConstraints is the camera asked for at resolution (one of
// RESOLUTIONS' names; another is warned about once and taken as 360p).
export function videoConstraints(resolution) {
  if (resolution === undefined || resolution === null) return RESOLUTIONS['360p'];
  const c = RESOLUTIONS[resolution];
  if (c) return c;
  if (!warnedResolutions.has(resolution)) {
    warnedResolutions.add(resolution);
    console.warn(`roomkit: videoResolutionDefault ${JSON.stringify(resolution)} is not one of ${Object.keys(RESOLUTIONS).join(', ')}: 360p is used`);
  }
  return RESOLUTIONS['360p'];
}
const warnedResolutions = new Set();

export const INVITATION_DEFAULTS = {
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

// The most users one invitation may ring, and the in-call invite list may offer.
export const MAX_WAITING_SELECT_USERS = 9;
