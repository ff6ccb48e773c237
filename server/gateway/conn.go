package gateway

import (
	"context"
	"sync"
	"sync/atomic"
	"time"

	"github.com/coder/websocket"

	"roomkit/server/protocol"
)

// conn is one WebSocket connection: the frames queued for it, its writer,
// and how it closes. A session is attached to at most one conn at a time;
// after a page refresh the session moves to the page's new conn.
type conn struct {
	ws    *websocket.Conn
	out   *outbox
	stats *counters // the gateway's

	closeOnce sync.Once
	closeReq  chan closeRequest // to the writer: close once the queue is written
	ended     atomic.Bool       // logout or token expiry: the session ends with the conn
	closing   atomic.Bool       // the outbox overflowed: closing as too slow
	msgLimit  *tokenBucket      // sendRoomMessage rate; used by the read loop only
}

type closeRequest struct {
	status websocket.StatusCode
	reason string
}

func newConn(ws *websocket.Conn, queueBytes int, stats *counters) *conn {
	return &conn{ws: ws, out: newOutbox(queueBytes), stats: stats, closeReq: make(chan closeRequest, 1)}
}

// push queues frame; when the queue is full the conn is closed as too slow.
func (c *conn) push(frame []byte, queueBytes int) {
	if !c.out.push(frame) {
		if c.closing.CompareAndSwap(false, true) {
			c.stats.slowCloses.Add(1)
		}
		c.close(websocket.StatusPolicyViolation, protocol.Errorf(protocol.CodeSlowConsumer,
			"disconnected: the connection fell %d bytes behind", queueBytes))
	}
}

// writeLoop writes queued frames until ctx ends or a close is requested.
func (c *conn) writeLoop(ctx context.Context, timeout time.Duration) {
	for {
		select {
		case <-ctx.Done():
			return
		case <-c.out.wake:
			if !c.writeQueued(ctx, timeout) {
				return
			}
		case req := <-c.closeReq:
			// A peer that does not read gets two seconds, then is dropped.
			drop := time.AfterFunc(2*time.Second, func() { c.ws.CloseNow() })
			c.writeQueued(ctx, timeout)
			c.ws.Close(req.status, req.reason)
			drop.Stop()
			return
		}
	}
}

func (c *conn) writeQueued(ctx context.Context, timeout time.Duration) bool {
	for _, frame := range c.out.take() {
		wctx, cancel := context.WithTimeout(ctx, timeout)
		err := c.ws.Write(wctx, websocket.MessageText, frame)
		cancel()
		if err != nil {
			c.ws.CloseNow()
			return false
		}
		c.stats.framesSent.Add(1)
		c.stats.bytesSent.Add(uint64(len(frame)))
	}
	return true
}

// heartbeat pings the peer every interval until ctx ends. A peer whose
// pong does not come within timeout is gone without a word (network
// lost, laptop closed): the connection is dropped, so its read loop ends
// and its session waits for a resume as after any other loss.
func (c *conn) heartbeat(ctx context.Context, interval, timeout time.Duration) {
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		pctx, cancel := context.WithTimeout(ctx, timeout)
		err := c.ws.Ping(pctx)
		cancel()
		if err != nil {
			if ctx.Err() == nil {
				c.stats.deadPeers.Add(1)
				c.ws.CloseNow()
			}
			return
		}
	}
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
		c.closeReq <- closeRequest{status: status, reason: reason}
	})
}
