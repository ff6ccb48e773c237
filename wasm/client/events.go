package client

import (
	"encoding/json"
	"sync"
	"sync/atomic"
)

// Event is one event for the application: a server push (its data passed
// through as received) or a state change the client made.
type Event struct {
	Name string
	Data json.RawMessage

	seq uint64 // a server event's frame number on its session; 0 for the client's own
}

// Decode unmarshals the event's data into v.
func (e Event) Decode(v any) error { return json.Unmarshal(e.Data, v) }

// Names of the events the client makes itself (the rest come from the server
// under protocol's Event names).
const (
	EventConnectionStateChanged = "connectionStateChanged"
	EventRoomStateChanged       = "roomStateChanged"
)

// ConnectionStateChanged is the data of connectionStateChanged.
type ConnectionStateChanged struct {
	State        int    `json:"state"`
	Event        int    `json:"event"`
	ExtendedData string `json:"extendedData"`
}

// eventQueue hands events to the application on one goroutine, in the
// order they were pushed, so a slow handler never stalls the read loop.
type eventQueue struct {
	mu        sync.Mutex
	events    []Event
	wake      chan struct{}
	stopped   bool
	discarded bool // drop was called: nothing more is handed over
	handler   func(Event)
	// lastHandled is the frame number of the last server event handed to
	// handler: where a later resume of the session continues from.
	lastHandled atomic.Uint64
}

func newEventQueue(handler func(Event)) *eventQueue {
	q := &eventQueue{wake: make(chan struct{}, 1), handler: handler}
	go q.run()
	return q
}

func (q *eventQueue) push(name string, data any) {
	raw, _ := json.Marshal(data) // the client's own event structs always encode
	q.add(Event{Name: name, Data: raw})
}

// pushServer queues an event the server sent as frame seq of the session.
func (q *eventQueue) pushServer(name string, data json.RawMessage, seq uint64) {
	q.add(Event{Name: name, Data: data, seq: seq})
}

func (q *eventQueue) add(e Event) {
	q.mu.Lock()
	defer q.mu.Unlock()
	if q.stopped {
		return
	}
	q.events = append(q.events, e)
	select {
	case q.wake <- struct{}{}:
	default:
	}
}

// stop delivers what is queued and ends the queue's goroutine; later pushes
// are dropped.
func (q *eventQueue) stop() {
	q.mu.Lock()
	defer q.mu.Unlock()
	if !q.stopped {
		q.stopped = true
		close(q.wake)
	}
}

// drop discards what is queued and stops, and returns the frame number of
// the last server event handed over: where a later resume continues from.
func (q *eventQueue) drop() uint64 {
	q.mu.Lock()
	defer q.mu.Unlock()
	q.events = nil
	q.discarded = true
	if !q.stopped {
		q.stopped = true
		close(q.wake)
	}
	return q.lastHandled.Load()
}

func (q *eventQueue) dropped() bool {
	q.mu.Lock()
	defer q.mu.Unlock()
	return q.discarded
}

func (q *eventQueue) run() {
	for range q.wake {
		q.deliver()
	}
	q.deliver()
}

func (q *eventQueue) deliver() {
	{
		q.mu.Lock()
		batch := q.events
		q.events = nil
		q.mu.Unlock()
		for _, e := range batch {
			if e.seq != 0 && q.dropped() {
				return // the rest is sent again to whoever resumes
			}
			if q.handler != nil {
				q.handler(e)
			}
			if e.seq != 0 {
				q.lastHandled.Store(e.seq)
			}
		}
	}
}
