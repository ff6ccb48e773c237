package gateway

import (
	"bytes"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/auth"
	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// failingEngine is a room engine whose message sends fail as a Redis
// outage would and whose member counts panic; everything else is a real
// Manager's.
type failingEngine struct{ engine.Engine }

const internalDetail = "redis: dial tcp 10.20.30.40:6379: connect: connection refused"

func (f failingEngine) Do(p engine.Peer, req engine.Request) (any, error) {
	switch req.Op.Name {
	case protocol.OpSendRoomMessage:
		return nil, fmt.Errorf("forwarding to node-2: %s", internalDetail)
	case protocol.OpQueryMemberCount:
		panic("count: " + internalDetail)
	}
	return f.Engine.Do(p, req)
}

// lockedBuffer is a log sink the server writes while the test reads.
type lockedBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *lockedBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *lockedBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

// A failure that is not a protocol error (a Redis outage, a forward that
// failed, a panic) reaches the client as code 1 with a fixed message that
// names the operation and the session, never the failure's own text; the
// detail is in the server's log under the session ID. The connection
// goes on serving.
func TestInternalErrorsAreNotShownToClients(t *testing.T) {
	logs := &lockedBuffer{}
	g := New(Config{}, failingEngine{engine.NewManager(engine.Limits{})}, auth.NewVerifier(testApps, nil),
		slog.New(slog.NewTextHandler(logs, nil)), nil)
	c := dial(t, serve(t, g))
	send(t, c, loginFrame(tokenFor(t, "ann", time.Hour), protocol.Version))
	login := read(t, c)
	require.Nil(t, login.Error)
	var lr protocol.LoginReply
	require.NoError(t, json.Unmarshal(login.Data, &lr))
	ok(t, c, 2, protocol.OpEnterRoom, protocol.RoomRequest{RoomInfo: protocol.RoomInfo{RoomID: "r"}}, nil)

	for i, req := range []struct {
		op   string
		data any
		log  string
	}{
		{protocol.OpSendRoomMessage, protocol.SendMessageRequest{RoomID: "r", Message: protocol.Message{Type: 1, Message: json.RawMessage(`"hi"`)}}, "request failed"},
		{protocol.OpQueryMemberCount, protocol.RoomIDRequest{RoomID: "r"}, "panic serving request"},
	} {
		e := failsWith(t, c, uint64(10+i), req.op, req.data, protocol.CodeFailed)
		assert.NotContains(t, e.Message, "10.20.30.40", req.op)
		assert.NotContains(t, e.Message, "redis", req.op)
		assert.NotContains(t, e.Message, "node-2", req.op)
		assert.Contains(t, e.Message, req.op, "the message names the operation")
		assert.Contains(t, e.Message, lr.SessionID, "the message gives the session ID to quote")
		assert.Eventually(t, func() bool {
			return bytes.Contains([]byte(logs.String()), []byte(req.log)) &&
				bytes.Contains([]byte(logs.String()), []byte("session="+lr.SessionID))
		}, 5*time.Second, 10*time.Millisecond, "the log has the detail under the session ID:\n%s", logs.String())
	}
	assert.Contains(t, logs.String(), "10.20.30.40", "the detail is logged")
	ok(t, c, 20, protocol.OpQueryRoomAllAttributes, protocol.RoomIDRequest{RoomID: "r"}, nil)
}
