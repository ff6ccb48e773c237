package app

import (
	"bufio"
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"net/http/httptest"
	"regexp"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/auth"
)

const secret = "app-test-secret-0123456789"

func start(t *testing.T, mut func(*Config)) *Server {
	t.Helper()
	return startLogged(t, mut, slog.New(slog.DiscardHandler))
}

func startLogged(t *testing.T, mut func(*Config), log *slog.Logger) *Server {
	t.Helper()
	cfg := Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.Apps = map[string]string{DevAppID: secret}
	cfg.Dev = true
	if mut != nil {
		mut(&cfg)
	}
	s, err := Start(cfg, log)
	require.NoError(t, err)
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = s.Shutdown(ctx)
	})
	return s
}

// closedWithin reports whether the server closes c within d.
func closedWithin(c net.Conn, d time.Duration) bool {
	_ = c.SetReadDeadline(time.Now().Add(d))
	_, err := io.Copy(io.Discard, c)
	return err == nil // EOF: the server closed it; a timeout is an error
}

// An idle keep-alive connection is closed after the idle timeout; it is
// not held for as long as the client likes.
func TestIdleKeepAliveConnectionsAreClosed(t *testing.T) {
	s := start(t, func(c *Config) {
		c.HTTP.IdleTimeout, c.HTTP.ReadHeaderTimeout = 200*time.Millisecond, 300*time.Millisecond
	})
	c, err := net.Dial("tcp", s.Addr())
	require.NoError(t, err)
	defer c.Close()
	_, err = io.WriteString(c, "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
	require.NoError(t, err)
	res, err := http.ReadResponse(bufio.NewReader(c), nil)
	require.NoError(t, err)
	_, _ = io.Copy(io.Discard, res.Body)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.True(t, closedWithin(c, 3*time.Second), "the idle connection was closed")

	// A connection that never sends its request is closed too.
	c2, err := net.Dial("tcp", s.Addr())
	require.NoError(t, err)
	defer c2.Close()
	_, _ = io.WriteString(c2, "GET /healthz HTTP/1.1\r\n")
	assert.True(t, closedWithin(c2, 3*time.Second), "the unfinished request was closed")
}

// The HTTP timeouts do not touch a WebSocket once it is accepted (the
// hijack clears the request's deadlines): it lives on past them, kept by
// its heartbeat.
func TestWebSocketsOutliveHTTPTimeouts(t *testing.T) {
	s := start(t, func(c *Config) {
		c.HTTP.ReadTimeout, c.HTTP.WriteTimeout = 200*time.Millisecond, 200*time.Millisecond
	})
	ws, _, err := websocket.Dial(context.Background(), "ws://"+s.Addr()+"/ws", nil)
	require.NoError(t, err)
	defer ws.CloseNow()
	tok, err := auth.Mint(secret, auth.Claims{AppID: DevAppID, UserID: "u"}, time.Now(), time.Hour)
	require.NoError(t, err)
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, ws.Write(ctx, websocket.MessageText, []byte(`{"id":1,"op":"login","data":{"token":"`+tok+`","version":1}}`)))
	_, _, err = ws.Read(ctx)
	require.NoError(t, err)
	time.Sleep(600 * time.Millisecond)
	require.NoError(t, ws.Write(ctx, websocket.MessageText, []byte(`{"id":2,"op":"enterRoom","data":{"roomInfo":{"roomID":"r"}}}`)))
	_, b, err := ws.Read(ctx)
	require.NoError(t, err)
	assert.Contains(t, string(b), `"roomID":"r"`)
}

// One address may hold only so many connections; the next is closed at
// once, and a place freed is usable again.
func TestConnectionsPerAddressAreCapped(t *testing.T) {
	s := start(t, func(c *Config) { c.HTTP.MaxConnsPerIP = 3 })
	var held []net.Conn
	for range 3 {
		c, err := net.Dial("tcp", s.Addr())
		require.NoError(t, err)
		held = append(held, c)
	}
	extra, err := net.Dial("tcp", s.Addr())
	require.NoError(t, err)
	assert.True(t, closedWithin(extra, 3*time.Second), "the fourth connection was closed")
	extra.Close()
	held[0].Close()
	require.Eventually(t, func() bool {
		res, err := (&http.Client{Transport: &http.Transport{DisableKeepAlives: true}}).Get("http://" + s.Addr() + "/healthz")
		if err != nil {
			return false
		}
		res.Body.Close()
		return res.StatusCode == http.StatusOK
	}, 3*time.Second, 50*time.Millisecond)
	for _, c := range held[1:] {
		c.Close()
	}
}

// The dev config, which holds the dev app's secret, is answered only to a
// loopback Host: a rebinding attacker's name gets nothing.
func TestDevConfigAnswersLoopbackHostsOnly(t *testing.T) {
	s := start(t, nil)
	get := func(host string) (int, string) {
		req, _ := http.NewRequest(http.MethodGet, "http://"+s.Addr()+"/dev/config.json", nil)
		req.Host = host
		res, err := http.DefaultClient.Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	for _, host := range []string{"attacker.example", "attacker.example:8080", "192.168.1.5:8080", "localhost.attacker.example", "127.0.0.1.attacker.example"} {
		code, body := get(host)
		assert.Equal(t, http.StatusForbidden, code, host)
		assert.NotContains(t, body, secret, host)
	}
	for _, host := range []string{"127.0.0.1:8080", "localhost:8080", "LOCALHOST", "[::1]:8080", "app.localhost:8080"} {
		code, body := get(host)
		assert.Equal(t, http.StatusOK, code, host)
		assert.Contains(t, body, secret, host)
	}
}

func TestLoopbackHost(t *testing.T) {
	assert.True(t, loopbackHost("127.0.0.2"))
	assert.False(t, loopbackHost(""))
	assert.False(t, loopbackHost(strings.Repeat("a", 300)))
}

// lockedBuffer is a log sink the server's goroutines may share.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// /metrics tells what the server holds and what it did, in the Prometheus
// text format; the logs say who logged in and what was refused, and never
// carry a token or a secret.
func TestMetricsAndLogs(t *testing.T) {
	var logs lockedBuffer
	s := startLogged(t, nil, slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})))
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	tokens := []string{}
	mint := func(key, user string) string {
		tok, err := auth.Mint(key, auth.Claims{AppID: DevAppID, UserID: user}, time.Now(), time.Hour)
		require.NoError(t, err)
		tokens = append(tokens, tok)
		return tok
	}
	connect := func(tok string) (*websocket.Conn, string) {
		ws, _, err := websocket.Dial(ctx, "ws://"+s.Addr()+"/ws", nil)
		require.NoError(t, err)
		t.Cleanup(func() { ws.CloseNow() })
		require.NoError(t, ws.Write(ctx, websocket.MessageText, []byte(`{"id":1,"op":"login","data":{"token":"`+tok+`","version":1}}`)))
		_, b, err := ws.Read(ctx)
		require.NoError(t, err)
		return ws, string(b)
	}
	do := func(ws *websocket.Conn, frame string) string {
		require.NoError(t, ws.Write(ctx, websocket.MessageText, []byte(frame)))
		_, b, err := ws.Read(ctx)
		require.NoError(t, err)
		return string(b)
	}
	_, refused := connect(mint("a-wrong-secret-0123456789", "mallory"))
	assert.Contains(t, refused, "6000103")
	ann, _ := connect(mint(secret, "ann"))
	assert.Contains(t, do(ann, `{"id":2,"op":"enterRoom","data":{"roomInfo":{"roomID":"r"}}}`), `"roomID":"r"`)
	assert.Contains(t, do(ann, `{"id":3,"op":"sendRoomMessage","data":{"roomID":"r","message":{"type":1,"message":"hi"}}}`), `"orderKey":1`)
	assert.Contains(t, do(ann, `{"id":4,"op":"joinRoom","data":{"roomID":"nowhere"}}`), "6000322")
	assert.Contains(t, do(ann, `{"id":5,"op":"renewToken","data":{"token":"`+mint(secret, "ann")+`"}}`), "expiresAt")

	res, err := http.Get("http://" + s.Addr() + "/metrics")
	require.NoError(t, err)
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	assert.Equal(t, "text/plain; version=0.0.4; charset=utf-8", res.Header.Get("Content-Type"))
	value := func(series string) float64 {
		m := regexp.MustCompile(`(?m)^` + regexp.QuoteMeta(series) + ` (\S+)$`).FindStringSubmatch(string(body))
		require.NotNil(t, m, "no %s in\n%s", series, body)
		v, err := strconv.ParseFloat(m[1], 64)
		require.NoError(t, err)
		return v
	}
	assert.Equal(t, 1.0, value("roomkit_sessions"))
	assert.Equal(t, 1.0, value("roomkit_rooms"))
	assert.Equal(t, 1.0, value("roomkit_room_members"))
	assert.Equal(t, 1.0, value("roomkit_messages_total"))
	assert.Equal(t, 1.0, value(`roomkit_refused_total{code="6000103"}`))
	assert.Equal(t, 1.0, value(`roomkit_refused_total{code="6000322"}`))
	assert.Equal(t, 6.0, value("roomkit_requests_total"))
	assert.Greater(t, value(`roomkit_stored_bytes{app="1"}`), 0.0)
	assert.Equal(t, float64(512<<20), value("roomkit_stored_bytes_limit_per_app"))
	assert.Greater(t, value("roomkit_frames_sent_total"), 3.0)

	out := logs.String()
	assert.Contains(t, out, `"msg":"logged in","app":"1","user":"ann"`)
	assert.Contains(t, out, `"msg":"login refused","code":6000103`)
	for _, tok := range tokens {
		assert.NotContains(t, out, tok, "a token in the logs")
		assert.NotContains(t, out, strings.Split(tok, ".")[2], "a token's signature in the logs")
	}
	assert.NotContains(t, out, secret)
}

// /metrics is for the operator: another host gets nothing unless the
// server says otherwise.
func TestMetricsAreLoopbackOnlyByDefault(t *testing.T) {
	assert.True(t, loopbackAddr("127.0.0.1:5000"))
	assert.True(t, loopbackAddr("[::1]:5000"))
	assert.False(t, loopbackAddr("192.168.1.2:5000"))
	s := start(t, nil)
	req := httptest.NewRequest(http.MethodGet, "/metrics", nil)
	req.RemoteAddr = "203.0.113.9:4000"
	rec := httptest.NewRecorder()
	s.Handler().ServeHTTP(rec, req)
	assert.Equal(t, http.StatusForbidden, rec.Code)
	public := start(t, func(c *Config) { c.MetricsPublic = true })
	rec = httptest.NewRecorder()
	public.Handler().ServeHTTP(rec, req)
	assert.Equal(t, http.StatusOK, rec.Code)
	assert.Contains(t, rec.Body.String(), "roomkit_connections 0")
}

// Profiles are served only when asked for, and to loopback only.
func TestProfilesOnlyWhenAskedAndToLoopback(t *testing.T) {
	get := func(s *Server, remote string) int {
		req := httptest.NewRequest(http.MethodGet, "/debug/pprof/", nil)
		req.RemoteAddr = remote
		rec := httptest.NewRecorder()
		s.Handler().ServeHTTP(rec, req)
		return rec.Code
	}
	assert.Equal(t, http.StatusNotFound, get(start(t, nil), "127.0.0.1:4000"))
	on := start(t, func(c *Config) { c.Pprof = true })
	assert.Equal(t, http.StatusOK, get(on, "127.0.0.1:4000"))
	assert.Equal(t, http.StatusForbidden, get(on, "203.0.113.9:4000"))
}

// Allowed origins come from -allow-origin (repeatable), else from
// ROOMKIT_ALLOWED_ORIGINS; flags win.
func TestAllowedOriginsFromFlagsOrEnvironment(t *testing.T) {
	env := func(k string) string {
		if k == "ROOMKIT_ALLOWED_ORIGINS" {
			return "https://app.example.com, *.example.org"
		}
		return ""
	}
	c, err := ParseFlags(nil, env)
	require.NoError(t, err)
	assert.Equal(t, []string{"https://app.example.com", "*.example.org"}, c.Gateway.OriginPatterns)
	c, err = ParseFlags([]string{"-allow-origin", "a.example.com", "-allow-origin", "b.example.com"}, env)
	require.NoError(t, err)
	assert.Equal(t, []string{"a.example.com", "b.example.com"}, c.Gateway.OriginPatterns)
	c, err = ParseFlags(nil, func(string) string { return "" })
	require.NoError(t, err)
	assert.Empty(t, c.Gateway.OriginPatterns, "the server's own origin only")
}
