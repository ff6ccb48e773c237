package gateway

import (
	"context"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/auth"
	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// churnPeer is an in-process member whose joins and leaves make events.
type churnPeer struct{ id string }

func (p churnPeer) Who() engine.Who {
	return engine.Who{Session: p.id, App: "app", Member: protocol.Member{UserID: p.id, UserName: strings.Repeat("n", 200)}}
}
func (p churnPeer) Deliver([]byte) {}

// A client that stops reading is disconnected once its outbox is full, and
// a client in the same room that keeps reading gets every event and is
// served on.
func TestSlowClientIsDisconnectedAndOthersCarryOn(t *testing.T) {
	eng := engine.NewManager(engine.Limits{})
	g := New(Config{SendQueueBytes: 64 << 10, ResumeGrace: -1}, eng, auth.NewVerifier(map[string]string{"app": secret}, nil), slog.New(slog.DiscardHandler), nil)
	srv := httptest.NewServer(g)
	defer srv.Close()
	defer func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = g.Shutdown(ctx)
	}()

	slow := loggedIn(t, srv, "slow")
	fast := loggedIn(t, srv, "fast")
	send(t, slow, `{"id":2,"op":"enterRoom","data":{"roomInfo":{"roomID":"busy"}}}`)
	require.Nil(t, read(t, slow).Error)
	send(t, fast, `{"id":2,"op":"enterRoom","data":{"roomInfo":{"roomID":"busy"}}}`)
	require.Nil(t, reply(t, fast, 2).Error)
	// From here on slow never reads again.

	var got atomic.Int64
	replies := make(chan string, 1)
	go func() {
		for {
			ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
			b, err := readFrame(ctx, fast)
			cancel()
			if err != nil {
				return
			}
			if strings.Contains(string(b), `"event"`) {
				got.Add(1)
			} else if strings.Contains(string(b), `"id":9`) {
				replies <- string(b)
			}
		}
	}()

	sent := int64(0)
	deadline := time.Now().Add(30 * time.Second)
	for g.SessionCount() == 2 {
		require.True(t, time.Now().Before(deadline), "the slow client was never disconnected")
		for i := range 100 {
			p := churnPeer{id: fmt.Sprintf("p%d-%d", sent, i)}
			_, err := eng.Join(p, "busy", "")
			require.NoError(t, err)
			require.NoError(t, eng.Leave(p, "busy"))
			sent += 2
		}
		// Pace the rounds by the reader that keeps up.
		require.Eventually(t, func() bool { return got.Load() >= sent }, 10*time.Second, time.Millisecond)
		if g.SessionCount() == 2 {
			time.Sleep(time.Millisecond)
		}
	}
	assert.Equal(t, 1, g.SessionCount(), "only the slow client was dropped")
	// The fast client is still served and got every event.
	send(t, fast, `{"id":9,"op":"queryRoomOnlineMemberCount","data":{"roomID":"busy"}}`)
	select {
	case r := <-replies:
		assert.Contains(t, r, `"count":1`, "the slow client left the room when it was dropped")
	case <-time.After(5 * time.Second):
		t.Fatal("the fast client was not served after the slow one was dropped")
	}
	assert.GreaterOrEqual(t, got.Load(), sent)
}
