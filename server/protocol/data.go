package protocol

import "encoding/json"

// Room data operations.
const (
	OpSendRoomMessage               = "sendRoomMessage"
	OpQueryHistoryRoomMessage       = "queryHistoryRoomMessage"
	OpSetRoomAttributes             = "setRoomAttributes"
	OpDeleteRoomAttributes          = "deleteRoomAttributes"
	OpRoomAttributesBatch           = "roomAttributesBatch"
	OpQueryRoomAllAttributes        = "queryRoomAllAttributes"
	OpSetRoomMembersAttributes      = "setRoomMembersAttributes"
	OpQueryRoomMembersAttributes    = "queryRoomMembersAttributes"
	OpQueryRoomMemberAttributesList = "queryRoomMemberAttributesList"
	OpQueryRoomMembers              = "queryRoomMembers"
)

// Room data events.
const (
	EventReceiveRoomMessage          = "receiveRoomMessage"
	EventRoomAttributesUpdated       = "roomAttributesUpdated"
	EventRoomAttributesBatchUpdated  = "roomAttributesBatchUpdated"
	EventRoomMemberAttributesUpdated = "roomMemberAttributesUpdated"
)

// Message types, as the room-messaging SDK numbers them.
const (
	MessageTypeText    = 1   // message is a string
	MessageTypeCommand = 2   // message is any JSON; delivered, never stored
	MessageTypeCustom  = 200 // message is any JSON, with a subType
)

// ConversationTypeRoom is the conversationType of room messages.
const ConversationTypeRoom = 1

// Message is a room message. The sender fills Type, Message, SubType and
// ExtendedData; the server fills the rest.
type Message struct {
	Type             int             `json:"type"`
	Message          json.RawMessage `json:"message"`
	SubType          int             `json:"subType,omitempty"`
	ExtendedData     string          `json:"extendedData,omitempty"`
	MessageID        string          `json:"messageID"`
	Timestamp        int64           `json:"timestamp"` // Unix milliseconds
	OrderKey         uint64          `json:"orderKey"`  // per room, increasing
	SenderUserID     string          `json:"senderUserID"`
	SenderUserName   string          `json:"senderUserName"`
	ConversationID   string          `json:"conversationID"`
	ConversationType int             `json:"conversationType"`
}

// SendMessageRequest is the data of sendRoomMessage.
type SendMessageRequest struct {
	RoomID  string  `json:"roomID"`
	Message Message `json:"message"`
}

// SendMessageReply carries the message as the server stamped it.
type SendMessageReply struct {
	Message Message `json:"message"`
}

// MessagesEvent is the data of receiveRoomMessage: messages in orderKey
// order.
type MessagesEvent struct {
	RoomID      string            `json:"roomID"`
	MessageList []json.RawMessage `json:"messageList"`
}

// HistoryRequest is the data of queryHistoryRoomMessage. With Reverse
// (the default) it pages from the newest message back, returning messages
// older than NextOrderKey (0: the newest); without, from the oldest forward,
// newer than NextOrderKey.
type HistoryRequest struct {
	RoomID       string `json:"roomID"`
	Count        int    `json:"count"`
	NextOrderKey uint64 `json:"nextOrderKey"`
	Reverse      *bool  `json:"reverse,omitempty"`
}

// HistoryReply is one page of history in orderKey order; NextOrderKey is 0
// when there is nothing further.
type HistoryReply struct {
	RoomID       string            `json:"roomID"`
	MessageList  []json.RawMessage `json:"messageList"`
	NextOrderKey uint64            `json:"nextOrderKey"`
}

// AttributesConfig is setRoomAttributes' config.
type AttributesConfig struct {
	IsForce                bool `json:"isForce"`
	IsDeleteAfterOwnerLeft bool `json:"isDeleteAfterOwnerLeft"`
	IsUpdateOwner          bool `json:"isUpdateOwner"`
}

// SetAttributesRequest is the data of setRoomAttributes.
type SetAttributesRequest struct {
	RoomID     string            `json:"roomID"`
	Attributes map[string]string `json:"roomAttributes"`
	Config     AttributesConfig  `json:"config"`
}

// DeleteAttributesRequest is the data of deleteRoomAttributes.
type DeleteAttributesRequest struct {
	RoomID string           `json:"roomID"`
	Keys   []string         `json:"keys"`
	Config AttributesConfig `json:"config"`
}

// AttributesOperation is one step of a batch: a set (Attributes) or a
// delete (Keys).
type AttributesOperation struct {
	Action     int               `json:"action"` // AttributesActionSet or AttributesActionDelete
	Attributes map[string]string `json:"roomAttributes,omitempty"`
	Keys       []string          `json:"keys,omitempty"`
	Config     AttributesConfig  `json:"config"`
}

// AttributesBatchRequest is the data of roomAttributesBatch: the steps
// between begin and end, applied as one.
type AttributesBatchRequest struct {
	RoomID     string                `json:"roomID"`
	Operations []AttributesOperation `json:"operations"`
}

// AttributesReply lists the keys an operation could not change.
type AttributesReply struct {
	RoomID    string   `json:"roomID"`
	ErrorKeys []string `json:"errorKeys"`
}

// Actions of roomAttributesUpdated.
const (
	AttributesActionSet    = 0
	AttributesActionDelete = 1
)

// AttributesUpdateInfo is one change in roomAttributesUpdated: for a delete,
// the deleted keys map to "".
type AttributesUpdateInfo struct {
	Action         int               `json:"action"`
	RoomAttributes map[string]string `json:"roomAttributes"`
}

// AttributesEvent is the data of roomAttributesUpdated and
// roomAttributesBatchUpdated.
type AttributesEvent struct {
	RoomID string                 `json:"roomID"`
	Infos  []AttributesUpdateInfo `json:"infos"`
}

// AllAttributesReply is the reply to queryRoomAllAttributes.
type AllAttributesReply struct {
	RoomID         string            `json:"roomID"`
	RoomAttributes map[string]string `json:"roomAttributes"`
}

// MemberAttributes are one member's attributes.
type MemberAttributes struct {
	UserID     string            `json:"userID"`
	Attributes map[string]string `json:"attributes"`
}

// MemberAttributesInfo wraps MemberAttributes as the SDK's replies do.
type MemberAttributesInfo struct {
	AttributesInfo MemberAttributes `json:"attributesInfo"`
}

// SetMembersAttributesRequest is the data of setRoomMembersAttributes.
type SetMembersAttributesRequest struct {
	RoomID     string            `json:"roomID"`
	UserIDs    []string          `json:"userIDs"`
	Attributes map[string]string `json:"attributes"`
}

// SetMembersAttributesReply lists what changed and who could not be changed.
type SetMembersAttributesReply struct {
	RoomID        string                 `json:"roomID"`
	Infos         []MemberAttributesInfo `json:"infos"`
	ErrorUserList []string               `json:"errorUserList"`
}

// UserIDsRequest is the data of queryRoomMembers and
// queryRoomMembersAttributes.
type UserIDsRequest struct {
	RoomID  string   `json:"roomID"`
	UserIDs []string `json:"userIDs"`
}

// MembersAttributesReply is the reply to queryRoomMembersAttributes.
type MembersAttributesReply struct {
	RoomID string             `json:"roomID"`
	Infos  []MemberAttributes `json:"infos"`
}

// MemberAttributesListReply is one page of members' attributes in join
// order.
type MemberAttributesListReply struct {
	RoomID   string             `json:"roomID"`
	Infos    []MemberAttributes `json:"infos"`
	NextFlag string             `json:"nextFlag"`
}

// MemberAttributesEvent is the data of roomMemberAttributesUpdated.
type MemberAttributesEvent struct {
	RoomID       string                 `json:"roomID"`
	Infos        []MemberAttributesInfo `json:"infos"`
	OperatedInfo Member                 `json:"operatedInfo"`
}

// QueryMembersReply is the reply to queryRoomMembers.
type QueryMembersReply struct {
	RoomID        string   `json:"roomID"`
	MemberList    []Member `json:"memberList"`
	ErrorUserList []string `json:"errorUserList"`
}
