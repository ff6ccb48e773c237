package gateway

import (
	"context"
	"encoding/json"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/netfault"
	"roomkit/server/protocol"
)

// A member whose network vanishes without a FIN is found dead by the
// server's heartbeat and, once the resume grace has passed, leaves the
// room like any member whose connection was lost.
func TestVanishedPeerIsDetectedAndLeaves(t *testing.T) {
	noLeaks(t)
	srv, g := newServer(t, Config{PingInterval: 100 * time.Millisecond, PingTimeout: 200 * time.Millisecond, ResumeGrace: 300 * time.Millisecond})
	proxy, err := netfault.New(strings.TrimPrefix(srv.URL, "http://"))
	require.NoError(t, err)
	t.Cleanup(proxy.Close)

	gone, _, err := websocket.Dial(context.Background(), "ws://"+proxy.Addr(), nil)
	require.NoError(t, err)
	t.Cleanup(func() { gone.CloseNow() })
	// The peer answers pings only while it reads, as any client does.
	go func() {
		for {
			if _, _, err := gone.Read(context.Background()); err != nil {
				return
			}
		}
	}()
	send(t, gone, loginFrame(tokenFor(t, "gone", time.Hour), protocol.Version))
	send(t, gone, `{"id":2,"op":"enterRoom","data":{"roomInfo":{"roomID":"r"}}}`)
	stays := loggedIn(t, srv, "stays")
	require.Eventually(t, func() bool { return g.SessionCount() == 2 }, 5*time.Second, 10*time.Millisecond)
	ok(t, stays, 2, protocol.OpEnterRoom, roomRequest("r"), nil)
	frames := pump(t, stays)
	leaves := func(within time.Duration) bool {
		deadline := time.After(within)
		for {
			select {
			case f := <-frames:
				if f.Event == protocol.EventRoomMemberLeft {
					assert.Contains(t, string(f.Data), `"userID":"gone"`)
					return true
				}
			case <-deadline:
				return false
			}
		}
	}
	require.False(t, leaves(time.Second), "a peer that answers pings stays")

	start := time.Now()
	proxy.Blackhole()
	require.True(t, leaves(5*time.Second), "the vanished peer left")
	// Heartbeat (at most interval + timeout) and grace: well under 2 s.
	assert.Less(t, time.Since(start), 2*time.Second)
	assert.Equal(t, 1, g.SessionCount())
}

// pump reads c from now on (so it answers pings) and hands over its frames.
func pump(t *testing.T, c *websocket.Conn) <-chan protocol.Frame {
	frames := make(chan protocol.Frame, 100)
	go func() {
		for {
			b, err := readFrame(context.Background(), c)
			if err != nil {
				return
			}
			var f protocol.Frame
			if json.Unmarshal(b, &f) == nil {
				select {
				case frames <- f:
				default: // nobody is looking any more
				}
			}
		}
	}()
	return frames
}
