package e2e

import (
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/app"
)

var (
	vendorScript = regexp.MustCompile(`<script src="https://unpkg\.com/@zegocloud/zego-uikit-prebuilt[^"]*"></script>`)
	vendorAppID  = regexp.MustCompile(`const appID = [^;]*;`)
	vendorSecret = regexp.MustCompile(`const serverSecret = "[^"]*";`)
)

// movedSample is the hosted call kit's published sample page file, moved
// to the roomkit server s as its README says: the script tag replaced by
// roomkit.global.js and the binding line, and the app ID and secret
// (which the samples leave to the developer) filled in.
func movedSample(t *testing.T, s *server, file string) string {
	t.Helper()
	raw, err := os.ReadFile("testdata/vendor/" + file)
	require.NoError(t, err)
	html := string(raw)
	for _, re := range []*regexp.Regexp{vendorScript, vendorAppID, vendorSecret} {
		require.Len(t, re.FindAllString(html, -1), 1, "%s has one %s", file, re)
	}
	html = vendorScript.ReplaceAllLiteralString(html, `<script src="`+s.url()+`js/roomkit.global.js"></script>
<script>var ZegoUIKitPrebuilt = RoomKit;</script>`)
	html = vendorAppID.ReplaceAllLiteralString(html, `const appID = `+app.DevAppID+`;`)
	return vendorSecret.ReplaceAllLiteralString(html, `const serverSecret = `+jsString(secret)+`;`)
}

// The hosted call kit's own published sample pages (group call, 1-on-1,
// video conference), moved by their script tag and one binding line, run
// on roomkit from a page of another origin: each user presses Join in the
// pre-join view; the group call's three and the conference's two are in
// the call and see each other, and the 1-on-1 call keeps a third out.
func TestVendorSamplePages(t *testing.T) {
	for _, tc := range []struct {
		file  string
		users int
		kept  bool // a third user is kept out
	}{
		{"groupCall.html", 3, false},
		{"1On1Call.html", 2, true},
		{"videoConference.html", 2, false},
	} {
		t.Run(tc.file, func(t *testing.T) {
			var html string
			site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
				w.Header().Set("Content-Type", "text/html; charset=utf-8")
				_, _ = w.Write([]byte(html))
			}))
			t.Cleanup(site.Close)
			s := startServer(t, "127.0.0.1:0", func(c *app.Config) {
				c.Gateway.OriginPatterns = []string{strings.TrimPrefix(site.URL, "http://")}
			})
			html = movedSample(t, s, tc.file)
			open := func() (*page, string) {
				ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
				t.Cleanup(cancel)
				p := &page{t: t, ctx: ctx}
				require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(site.URL+"/")))
				p.waitText(`[data-testid=prejoin-view]`, "room01")
				p.click("prejoin-join")
				return p, evalAs[string](p, `userID`)
			}
			var pages []*page
			var ids []string
			for range tc.users {
				p, id := open()
				pages = append(pages, p)
				ids = append(ids, id)
			}
			for _, p := range pages {
				p.waitMembers(ids...)
				assert.Equal(t, "room01", evalAs[string](p, `zp.getRoomID()`))
			}
			first := pages[0].frames(ids[1])
			require.Eventually(t, func() bool { return pages[0].frames(ids[1]) > first+5 }, 30*time.Second, 200*time.Millisecond, "no video from the other user")
			if tc.kept {
				third, _ := open()
				third.waitText(`[data-testid=error-view]`, "This is a 1-on-1 call")
				assert.True(t, slices.Equal(sortedCopy(pages[0].members()), sortedCopy(ids)), "the two stay alone: %v", pages[0].members())
			}
		})
	}
}

func sortedCopy(s []string) []string { return slices.Sorted(slices.Values(s)) }
