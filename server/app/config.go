package app

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"flag"
	"fmt"
	"net"
	"strings"
	"time"

	"roomkit/server/engine"
	"roomkit/server/gateway"
	"roomkit/server/media"
)

// Config is the whole server configuration, read once in main.
type Config struct {
	Addr            string            // listen address
	Static          string            // folder holding index.html and js/; "" serves no page
	Apps            map[string]string // app ID -> server secret
	Dev             bool              // no app was configured: Apps holds the generated dev app
	ShutdownTimeout time.Duration     // how long SIGTERM waits for sessions
	MetricsPublic   bool              // serve /metrics to any address, not loopback only
	Pprof           bool              // serve Go's profiles at /debug/pprof/, to loopback only
	HTTP            HTTPConfig
	Engine          engine.Limits
	Gateway         gateway.Config
	// Redis, redis://host:port/db, makes this server a node of a cluster
	// sharing that Redis; "" runs one node in memory.
	Redis string
	// NodeID names this node in the cluster; "" picks a random one.
	NodeID string
	// Media is the media server's: every room's calls carry their audio
	// and video through it, on the node that owns the room. The zero
	// value takes any free UDP port (tests); a deployment names one.
	Media media.Config
	// MediaOff runs no media server: calls have chat only.
	MediaOff bool
}

// HTTPConfig bounds the HTTP side: how long a request or an idle
// keep-alive connection may take, and how many connections one address
// may hold. A WebSocket, once accepted, is bounded by the gateway's
// heartbeat instead. Zero fields take the defaults named.
type HTTPConfig struct {
	ReadHeaderTimeout time.Duration // 0 = 10 s
	ReadTimeout       time.Duration // a whole request; 0 = 30 s
	WriteTimeout      time.Duration // a whole response; 0 = 60 s (the bundle on a slow link)
	IdleTimeout       time.Duration // a keep-alive connection between requests; 0 = 60 s
	MaxConnsPerIP     int           // open TCP connections from one address; 0 = 1,000, negative = unlimited
}

func (h HTTPConfig) withDefaults() HTTPConfig {
	def := func(d *time.Duration, v time.Duration) {
		if *d == 0 {
			*d = v
		}
	}
	def(&h.ReadHeaderTimeout, 10*time.Second)
	def(&h.ReadTimeout, 30*time.Second)
	def(&h.WriteTimeout, 60*time.Second)
	def(&h.IdleTimeout, 60*time.Second)
	if h.MaxConnsPerIP == 0 {
		h.MaxConnsPerIP = 1000
	}
	return h
}

// DevAppID is the app ID of dev mode's single app.
const DevAppID = "1"

// Default returns the configuration used when no flag or variable says
// otherwise.
func Default() Config {
	c := Config{Addr: "127.0.0.1:8080", ShutdownTimeout: 10 * time.Second}
	c.Media.WriteBatch = DefaultMediaWriteBatch
	return c
}

// DefaultMediaWriteBatch is how many media packets the media server sends
// per system call at most (-media-write-batch): in the media load
// scenario it takes the server from about 47,000 to 51,000–62,000
// forwarded packets per CPU second for about 1 ms more p99 latency.
const DefaultMediaWriteBatch = 64

// ParseFlags reads the serve command's flags and the ROOMKIT_APPS
// ("id=secret,id=secret"), ROOMKIT_ALLOWED_ORIGINS ("pattern,pattern"),
// ROOMKIT_REDIS and ROOMKIT_NODE_ID variables; flags win. With no app configured it
// generates the dev app.
func ParseFlags(args []string, getenv func(string) string) (Config, error) {
	c := Default()
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	var apps, origins multiFlag
	fs.StringVar(&c.Addr, "addr", c.Addr, "listen address")
	fs.StringVar(&c.Static, "static", "", "folder with index.html and js/ to serve (empty: none)")
	fs.Var(&apps, "app", "an app as id=secret (repeatable); none runs dev mode")
	fs.Var(&origins, "allow-origin", "another origin whose pages may connect, as a host (app.example.com, *.example.com) or a whole origin (https://app.example.com:8443) (repeatable; default: the server's own origin only)")
	fs.IntVar(&c.Engine.MaxRooms, "max-rooms", 0, "rooms on the server (0: unlimited)")
	fs.IntVar(&c.Engine.MaxRoomsPerSession, "max-rooms-per-conn", 0, "rooms one connection may be in (0: 100)")
	fs.IntVar(&c.Engine.MaxMembersPerRoom, "max-members", 0, "members a room (0: 5000)")
	fs.IntVar(&c.Engine.MaxShares, "max-shares", 0, "members of a room sharing a screen at once (0: 1)")
	history := fs.Int("history", 100, "room messages kept per room for late joiners (0: none)")
	fs.DurationVar(&c.Engine.JoinBatchWindow, "join-batch-window", 0, "joins this soon after a roomMemberJoined go out together (0: 50ms; negative: each at once)")
	fs.IntVar(&c.Engine.MaxMessageBytes, "max-message-bytes", 0, "largest room message (0: 32 KiB)")
	fs.IntVar(&c.Engine.MaxPeerMessageBytes, "max-peer-message-bytes", 0, "largest member-to-member (signalling) message (0: 16 KiB)")
	fs.IntVar(&c.Engine.MaxRoomsPerApp, "max-rooms-per-app", 0, "rooms of one app (0: 100,000)")
	fs.IntVar(&c.Engine.MaxHistoryBytes, "history-bytes", 0, "bytes of messages kept per room (0: 1 MiB)")
	fs.Int64Var(&c.Engine.MaxStoredBytesPerApp, "max-stored-bytes-per-app", 0, "history and attribute bytes one app's rooms may hold (0: 512 MiB)")
	fs.Int64Var(&c.Engine.MaxStoredBytes, "max-stored-bytes", 0, "history and attribute bytes all rooms may hold (0: 2 GiB)")
	fs.IntVar(&c.Gateway.SendQueueBytes, "send-queue-bytes", 0, "per-connection send queue before it is dropped as slow (0: 1 MiB)")
	fs.IntVar(&c.Gateway.MaxSessions, "max-sessions", 0, "sessions on the server (0: 50,000)")
	fs.IntVar(&c.Gateway.MaxSessionsPerApp, "max-sessions-per-app", 0, "sessions of one app (0: 25,000)")
	fs.IntVar(&c.Gateway.MaxSessionsPerUser, "max-sessions-per-user", 0, "sessions (tabs, devices) of one user (0: 50)")
	fs.IntVar(&c.Gateway.Calls.MaxCallsPerApp, "max-calls-per-app", 0, "calls of one app (0: 10,000)")
	fs.DurationVar(&c.ShutdownTimeout, "shutdown-timeout", c.ShutdownTimeout, "how long a graceful stop waits")
	fs.BoolVar(&c.MetricsPublic, "metrics-public", false, "serve /metrics to any address (default: loopback only)")
	fs.BoolVar(&c.Pprof, "pprof", false, "serve Go's runtime profiles at /debug/pprof/ to loopback addresses")
	fs.IntVar(&c.HTTP.MaxConnsPerIP, "max-conns-per-ip", 0, "open connections from one address (0: 1,000; -1: unlimited, e.g. behind a proxy)")
	fs.DurationVar(&c.Gateway.PingInterval, "ping-interval", 0, "how often the server pings each connection (0: 10s)")
	fs.DurationVar(&c.Gateway.PingTimeout, "ping-timeout", 0, "how long a pong may take before the connection counts as dead (0: 10s)")
	fs.StringVar(&c.Redis, "redis", "", "redis://host:port/db of a Redis shared by several nodes (default: one node, in memory)")
	fs.StringVar(&c.NodeID, "node-id", "", "this node's name in the cluster (default: random)")
	mediaOn := fs.Bool("media", true, "run the media server (an SFU): calls carry audio and video through this node; false: chat only")
	fs.IntVar(&c.Media.UDPPort, "media-udp-port", 7882, "the one UDP port all media uses (open it to clients; 0: any free port)")
	fs.IntVar(&c.Media.TCPPort, "media-tcp-port", 0, "a TCP port for media (ICE over TCP), the fallback for networks that block UDP (open it to clients; 0: none)")
	publicIP := fs.String("media-public-ip", "", "the address clients reach this node's media at, for a server behind NAT (comma-separated; default: the local addresses)")
	fs.BoolVar(&c.Media.Loopback, "media-loopback", false, "offer loopback addresses for media too (a browser on this machine; tests)")
	fs.IntVar(&c.Media.WriteBatch, "media-write-batch", c.Media.WriteBatch, "send media in batches of up to this many packets per system call (sendmmsg, Linux), each within 1 ms (0 or 1: one packet a call)")
	if err := fs.Parse(args); err != nil {
		return c, err
	}
	c.MediaOff = !*mediaOn
	c.Media.TCP = c.Media.TCPPort != 0
	for _, ip := range strings.Split(*publicIP, ",") {
		if ip = strings.TrimSpace(ip); ip != "" {
			c.Media.PublicIPs = append(c.Media.PublicIPs, ip)
		}
	}
	if c.Redis == "" {
		c.Redis = getenv("ROOMKIT_REDIS")
	}
	if c.NodeID == "" {
		c.NodeID = getenv("ROOMKIT_NODE_ID")
	}
	c.Engine.HistorySize = *history
	if *history == 0 {
		c.Engine.HistorySize = -1 // the engine's zero means its default
	}
	if len(apps) == 0 && getenv("ROOMKIT_APPS") != "" {
		apps = strings.Split(getenv("ROOMKIT_APPS"), ",")
	}
	if len(origins) == 0 && getenv("ROOMKIT_ALLOWED_ORIGINS") != "" {
		origins = strings.Split(getenv("ROOMKIT_ALLOWED_ORIGINS"), ",")
	}
	for _, o := range origins {
		if o = strings.TrimSpace(o); o != "" {
			c.Gateway.OriginPatterns = append(c.Gateway.OriginPatterns, o)
		}
	}
	var err error
	if c.Apps, err = parseApps(apps); err != nil {
		return c, err
	}
	if len(c.Apps) == 0 {
		c.Apps = map[string]string{DevAppID: NewDevSecret()}
		c.Dev = true
	}
	return c, c.Validate()
}

// NewDevSecret makes a random dev secret.
func NewDevSecret() string {
	var b [16]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

func parseApps(list []string) (map[string]string, error) {
	apps := map[string]string{}
	for _, a := range list {
		id, secret, ok := strings.Cut(strings.TrimSpace(a), "=")
		if !ok || id == "" || secret == "" {
			return nil, fmt.Errorf("app %q: write it as id=secret", a)
		}
		apps[id] = secret
	}
	return apps, nil
}

// Validate checks the configuration.
func (c Config) Validate() error {
	var errs []error
	if c.Addr == "" {
		errs = append(errs, errors.New("addr is empty"))
	}
	if c.Redis != "" && c.Dev {
		errs = append(errs, errors.New("several nodes need their apps given (-app id=secret, the same on every node): dev mode makes a secret of its own on each"))
	}
	for id, secret := range c.Apps {
		if len(secret) < 16 {
			errs = append(errs, fmt.Errorf("app %q: the secret is %d characters; use at least 16", id, len(secret)))
		}
	}
	for _, p := range []int{c.Media.UDPPort, c.Media.TCPPort} {
		if p < 0 || p > 65535 {
			errs = append(errs, fmt.Errorf("media port %d: use 1 to 65535, or 0", p))
		}
	}
	for _, ip := range c.Media.PublicIPs {
		if net.ParseIP(ip) == nil {
			errs = append(errs, fmt.Errorf("media public IP %q is not an IP address", ip))
		}
	}
	if c.Engine.MaxRooms < 0 || c.Engine.MaxRoomsPerApp < 0 || c.Engine.MaxRoomsPerSession < 0 || c.Engine.MaxMembersPerRoom < 0 ||
		c.Engine.MaxHistoryBytes < 0 || c.Engine.MaxStoredBytesPerApp < 0 || c.Engine.MaxStoredBytes < 0 ||
		c.Gateway.MaxSessions < 0 || c.Gateway.MaxSessionsPerApp < 0 || c.Gateway.MaxSessionsPerUser < 0 || c.Gateway.Calls.MaxCallsPerApp < 0 {
		errs = append(errs, errors.New("limits cannot be negative"))
	}
	return errors.Join(errs...)
}

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }
