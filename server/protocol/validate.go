package protocol

import (
	"strings"
	"unicode/utf8"
)

// Name limits, in bytes.
const (
	MaxRoomIDBytes   = 128
	MaxUserIDBytes   = 32
	MaxUserNameBytes = 256
	MaxRoomNameBytes = 256
)

// idPunctuation is the punctuation allowed in IDs besides letters and digits.
const idPunctuation = "!#$%&()+-:;<=.>?@[]^_{}|~"

// ValidateID checks a room or user ID: not empty, at most max bytes, only
// ASCII letters, digits and idPunctuation. field names the field in the
// message, so the person reading it knows what to fix.
func ValidateID(field, id string, max int) *Error {
	if id == "" {
		return Errorf(CodeInvalidParameter, "%s is empty", field)
	}
	if len(id) > max {
		return Errorf(CodeInvalidParameter, "%s is %d bytes; at most %d are allowed", field, len(id), max)
	}
	for i := 0; i < len(id); i++ {
		c := id[i]
		if ('a' <= c && c <= 'z') || ('A' <= c && c <= 'Z') || ('0' <= c && c <= '9') || strings.IndexByte(idPunctuation, c) >= 0 {
			continue
		}
		return Errorf(CodeInvalidParameter, "%s %q has the character %q at byte %d; use letters, digits and %s", field, id, rune(c), i, idPunctuation)
	}
	return nil
}

// ValidateName checks a display name: valid UTF-8, at most max bytes. An
// empty name is allowed (it shows as the ID).
func ValidateName(field, name string, max int) *Error {
	if !utf8.ValidString(name) {
		return Errorf(CodeInvalidParameter, "%s is not valid UTF-8", field)
	}
	if len(name) > max {
		return Errorf(CodeInvalidParameter, "%s is %d bytes; at most %d are allowed", field, len(name), max)
	}
	return nil
}

// ValidateRoomInfo checks a room's ID and name.
func ValidateRoomInfo(info RoomInfo) *Error {
	if err := ValidateID("roomID", info.RoomID, MaxRoomIDBytes); err != nil {
		return err
	}
	return ValidateName("roomName", info.RoomName, MaxRoomNameBytes)
}
