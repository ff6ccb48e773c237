package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

// wsPair returns the server side of a WebSocket, wrapped as a conn, and
// its client side.
func wsPair(t *testing.T) (*conn, *websocket.Conn, *counters) {
	t.Helper()
	accepted := make(chan *websocket.Conn, 1)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ws, err := websocket.Accept(w, r, nil)
		if err != nil {
			return
		}
		accepted <- ws
		<-r.Context().Done()
	}))
	t.Cleanup(srv.Close)
	client, _, err := websocket.Dial(context.Background(), "ws"+strings.TrimPrefix(srv.URL, "http"), nil)
	require.NoError(t, err)
	client.SetReadLimit(-1)
	t.Cleanup(func() { client.CloseNow() })
	ws := <-accepted
	t.Cleanup(func() { ws.CloseNow() })
	stats := &counters{}
	return newConn(context.Background(), ws, 1<<20, 5*time.Second, stats), client, stats
}

// messages reads n WebSocket messages from c.
func messages(t *testing.T, c *websocket.Conn, n int) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	var got []string
	for range n {
		_, b, err := c.Read(ctx)
		require.NoError(t, err)
		got = append(got, string(b))
	}
	return got
}

// A version 2 client gets the frames queued for it in one message,
// separated by newlines, and splits them back with SplitFrames.
func TestQueuedFramesShareOneMessage(t *testing.T) {
	c, client, stats := wsPair(t)
	c.batch.Store(true)
	frames := [][]byte{[]byte(`{"id":1,"data":{}}`), []byte(`{"event":"e","data":{"a":1}}`), []byte(`{"id":2,"data":{}}`)}
	require.NoError(t, c.writeFrames(context.Background(), frames))
	got := messages(t, client, 1)
	assert.Equal(t, `{"id":1,"data":{}}`+"\n"+`{"event":"e","data":{"a":1}}`+"\n"+`{"id":2,"data":{}}`, got[0])
	var split []string
	for f := range protocol.SplitFrames([]byte(got[0])) {
		split = append(split, string(f))
	}
	assert.Equal(t, []string{string(frames[0]), string(frames[1]), string(frames[2])}, split)
	assert.EqualValues(t, 3, stats.framesSent.Load())
	assert.EqualValues(t, 1, stats.messagesSent.Load())
	assert.EqualValues(t, len(got[0]), stats.bytesSent.Load())
}

// A version 1 client gets one frame per message.
func TestVersion1GetsOneFramePerMessage(t *testing.T) {
	c, client, stats := wsPair(t)
	frames := [][]byte{[]byte(`{"id":1,"data":{}}`), []byte(`{"id":2,"data":{}}`)}
	require.NoError(t, c.writeFrames(context.Background(), frames))
	assert.Equal(t, []string{`{"id":1,"data":{}}`, `{"id":2,"data":{}}`}, messages(t, client, 2))
	assert.EqualValues(t, 2, stats.messagesSent.Load())
}

// A message stops at maxMessageBytes; a frame larger than that goes alone,
// and the frames after it start the next message. Nothing is lost or
// reordered.
func TestBatchesAreBounded(t *testing.T) {
	c, client, _ := wsPair(t)
	c.batch.Store(true)
	frame := func(id, size int) []byte {
		pad := strings.Repeat("x", size)
		return []byte(`{"id":` + string(rune('0'+id)) + `,"data":"` + pad + `"}`)
	}
	frames := [][]byte{frame(1, 40<<10), frame(2, 40<<10), frame(3, 100<<10), frame(4, 10), frame(5, 10)}
	require.NoError(t, c.writeFrames(context.Background(), frames))
	got := messages(t, client, 4)
	assert.Equal(t, string(frames[0]), got[0])
	assert.Equal(t, string(frames[1]), got[1])
	assert.Equal(t, string(frames[2]), got[2])
	assert.Equal(t, string(frames[3])+"\n"+string(frames[4]), got[3])
	for _, m := range got[:3] {
		assert.LessOrEqual(t, strings.Count(m, "\n"), 0)
	}
}

// A frame holding a raw newline between JSON tokens is compacted, never
// split apart: the client must get one valid frame.
func TestAFrameWithANewlineIsCompacted(t *testing.T) {
	c, client, _ := wsPair(t)
	c.batch.Store(true)
	require.NoError(t, c.writeFrames(context.Background(), [][]byte{[]byte("{\"id\":1,\n \"data\":{\"text\":\"a\\nb\"}}")}))
	assert.Equal(t, []string{`{"id":1,"data":{"text":"a\nb"}}`}, messages(t, client, 1))
}
