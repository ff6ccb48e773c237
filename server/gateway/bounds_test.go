package gateway

import (
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

// A room whose history is nineteen messages of 32 KiB of '<' does not cut
// off the late joiners who ask for it: '<' travels as one byte, and each
// page of history fits what a connection may have queued; the rest comes
// page by page.
func TestBigHistoryReachesLateJoiners(t *testing.T) {
	noLeaks(t)
	srv, g := newServer(t, Config{})
	sender := loggedIn(t, srv, "sender")
	ok(t, sender, 2, protocol.OpEnterRoom, roomRequest("r"), nil)
	text := strings.Repeat("<", 32<<10-2) // with its quotes, exactly the limit
	failsWith(t, sender, 3, protocol.OpSendRoomMessage, textMessage("r", text+"<"), protocol.CodeMessageTooLarge)
	for i := range 19 {
		ok(t, sender, uint64(10+i), protocol.OpSendRoomMessage, textMessage("r", text), nil)
	}

	for j := range 3 {
		joiner := loggedIn(t, srv, "joiner"+string(rune('a'+j)))
		ok(t, joiner, 2, protocol.OpJoinRoom, map[string]string{"roomID": "r"}, nil)
		got, next := 0, uint64(0)
		for page := 0; ; page++ {
			require.Less(t, page, 20)
			var h protocol.HistoryReply
			ok(t, joiner, uint64(10+page), protocol.OpQueryHistoryRoomMessage, map[string]any{"roomID": "r", "count": 20, "nextOrderKey": next}, &h)
			for _, m := range h.MessageList {
				assert.Contains(t, string(m), `"message":"<<<<`, "sent as it was stored, unescaped")
			}
			got += len(h.MessageList)
			if next = h.NextOrderKey; next == 0 {
				break
			}
		}
		assert.Equal(t, 19, got, "every message, over several pages")
	}
	assert.Equal(t, 4, g.SessionCount(), "nobody was cut off")
}
