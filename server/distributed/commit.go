package distributed

import (
	"sync"
	"sync/atomic"
	"time"
)

// Group commit. An operation that changed a room is answered only once
// the change is in the room's copy in Redis, so a crash of the owner never
// loses a change its requester was told had succeeded. The copy is not
// written per operation: the commit loop writes every changed room in one
// round (persist), and each waiting operation waits for the first round
// that began after its change. Under load one round carries many changes;
// an idle room costs nothing. Rounds also run every snapshotEvery, for
// changes nobody waits on (timers, a room ending when idle).

// commitWait bounds how long a reply waits for its round: a Redis that
// does not answer must not hold every reply (the change is then as safe
// as Redis is, which is to say not: failover needs Redis anyway).
const commitWait = 2 * time.Second

// committer counts the commit loop's rounds. Its fields are under mu.
type committer struct {
	mu      sync.Mutex
	started uint64        // rounds begun
	done    uint64        // rounds finished
	signal  chan struct{} // closed when a round finishes, then replaced
	wake    chan struct{} // cap 1: a waiter asks for a round now
	warned  atomic.Int64  // when a waiter last said it gave up (Unix ns)
}

func (c *committer) init() {
	c.signal = make(chan struct{})
	c.wake = make(chan struct{}, 1)
}

// durable waits until a round that began after now has finished, or
// commitWait has passed, or the engine stops.
func (e *Engine) durable() {
	c := &e.commit
	c.mu.Lock()
	target := c.started + 1
	c.mu.Unlock()
	select {
	case c.wake <- struct{}{}:
	default:
	}
	deadline := time.NewTimer(commitWait)
	defer deadline.Stop()
	for {
		c.mu.Lock()
		done, signal := c.done, c.signal
		c.mu.Unlock()
		if done >= target {
			return
		}
		select {
		case <-signal:
		case <-deadline.C:
			if now := time.Now().UnixNano(); now-c.warned.Load() > int64(10*time.Second) {
				c.warned.Store(now) // once in 10 s while Redis does not answer
				e.log.Warn("changes are answered before their rooms' copies are written", "waited", commitWait)
			}
			return
		case <-e.stop:
			return
		}
	}
}

// commitLoop runs rounds when asked, and every snapshotEvery.
func (e *Engine) commitLoop() {
	defer e.done.Done()
	c := &e.commit
	tick := time.NewTicker(snapshotEvery)
	defer tick.Stop()
	for {
		select {
		case <-e.stop:
			return
		case <-c.wake:
		case <-tick.C:
		}
		c.mu.Lock()
		c.started++
		round := c.started
		c.mu.Unlock()
		ok := e.persist()
		c.mu.Lock()
		if ok {
			// A round that failed frees nobody: its waiters wait for one
			// that writes (or for commitWait).
			c.done = round
		}
		close(c.signal)
		c.signal = make(chan struct{})
		c.mu.Unlock()
	}
}
