package gateway

import (
	"sync"

	"github.com/coder/websocket"
)

// outbox is a connection's bounded send queue. push never blocks: the room
// engine calls it while holding a room's lock. When the queued bytes would
// pass max, push refuses and the connection is closed as too slow, so one
// stalled client costs the others nothing.
//
// Queued frames count until the writer takes them, so a frame being
// written no longer counts: max bounds what waits, not what is in flight.
//
// No goroutine waits on an idle outbox: the push that finds it idle starts
// a writer (push says so), which writes until the queue is empty and
// stops. So a quiet connection holds no writer stack.
type outbox struct {
	mu         sync.Mutex
	frames     [][]byte
	bytes      int
	max        int
	full       bool          // a push was refused; nothing more is queued
	writing    bool          // a writer is running
	stopped    bool          // the connection ended: no writer starts again
	closeAfter *closeRequest // close once what is queued is written
}

// closeRequest asks the writer to close the connection once the queue is
// written.
type closeRequest struct {
	status websocket.StatusCode
	reason string
}

func newOutbox(max int) *outbox {
	return &outbox{max: max}
}

// push queues frame; ok is false when the queue is over its limit, and
// start is true when the caller must start a writer.
func (o *outbox) push(frame []byte) (ok, start bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.full {
		return false, false
	}
	// One frame is always taken when nothing is queued: a reply is bounded
	// when it is made, and a client that reads what it asked for is not
	// slow, whatever the frame's size.
	if o.bytes > 0 && o.bytes+len(frame) > o.max {
		o.full = true
		o.frames, o.bytes = nil, 0
		return false, false
	}
	o.frames = append(o.frames, frame)
	o.bytes += len(frame)
	return true, o.startLocked()
}

// closeWhenWritten asks for the connection to close once the queue is
// written; start is true when the caller must start a writer.
func (o *outbox) closeWhenWritten(req closeRequest) (start bool) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.closeAfter = &req
	return o.startLocked()
}

func (o *outbox) startLocked() bool {
	if o.writing || o.stopped {
		return false
	}
	o.writing = true
	return true
}

// next is the writer's turn: what is queued, or else the close asked for,
// or else nothing, and then the writer stops (a later push starts one).
func (o *outbox) next() ([][]byte, *closeRequest) {
	o.mu.Lock()
	defer o.mu.Unlock()
	if len(o.frames) > 0 {
		frames := o.frames
		o.frames, o.bytes = nil, 0
		return frames, nil
	}
	if o.closeAfter != nil && !o.stopped {
		o.stopped = true
		return nil, o.closeAfter
	}
	o.writing = false
	return nil, nil
}

// stop ends the outbox with its connection: nothing more is written.
func (o *outbox) stop() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.stopped = true
	o.frames, o.bytes = nil, 0
}

// queued returns the bytes waiting.
func (o *outbox) queued() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.bytes
}
