package protocol

import "encoding/json"

// Member-to-member messages: the signalling channel of media between two
// members of a room (WebRTC offers, answers and ICE candidates), open to
// apps for anything else that is for one member's eyes only.
const (
	// OpSendPeerMessage sends a SendPeerMessageRequest; the reply is a
	// SendPeerMessageReply.
	OpSendPeerMessage = "sendPeerMessage"
	// EventPeerMessageReceived carries a PeerMessageEvent to the member a
	// message was sent to, and to no one else.
	EventPeerMessageReceived = "peerMessageReceived"
)

// SendPeerMessageRequest sends Data to another member of RoomID: to every
// connection (tab, device) of ToUserID in the room, or, when
// ToConnectionID is set, to that one only. The sender must be in the room.
// Messages from one connection reach each recipient in the order sent.
type SendPeerMessageRequest struct {
	RoomID         string          `json:"roomID"`
	ToUserID       string          `json:"toUserID"`
	ToConnectionID string          `json:"toConnectionID,omitempty"`
	Data           json.RawMessage `json:"data"`
}

// SendPeerMessageReply says which of the sender's connections sent the
// message (its ConnectionID in the room, as recipients see it) and how
// many connections it reached.
type SendPeerMessageReply struct {
	RoomID       string `json:"roomID"`
	ConnectionID string `json:"connectionID"`
	Delivered    int    `json:"delivered"`
}

// PeerMessageEvent is a message from FromUserID's connection
// FromConnectionID in RoomID. A connection ID names one connection's place
// in a room for as long as it stays there, a resume after a page refresh
// included; a later join gets a new one.
type PeerMessageEvent struct {
	RoomID           string          `json:"roomID"`
	FromUserID       string          `json:"fromUserID"`
	FromConnectionID string          `json:"fromConnectionID"`
	Data             json.RawMessage `json:"data"`
}
