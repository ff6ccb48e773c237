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
	"encoding/json"
	"errors"
	"log/slog"
	"net/http"
	"sync"
	"time"

	"github.com/coder/websocket"

	"roomkit/server/auth"
	"roomkit/server/calls"
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
	Calls              calls.Limits // calls and ringing invitations
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

	calls   CallService
	cluster Cluster // nil on a single node
	stats   counters

	mu       sync.Mutex
	sessions map[string]*session  // by ID, attached or waiting for a resume
	users    map[userKey]*user    // the same sessions by app and user
	perApp   map[string]int       // sessions per app
	apps     map[string]*appLimit // each app's request budget, made on first use
	conns    map[*conn]struct{}   // open connections
	closing  bool
	wg       sync.WaitGroup
}

// userKey names a user on the server: user IDs are an app's own.
type userKey struct{ app, id string }

// user is one user's sessions and the request budget they share.
type user struct {
	sessions map[*session]struct{}
	limit    *userLimit
}

// CallService keeps call invitations. calls.Manager is a single node's; a
// cluster's reaches the users of every node.
type CallService interface {
	// Do runs a call operation (the table in calls/ops.go) for p, on the
	// node keeping p's app's calls, and returns its reply's data.
	Do(p engine.Peer, req calls.Request) (any, error)
	// UserGone takes a user whose last session (on every node) has ended
	// out of their calls.
	UserGone(app, userID string)
	// RoomEnded ends the calls in app's room roomID, which has ended.
	RoomEnded(app, roomID string)
	EndAll(reason string)
	Count() (calls, ringing int)
}

var _ CallService = (*calls.Manager)(nil)

// Cluster is what the gateway of one node among several needs from the
// cluster: a call service reaching every node's users (given this node's
// directory of sessions), and word of this node's users coming and going.
type Cluster interface {
	Calls(local LocalDirectory, limits calls.Limits) CallService
	// UserOnline says app's user has a first session on this node.
	UserOnline(app, userID, userName string)
	// UserOffline says the user's last session on this node ended; it
	// reports whether the user has none left on any node.
	UserOffline(app, userID string) (goneEverywhere bool)
	// SessionStarted and SessionEnded record where a session lives, so
	// that a reload landing on another node finds it.
	SessionStarted(id string)
	SessionEnded(id string)
	// Adopt brings session s.Who().Session from the node holding it to this
	// one (s is its new, pending self here): that node checks key and
	// hands over what Handover holds; the session's rooms now deliver to
	// s. It fails when no live node holds the session or the key is wrong.
	Adopt(s engine.Peer, key string) (Handover, error)
	// MoveSession points the rooms session p is in at node to, and returns
	// them with their owners. When it returns, every frame sent to p
	// before has reached p.
	MoveSession(p engine.Peer, to string) (map[string]string, error)
	// Drain hands the rooms this node owns to the other nodes, before a
	// graceful stop.
	Drain(ctx context.Context) error
}

// Handover is a session as its old node hands it to the node its client
// reconnected to: its recent frames, numbered first to next, the highest
// request ID it read, and its rooms with the nodes owning them.
type Handover struct {
	First    uint64            `json:"first"`
	Next     uint64            `json:"next"`
	Frames   []json.RawMessage `json:"frames"`
	LastRead uint64            `json:"lastRead"`
	Rooms    map[string]string `json:"rooms"`
}

// LocalDirectory finds this node's sessions: by ID, and by user (every
// tab of the user here, attached or waiting for a resume); and hands one
// over to another node.
type LocalDirectory interface {
	calls.Directory
	Session(id string) engine.Peer
	// HandOver gives session id, if app's user holds it with key, to node
	// to: it closes its connection here, moves its rooms, and forgets it.
	HandOver(id, key, app, userID, to string) (Handover, error)
	// EndSessions ends every session here and tells each client to
	// reconnect, for a node whose view of the cluster went stale.
	EndSessions(why string)
}

// New returns a Gateway over eng that admits tokens v accepts. With a
// cluster (nil for a single node), calls and presence go through it.
func New(cfg Config, eng engine.Engine, v *auth.Verifier, log *slog.Logger, cluster Cluster) *Gateway {
	if log == nil {
		log = slog.Default()
	}
	g := &Gateway{cfg: cfg.withDefaults(), engine: eng, verifier: v, log: log, cluster: cluster,
		sessions: map[string]*session{}, users: map[userKey]*user{}, perApp: map[string]int{}, apps: map[string]*appLimit{}, conns: map[*conn]struct{}{}}
	if cluster != nil {
		g.calls = cluster.Calls(g, g.cfg.Calls)
	} else {
		g.calls = calls.NewManager(g, g.cfg.Calls)
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

// EndSessions implements LocalDirectory: the clients reconnect (they log
// in afresh and enter their rooms again), and the others see them leave
// and come back.
func (g *Gateway) EndSessions(why string) {
	g.mu.Lock()
	for c := range g.conns {
		c.closeAfterQueue(websocket.StatusServiceRestart, closeReason(protocol.Errorf(protocol.CodeServerShutdown, "%s", why)))
	}
	sessions := make([]*session, 0, len(g.sessions))
	for _, s := range g.sessions {
		sessions = append(sessions, s)
	}
	g.mu.Unlock()
	for _, s := range sessions {
		s.end()
	}
}

// Draining reports whether the gateway is shutting down (it takes no new
// connection).
func (g *Gateway) Draining() bool {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.closing
}

// Session implements LocalDirectory: the session of this ID here, or nil.
func (g *Gateway) Session(id string) engine.Peer {
	if s := g.session(id); s != nil {
		return s
	}
	return nil
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
	g.mu.Lock()
	sessions := make([]*session, 0, len(g.sessions))
	for _, s := range g.sessions {
		sessions = append(sessions, s)
	}
	g.mu.Unlock()
	for _, s := range sessions {
		s.end()
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
	key := userKey{s.app, s.userID}
	u := g.users[key]
	switch {
	case len(g.sessions) >= g.cfg.MaxSessions:
		return false, protocol.Errorf(protocol.CodeConnectionLimit, "the server has %d sessions, its limit; try again later", g.cfg.MaxSessions)
	case g.perApp[s.app] >= g.cfg.MaxSessionsPerApp:
		return false, protocol.Errorf(protocol.CodeConnectionLimit, "this app has %d sessions on this server, its limit; try again later", g.cfg.MaxSessionsPerApp)
	case u != nil && len(u.sessions) >= g.cfg.MaxSessionsPerUser:
		return false, protocol.Errorf(protocol.CodeConnectionLimit, "user %q has %d sessions (tabs and devices), the most one user may; close one first", s.userID, g.cfg.MaxSessionsPerUser)
	}
	first = u == nil
	g.sessions[s.id] = s
	g.perApp[s.app]++
	if u == nil {
		app := g.apps[s.app]
		if app == nil {
			app = newAppLimit(g.cfg)
			g.apps[s.app] = app
		}
		u = &user{sessions: map[*session]struct{}{}, limit: newUserLimit(g.cfg, app)}
		g.users[key] = u
	}
	u.sessions[s] = struct{}{}
	s.limits = u.limit
	return first, nil
}

// remove forgets s; it reports whether s was its user's last session.
func (g *Gateway) remove(s *session) (last bool) {
	g.mu.Lock()
	defer g.mu.Unlock()
	if g.sessions[s.id] != s {
		return false // never added, or removed already
	}
	delete(g.sessions, s.id)
	if g.perApp[s.app]--; g.perApp[s.app] == 0 {
		delete(g.perApp, s.app)
	}
	key := userKey{s.app, s.userID}
	u := g.users[key]
	if u == nil {
		return false
	}
	delete(u.sessions, s)
	if len(u.sessions) == 0 {
		delete(g.users, key)
		return true
	}
	return false
}

// Peers implements calls.Directory: every session of app's user userID
// whose token admits roomID, attached or waiting for a resume (a resumed
// tab gets what rang meanwhile).
func (g *Gateway) Peers(app, userID, roomID string) []engine.Peer {
	g.mu.Lock()
	defer g.mu.Unlock()
	u := g.users[userKey{app, userID}]
	if u == nil {
		return nil
	}
	out := make([]engine.Peer, 0, len(u.sessions))
	for s := range u.sessions {
		if roomID == "" || s.Who().AdmitsRoom(roomID) {
			out = append(out, s)
		}
	}
	return out
}

func (g *Gateway) session(id string) *session {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.sessions[id]
}

// SessionCount returns the number of sessions, attached or waiting for a
// resume.
func (g *Gateway) SessionCount() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return len(g.sessions)
}

func newSessionID() string {
	var b [12]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}
