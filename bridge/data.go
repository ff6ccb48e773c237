//go:build js && wasm

package bridge

import (
	"context"
	"syscall/js"

	"roomkit/server/protocol"
	"roomkit/wasm/client"
)

// request adapts a client method taking one request struct into an export
// taking one JS object of the same shape.
func request[Req, Res any](do func(*client.Client, context.Context, Req) (Res, error)) func(*client.Client, []js.Value) (any, error) {
	return func(c *client.Client, args []js.Value) (any, error) {
		var req Req
		if err := fromJS("request", arg(args, 0), &req); err != nil {
			return nil, err
		}
		return do(c, context.Background(), req)
	}
}

// dataExports are the room data operations, each taking one request object.
func dataExports() map[string]func(*client.Client, []js.Value) (any, error) {
	return map[string]func(*client.Client, []js.Value) (any, error){
		"sendMessage":                   request((*client.Client).SendRoomMessage),
		"sendPeerMessage":               request((*client.Client).SendPeerMessage),
		"queryHistoryMessage":           request((*client.Client).QueryHistoryRoomMessage),
		"setRoomAttributes":             request((*client.Client).SetRoomAttributes),
		"deleteRoomAttributes":          request((*client.Client).DeleteRoomAttributes),
		"queryRoomAllAttributes":        request(queryRoomAllAttributes),
		"setRoomMembersAttributes":      request((*client.Client).SetRoomMembersAttributes),
		"queryRoomMembersAttributes":    request((*client.Client).QueryRoomMembersAttributes),
		"queryRoomMemberAttributesList": request((*client.Client).QueryRoomMemberAttributesList),
		"queryRoomMembers":              request((*client.Client).QueryRoomMembers),
		"endRoomAttributesBatch":        request(endRoomAttributesBatch),
		"beginRoomAttributesBatch":      beginRoomAttributesBatch,
		"callInvite":                    request((*client.Client).CallInvite),
		"callAdd":                       request((*client.Client).CallAdd),
		"callAccept":                    request((*client.Client).CallAccept),
		"callReject":                    request((*client.Client).CallReject),
		"callCancel":                    request((*client.Client).CallCancel),
		"callQuit":                      request((*client.Client).CallQuit),
		"callEnd":                       request((*client.Client).CallEnd),
		"setMemberRole":                 request((*client.Client).SetMemberRole),
		"renameMember":                  request((*client.Client).RenameMember),
		"setMemberState":                request((*client.Client).SetMemberState),
		"removeMember":                  request((*client.Client).RemoveMember),
		"setShareLock":                  request((*client.Client).SetShareLock),
		"mediaOffer":                    request((*client.Client).MediaOffer),
		"mediaCandidate":                request((*client.Client).MediaCandidate),
		"mediaAnswered":                 request((*client.Client).MediaAnswered),
		"mediaSubscribe":                request((*client.Client).MediaSubscribe),
		"endRoom":                       request(endRoom),
		"querySessionInfo":              request(querySessionInfo),
	}
}

func endRoom(c *client.Client, ctx context.Context, req protocol.RoomIDRequest) (protocol.LeaveRoomReply, error) {
	return c.EndRoom(ctx, req.RoomID)
}

func querySessionInfo(c *client.Client, ctx context.Context, req protocol.RoomIDRequest) (protocol.SessionInfo, error) {
	return c.QuerySessionInfo(ctx, req.RoomID)
}

func queryRoomAllAttributes(c *client.Client, ctx context.Context, req protocol.RoomIDRequest) (protocol.AllAttributesReply, error) {
	return c.QueryRoomAllAttributes(ctx, req.RoomID)
}

func endRoomAttributesBatch(c *client.Client, ctx context.Context, req protocol.RoomIDRequest) (protocol.AttributesReply, error) {
	return c.EndRoomAttributesBatch(ctx, req.RoomID)
}

// beginRoomAttributesBatch({roomID, config})
func beginRoomAttributesBatch(c *client.Client, args []js.Value) (any, error) {
	var req struct {
		RoomID string                    `json:"roomID"`
		Config protocol.AttributesConfig `json:"config"`
	}
	if err := fromJS("request", arg(args, 0), &req); err != nil {
		return nil, err
	}
	return protocol.RoomIDRequest{RoomID: req.RoomID}, c.BeginRoomAttributesBatch(req.RoomID, req.Config)
}
