package protocol

// Call operations.
const (
	OpCallInvite = "callInvite" // a new call with its first invitees
	OpCallAdd    = "callAdd"    // invite more users into a call under way
	OpCallCancel = "callCancel"
	OpCallAccept = "callAccept"
	OpCallReject = "callReject"
	OpCallQuit   = "callQuit"
	OpCallEnd    = "callEnd"
)

// Call events.
const (
	// EventCallInvitationReceived rings every session of an invitee.
	EventCallInvitationReceived = "callInvitationReceived"
	// EventCallStateChanged tells every party of a call each change.
	EventCallStateChanged = "callStateChanged"
)

// Per-user call states.
const (
	CallStateInviting  = "Inviting" // the initiator, until someone answers
	CallStateReceived  = "Received" // ringing
	CallStateAccepted  = "Accepted"
	CallStateRejected  = "Rejected" // declined, or busy
	CallStateCancelled = "Cancelled"
	CallStateTimeout   = "Timeout"
	CallStateQuit      = "Quit"
	CallStateOffline   = "Offline"
)

// Why a user's part in a call ended, as the call kit reports it.
const (
	CallReasonDeclined  = "Declined"
	CallReasonBusy      = "Busy"
	CallReasonTimeout   = "Timeout"
	CallReasonCanceled  = "Canceled"
	CallReasonLeaveRoom = "LeaveRoom"
	// CallReasonServerShutdown: the server ended every call as it shut
	// down; the parties are told before their connections close.
	CallReasonServerShutdown = "ServerShutdown"
	// CallReasonRoomEnded: the call's room ended (the host ended it for
	// all, or it passed its idle timeout), and the call with it.
	CallReasonRoomEnded = "RoomEnded"
	// CallReasonDisconnected: the client lost its session (the server
	// restarted, or it was away past the grace period), so the call ended
	// for it. The client makes this one itself, on reconnecting.
	CallReasonDisconnected = "Disconnected"
)

// MaxInvitees is the most users one invitation may name.
const MaxInvitees = 9

// CallConfig is fixed when a call is created.
type CallConfig struct {
	CanInvitingInCalling      bool `json:"canInvitingInCalling"`
	OnlyInitiatorCanInvite    bool `json:"onlyInitiatorCanInvite"`
	EndCallWhenInitiatorLeave bool `json:"endCallWhenInitiatorLeave"`
}

// Callee names an invitee.
type Callee struct {
	UserID   string `json:"userID"`
	UserName string `json:"userName,omitempty"`
}

// CallInviteRequest is the data of callInvite. Timeout is in seconds
// (0 = 60; 1..600); RoomID "" makes one.
type CallInviteRequest struct {
	Callees  []Callee   `json:"callees"`
	CallType int        `json:"callType"`
	Timeout  int        `json:"timeout"`
	Data     string     `json:"data"`
	RoomID   string     `json:"roomID"`
	Config   CallConfig `json:"config"`
}

// CallAddRequest is the data of callAdd.
type CallAddRequest struct {
	CallID  string   `json:"callID"`
	Callees []Callee `json:"callees"`
	Timeout int      `json:"timeout"`
}

// CallIDRequest is the data of callCancel, callAccept, callQuit and
// callEnd; callCancel may name the invitees to cancel (none: all ringing).
type CallIDRequest struct {
	CallID  string   `json:"callID"`
	UserIDs []string `json:"userIDs,omitempty"`
}

// CallRejectRequest is the data of callReject.
type CallRejectRequest struct {
	CallID string `json:"callID"`
	Busy   bool   `json:"busy"`
}

// CallInviteReply names the call and the invitees who cannot be rung
// (offline, unknown, already in the call).
type CallInviteReply struct {
	CallID        string   `json:"callID"`
	RoomID        string   `json:"roomID"`
	ErrorInvitees []Callee `json:"errorInvitees"`
}

// CallUser is one user's part in a call.
type CallUser struct {
	UserID   string `json:"userID"`
	UserName string `json:"userName"`
	State    string `json:"state"`
	Reason   string `json:"reason,omitempty"`
}

// CallInfo is a call as its parties see it.
type CallInfo struct {
	CallID    string     `json:"callID"`
	Initiator CallUser   `json:"initiator"`
	RoomID    string     `json:"roomID"`
	CallType  int        `json:"callType"`
	Data      string     `json:"data"`
	Config    CallConfig `json:"config"`
	Users     []CallUser `json:"users"`
	Ended     bool       `json:"ended"`
	Reason    string     `json:"reason,omitempty"` // why it ended
}

// CallInvitationEvent rings an invitee.
type CallInvitationEvent struct {
	Call    CallInfo `json:"call"`
	Inviter CallUser `json:"inviter"`
	Timeout int      `json:"timeout"`
}

// CallStateEvent tells a party what changed: Changed lists the users whose
// state just changed.
type CallStateEvent struct {
	Call    CallInfo   `json:"call"`
	Changed []CallUser `json:"changed"`
}
