package gateway

import (
	"net/http"
	"net/url"
	"path"
	"strings"
)

// originAllowed reports whether a WebSocket upgrade from r's Origin may be
// served: a request with no Origin (not a browser), one from the server's
// own host, or one matching a pattern. A pattern with "://" is matched
// against the whole origin ("https://*.example.com"), any other against its
// host ("app.example.com:8443", "*.example.com"), with path.Match's
// wildcards, case-insensitively.
func originAllowed(r *http.Request, patterns []string) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	if err != nil || u.Host == "" {
		return false
	}
	if strings.EqualFold(u.Host, r.Host) {
		return true
	}
	full := strings.ToLower(u.Scheme + "://" + u.Host)
	host := strings.ToLower(u.Host)
	for _, p := range patterns {
		p = strings.ToLower(strings.TrimSpace(p))
		target := host
		if strings.Contains(p, "://") {
			target = full
		}
		if ok, _ := path.Match(p, target); ok {
			return true
		}
	}
	return false
}
