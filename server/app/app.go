// Package app assembles a roomkit server from its parts: the room engine,
// the token verifier, the WebSocket gateway and the static files. main and
// the end-to-end tests both start servers through it.
package app

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"net/http/pprof"
	"net/url"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"roomkit/server/auth"
	"roomkit/server/cluster"
	"roomkit/server/directory"
	"roomkit/server/distributed"
	"roomkit/server/engine"
	"roomkit/server/gateway"
	"roomkit/server/media"
	"roomkit/server/web"
)

// Server is a running roomkit server.
type Server struct {
	cfg Config
	// Engine holds the rooms this node owns: every room on a single node.
	Engine  *engine.Manager
	Gateway *gateway.Gateway
	// Media is the node's media server; nil when media is off.
	Media *media.Server
	// ready reports whether the node can serve: always on a single node;
	// in a cluster, once its Redis answers.
	ready    func(context.Context) error
	log      *slog.Logger
	notReady atomic.Bool // the last readiness check failed (logged once per outage)
	http     *http.Server
	ln       net.Listener
	done     chan error

	shutdownOnce sync.Once
	shutdownErr  error
}

// Handler returns the server's HTTP routes: /ws, /healthz, /readyz, the dev config
// in dev mode, and the static files when cfg.Static is set.
func (s *Server) Handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("/ws", s.Gateway)
	mux.HandleFunc("/healthz", func(w http.ResponseWriter, r *http.Request) { _, _ = w.Write([]byte("ok\n")) })
	mux.HandleFunc("/readyz", func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), time.Second)
		defer cancel()
		if s.Gateway.Draining() {
			http.Error(w, "not ready: shutting down", http.StatusServiceUnavailable)
			return
		}
		if err := s.ready(ctx); err != nil {
			if r.Context().Err() != nil {
				return // the probe hung up: that says nothing of Redis
			}
			// The detail (addresses, the driver's words) is for the
			// operator's log, not for whoever can reach the port.
			if !s.notReady.Swap(true) {
				s.log.Warn("not ready: the cluster's Redis does not answer", "err", err)
			}
			http.Error(w, "not ready: the cluster's Redis does not answer", http.StatusServiceUnavailable)
			return
		}
		if s.notReady.Swap(false) {
			s.log.Info("ready again: the cluster's Redis answers")
		}
		_, _ = w.Write([]byte("ok\n"))
	})
	mux.HandleFunc("/metrics", s.metrics)
	if s.cfg.Dev {
		// The demo page reads the dev app's ID and secret here to make test
		// tokens. Only in dev mode: a configured secret never leaves the
		// server. Only to a loopback Host: a page of another site whose name
		// was made to resolve to this machine (DNS rebinding) is refused.
		mux.HandleFunc("/dev/config.json", func(w http.ResponseWriter, r *http.Request) {
			if !loopbackHost(r.Host) {
				http.Error(w, "the dev config is served to localhost only: open the page as http://localhost or http://127.0.0.1", http.StatusForbidden)
				return
			}
			w.Header().Set("Content-Type", "application/json")
			w.Header().Set("Cache-Control", "no-store")
			_ = json.NewEncoder(w).Encode(map[string]string{"appID": DevAppID, "serverSecret": s.cfg.Apps[DevAppID]})
		})
	}
	if s.cfg.Pprof {
		mux.Handle("/debug/pprof/", loopbackOnly(http.HandlerFunc(pprof.Index)))
		mux.Handle("/debug/pprof/profile", loopbackOnly(http.HandlerFunc(pprof.Profile)))
		mux.Handle("/debug/pprof/trace", loopbackOnly(http.HandlerFunc(pprof.Trace)))
	}
	if s.cfg.Static != "" {
		mux.Handle("/", web.NewStatic(s.cfg.Static))
	}
	return mux
}

// Start listens on cfg.Addr and serves in the background. With cfg.Redis
// the server first joins the cluster as a node: it fails if Redis does not
// answer.
func Start(cfg Config, log *slog.Logger) (*Server, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if log == nil {
		log = slog.Default()
	}
	ms, err := startMedia(cfg)
	if err != nil {
		return nil, err
	}
	if cfg.Redis == "" {
		ln, err := net.Listen("tcp", cfg.Addr)
		if err != nil {
			closeMedia(ms)
			return nil, err
		}
		return serveOne(cfg, ln, log, ms), nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	// The registry of this node's sessions comes first: the engine finds
	// sessions in it from its start, the gateway adds them to it.
	sessions := directory.NewRegistry()
	eng, err := distributed.New(ctx, cluster.Config{RedisURL: cfg.Redis, NodeID: cfg.NodeID},
		distributed.Config{Limits: cfg.Engine, Sessions: sessions, Calls: cfg.Gateway.Calls}, log, mediaOptions(ms)...)
	if err != nil {
		closeMedia(ms)
		return nil, err
	}
	ln, err := net.Listen("tcp", cfg.Addr)
	if err != nil {
		eng.Close()
		closeMedia(ms)
		return nil, err
	}
	log = log.With("node", eng.Node().ID())
	log.Info("joined the cluster", "redis", redactURL(cfg.Redis))
	return serve(cfg, ln, log, eng, eng.Local(), eng.Ready, eng, ms), nil
}

// Serve serves on ln in the background, as a single node. A media server
// that cannot start is logged, and calls have chat only.
func Serve(cfg Config, ln net.Listener, log *slog.Logger) *Server {
	if log == nil {
		log = slog.Default()
	}
	ms, err := startMedia(cfg)
	if err != nil {
		log.Error("calls have no media", "err", err)
	}
	return serveOne(cfg, ln, log, ms)
}

func serveOne(cfg Config, ln net.Listener, log *slog.Logger, ms *media.Server) *Server {
	eng := engine.NewManager(cfg.Engine, mediaOptions(ms)...)
	return serve(cfg, ln, log, eng, eng, func(context.Context) error { return nil }, nil, ms)
}

// startMedia starts the media server the config asks for (nil when media
// is off).
func startMedia(cfg Config) (*media.Server, error) {
	if cfg.MediaOff {
		return nil, nil
	}
	ms, err := media.NewServer(cfg.Media)
	if err != nil {
		return nil, fmt.Errorf("the media server did not start: %w", err)
	}
	return ms, nil
}

// mediaOptions are the engine options that give every room its media
// side.
func mediaOptions(ms *media.Server) []engine.Option {
	if ms == nil {
		return nil
	}
	return []engine.Option{engine.WithExtensions(ms.Extensions())}
}

func closeMedia(ms *media.Server) {
	if ms != nil {
		_ = ms.Close()
	}
}

// redactURL hides a Redis URL's password for the log.
func redactURL(raw string) string {
	if u, err := url.Parse(raw); err == nil {
		return u.Redacted()
	}
	return "(unparsable)"
}

func serve(cfg Config, ln net.Listener, log *slog.Logger, eng engine.Engine, local *engine.Manager, ready func(context.Context) error, cluster directory.Cluster, ms *media.Server) *Server {
	s := &Server{cfg: cfg, Engine: local, Media: ms, ln: ln, done: make(chan error, 1), ready: ready, log: log}
	cfg.Gateway.Media = ms != nil
	s.Gateway = gateway.New(cfg.Gateway, eng, auth.NewVerifier(cfg.Apps, nil), log, cluster)
	local.OnRoomEnded(s.Gateway.RoomEnded) // a room ended for all ends its calls
	h := cfg.HTTP.withDefaults()
	s.http = &http.Server{Handler: s.Handler(), ReadHeaderTimeout: h.ReadHeaderTimeout, ReadTimeout: h.ReadTimeout,
		WriteTimeout: h.WriteTimeout, IdleTimeout: h.IdleTimeout, ErrorLog: slog.NewLogLogger(log.Handler(), slog.LevelDebug)}
	if h.MaxConnsPerIP > 0 {
		ln = limitPerAddress(ln, h.MaxConnsPerIP)
	}
	go func() { s.done <- s.http.Serve(ln) }()
	return s
}

// loopbackOnly serves h to loopback addresses only.
func loopbackOnly(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !loopbackAddr(r.RemoteAddr) {
			http.Error(w, "profiles are served to loopback only", http.StatusForbidden)
			return
		}
		h.ServeHTTP(w, r)
	})
}

// loopbackHost reports whether a request's Host names this machine's
// loopback: localhost (or a name under it), 127.0.0.0/8 or ::1.
func loopbackHost(host string) bool {
	if h, _, err := net.SplitHostPort(host); err == nil {
		host = h
	}
	host = strings.TrimSuffix(strings.ToLower(strings.Trim(host, "[]")), ".")
	if host == "localhost" || strings.HasSuffix(host, ".localhost") {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Addr is the address the server listens on.
func (s *Server) Addr() string { return s.ln.Addr().String() }

// Shutdown stops accepting, tells every connection the server is going
// away, ends the rooms and waits up to ctx for sessions to finish.
// Later calls return the first call's result.
func (s *Server) Shutdown(ctx context.Context) error {
	s.shutdownOnce.Do(func() {
		herr := s.http.Shutdown(ctx)
		gerr := s.Gateway.Shutdown(ctx)
		if err := <-s.done; err != nil && !errors.Is(err, http.ErrServerClosed) {
			herr = errors.Join(herr, err)
		}
		// The rooms ended with the gateway's engine, and their media with
		// them: the media server's sockets go last.
		closeMedia(s.Media)
		s.shutdownErr = errors.Join(herr, gerr)
	})
	return s.shutdownErr
}
