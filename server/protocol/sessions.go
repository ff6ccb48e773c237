package protocol

// Session operations (the video SDK's roles and life cycle). Every one is
// decided by the server against the caller's role in the room.
const (
	OpSetMemberRole    = "setMemberRole"    // {roomID, userID, role}: make host (transfer), make or revoke manager
	OpRenameMember     = "renameMember"     // {roomID, userID, userName}
	OpSetMemberState   = "setMemberState"   // {roomID, userID?, audio?, video?, share?}
	OpRemoveMember     = "removeMember"     // {roomID, userID}
	OpEndRoom          = "endRoom"          // {roomID}: end it for everyone
	OpSetShareLock     = "setShareLock"     // {roomID, locked}
	OpQuerySessionInfo = "querySessionInfo" // {roomID}
)

// Session events.
const (
	// EventRoomMemberUpdated carries members whose role, name or state
	// changed, as MembersEvent.
	EventRoomMemberUpdated = "roomMemberUpdated"
	// EventRoomSessionUpdated carries the room's SessionInfo after a
	// change (host, share lock).
	EventRoomSessionUpdated = "roomSessionUpdated"
)

// Roles a member holds in a room.
const (
	RoleHost        = "host"
	RoleManager     = "manager"
	RoleParticipant = "participant"
)

// Limits of session settings.
const (
	MaxPasscodeBytes       = 10
	MaxIdleTimeoutMins     = 24 * 60
	DefaultIdleTimeoutMins = 40
)

// Reasons in the extendedData of (Disconnected, KickedOut), a JSON object
// {"reason": ..., "operator": userID}.
const (
	KickReasonRemoved     = "removed"     // a host or manager removed the member
	KickReasonEnded       = "ended"       // the host ended the room for everyone
	KickReasonIdleTimeout = "idleTimeout" // the host was alone for the idle timeout
)

// KickedOut is the extendedData of a server-made (Disconnected, KickedOut).
type KickedOut struct {
	Reason   string `json:"reason"`
	Operator string `json:"operator,omitempty"`
	Message  string `json:"message"`
}

// JoinRoomRequest is the data of joinRoom.
type JoinRoomRequest struct {
	RoomID   string `json:"roomID"`
	Passcode string `json:"passcode,omitempty"`
}

// SetMemberRoleRequest is the data of setMemberRole.
type SetMemberRoleRequest struct {
	RoomID string `json:"roomID"`
	UserID string `json:"userID"`
	Role   string `json:"role"`
}

// RenameMemberRequest is the data of renameMember.
type RenameMemberRequest struct {
	RoomID   string `json:"roomID"`
	UserID   string `json:"userID"`
	UserName string `json:"userName"`
}

// SetMemberStateRequest is the data of setMemberState: the flags given
// change, the others stay. UserID empty means the caller; another's state
// may be changed only in its audio, by a host or manager.
type SetMemberStateRequest struct {
	RoomID string `json:"roomID"`
	UserID string `json:"userID,omitempty"`
	Audio  *bool  `json:"audio,omitempty"`
	Video  *bool  `json:"video,omitempty"`
	Share  *bool  `json:"share,omitempty"`
}

// UserInRoomRequest is the data of removeMember.
type UserInRoomRequest struct {
	RoomID string `json:"roomID"`
	UserID string `json:"userID"`
}

// ShareLockRequest is the data of setShareLock.
type ShareLockRequest struct {
	RoomID string `json:"roomID"`
	Locked bool   `json:"locked"`
}

// MemberReply is the reply to an operation on one member: the member as
// everyone now sees it.
type MemberReply struct {
	RoomID string `json:"roomID"`
	Member Member `json:"member"`
}

// SessionInfo is a room's session settings as its members see them.
type SessionInfo struct {
	RoomID          string `json:"roomID"`
	RoomName        string `json:"roomName"`
	HostUserID      string `json:"hostUserID"` // "" while the room has no host
	Passcode        string `json:"passcode"`   // members joined with it
	ShareLocked     bool   `json:"shareLocked"`
	IdleTimeoutMins int    `json:"sessionIdleTimeoutMins"`
	MaxMembers      int    `json:"maxMembers"`
}

// PasscodeOf returns the passcode a room config presents: c.Passcode, or
// "" for no config.
func PasscodeOf(c *RoomConfig) string {
	if c == nil {
		return ""
	}
	return c.Passcode
}

// ValidatePasscode checks a passcode: at most MaxPasscodeBytes printable
// ASCII characters.
func ValidatePasscode(field, p string) *Error {
	if len(p) > MaxPasscodeBytes {
		return Errorf(CodeInvalidParameter, "%s is %d characters; at most %d are allowed", field, len(p), MaxPasscodeBytes)
	}
	for i := 0; i < len(p); i++ {
		if p[i] < 32 || p[i] > 126 {
			return Errorf(CodeInvalidParameter, "%s has a character that is not printable ASCII at byte %d", field, i)
		}
	}
	return nil
}
