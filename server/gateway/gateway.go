// Package gateway is the edge of the server: it accepts WebSocket
// connections on /ws, authenticates their first frame, and turns frames into
// room engine calls. Each connection is a session with one read loop (which
// runs its requests in order) and one writer goroutine draining a bounded
// outbox; nothing a connection does can block another.
package gateway

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"roomkit/server/auth"
	"roomkit/server/calls"
	"roomkit/server/directory"
	"roomkit/server/engine"
	"roomkit/server/protocol"
)

// Config tunes the gateway. Zero fields take the defaults named.
type Config struct {
	LoginTimeout      time.Duration // first frame must log in within this; 0 = 5 s
	WriteTimeout      time.Duration // one frame's write; 0 = 10 s
	SendQueueBytes    int           // outbox limit per connection; 0 = 1 MiB
	RequestsPerSecond float64       // sustained requests per connection; 0 = 50
	RequestBurst      int           // 0 = 100
	MessagesPerSecond float64       // sustained sendRoomMessage per connection; 0 = 10
	MessageBurst      int           // 0 = 20
	UserRequests      Rate          // one user's requests over all their connections; 0 = 100/s, bursts of 200
	UserMessages      Rate          // one user's sendRoomMessage; 0 = 20/s, bursts of 40
	UserInvites       Rate          // one user's callInvite and callAdd; 0 = 2/s, bursts of 10
	AppRequests       Rate          // one app's requests over all its users; 0 = 10,000/s, bursts of 20,000
	AppMessages       Rate          // one app's sendRoomMessage; 0 = 2,000/s, bursts of 4,000
	TokenWarning      time.Duration // tokenWillExpire this long before exp; 0 = 30 s
	// Media says the server runs a media server (the login reply tells
	// clients, so a call page knows whether to offer to it).
	Media             bool
	ResumeGrace       time.Duration // a session outlives its connection this long; 0 = 10 s, negative = not at all
	ResumeBufferBytes int           // recent events kept per session for a resume; 0 (and at most) = half of SendQueueBytes
	OriginPatterns    []string      // other origins allowed to connect (see originAllowed); the server's own always is
	// PingInterval is how often the server pings a connection; one whose
	// pong has not come within PingTimeout is dead and closed (its session
	// then waits out the resume grace like any lost one). 0 = 10 s each,
	// so a vanished peer is found within 20 s.
	PingInterval       time.Duration
	PingTimeout        time.Duration
	MaxSessions        int          // sessions on the server, attached or awaiting a resume; 0 = 50,000
	MaxSessionsPerApp  int          // 0 = 25,000
	MaxSessionsPerUser int          // tabs and devices of one user; 0 = 50
	Calls              calls.Limits // calls and ringing invitations (a cluster's are its engine's: distributed.Config.Calls)
}

func (c Config) withDefaults() Config {
	if c.LoginTimeout == 0 {
		c.LoginTimeout = 5 * time.Second
	}
	if c.WriteTimeout == 0 {
		c.WriteTimeout = 10 * time.Second
	}
	if c.SendQueueBytes == 0 {
		c.SendQueueBytes = 1 << 20
	}
	if c.RequestsPerSecond == 0 {
		c.RequestsPerSecond = 50
	}
	if c.RequestBurst == 0 {
		c.RequestBurst = 100
	}
	if c.MessagesPerSecond == 0 {
		c.MessagesPerSecond = 10
	}
	if c.MessageBurst == 0 {
		c.MessageBurst = 20
	}
	c.UserRequests = c.UserRequests.orDefault(100, 200)
	c.UserMessages = c.UserMessages.orDefault(20, 40)
	c.UserInvites = c.UserInvites.orDefault(2, 10)
	c.AppRequests = c.AppRequests.orDefault(10_000, 20_000)
	c.AppMessages = c.AppMessages.orDefault(2_000, 4_000)
	if c.ResumeGrace == 0 {
		c.ResumeGrace = 10 * time.Second
	}
	// A resume queues what was missed at once, so it must fit in the
	// outbox beside the login reply and a few replies.
	if c.ResumeBufferBytes == 0 || c.ResumeBufferBytes > c.SendQueueBytes/2 {
		c.ResumeBufferBytes = c.SendQueueBytes / 2
	}
	if c.PingInterval == 0 {
		c.PingInterval = 10 * time.Second
	}
	if c.PingTimeout == 0 {
		c.PingTimeout = 10 * time.Second
	}
	if c.MaxSessions == 0 {
		c.MaxSessions = 50_000
	}
	if c.MaxSessionsPerApp == 0 {
		c.MaxSessionsPerApp = 25_000
	}
	if c.MaxSessionsPerUser == 0 {
		c.MaxSessionsPerUser = 50
	}
	if c.TokenWarning == 0 {
		c.TokenWarning = 30 * time.Second
	}
	return c
}

// Gateway serves /ws. It owns the set of live sessions, so Shutdown can tell
// each one and wait for it.
type Gateway struct {
	cfg      Config
	engine   engine.Engine
	verifier *auth.Verifier
	log      *slog.Logger

	calls    directory.CallService
	cluster  directory.Cluster   // nil on a single node
	sessions *directory.Registry // by ID and by user, attached or waiting for a resume
	stats    counters

	mu      sync.Mutex
	budgets map[userKey]*userLimit // each user's request budget, while it has sessions here
	apps    map[string]*appLimit   // each app's request budget, made on first use
	conns   map[*conn]struct{}     // open connections
	closing bool
	wg      sync.WaitGroup
}

// userKey names a user on the server: user IDs are an app's own.
type userKey struct{ app, id string }

// New returns a Gateway over eng that admits tokens v accepts. With a
// cluster (nil for a single node), calls and presence go through it.
func New(cfg Config, eng engine.Engine, v *auth.Verifier, log *slog.Logger, cluster directory.Cluster) *Gateway {
	if log == nil {
		log = slog.Default()
	}
	g := &Gateway{cfg: cfg.withDefaults(), engine: eng, verifier: v, log: log, cluster: cluster,
		budgets: map[userKey]*userLimit{}, apps: map[string]*appLimit{}, conns: map[*conn]struct{}{}}
	if cluster != nil {
		g.sessions, g.calls = cluster.Sessions(), cluster.Calls()
	} else {
		g.sessions = directory.NewRegistry()
		g.calls = calls.NewManager(g.sessions, g.cfg.Calls)
	}
	return g
}

// RoomEnded ends the calls in app's room roomID, which the room engine
// ended (for all, or idle): the engine calls it, once the room is gone.
func (g *Gateway) RoomEnded(app, roomID string) { g.calls.RoomEnded(app, roomID) }

// waitHandedOver waits, until most of ctx's time is gone, for the
// sessions here to be taken over by the nodes their clients reconnect to.
func (g *Gateway) waitHandedOver(ctx context.Context) {
	until := time.Now().Add(8 * time.Second)
	if d, ok := ctx.Deadline(); ok {
		until = time.Now().Add(time.Until(d) * 3 / 4)
	}
	for time.Now().Before(until) && g.SessionCount() > 0 {
		time.Sleep(20 * time.Millisecond)
	}
}

// Draining reports whether the gateway is shutting down (it takes no new
// connection).
func (g *Gateway) Draining() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closing
}

// ServeHTTP upgrades the request to a WebSocket and runs the session until
// it ends.
func (g *Gateway) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	g.mu.Lock()
	if g.closing {
		g.mu.Unlock()
		http.Error(w, "server shutting down", http.StatusServiceUnavailable)
		return
	}
	g.wg.Add(1) // done when the connection is
	g.mu.Unlock()

	// The origin is checked here, not by the library: a refusal it makes
	// is an HTTP 403 that a browser hides from the page, which then sees a
	// bare 1006. Accepting and closing at once with a reason tells the
	// developer what to change. Nothing is read from a refused connection,
	// and logging in takes a token, not a cookie, so accepting it first
	// exposes nothing.
	allowed := originAllowed(r, g.cfg.OriginPatterns)
	ws, err := websocket.Accept(smallBuffers{w}, r, &websocket.AcceptOptions{InsecureSkipVerify: true})
	if err != nil {
		g.wg.Done()
		g.log.Debug("websocket accept failed", "err", err)
		return
	}
	if !allowed {
		g.wg.Done()
		origin := r.Header.Get("Origin")
		g.log.Info("refused a connection from an origin not allowed", "origin", origin)
		ws.Close(websocket.StatusPolicyViolation, closeReason(protocol.Errorf(protocol.CodeOriginNotAllowed,
			"origin %s is not allowed by the server; start it with -allow-origin or ROOMKIT_ALLOWED_ORIGINS", origin)))
		return
	}
	// The connection is ours now: it is served on a goroutine of its own,
	// and the handler returns, so the HTTP server's goroutine (its stack
	// grown by the request) and the request itself are let go.
	go g.serveConn(ws)
}

// serveConn logs a new connection in and serves it until it ends.
func (g *Gateway) serveConn(ws *websocket.Conn) {
	defer g.wg.Done()
	ws.SetReadLimit(protocol.MaxFrameBytes)
	c := newConn(context.Background(), ws, g.cfg.SendQueueBytes, g.cfg.WriteTimeout, &g.stats)
	defer c.done()
	if !g.track(c) {
		ws.Close(websocket.StatusServiceRestart, closeReason(protocol.Errorf(protocol.CodeServerShutdown, "server shutting down")))
		return
	}
	defer g.untrack(c)
	var s *session
	onShortStack(func() { s = g.login(c.ctx, c) }) // a JWT check is deep
	if s == nil {
		return
	}
	s.serve(c)
}

// Shutdown closes every session with a "server shutting down" reason (the
// clients reconnect, to this server once it is back or to another node),
// ends the engine's rooms, and waits for the sessions to finish or ctx to
// end.
func (g *Gateway) Shutdown(ctx context.Context) error {
	// Calls end first, so every party is told why before its connection
	// closes; each connection writes what it has queued, then closes.
	g.calls.EndAll(protocol.CallReasonServerShutdown)
	g.mu.Lock()
	g.closing = true
	g.mu.Unlock()
	if g.cluster != nil {
		// A node of several: its rooms go on elsewhere, and its clients,
		// told to reconnect, take their sessions to the node they reach.
		if err := g.cluster.Drain(ctx); err != nil {
			g.log.Warn("draining the rooms to other nodes was not complete", "err", err)
		}
	}
	g.mu.Lock()
	for c := range g.conns {
		c.closeAfterQueue(websocket.StatusServiceRestart, closeReason(protocol.Errorf(protocol.CodeServerShutdown, "server shutting down")))
	}
	g.mu.Unlock()
	if g.cluster != nil {
		g.waitHandedOver(ctx)
	}
	for _, s := range g.sessions.All() {
		s.(*session).end()
	}
	done := make(chan struct{})
	go func() { g.wg.Wait(); close(done) }()
	defer g.engine.Close()
	select {
	case <-done:
		return nil
	case <-ctx.Done():
		return errors.New("gateway shutdown: sessions still open at the deadline")
	}
}

// track registers an open connection; it fails once Shutdown has begun.
func (g *Gateway) track(c *conn) bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.closing {
		return false
	}
	g.conns[c] = struct{}{}
	return true
}

func (g *Gateway) untrack(c *conn) {
	g.mu.Lock()
	delete(g.conns, c)
	g.mu.Unlock()
}

// add registers s under its ID and its user, and gives it the request
// budget its user's sessions share. It refuses with CodeConnectionLimit
// when the server, the app or the user has all the sessions it may. The
// cluster hears of a user's first session here.
func (g *Gateway) add(s *session) *protocol.Error {
	first, err := g.addLocked(s)
	if err == nil && g.cluster != nil {
		if first {
			g.cluster.UserOnline(s.app, s.userID, s.Who().Member.UserName)
		}
		if !s.adopting { // an adopted session is recorded once it is here
			g.cluster.SessionStarted(s.id)
		}
	}
	return err
}

func (g *Gateway) addLocked(s *session) (first bool, _ *protocol.Error) {
	g.mu.Lock()
	defer g.mu.Unlock()
	first, err := g.sessions.Add(s, directory.Limits{MaxSessions: g.cfg.MaxSessions, MaxSessionsPerApp: g.cfg.MaxSessionsPerApp, MaxSessionsPerUser: g.cfg.MaxSessionsPerUser})
	if err != nil {
		return false, err
	}
	key := userKey{s.app, s.userID}
	budget := g.budgets[key]
	if budget == nil {
		app := g.apps[s.app]
		if app == nil {
			app = newAppLimit(g.cfg)
			g.apps[s.app] = app
		}
		budget = newUserLimit(g.cfg, app)
		g.budgets[key] = budget
	}
	s.limits = budget
	return first, nil
}

// remove forgets s; it reports whether s was its user's last session.
func (g *Gateway) remove(s *session) (last bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	last = g.sessions.Remove(s)
	if last {
		delete(g.budgets, userKey{s.app, s.userID})
	}
	return last
}

// session is the session of this ID here, or nil.
func (g *Gateway) session(id string) *session {
	s, _ := g.sessions.Session(id).(*session)
	return s
}

// SessionCount returns the number of sessions, attached or waiting for a
// resume.
func (g *Gateway) SessionCount() int { return g.sessions.Len() }

func newSessionID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
