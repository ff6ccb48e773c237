package e2e

import (
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/app"
)

// A page served from another origin (another port) connects to a server
// that allows that origin, and gets a clear error from one that does not.
func TestAnotherOriginConnectsOnlyWhenAllowed(t *testing.T) {
	t.Parallel()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	mux := http.NewServeMux()
	mux.Handle("/js/", http.FileServer(http.Dir(root)))
	mux.HandleFunc("/", func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(`<!doctype html><title>another origin</title><p>An app of its own.</p>`))
	})
	other := httptest.NewServer(mux)
	t.Cleanup(other.Close)
	otherHost := strings.TrimPrefix(other.URL, "http://")

	allows := startServer(t, "127.0.0.1:0", func(c *app.Config) { c.Gateway.OriginPatterns = []string{otherHost} })
	refuses := startServer(t, "127.0.0.1:0")

	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	p := &page{t: t, ctx: ctx}
	// The first action on a new context opens its tab for the context's
	// life, so it runs on ctx itself, as openPage does.
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(other.URL)))
	p.loadModule()
	login := func(s *server) string {
		return p.call(`RK.RoomKit.login({ server: 'ws://` + s.Addr() + `/ws', token: RK.RoomKit.generateKitTokenForTest('` + app.DevAppID + `', '` + secret + `', '', 'ann', 'Ann', 3600) })
			.then(async (zim) => { const r = await zim.enterRoom({ roomID: 'x' }); await zim.logout(); return r.roomInfo.baseInfo.roomID; })`)
	}
	assert.Equal(t, `ok "x"`, login(allows))
	res := login(refuses)
	assert.True(t, strings.HasPrefix(res, "error 6100017 true origin "+other.URL+" is not allowed by the server"), res)
}
