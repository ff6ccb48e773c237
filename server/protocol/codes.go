package protocol

import "fmt"

// Code is a numeric error code carried by replies, JS Error objects and the
// TypeScript declarations. Codes below 6100000 follow the room-messaging SDK
// roomkit is shaped after; codes from 6100000 up are roomkit's own, for what
// that SDK has no code for. PROTOCOL.md lists them all.
type Code int

// The error codes. Keep this table, PROTOCOL.md and js/roomkit.d.ts in step.
const (
	CodeFailed                 Code = 1       // internal failure
	CodeInvalidParameter       Code = 6000001 // a field is missing, too long or malformed
	CodeRateLimited            Code = 6000004 // too many requests on this connection
	CodeMessageRateLimited     Code = 6000005 // too many messages sent on this connection
	CodeTokenInvalid           Code = 6000103 // malformed, wrongly signed, unknown app, not yet valid
	CodeNetworkError           Code = 6000104 // the connection is down
	CodeRequestTimeout         Code = 6000105 // no reply within the request timeout
	CodeTokenExpired           Code = 6000106 // the token's exp has passed
	CodeNotLoggedIn            Code = 6000121 // an operation before login, or after logout
	CodeAlreadyInRoom          Code = 6000320 // the connection is already a member
	CodeNotInRoom              Code = 6000321 // the connection is not a member
	CodeRoomNotExist           Code = 6000322 // no room with that ID
	CodeRoomAlreadyExists      Code = 6000323 // createRoom of an existing room
	CodeRoomLimitReached       Code = 6000324 // the server's room limit is reached
	CodeJoinedRoomsLimit       Code = 6000325 // this connection is in as many rooms as it may be
	CodeRoomConnecting         Code = 6000326 // another operation on the room is under way
	CodeAttributeKeyCount      Code = 6000331 // too many attribute keys
	CodeAttributeKeyLength     Code = 6000332 // an attribute key is empty or too long
	CodeAttributeValueLength   Code = 6000333 // an attribute value is too long
	CodeAttributesTotalSize    Code = 6000334 // the attributes together are too large
	CodeCallTooManyInvitees    Code = 6000271 // an invitation names more than 9 users
	CodeCallNotExist           Code = 6000272 // no such call, or it ended
	CodeCallNotParty           Code = 6000273 // you are not part of the call
	CodeCallStateInvalid       Code = 6000274 // the operation does not fit your state in the call
	CodeCallInviteNotPermitted Code = 6000275 // this call does not let you invite
	CodeCallInvitationLimit    Code = 6000276 // too many calls or ringing invitations

	CodeUnsupportedVersion Code = 6100001 // the client speaks a protocol version the server does not
	CodeUnknownOperation   Code = 6100002 // the op is not one the server knows
	CodeMalformedFrame     Code = 6100003 // the frame is not valid JSON of the frame shape
	CodeTokenRoomMismatch  Code = 6100004 // the token admits another room only
	CodeSlowConsumer       Code = 6100005 // the connection fell behind and was disconnected
	CodeLoginTimeout       Code = 6100006 // no login within the login timeout
	CodeServerShutdown     Code = 6100007 // the server is shutting down
	CodeRoomFull           Code = 6100008 // the room has as many members as it may have
	CodeMessageTooLarge    Code = 6100009 // a room message is over the size limit
	CodeSessionTakenOver   Code = 6100010 // the session was resumed on another connection
	CodeStorageLimit       Code = 6100011 // the app's or the server's room data is at its byte limit
	CodeConnectionLimit    Code = 6100012 // too many connections for the user, app, address or server
	CodeNotPermitted       Code = 6100013 // the caller's role in the room does not allow the operation
	CodeWrongPasscode      Code = 6100014 // the room needs a passcode, and it was missing or wrong
	CodeRemovedFromRoom    Code = 6100015 // the user was removed from the room and may not come back
	CodeUserNotInRoom      Code = 6100016 // the user an operation names is not in the room
	CodeOriginNotAllowed   Code = 6100017 // the page's origin may not connect to this server
	CodeModuleNotReady     Code = 6100018 // (the JS module) a call that needs the wasm module came before RoomKit.init finished
	CodeNoCodec            Code = 6100019 // a media offer's section offers no codec the media server forwards
	CodeTrackLimit         Code = 6100020 // a media offer has more sections, or publishes more tracks, than a member may
	CodeNoSuchTrack        Code = 6100021 // the room has no such media track
	CodeShareLimit         Code = 6100022 // as many members of the room share a screen as may at once
	CodeNoSuchLayer        Code = 6100023 // the simulcast layer asked for is not one the user's camera sends
)

// Error is the error shape of a reply: a code and a message a person can act
// on. It implements error so the engine and the client return it directly.
type Error struct {
	Code    Code   `json:"code"`
	Message string `json:"message"`
}

// Error returns the message with its code.
func (e *Error) Error() string { return fmt.Sprintf("%s (code %d)", e.Message, e.Code) }

// Errorf builds an *Error with a formatted message.
func Errorf(code Code, format string, args ...any) *Error {
	return &Error{Code: code, Message: fmt.Sprintf(format, args...)}
}
