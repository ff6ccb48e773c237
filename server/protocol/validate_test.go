package protocol

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestValidateID(t *testing.T) {
	tests := []struct {
		name, id string
		wantErr  string
	}{
		{"letters digits", "Room42", ""},
		{"all punctuation", idPunctuation, ""},
		{"exactly max", strings.Repeat("a", MaxRoomIDBytes), ""},
		{"empty", "", "roomID is empty"},
		{"too long", strings.Repeat("a", MaxRoomIDBytes+1), "at most 128"},
		{"space", "a b", "character ' '"},
		{"slash", "a/b", "character '/'"},
		{"non-ascii", "caf\u00e9", "at byte 3"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := ValidateID("roomID", tt.id, MaxRoomIDBytes)
			if tt.wantErr == "" {
				assert.Nil(t, err)
				return
			}
			require.NotNil(t, err)
			assert.Equal(t, CodeInvalidParameter, err.Code)
			assert.Contains(t, err.Message, tt.wantErr)
			assert.Contains(t, err.Message, "roomID")
		})
	}
}

func TestValidateName(t *testing.T) {
	assert.Nil(t, ValidateName("userName", "", MaxUserNameBytes))
	assert.Nil(t, ValidateName("userName", "Zoë 🎉", MaxUserNameBytes))
	err := ValidateName("userName", strings.Repeat("x", 257), MaxUserNameBytes)
	require.NotNil(t, err)
	assert.Contains(t, err.Message, "userName is 257 bytes")
	err = ValidateName("roomName", "bad\xff", MaxRoomNameBytes)
	require.NotNil(t, err)
	assert.Contains(t, err.Message, "not valid UTF-8")
}

func TestEncodeEventAndReply(t *testing.T) {
	b, err := EncodeEvent(EventRoomMemberJoined, MembersEvent{RoomID: "r", MemberList: []Member{{UserID: "u", UserName: "U"}}})
	require.NoError(t, err)
	assert.JSONEq(t, `{"event":"roomMemberJoined","data":{"roomID":"r","memberList":[{"userID":"u","userName":"U"}]}}`, string(b))
	b, err = EncodeReply(7, LeaveRoomReply{RoomID: "r"})
	require.NoError(t, err)
	assert.JSONEq(t, `{"id":7,"data":{"roomID":"r"}}`, string(b))
	assert.JSONEq(t, `{"id":3,"error":{"code":6000322,"message":"no"}}`, string(EncodeError(3, Errorf(CodeRoomNotExist, "no"))))
}
