package gateway

import "sync"

// outbox is a connection's bounded send queue. push never blocks: the room
// engine calls it while holding a room's lock. When the queued bytes would
// pass max, push refuses and the connection is closed as too slow, so one
// stalled client costs the others nothing.
//
// Queued frames count until the writer takes them, so a frame being
// written no longer counts: max bounds what waits, not what is in flight.
type outbox struct {
	mu     sync.Mutex
	frames [][]byte
	bytes  int
	max    int
	full   bool          // a push was refused; nothing more is queued
	wake   chan struct{} // signalled (cap 1) when frames arrive
}

func newOutbox(max int) *outbox {
	return &outbox{max: max, wake: make(chan struct{}, 1)}
}

// push queues frame; it returns false when the queue is over its limit.
func (o *outbox) push(frame []byte) bool {
	o.mu.Lock()
	if o.full {
		o.mu.Unlock()
		return false
	}
	// One frame is always taken when nothing is queued: a reply is bounded
	// when it is made, and a client that reads what it asked for is not
	// slow, whatever the frame's size.
	if o.bytes > 0 && o.bytes+len(frame) > o.max {
		o.full = true
		o.frames, o.bytes = nil, 0
		o.mu.Unlock()
		return false
	}
	o.frames = append(o.frames, frame)
	o.bytes += len(frame)
	o.mu.Unlock()
	select {
	case o.wake <- struct{}{}:
	default:
	}
	return true
}

// queued returns the bytes waiting.
func (o *outbox) queued() int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.bytes
}

// take removes and returns everything queued.
func (o *outbox) take() [][]byte {
	o.mu.Lock()
	defer o.mu.Unlock()
	frames := o.frames
	o.frames, o.bytes = nil, 0
	return frames
}
