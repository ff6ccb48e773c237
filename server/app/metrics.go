package app

import (
	"fmt"
	"io"
	"net"
	"net/http"
	"runtime"
	"slices"
	"strconv"

	"roomkit/server/protocol"
)

// metrics writes the server's state in the Prometheus text format: a
// dozen series, written by hand rather than through a client library
// whose weight would be most of this package's.
func (s *Server) metrics(w http.ResponseWriter, r *http.Request) {
	if !s.cfg.MetricsPublic && !loopbackAddr(r.RemoteAddr) {
		http.Error(w, "metrics are served to loopback only; start the server with -metrics-public to serve them to all", http.StatusForbidden)
		return
	}
	w.Header().Set("Content-Type", "text/plain; version=0.0.4; charset=utf-8")
	g := s.Gateway.Stats()
	byApp, perApp, server := s.Engine.StoredBytesByApp()
	var mem runtime.MemStats
	runtime.ReadMemStats(&mem)

	gauge := func(name, help string, v any) { metric(w, name, "gauge", help, v) }
	counter := func(name, help string, v any) { metric(w, name, "counter", help, v) }
	gauge("roomkit_connections", "Open WebSocket connections.", g.Connections)
	gauge("roomkit_sessions", "Sessions, attached to a connection or waiting for a resume.", g.Sessions)
	gauge("roomkit_rooms", "Rooms, empty ones kept by a destroy delay included.", s.Engine.RoomCount())
	gauge("roomkit_room_members", "Places in rooms (one per session in each room).", s.Engine.Members())
	gauge("roomkit_calls", "Calls under way.", g.Calls)
	gauge("roomkit_ringing_invitations", "Call invitations ringing.", g.Ringing)
	gauge("roomkit_outbox_bytes", "Bytes queued to connections and not yet written.", g.OutboxBytes)
	counter("roomkit_requests_total", "Requests received, logins and refused ones included.", g.Requests)
	counter("roomkit_messages_total", "Room messages accepted.", g.Messages)
	counter("roomkit_frames_sent_total", "Frames written to connections.", g.FramesSent)
	counter("roomkit_ws_messages_sent_total", "WebSocket messages written to connections (one carries several frames).", g.MessagesSent)
	counter("roomkit_bytes_sent_total", "Bytes of the messages written to connections.", g.BytesSent)
	counter("roomkit_slow_consumer_closes_total", "Connections closed for falling behind (6100005).", g.SlowCloses)
	counter("roomkit_dead_peer_closes_total", "Connections closed for an unanswered heartbeat.", g.DeadPeers)

	fmt.Fprintln(w, "# HELP roomkit_refused_total Requests and logins refused, by error code.")
	fmt.Fprintln(w, "# TYPE roomkit_refused_total counter")
	codes := make([]protocol.Code, 0, len(g.Refused))
	for code := range g.Refused {
		codes = append(codes, code)
	}
	slices.Sort(codes)
	for _, code := range codes {
		fmt.Fprintf(w, "roomkit_refused_total{code=\"%d\"} %d\n", code, g.Refused[code])
	}

	fmt.Fprintln(w, "# HELP roomkit_stored_bytes Bytes of history and attributes rooms hold, by app (the budget of 6100011).")
	fmt.Fprintln(w, "# TYPE roomkit_stored_bytes gauge")
	apps := make([]string, 0, len(byApp))
	for app := range byApp {
		apps = append(apps, app)
	}
	slices.Sort(apps)
	for _, app := range apps {
		fmt.Fprintf(w, "roomkit_stored_bytes{app=%s} %d\n", strconv.Quote(app), byApp[app])
	}
	gauge("roomkit_stored_bytes_limit_per_app", "The stored-bytes budget of each app.", perApp)
	gauge("roomkit_stored_bytes_limit", "The stored-bytes budget of the server.", server)
	gauge("go_goroutines", "Goroutines.", runtime.NumGoroutine())
	gauge("go_memstats_heap_alloc_bytes", "Bytes of live and not yet collected heap objects.", mem.HeapAlloc)
	gauge("go_memstats_sys_bytes", "Bytes obtained from the OS.", mem.Sys)
}

func metric(w io.Writer, name, typ, help string, v any) {
	fmt.Fprintf(w, "# HELP %s %s\n# TYPE %s %s\n%s %v\n", name, help, name, typ, name, v)
}

// loopbackAddr reports whether a remote address is on this machine.
func loopbackAddr(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		host = addr
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}
