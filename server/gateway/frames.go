package gateway

import (
	"fmt"
	"unicode/utf8"

	"github.com/coder/websocket"

	"roomkit/server/protocol"
)

// closeReason renders e as a close reason: "<code> <message>", cut to the
// 123 bytes a close frame carries.
func closeReason(e *protocol.Error) string {
	r := fmt.Sprintf("%d %s", e.Code, e.Message)
	for len(r) > 123 {
		_, size := utf8.DecodeLastRuneInString(r)
		r = r[:len(r)-size]
	}
	return r
}

// parseFrame checks a frame's type, encoding and shape.
func parseFrame(typ websocket.MessageType, b []byte) (protocol.Frame, *protocol.Error) {
	if typ != websocket.MessageText {
		return protocol.Frame{}, protocol.Errorf(protocol.CodeMalformedFrame, "binary frames are not accepted; send JSON text frames")
	}
	if !utf8.Valid(b) {
		return protocol.Frame{}, protocol.Errorf(protocol.CodeMalformedFrame, "the frame is not valid UTF-8")
	}
	f, err := protocol.DecodeRequest(b)
	if err != nil {
		return protocol.Frame{}, protocol.Errorf(protocol.CodeMalformedFrame, "the frame is not a JSON object of the frame shape: %v", err)
	}
	if f.ID == 0 || f.Op == "" {
		return f, protocol.Errorf(protocol.CodeMalformedFrame, "a request needs a non-zero id and an op")
	}
	return f, nil
}

// decode unmarshals a request's data into v.
func decode(f protocol.Frame, v any) *protocol.Error { return protocol.Decode(f.Op, f.Data, v) }
