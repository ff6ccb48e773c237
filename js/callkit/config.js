// The call kit's options: the defaults of joinRoom's config and of
// setCallInvitationConfig's, the camera it asks for, and the limit on an
// invitee list. Plain values; this file has no imports.

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
  onMediaError() {},    // ({ kind: 'audio'|'video'|'peer'|'limit', message, name?, userID? })
};

// The camera asked for: a mesh sends one copy to each member, so 360p is
// the default; a larger call needs an SFU, not more pixels.
export const VIDEO = { width: { ideal: 640 }, height: { ideal: 360 }, frameRate: { ideal: 24 } };

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
