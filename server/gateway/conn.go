package gateway

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"roomkit/server/protocol"
)

// conn is one WebSocket connection: the frames queued for it, its writer,
// and how it closes. A session is attached to at most one conn at a time;
// after a page refresh the session moves to the page's new conn.
//
// An idle conn costs one goroutine, the read loop: the writer runs only
// while frames are queued, and the heartbeat is a timer whose goroutine
// lives for one ping.
type conn struct {
	ws           *websocket.Conn
	out          *outbox
	stats        *counters // the gateway's
	ctx          context.Context
	cancel       context.CancelFunc // ends ctx when the connection is done
	writeTimeout time.Duration      // for one turn of the writer

	closeOnce sync.Once
	batch     atomic.Bool  // the client speaks protocol version 2: several frames to a message
	ended     atomic.Bool  // logout or token expiry: the session ends with the conn
	closing   atomic.Bool  // the outbox overflowed: closing as too slow
	msgLimit  *tokenBucket // sendRoomMessage rate; used by the read loop only

	pingMu    sync.Mutex
	pingTimer *time.Timer // the next heartbeat; nil once stopped
}

func newConn(parent context.Context, ws *websocket.Conn, queueBytes int, writeTimeout time.Duration, stats *counters) *conn {
	ctx, cancel := context.WithCancel(parent)
	return &conn{ws: ws, out: newOutbox(queueBytes), stats: stats, ctx: ctx, cancel: cancel, writeTimeout: writeTimeout}
}

// push queues frame; when the queue is full the conn is closed as too slow.
func (c *conn) push(frame []byte, queueBytes int) {
	ok, start := c.out.push(frame)
	if start {
		go c.write()
	}
	if !ok {
		if c.closing.CompareAndSwap(false, true) {
			c.stats.slowCloses.Add(1)
		}
		c.close(websocket.StatusPolicyViolation, protocol.Errorf(protocol.CodeSlowConsumer,
			"disconnected: the connection fell %d bytes behind", queueBytes))
	}
}

// write writes what is queued, turn after turn, until the queue is empty
// (or the close asked for is done, or a write fails), then returns.
func (c *conn) write() {
	for {
		frames, req := c.out.next()
		switch {
		case req != nil:
			// A peer that does not read gets two seconds, then is dropped.
			drop := time.AfterFunc(2*time.Second, func() { c.ws.CloseNow() })
			c.ws.Close(req.status, req.reason)
			drop.Stop()
			return
		case frames == nil:
			return
		}
		ctx, cancel := context.WithTimeout(c.ctx, c.writeTimeout)
		err := c.writeFrames(ctx, frames)
		cancel()
		if err != nil {
			c.out.stop()
			c.ws.CloseNow()
			return
		}
	}
}

// maxMessageBytes bounds the frames batched into one WebSocket message; a
// frame larger than this goes alone.
const maxMessageBytes = 64 << 10

// messageBuffers holds the buffers frames are batched in, so a connection
// holds one only while its writer runs.
var messageBuffers = sync.Pool{New: func() any { b := make([]byte, 0, maxMessageBytes); return &b }}

// writeFrames writes frames in order. To a client of protocol version 2
// they go as few WebSocket messages as fit in maxMessageBytes, separated by
// protocol.FrameSeparator: a turn of the writer costs one system call
// instead of one per frame, which is most of what a busy server spends.
func (c *conn) writeFrames(ctx context.Context, frames [][]byte) error {
	if !c.batch.Load() {
		for _, f := range frames {
			if err := c.ws.Write(ctx, websocket.MessageText, f); err != nil {
				return err
			}
			c.stats.sent(1, len(f))
		}
		return nil
	}
	bp := messageBuffers.Get().(*[]byte)
	defer messageBuffers.Put(bp)
	for len(frames) > 0 {
		msg, n := frames[0], 1
		if len(frames) > 1 || bytes.IndexByte(msg, protocol.FrameSeparator) >= 0 {
			buf := appendFrame((*bp)[:0], frames[0])
			for n < len(frames) && len(buf)+1+len(frames[n]) <= maxMessageBytes {
				buf = appendFrame(append(buf, protocol.FrameSeparator), frames[n])
				n++
			}
			if cap(buf) <= maxMessageBytes {
				*bp = buf // a larger one (one big frame) is left to the collector
			}
			msg = buf
		}
		if err := c.ws.Write(ctx, websocket.MessageText, msg); err != nil {
			return err
		}
		c.stats.sent(n, len(msg))
		frames = frames[n:]
	}
	return nil
}

// appendFrame appends frame to a batch. Frames are compact JSON, so none
// holds a raw newline; one that does (whitespace between tokens) is
// compacted rather than split apart by the client.
func appendFrame(buf, frame []byte) []byte {
	if bytes.IndexByte(frame, protocol.FrameSeparator) < 0 {
		return append(buf, frame...)
	}
	b := bytes.NewBuffer(buf)
	if json.Compact(b, frame) != nil {
		return buf // not JSON at all: never made by this server
	}
	return b.Bytes()
}

// startHeartbeat pings the peer every interval until the conn is done. A
// peer whose pong does not come within timeout is gone without a word
// (network lost, laptop closed): the connection is dropped, so its read
// loop ends and its session waits for a resume as after any other loss.
func (c *conn) startHeartbeat(interval, timeout time.Duration) {
	c.pingMu.Lock()
	defer c.pingMu.Unlock()
	c.pingTimer = time.AfterFunc(interval, func() {
		pctx, cancel := context.WithTimeout(c.ctx, timeout)
		err := c.ws.Ping(pctx)
		cancel()
		if err != nil {
			if c.ctx.Err() == nil {
				c.stats.deadPeers.Add(1)
				c.ws.CloseNow()
			}
			return
		}
		c.pingMu.Lock()
		defer c.pingMu.Unlock()
		if c.pingTimer != nil {
			c.pingTimer.Reset(interval)
		}
	})
}

// done ends what the conn runs besides its read loop: the heartbeat, the
// writer (a write under way fails) and its queue.
func (c *conn) done() {
	c.pingMu.Lock()
	if c.pingTimer != nil {
		c.pingTimer.Stop()
		c.pingTimer = nil
	}
	c.pingMu.Unlock()
	c.cancel()
	c.out.stop()
}

// close ends the connection now with a reason the client can read: the
// code and message of e. It never blocks, so the engine may call it. A peer
// that does not read cannot take the close frame, so the connection is
// dropped outright if the close handshake has not finished within a second.
func (c *conn) close(status websocket.StatusCode, e *protocol.Error) {
	c.closeOnce.Do(func() {
		go func() {
			drop := time.AfterFunc(time.Second, func() { c.ws.CloseNow() })
			defer drop.Stop()
			c.ws.Close(status, closeReason(e))
		}()
	})
}

// closeAfterQueue ends the connection once what is queued has been
// written, or after two seconds if the peer does not take it.
func (c *conn) closeAfterQueue(status websocket.StatusCode, reason string) {
	c.closeOnce.Do(func() {
		if c.out.closeWhenWritten(closeRequest{status: status, reason: reason}) {
			go c.write()
		}
	})
}
