//go:build js && wasm

package bridge

import (
	"context"
	"syscall/js"

	"roomkit/server/protocol"
	"roomkit/wasm/client"
)

// The room operations: each takes the logged-in client and the JS
// arguments, and returns what the Promise resolves with.

func renewToken(c *client.Client, args []js.Value) (any, error) {
	token, err := stringArg(args, 0, "token")
	if err != nil {
		return nil, err
	}
	return c.RenewToken(context.Background(), token)
}

// roomArgs reads (roomInfo, config?) starting at args[i].
func roomArgs(args []js.Value, i int) (protocol.RoomInfo, *protocol.RoomConfig, error) {
	var info protocol.RoomInfo
	if v := arg(args, i); v.Type() != js.TypeObject {
		return info, nil, protocol.Errorf(protocol.CodeInvalidParameter, "roomInfo must be an object {roomID, roomName}")
	}
	if err := fromJS("roomInfo", arg(args, i), &info); err != nil {
		return info, nil, err
	}
	var cfg *protocol.RoomConfig
	if v := arg(args, i+1); !v.IsUndefined() && !v.IsNull() {
		cfg = &protocol.RoomConfig{}
		if err := fromJS("config", v, cfg); err != nil {
			return info, nil, err
		}
	}
	return info, cfg, nil
}

func roomResult(info protocol.RoomInfo, err error) (any, error) {
	if err != nil {
		return nil, err
	}
	return protocol.RoomReply{RoomInfo: protocol.RoomFullInfo{BaseInfo: info}}, nil
}

func create(c *client.Client, args []js.Value) (any, error) {
	info, cfg, err := roomArgs(args, 0)
	if err != nil {
		return nil, err
	}
	return roomResult(c.CreateRoom(context.Background(), info, cfg))
}

func enter(c *client.Client, args []js.Value) (any, error) {
	info, cfg, err := roomArgs(args, 0)
	if err != nil {
		return nil, err
	}
	return roomResult(c.EnterRoom(context.Background(), info, cfg))
}

// join(roomID, passcode?)
func join(c *client.Client, args []js.Value) (any, error) {
	id, err := stringArg(args, 0, "roomID")
	if err != nil {
		return nil, err
	}
	passcode := ""
	if v := arg(args, 1); !v.IsUndefined() && !v.IsNull() {
		if passcode, err = stringArg(args, 1, "passcode"); err != nil {
			return nil, err
		}
	}
	return roomResult(c.JoinRoomWithPasscode(context.Background(), id, passcode))
}

// switch(fromRoomID, toRoomInfo, isCreateWhenRoomNotExisted, config?)
func switchRoom(c *client.Client, args []js.Value) (any, error) {
	from, err := stringArg(args, 0, "fromRoomID")
	if err != nil {
		return nil, err
	}
	var create bool
	if err := fromJS("isCreateWhenRoomNotExisted", arg(args, 2), &create); err != nil {
		return nil, err
	}
	to, cfg, err := roomArgs([]js.Value{arg(args, 1), arg(args, 3)}, 0)
	if err != nil {
		return nil, err
	}
	return roomResult(c.SwitchRoom(context.Background(), from, to, create, cfg))
}

func leave(c *client.Client, args []js.Value) (any, error) {
	id, err := stringArg(args, 0, "roomID")
	if err != nil {
		return nil, err
	}
	if err := c.LeaveRoom(context.Background(), id); err != nil {
		return nil, err
	}
	return protocol.LeaveRoomReply{RoomID: id}, nil
}

func leaveAll(c *client.Client, args []js.Value) (any, error) {
	ids, err := c.LeaveAllRoom(context.Background())
	if err != nil {
		return nil, err
	}
	return protocol.LeaveAllRoomReply{RoomIDs: ids}, nil
}

// queryMemberList(roomID, {count, nextFlag})
func queryMemberList(c *client.Client, args []js.Value) (any, error) {
	id, err := stringArg(args, 0, "roomID")
	if err != nil {
		return nil, err
	}
	cfg := struct {
		Count    int    `json:"count"`
		NextFlag string `json:"nextFlag"`
	}{Count: 100}
	if err := fromJS("config", arg(args, 1), &cfg); err != nil {
		return nil, err
	}
	return c.QueryRoomMemberList(context.Background(), id, cfg.Count, cfg.NextFlag)
}

func queryMemberCount(c *client.Client, args []js.Value) (any, error) {
	id, err := stringArg(args, 0, "roomID")
	if err != nil {
		return nil, err
	}
	n, err := c.QueryRoomOnlineMemberCount(context.Background(), id)
	if err != nil {
		return nil, err
	}
	return protocol.MemberCountReply{RoomID: id, Count: n}, nil
}
