// Package e2e drives real headless Chromium against the real server,
// started in-process on loopback, with pages loading the real built bundle
// (js/roomkit.js and js/roomkit.wasm). Chromium starts once per package;
// each simulated user gets a browser context of their own. Each test has a
// server (or a cluster with its own redis-server) of its own, so tests run
// in parallel (t.Parallel), except those that measure media or pixels, the
// one that restarts a server on a fixed port, the several-node tests, whose
// dead-node bounds are timed, and the call kit's call and invitation flows
// (a caller's view once stayed empty after an answer, seen beside parallel
// tests and once before in turn): they run alone first.
package e2e

import (
	"context"
	"fmt"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/require"

	"roomkit/server/app"
)

// secret is the dev app's secret in these tests; the pages mint their
// tokens with it, as the demo page does.
const secret = "e2e-secret-0123456789"

var browser context.Context // the shared Chromium

func TestMain(m *testing.M) {
	root, _ := filepath.Abs("..")
	if _, err := os.Stat(filepath.Join(root, "js", "roomkit.wasm")); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: js/roomkit.wasm is missing; run `make e2e` (it builds the bundle first)")
		os.Exit(1)
	}
	dir, err := os.MkdirTemp("", "roomkit-chromium-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromiumOptions(dir, true)...)
	var cancelBrowser context.CancelFunc
	browser, cancelBrowser = chromedp.NewContext(alloc)
	if err := chromedp.Do(browser); err != nil {
		fmt.Fprintln(os.Stderr, "e2e: cannot start chromium:", err)
		os.Exit(1)
	}
	code := m.Run()
	cancelBrowser()
	cancelAlloc()
	os.RemoveAll(dir)
	if serverBin != "" {
		os.RemoveAll(filepath.Dir(serverBin))
	}
	os.Exit(code)
}

// chromiumOptions are the flags of the tests' Chromium, with its profile
// in dir. grant grants camera and microphone without asking (the fake
// devices are there either way); without it a page has no device
// permission until it asks, and nothing answers the question.
func chromiumOptions(dir string, grant bool) []chromedp.ExecAllocatorOption {
	return []chromedp.ExecAllocatorOption{
		chromedp.NoFirstRun,
		chromedp.NoDefaultBrowserCheck,
		chromedp.Headless,
		chromedp.UserDataDir(dir),
		chromedp.Flag("no-sandbox", true),
		chromedp.Flag("disable-gpu", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.Flag("disable-background-timer-throttling", true),
		chromedp.Flag("disable-renderer-backgrounding", true),
		chromedp.Flag("disable-backgrounding-occluded-windows", true),
		// A fake camera (a moving test pattern) and microphone (a beep),
		// granted without asking; media plays without a click.
		chromedp.Flag("use-fake-device-for-media-stream", true),
		chromedp.Flag("use-fake-ui-for-media-stream", grant),
		chromedp.Flag("autoplay-policy", "no-user-gesture-required"),
	}
}

// startBrowser starts a Chromium of the test's own (see chromiumOptions),
// stopped when the test ends.
func startBrowser(t testing.TB, grant bool) context.Context {
	t.Helper()
	alloc, cancelAlloc := chromedp.NewExecAllocator(context.Background(), chromiumOptions(t.TempDir(), grant)...)
	b, cancel := chromedp.NewContext(alloc)
	t.Cleanup(func() { cancel(); cancelAlloc() })
	require.NoError(t, chromedp.Do(b), "cannot start chromium")
	return b
}

// server is an in-process roomkit server for one test.
type server struct {
	*app.Server
	cfg app.Config
}

// startServer starts a dev-mode server on addr ("127.0.0.1:0" for any
// port) serving the repository's index.html and js/.
func startServer(t testing.TB, addr string, opts ...func(*app.Config)) *server {
	t.Helper()
	root, err := filepath.Abs("..")
	require.NoError(t, err)
	cfg := app.Default()
	cfg.Addr = addr
	cfg.Static = root
	cfg.Apps = map[string]string{app.DevAppID: secret}
	cfg.Dev = true
	cfg.Media.Loopback = true // the browser is on this machine
	for _, o := range opts {
		o(&cfg)
	}
	var ln net.Listener
	require.Eventually(t, func() bool { ln, err = net.Listen("tcp", addr); return err == nil }, 5*time.Second, 50*time.Millisecond)
	s := &server{Server: app.Serve(cfg, ln, slog.New(slog.DiscardHandler)), cfg: cfg}
	t.Cleanup(func() { s.stop(t) })
	return s
}

func (s *server) stop(t testing.TB) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	require.NoError(t, s.Shutdown(ctx))
}

func (s *server) url() string { return "http://" + s.Addr() + "/" }

// page is one user's tab, in a browser context of its own.
type page struct {
	t   testing.TB
	ctx context.Context
}

// openPage opens the demo page of s in a fresh browser context and waits
// for the roomkit module to load; the module is then window.RK.
func openPage(t testing.TB, s *server) *page {
	t.Helper()
	return openURL(t, s.url())
}

// openURL opens url in a fresh browser context and imports the roomkit
// module from its server into window.RK.
func openURL(t testing.TB, url string) *page {
	t.Helper()
	return openURLIn(t, browser, url)
}

// openURLIn is openURL in browser b.
func openURLIn(t testing.TB, b context.Context, url string) *page {
	t.Helper()
	ctx, cancel := chromedp.NewContext(b, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	p := &page{t: t, ctx: ctx}
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(url)))
	p.loadModule()
	return p
}

// loadModule imports the module into window.RK.
func (p *page) loadModule() {
	p.t.Helper()
	p.eval(`import('/js/roomkit.js').then(async (m) => { await m.RoomKit.init(); window.RK = m; return true; })`)
}

// eval runs a JS expression (a Promise is awaited) and returns its result
// decoded as T.
func evalAs[T any](p *page, expr string) T {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](expr, chromedp.EvalAwaitPromise))
	require.NoError(p.t, err, "evaluating %s", expr)
	return v
}

func (p *page) eval(expr string) {
	p.t.Helper()
	ctx, cancel := context.WithTimeout(p.ctx, 30*time.Second)
	defer cancel()
	_, err := chromedp.Run(ctx, chromedp.Evaluate[any](expr, chromedp.EvalAwaitPromise))
	require.NoError(p.t, err, "evaluating %s", expr)
}

// login logs userID in with a kit token minted in the page and records
// every event as "name ..." lines in window.events.
func (p *page) login(userID string) {
	p.t.Helper()
	p.eval(fmt.Sprintf(`(async () => {
		const kit = RK.RoomKit.generateKitTokenForTest(%q, %q, '', %q, %q, 3600);
		window.zim = await RK.RoomKit.login({ token: kit });
		window.events = [];
		const s = JSON.stringify;
		zim.on('roomStateChanged', (z, d) => events.push('room ' + d.roomID + ' ' + d.state + ' ' + d.event + (z === window.zim ? '' : ' WRONG-ZIM')));
		zim.on('connectionStateChanged', (z, d) => events.push('conn ' + d.state + ' ' + d.event));
		zim.on('roomMemberJoined', (z, d) => events.push('joined ' + d.roomID + ' ' + d.memberList.map((m) => m.userID + '/' + m.userName).join(',')));
		zim.on('roomMemberLeft', (z, d) => events.push('left ' + d.roomID + ' ' + d.memberList.map((m) => m.userID).join(',')));
		window.received = [];
		zim.on('receiveRoomMessage', (z, d) => { for (const m of d.messageList) received.push(m); });
		const attrs = (name) => (z, d) => events.push(name + ' ' + d.roomID + ' ' + d.infos.map((i) => i.action + JSON.stringify(Object.fromEntries(Object.entries(i.roomAttributes).sort()))).join(' '));
		zim.on('roomAttributesUpdated', attrs('attrs'));
		zim.on('roomAttributesBatchUpdated', attrs('batch'));
		return true;
	})()`, app.DevAppID, secret, userID, strings.ToUpper(userID)))
}

// call runs a zim operation and returns "ok <json>" or "error <code> <isError> <message>".
func (p *page) call(expr string) string {
	p.t.Helper()
	return evalAs[string](p, `(`+expr+`).then(
		(r) => 'ok ' + JSON.stringify(r),
		(e) => 'error ' + e.code + ' ' + (e instanceof Error) + ' ' + e.message)`)
}

// mustCall runs a zim operation that must succeed and returns its JSON.
func (p *page) mustCall(expr string) string {
	p.t.Helper()
	res := p.call(expr)
	require.True(p.t, strings.HasPrefix(res, "ok "), "%s: %s", expr, res)
	return strings.TrimPrefix(res, "ok ")
}

// events returns the events recorded so far and clears them.
func (p *page) takeEvents() []string {
	p.t.Helper()
	return evalAs[[]string](p, `events.splice(0)`)
}

// waitEvents waits until the recorded events contain want in order, then
// returns all recorded events and clears them.
func (p *page) waitEvents(want ...string) []string {
	p.t.Helper()
	return p.waitEventsWithin(15*time.Second, want...)
}

// waitEventsWithin is waitEvents with a bound of its own.
func (p *page) waitEventsWithin(d time.Duration, want ...string) []string {
	p.t.Helper()
	var got []string
	deadline := time.Now().Add(d)
	for {
		got = evalAs[[]string](p, `events.slice()`)
		i := 0
		for _, e := range got {
			if i < len(want) && e == want[i] {
				i++
			}
		}
		if i == len(want) {
			p.eval(fmt.Sprintf(`events.splice(0, %d)`, len(got)))
			return got
		}
		if time.Now().After(deadline) {
			p.t.Fatalf("events %q never included %q in order", got, want)
		}
		time.Sleep(50 * time.Millisecond)
	}
}
