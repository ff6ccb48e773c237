package gateway

import (
	"sync"
	"sync/atomic"

	"roomkit/server/protocol"
)

// counters are the gateway's running totals, for metrics. Connections
// add to them as they go; nothing reads them on a hot path.
type counters struct {
	requests, messages    atomic.Uint64
	framesSent, bytesSent atomic.Uint64
	messagesSent          atomic.Uint64
	slowCloses, deadPeers atomic.Uint64

	mu      sync.Mutex
	refused map[protocol.Code]uint64
}

// sent counts one WebSocket message of frames frames and size bytes.
func (c *counters) sent(frames, size int) {
	c.framesSent.Add(uint64(frames))
	c.messagesSent.Add(1)
	c.bytesSent.Add(uint64(size))
}

func (c *counters) refuse(code protocol.Code) {
	c.mu.Lock()
	if c.refused == nil {
		c.refused = map[protocol.Code]uint64{}
	}
	c.refused[code]++
	c.mu.Unlock()
}

// Stats is a snapshot of the gateway for metrics.
type Stats struct {
	Connections  int    // open WebSocket connections, logged in or not
	Sessions     int    // sessions, attached or waiting for a resume
	OutboxBytes  int    // bytes queued to all connections, not yet written
	Requests     uint64 // requests served, refused ones included
	Messages     uint64 // room messages accepted
	FramesSent   uint64 // frames written to connections
	MessagesSent uint64 // WebSocket messages they went in (one holds several frames)
	BytesSent    uint64 // bytes of those messages
	SlowCloses   uint64 // connections closed for falling behind
	DeadPeers    uint64 // connections closed for an unanswered heartbeat
	// Refused counts refused requests and logins by error code.
	Refused map[protocol.Code]uint64
	// Calls and Ringing count calls under way and invitations ringing.
	Calls, Ringing int
}

// Stats returns a snapshot of the gateway's state and totals.
func (g *Gateway) Stats() Stats {
	g.mu.Lock()
	st := Stats{Connections: len(g.conns), Sessions: g.sessions.Len()}
	for c := range g.conns {
		st.OutboxBytes += c.out.queued()
	}
	g.mu.Unlock()
	st.Requests, st.Messages = g.stats.requests.Load(), g.stats.messages.Load()
	st.FramesSent, st.BytesSent = g.stats.framesSent.Load(), g.stats.bytesSent.Load()
	st.MessagesSent = g.stats.messagesSent.Load()
	st.SlowCloses, st.DeadPeers = g.stats.slowCloses.Load(), g.stats.deadPeers.Load()
	g.stats.mu.Lock()
	st.Refused = make(map[protocol.Code]uint64, len(g.stats.refused))
	for code, n := range g.stats.refused {
		st.Refused[code] = n
	}
	g.stats.mu.Unlock()
	st.Calls, st.Ringing = g.calls.Count()
	return st
}
