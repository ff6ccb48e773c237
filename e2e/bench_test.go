package e2e

import (
	"context"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"roomkit/server/app"
	"roomkit/server/gateway"
)

// benchPage is a page that does nothing but import the module and note
// when it is ready, in ms after navigation began.
const benchPage = `<!doctype html><meta charset="utf-8"><title>roomkit benchmark</title>
<script type="module">
window.RK = await import('./js/roomkit.js');
await RK.RoomKit.init();
window.readyAt = performance.now();
</script>`

// BenchmarkBrowser measures what a page feels in real Chromium against
// the real server and bundle on loopback: the time from navigation to the
// module being ready, with an empty cache (a new browser context each
// time) and with a warm one (the same page loaded again), and the
// enterRoom Promise's round trip over 500 calls (each followed by a
// leaveRoom, not timed). Figures are medians of 5 loads, and p50/p99 of
// the 500 calls; b.N repeats the whole.
func BenchmarkBrowser(b *testing.B) {
	root := b.TempDir()
	require.NoError(b, os.WriteFile(filepath.Join(root, "index.html"), []byte(benchPage), 0o644))
	require.NoError(b, os.Mkdir(filepath.Join(root, "js"), 0o755))
	files, err := filepath.Glob(filepath.Join("..", "js", "*"))
	require.NoError(b, err)
	for _, f := range files {
		if st, err := os.Stat(f); err == nil && st.Mode().IsRegular() {
			data, err := os.ReadFile(f)
			require.NoError(b, err)
			require.NoError(b, os.WriteFile(filepath.Join(root, "js", filepath.Base(f)), data, 0o644))
		}
	}
	s := startServer(b, "127.0.0.1:0", func(c *app.Config) {
		c.Static = root
		// Limits off: the benchmark measures round trips, not the rate limits.
		c.Gateway.RequestsPerSecond, c.Gateway.RequestBurst = 1e9, 1e9
		c.Gateway.UserRequests = gateway.Rate{PerSecond: 1e9, Burst: 1e9}
		c.Gateway.AppRequests = gateway.Rate{PerSecond: 1e9, Burst: 1e9}
	})

	ready := func(ctx context.Context) float64 {
		require.NoError(b, chromedp.Do(ctx, chromedp.Navigate(s.url())))
		at, err := chromedp.Run(ctx, chromedp.Poll[float64](`window.readyAt`, chromedp.WithPollingTimeout(30*time.Second)))
		require.NoError(b, err)
		return at
	}
	median := func(v []float64) float64 { slices.Sort(v); return v[len(v)/2] }
	var cold, cached, p50, p99 []float64
	for b.Loop() {
		var c, w []float64
		for range 5 {
			ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
			c = append(c, ready(ctx))
			w = append(w, ready(ctx))
			cancel()
		}
		cold, cached = append(cold, median(c)), append(cached, median(w))

		ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		p := &page{t: b, ctx: ctx}
		ready(ctx)
		p.login("bench")
		took := evalAs[[]float64](p, `(async () => {
			const took = [];
			for (let i = 0; i < 500; i++) {
				const t0 = performance.now();
				await zim.enterRoom({ roomID: 'bench', roomName: 'bench' });
				took.push(performance.now() - t0);
				await zim.leaveRoom('bench');
			}
			return took.sort((a, b) => a - b);
		})()`)
		p50, p99 = append(p50, took[len(took)/2]), append(p99, took[len(took)*99/100])
		cancel()
	}
	b.ReportMetric(median(cold), "ready-cold-ms")
	b.ReportMetric(median(cached), "ready-cached-ms")
	b.ReportMetric(median(p50), "enter-p50-ms")
	b.ReportMetric(median(p99), "enter-p99-ms")
}
