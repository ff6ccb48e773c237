package protocol

// LoginRequest is the data of the first frame a client sends.
type LoginRequest struct {
	Token   string         `json:"token"`
	Version int            `json:"version"`
	Resume  *ResumeRequest `json:"resume,omitempty"`
}

// ResumeRequest asks to take back a session whose connection ended (a page
// refresh, a dropped network) within the server's grace period. Received is
// how many frames after the login reply (events and replies alike) the
// client handled on it.
type ResumeRequest struct {
	SessionID string `json:"sessionID"`
	Key       string `json:"key"`
	Received  uint64 `json:"received"`
}

// LoginReply is the data of a successful login reply.
type LoginReply struct {
	SessionID     string `json:"sessionID"`
	UserID        string `json:"userID"`
	UserName      string `json:"userName"`
	ExpiresAt     int64  `json:"expiresAt"` // the token's exp, Unix seconds
	ServerVersion int    `json:"serverVersion"`
	ResumeKey     string `json:"resumeKey"` // proves a later resume of this session
	// Resumed says a resume was asked for and granted: the session kept its
	// rooms, and the events after Received follow this reply.
	Resumed bool `json:"resumed"`
	// ResumeError says why a resume asked for was not granted (a fresh
	// session was made instead, in no rooms).
	ResumeError string `json:"resumeError,omitempty"`
	// Media says the server runs a media server: a call's page sends its
	// audio and video to it (mediaOffer), not to the other pages.
	Media bool `json:"media,omitempty"`
	// Rooms are the rooms a resumed session is in.
	Rooms []RoomInfo `json:"rooms,omitempty"`
	// LastRequestID is the highest request ID a resumed session's server
	// has read: the client sends again its pending requests above it, and
	// the replies of the others are among the frames that follow.
	LastRequestID uint64 `json:"lastRequestID,omitempty"`
}

// RenewTokenRequest swaps the connection's token for a fresh one of the same
// app and user.
type RenewTokenRequest struct {
	Token string `json:"token"`
}

// RenewTokenReply tells the new expiry.
type RenewTokenReply struct {
	ExpiresAt int64 `json:"expiresAt"`
}

// TokenWillExpireEvent is pushed shortly before the token expires.
type TokenWillExpireEvent struct {
	Second int `json:"second"` // seconds left
}

// RoomInfo names a room.
type RoomInfo struct {
	RoomID   string `json:"roomID"`
	RoomName string `json:"roomName"`
}

// RoomConfig is the advanced room config. Only the call that creates a room
// applies it.
type RoomConfig struct {
	RoomAttributes       map[string]string `json:"roomAttributes,omitempty"`
	RoomDestroyDelayTime int               `json:"roomDestroyDelayTime,omitempty"` // seconds
	// MaxMembers caps the room below the server's limit; 0 = the server's.
	MaxMembers int `json:"maxMembers,omitempty"`
	// Passcode, set at creation, is required to join the room: joinRoom's
	// passcode, or config.passcode of enterRoom and switchRoom.
	Passcode string `json:"passcode,omitempty"`
	// SessionIdleTimeoutMins ends the room after its host has been alone
	// in it this long; 0 = DefaultIdleTimeoutMins.
	SessionIdleTimeoutMins int `json:"sessionIdleTimeoutMins,omitempty"`
}

// RoomRequest is the data of createRoom and enterRoom.
type RoomRequest struct {
	RoomInfo RoomInfo    `json:"roomInfo"`
	Config   *RoomConfig `json:"config,omitempty"`
}

// RoomIDRequest is the data of joinRoom, leaveRoom and the member queries.
type RoomIDRequest struct {
	RoomID string `json:"roomID"`
}

// SwitchRoomRequest is the data of switchRoom.
type SwitchRoomRequest struct {
	FromRoomID                 string      `json:"fromRoomID"`
	ToRoomInfo                 RoomInfo    `json:"toRoomInfo"`
	IsCreateWhenRoomNotExisted bool        `json:"isCreateWhenRoomNotExisted"`
	Config                     *RoomConfig `json:"config,omitempty"`
}

// RoomFullInfo is a room as the room-messaging SDK reports it.
type RoomFullInfo struct {
	BaseInfo RoomInfo `json:"baseInfo"`
}

// RoomReply is the reply to createRoom, joinRoom, enterRoom and switchRoom.
type RoomReply struct {
	RoomInfo RoomFullInfo `json:"roomInfo"`
}

// LeaveRoomReply is the reply to leaveRoom.
type LeaveRoomReply struct {
	RoomID string `json:"roomID"`
}

// LeaveAllRoomReply is the reply to leaveAllRoom.
type LeaveAllRoomReply struct {
	RoomIDs []string `json:"roomIDs"`
}

// Member is a room member as others see it.
type Member struct {
	UserID   string `json:"userID"`
	UserName string `json:"userName"`
	// Role is RoleHost, RoleManager or RoleParticipant; empty only where
	// the member is not one of a room's (a call's operator).
	Role string `json:"role,omitempty"`
	// Audio, Video and Share are what the member publishes (the video SDK's
	// member state): the member sets them, and a host or manager may
	// turn Audio off or on.
	Audio bool `json:"audio,omitempty"`
	Video bool `json:"video,omitempty"`
	Share bool `json:"share,omitempty"`
}

// MemberListRequest is the data of queryRoomMemberList.
type MemberListRequest struct {
	RoomID   string `json:"roomID"`
	Count    int    `json:"count"`
	NextFlag string `json:"nextFlag"`
}

// MemberListReply is one page of members in join order. NextFlag is empty on
// the last page.
type MemberListReply struct {
	RoomID     string   `json:"roomID"`
	MemberList []Member `json:"memberList"`
	NextFlag   string   `json:"nextFlag"`
}

// MemberCountReply is the reply to queryRoomOnlineMemberCount.
type MemberCountReply struct {
	RoomID string `json:"roomID"`
	Count  int    `json:"count"`
}

// MembersEvent is the data of roomMemberJoined and roomMemberLeft.
type MembersEvent struct {
	RoomID     string   `json:"roomID"`
	MemberList []Member `json:"memberList"`
}

// RoomStateEvent is the data of roomStateChanged, which the server pushes
// when it removes a member (the client makes the others itself).
type RoomStateEvent struct {
	RoomID       string `json:"roomID"`
	State        int    `json:"state"`
	Event        int    `json:"event"`
	ExtendedData string `json:"extendedData"`
}

// Room states of roomStateChanged.
const (
	RoomStateDisconnected = 0
	RoomStateConnecting   = 1
	RoomStateConnected    = 2
)

// Room events of roomStateChanged.
const (
	RoomEventSuccess                = 0
	RoomEventNetworkInterrupted     = 1
	RoomEventNetworkDisconnected    = 2
	RoomEventRoomNotExist           = 3
	RoomEventActiveCreate           = 4
	RoomEventCreateFailed           = 5
	RoomEventActiveEnter            = 6
	RoomEventEnterFailed            = 7
	RoomEventKickedOut              = 8
	RoomEventConnectTimeout         = 9
	RoomEventKickedOutByOtherDevice = 10
	RoomEventActiveSwitch           = 11
	RoomEventSwitchFailed           = 12
)

// Connection states of connectionStateChanged.
const (
	ConnStateDisconnected = 0
	ConnStateConnecting   = 1
	ConnStateConnected    = 2
	ConnStateReconnecting = 3
)

// Connection events of connectionStateChanged.
const (
	ConnEventSuccess          = 0
	ConnEventActiveLogin      = 1
	ConnEventLoginTimeout     = 2
	ConnEventLoginInterrupted = 3
	ConnEventKickedOut        = 4
	ConnEventTokenExpired     = 5
)
