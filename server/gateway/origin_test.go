package gateway

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/coder/websocket"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/protocol"
)

func TestOriginAllowed(t *testing.T) {
	patterns := []string{"app.example.com", "*.trusted.org", "https://secure.example.net:8443"}
	for origin, want := range map[string]bool{
		"":                                true, // not a browser
		"http://roomkit.local:8080":       true, // the server's own
		"https://app.example.com":         true,
		"https://APP.example.com":         true,
		"https://a.trusted.org":           true,
		"https://secure.example.net:8443": true,
		"http://secure.example.net:8443":  false, // the scheme is part of that pattern
		"https://evil.example.com":        false,
		"https://trusted.org.evil.com":    false,
		"null":                            false,
		"::::":                            false,
	} {
		r := httptest.NewRequest(http.MethodGet, "http://roomkit.local:8080/ws", nil)
		r.Host = "roomkit.local:8080"
		if origin != "" {
			r.Header.Set("Origin", origin)
		}
		assert.Equal(t, want, originAllowed(r, patterns), "origin %q", origin)
	}
}

// A page of an origin the server does not allow is accepted and closed at
// once, with a reason that names its origin and the fix, so the client can
// say so; an allowed one logs in.
func TestRefusedOriginGetsAReason(t *testing.T) {
	srv, _ := newServer(t, Config{OriginPatterns: []string{"good.example.com"}})
	url := "ws" + strings.TrimPrefix(srv.URL, "http")
	dialFrom := func(origin string) *websocket.Conn {
		c, _, err := websocket.Dial(context.Background(), url, &websocket.DialOptions{HTTPHeader: http.Header{"Origin": {origin}}})
		require.NoError(t, err)
		t.Cleanup(func() { c.CloseNow() })
		return c
	}
	bad := dialFrom("https://evil.example.com")
	ce := closed(t, bad)
	assert.Equal(t, websocket.StatusPolicyViolation, ce.Code)
	assert.True(t, strings.HasPrefix(ce.Reason, "6100017 origin https://evil.example.com is not allowed"), ce.Reason)
	assert.Contains(t, ce.Reason, "-allow-origin")

	good := dialFrom("https://good.example.com")
	send(t, good, loginFrame(tokenFor(t, "ann", time.Hour), protocol.Version))
	f := read(t, good)
	assert.Nil(t, f.Error)
}
