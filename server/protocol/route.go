package protocol

import (
	"encoding/json"
	"errors"
)

// Decode unmarshals the data of a request of op into v; a failure is an
// invalid-parameter error naming the op and, for a value of the wrong
// type, the field.
func Decode(op string, data json.RawMessage, v any) *Error {
	if len(data) == 0 {
		return Errorf(CodeInvalidParameter, "%s needs data", op)
	}
	if err := json.Unmarshal(data, v); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return Errorf(CodeInvalidParameter, "%s: field %s must be a %s, not a %s", op, te.Field, te.Type, te.Value)
		}
		return Errorf(CodeInvalidParameter, "%s: data is malformed: %v", op, err)
	}
	return nil
}

// Room is the room each room request acts on: what a cluster routes it by.

// Room implements the routing of the request by its room.
func (r RoomIDRequest) Room() string { return r.RoomID }

// Room implements the routing of the request by its room.
func (r MemberListRequest) Room() string { return r.RoomID }

// Room implements the routing of the request by its room.
func (r SendMessageRequest) Room() string { return r.RoomID }

// Room implements the routing of the request by its room.
func (r SendPeerMessageRequest) Room() string { return r.RoomID }

// Room implements the routing of the request by its room.
func (r HistoryRequest) Room() string { return r.RoomID }

// Room implements the routing of the request by its room.
func (r SetAttributesRequest) Room() string { return r.RoomID }

// Room implements the routing of the request by its room.
func (r DeleteAttributesRequest) Room() string { return r.RoomID }

// Room implements the routing of the request by its room.
func (r AttributesBatchRequest) Room() string { return r.RoomID }

// Room implements the routing of the request by its room.
func (r SetMembersAttributesRequest) Room() string { return r.RoomID }

// Room implements the routing of the request by its room.
func (r UserIDsRequest) Room() string { return r.RoomID }

// Room implements the routing of the request by its room.
func (r SetMemberRoleRequest) Room() string { return r.RoomID }

// Room implements the routing of the request by its room.
func (r RenameMemberRequest) Room() string { return r.RoomID }

// Room implements the routing of the request by its room.
func (r SetMemberStateRequest) Room() string { return r.RoomID }

// Room implements the routing of the request by its room.
func (r UserInRoomRequest) Room() string { return r.RoomID }

// Room implements the routing of the request by its room.
func (r ShareLockRequest) Room() string { return r.RoomID }
