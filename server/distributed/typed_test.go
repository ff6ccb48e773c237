package distributed

import (
	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// The tests call the room operations by name, as the gateway would send
// them through Do.

func do[R any](e *Engine, p engine.Peer, op string, req any) (R, error) {
	r, err := engine.NewRequest(op, req)
	if err != nil {
		var zero R
		return zero, err
	}
	return replyAs[R](e.Do(p, r))
}

func roomInfo(r protocol.RoomReply, err error) (protocol.RoomInfo, error) {
	return r.RoomInfo.BaseInfo, err
}

func (e *Engine) Enter(p engine.Peer, info protocol.RoomInfo, cfg *protocol.RoomConfig) (protocol.RoomInfo, error) {
	return roomInfo(do[protocol.RoomReply](e, p, protocol.OpEnterRoom, protocol.RoomRequest{RoomInfo: info, Config: cfg}))
}

func (e *Engine) Join(p engine.Peer, roomID, passcode string) (protocol.RoomInfo, error) {
	return roomInfo(do[protocol.RoomReply](e, p, protocol.OpJoinRoom, protocol.JoinRoomRequest{RoomID: roomID, Passcode: passcode}))
}

func (e *Engine) Switch(p engine.Peer, from string, to protocol.RoomInfo, create bool, cfg *protocol.RoomConfig) (protocol.RoomInfo, error) {
	return roomInfo(do[protocol.RoomReply](e, p, protocol.OpSwitchRoom, protocol.SwitchRoomRequest{FromRoomID: from, ToRoomInfo: to, IsCreateWhenRoomNotExisted: create, Config: cfg}))
}

func (e *Engine) Leave(p engine.Peer, roomID string) error {
	_, err := do[protocol.LeaveRoomReply](e, p, protocol.OpLeaveRoom, protocol.RoomIDRequest{RoomID: roomID})
	return err
}

func (e *Engine) MemberCount(p engine.Peer, roomID string) (int, error) {
	r, err := do[protocol.MemberCountReply](e, p, protocol.OpQueryMemberCount, protocol.RoomIDRequest{RoomID: roomID})
	return r.Count, err
}

func (e *Engine) MemberList(p engine.Peer, roomID string, count int, next string) (protocol.MemberListReply, error) {
	return do[protocol.MemberListReply](e, p, protocol.OpQueryMemberList, protocol.MemberListRequest{RoomID: roomID, Count: count, NextFlag: next})
}

func (e *Engine) History(p engine.Peer, req protocol.HistoryRequest) (protocol.HistoryReply, error) {
	return do[protocol.HistoryReply](e, p, protocol.OpQueryHistoryRoomMessage, req)
}

func (e *Engine) SendMessage(p engine.Peer, roomID string, msg protocol.Message) (protocol.Message, error) {
	r, err := do[protocol.SendMessageReply](e, p, protocol.OpSendRoomMessage, protocol.SendMessageRequest{RoomID: roomID, Message: msg})
	return r.Message, err
}

func (e *Engine) SetAttributes(p engine.Peer, roomID string, attrs map[string]string, cfg protocol.AttributesConfig) ([]string, error) {
	r, err := do[protocol.AttributesReply](e, p, protocol.OpSetRoomAttributes, protocol.SetAttributesRequest{RoomID: roomID, Attributes: attrs, Config: cfg})
	return r.ErrorKeys, err
}

func (e *Engine) QueryAttributes(p engine.Peer, roomID string) (map[string]string, error) {
	r, err := do[protocol.AllAttributesReply](e, p, protocol.OpQueryRoomAllAttributes, protocol.RoomIDRequest{RoomID: roomID})
	return r.RoomAttributes, err
}

func (e *Engine) RemoveMember(p engine.Peer, roomID, userID string) error {
	_, err := do[protocol.UserInRoomRequest](e, p, protocol.OpRemoveMember, protocol.UserInRoomRequest{RoomID: roomID, UserID: userID})
	return err
}

func (e *Engine) SessionInfo(p engine.Peer, roomID string) (protocol.SessionInfo, error) {
	return do[protocol.SessionInfo](e, p, protocol.OpQuerySessionInfo, protocol.RoomIDRequest{RoomID: roomID})
}
