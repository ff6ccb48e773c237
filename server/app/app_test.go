package app

import (
	"bufio"
	"context"
	"io"
	"net"
	"net/http"
	"strings"
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
	cfg := Default()
	cfg.Addr = "127.0.0.1:0"
	cfg.Apps = map[string]string{DevAppID: secret}
	cfg.Dev = true
	if mut != nil {
		mut(&cfg)
	}
	s, err := Start(cfg, nil)
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
