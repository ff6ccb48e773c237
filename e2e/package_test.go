package e2e

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/app"
)

// packageVersion is js/package.json's version.
func packageVersion(t *testing.T) string {
	t.Helper()
	raw, err := os.ReadFile(filepath.Join("..", "js", "package.json"))
	require.NoError(t, err)
	var pkg struct{ Version string }
	require.NoError(t, json.Unmarshal(raw, &pkg))
	require.NotEmpty(t, pkg.Version)
	return pkg.Version
}

// The package's version is the module's RoomKit.version and the
// changelog's newest entry.
func TestPackageVersionIsTheModulesAndTheChangelogs(t *testing.T) {
	t.Parallel()
	v := packageVersion(t)
	mod, err := os.ReadFile(filepath.Join("..", "js", "roomkit.js"))
	require.NoError(t, err)
	assert.Contains(t, string(mod), fmt.Sprintf("export const VERSION = '%s';", v))
	log, err := os.ReadFile(filepath.Join("..", "js", "CHANGELOG.md"))
	require.NoError(t, err)
	i := strings.Index(string(log), "\n## ")
	require.GreaterOrEqual(t, i, 0, "the changelog has entries")
	assert.True(t, strings.HasPrefix(string(log)[i:], "\n## "+v+" "), "the newest entry is %s", v)
}

// run runs a command in dir and fails the test with its output if it fails.
func run(t *testing.T, dir string, timeout time.Duration, name string, args ...string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	defer cancel()
	cmd := exec.CommandContext(ctx, name, args...)
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "%s %s:\n%s", name, strings.Join(args, " "), out)
}

// The npm package as a web developer uses it: the tarball `make package`
// packs is installed into a new vite app, which vite builds; the built app,
// served from an origin of its own, loads the module and the wasm vite
// copied, logs in and joins a room, and a member already there sees it.
func TestViteAppUsesThePackage(t *testing.T) {
	t.Parallel()
	tarball, err := filepath.Abs(filepath.Join("..", "js", "dist", "roomkit-"+packageVersion(t)+".tgz"))
	require.NoError(t, err)
	_, err = os.Stat(tarball)
	require.NoError(t, err, "run make package first (make test does)")
	_, err = exec.LookPath("npm")
	require.NoError(t, err, "npm is needed (make test installs it)")

	dir := t.TempDir()
	files := map[string]string{
		"package.json": `{ "name": "roomkit-vite-app", "private": true, "type": "module" }`,
		"index.html": `<!doctype html><html lang="en"><meta charset="utf-8"><title>vite app</title>
<p id="status">starting</p><p id="progress"></p>
<script type="module" src="/main.js"></script></html>`,
		// What a developer writes: the package's name, no paths.
		"main.js": `import { RoomKit } from 'roomkit';
const q = new URLSearchParams(location.search);
const status = document.querySelector('#status');
try {
  await RoomKit.init({ server: q.get('server'), onProgress: ({ loaded }) => { document.querySelector('#progress').textContent = String(loaded); } });
  const zim = await RoomKit.login({ token: q.get('token') });
  const { roomInfo } = await zim.enterRoom({ roomID: 'vite-room', roomName: 'Vite' });
  status.textContent = 'joined ' + roomInfo.baseInfo.roomID + ' as ' + zim.user.userID;
} catch (err) {
  status.textContent = 'failed ' + err.code + ' ' + err.message;
}
`,
	}
	for name, body := range files {
		require.NoError(t, os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644))
	}
	run(t, dir, 5*time.Minute, "npm", "install", "--no-audit", "--no-fund", "--loglevel=error", tarball, "vite@8.3.8")
	run(t, dir, 2*time.Minute, filepath.Join(dir, "node_modules", ".bin", "vite"), "build", "--logLevel", "warn")
	wasms, err := filepath.Glob(filepath.Join(dir, "dist", "assets", "*.wasm"))
	require.NoError(t, err)
	require.Len(t, wasms, 1, "vite copies the package's wasm into the app's assets")

	appSite := httptest.NewServer(http.FileServer(http.Dir(filepath.Join(dir, "dist"))))
	t.Cleanup(appSite.Close)
	s := startServer(t, "127.0.0.1:0", func(c *app.Config) {
		c.Gateway.OriginPatterns = []string{strings.TrimPrefix(appSite.URL, "http://")}
	})
	ben := openPage(t, s)
	ben.login("ben")
	ben.mustCall(`zim.enterRoom({ roomID: 'vite-room', roomName: 'Vite' })`)
	token := evalAs[string](ben, fmt.Sprintf(`RK.RoomKit.wasm.mintTestToken(%q, %q, 'ann', 'Ann', '', 0, 3600)`, app.DevAppID, secret))

	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ann := &page{t: t, ctx: ctx}
	q := url.Values{"server": {"ws://" + s.Addr() + "/ws"}, "token": {token}}
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(appSite.URL+"/?"+q.Encode())))
	ann.waitText(`#status`, "joined vite-room as ann")
	ben.waitEvents("joined vite-room ann/Ann")
	assert.Equal(t, fmt.Sprint(mustSize(t, wasms[0])), evalAs[string](ann, `document.querySelector('#progress').textContent`),
		"the progress reached the wasm's size")
	loaded := evalAs[[]string](ann, `performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.endsWith('.wasm'))`)
	require.Len(t, loaded, 1)
	assert.True(t, strings.HasPrefix(loaded[0], appSite.URL+"/assets/"), "the wasm came from the app's own assets: %s", loaded[0])
}

func mustSize(t *testing.T, name string) int64 {
	st, err := os.Stat(name)
	require.NoError(t, err)
	return st.Size()
}

// The one-file build used as from a CDN: a page on its own origin imports
// roomkit.min.js from the roomkit server (which serves js/ to any origin),
// and the module fetches the wasm from next to itself.
func TestOneFileBuildFromAnotherOrigin(t *testing.T) {
	t.Parallel()
	s := startServer(t, "127.0.0.1:0")
	cdnPage := `<!doctype html><html lang="en"><meta charset="utf-8"><title>cdn page</title><p id="status">starting</p>
<script type="module">
import { RoomKit } from '` + s.url() + `js/roomkit.min.js';
const q = new URLSearchParams(location.search);
try {
  await RoomKit.init({ server: q.get('server') });
  const zim = await RoomKit.login({ token: q.get('token') });
  await zim.enterRoom({ roomID: 'cdn-room' });
  document.querySelector('#status').textContent = 'joined ' + zim.getRoomID() + ' with ' + RoomKit.version;
} catch (err) {
  document.querySelector('#status').textContent = 'failed ' + err.code + ' ' + err.message;
}
</script></html>`
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(cdnPage))
	}))
	t.Cleanup(site.Close)
	s2 := startServer(t, "127.0.0.1:0", func(c *app.Config) {
		c.Gateway.OriginPatterns = []string{strings.TrimPrefix(site.URL, "http://")}
	})
	ben := openPage(t, s2)
	ben.login("ben")
	token := evalAs[string](ben, fmt.Sprintf(`RK.RoomKit.wasm.mintTestToken(%q, %q, 'ann', 'Ann', '', 0, 3600)`, app.DevAppID, secret))

	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	ann := &page{t: t, ctx: ctx}
	q := url.Values{"server": {"ws://" + s2.Addr() + "/ws"}, "token": {token}}
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(site.URL+"/?"+q.Encode())))
	ann.waitText(`#status`, "joined cdn-room with "+packageVersion(t))
	loaded := evalAs[[]string](ann, `performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.endsWith('.wasm'))`)
	assert.Equal(t, []string{s.url() + "js/roomkit.wasm"}, loaded)
}

// What Chromium downloads for the wasm: the smallest copy in an encoding
// it offers (`make wasm` makes brotli and zstd copies; which ones Chromium
// offers depends on the scheme and host, so the test reads its header).
func TestChromiumDownloadsTheSmallestWasm(t *testing.T) {
	t.Parallel()
	s := startServer(t, "127.0.0.1:0")
	ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
	t.Cleanup(cancel)
	require.NoError(t, chromedp.Do(ctx)) // the tab, for the context's life
	// The Accept-Encoding Chromium sent for the wasm: the request's URL and
	// the headers it went out with come in two events.
	var mu sync.Mutex
	wasmRequest, offered := network.RequestID(""), map[network.RequestID]string{}
	require.NoError(t, chromedp.Listen(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *network.EventRequestWillBeSent:
			if strings.HasSuffix(e.Request.URL, "/js/roomkit.wasm") {
				wasmRequest = e.RequestID
			}
		case *network.EventRequestWillBeSentExtraInfo:
			for k, v := range e.Headers {
				if strings.EqualFold(k, "accept-encoding") {
					offered[e.RequestID] = fmt.Sprint(v)
				}
			}
		}
	}))
	_, err := chromedp.Call(ctx, network.Enable, network.EnableParams{})
	require.NoError(t, err)
	require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(s.url())))
	p := &page{t: t, ctx: ctx}
	p.loadModule()

	raw := mustSize(t, filepath.Join("..", "js", "roomkit.wasm"))
	copies := map[string]int64{
		"br":   mustSize(t, filepath.Join("..", "js", "roomkit.wasm.br")),
		"zstd": mustSize(t, filepath.Join("..", "js", "roomkit.wasm.zst")),
	}
	got := evalAs[map[string]int64](p, `(() => {
		const e = performance.getEntriesByType('resource').find((e) => e.name.endsWith('/js/roomkit.wasm'));
		return { encoded: e.encodedBodySize, decoded: e.decodedBodySize };
	})()`)
	mu.Lock()
	ae := offered[wasmRequest]
	mu.Unlock()
	want := int64(0)
	for name, size := range copies {
		if strings.Contains(ae, name) && (want == 0 || size < want) {
			want = size
		}
	}
	t.Logf("roomkit.wasm %d B; brotli %d B, zstd %d B; Chromium offered %q and downloaded %d B", raw, copies["br"], copies["zstd"], ae, got["encoded"])
	require.NotZero(t, want, "Chromium offered neither brotli nor zstd: %q", ae)
	assert.Equal(t, raw, got["decoded"])
	assert.Equal(t, want, got["encoded"], "the smallest copy it accepts went over the wire")
}

// Importing the module where there is no page (Node, server-side
// rendering) works and changes nothing; only using it fails, clearly.
func TestModuleImportsUnderNode(t *testing.T) {
	t.Parallel()
	_, err := exec.LookPath("node")
	require.NoError(t, err, "node is needed (make test installs it)")
	mod, err := filepath.Abs(filepath.Join("..", "js", "roomkit.js"))
	require.NoError(t, err)
	script := `const before = new Set(Object.getOwnPropertyNames(globalThis));
const { RoomKit } = await import(process.argv[1]);
const added = Object.getOwnPropertyNames(globalThis).filter((k) => !before.has(k));
const init = await RoomKit.init().then(() => 'loaded', (e) => 'error ' + e.code + ' ' + e.message);
console.log(JSON.stringify({ added, version: RoomKit.version, ready: RoomKit.isReady, init }));`
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	out, err := exec.CommandContext(ctx, "node", "--input-type=module", "-e", script, mod).CombinedOutput()
	require.NoError(t, err, "%s", out)
	var got struct {
		Added   []string
		Version string
		Ready   bool
		Init    string
	}
	require.NoError(t, json.Unmarshal(out, &got), "%s", out)
	assert.Empty(t, got.Added, "no global name at import")
	assert.Equal(t, packageVersion(t), got.Version)
	assert.False(t, got.Ready)
	assert.True(t, strings.HasPrefix(got.Init, "error 1 roomkit could not load its wasm module: "), got.Init)
}

// A call kit page as a hosted call kit's developer has it, moved over by
// its script tag: classic scripts only (no module, no await), the global
// RoomKit bound to the vendor's name, the kit token made on the first
// line. The page is on another origin and loads roomkit.global.js from
// the roomkit server, whose address it never gives: the script's origin
// is its default server, and the wasm comes from next to it. Three users
// join the group call and each decodes the others' video and hears them.
func TestClassicScriptCallPageFromAnotherOrigin(t *testing.T) {
	var callPage atomic.Pointer[string] // written once the roomkit server's address is known
	site := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write([]byte(*callPage.Load()))
	}))
	t.Cleanup(site.Close)
	s := startServer(t, "127.0.0.1:0", func(c *app.Config) {
		c.Gateway.OriginPatterns = []string{strings.TrimPrefix(site.URL, "http://")}
	})
	html := `<!doctype html><html lang="en"><meta charset="utf-8"><title>group call</title>
<div id="root"></div>
<script src="` + s.url() + `js/roomkit.global.js"></script>
<script>
  var ZegoUIKitPrebuilt = RoomKit;
  function getUrlParams(url) {
    var p = {};
    new URL(url).searchParams.forEach(function (v, k) { p[k] = v; });
    return p;
  }
  var params = getUrlParams(window.location.href);
  var roomID = params.roomID;
  var userID = params.userID;
  var userName = userID.toUpperCase();
  var appID = ` + app.DevAppID + `;
  var serverSecret = ` + jsString(secret) + `;
  var kitToken = ZegoUIKitPrebuilt.generateKitTokenForTest(appID, serverSecret, roomID, userID, userName);
  var zp = ZegoUIKitPrebuilt.create(kitToken);
  zp.addPlugins({ ZIM: {} });
  zp.joinRoom({
    container: document.querySelector('#root'),
    scenario: { mode: ZegoUIKitPrebuilt.GroupCall },
    showPreJoinView: false,
    videoResolutionDefault: ZegoUIKitPrebuilt.VideoResolution_180P,
    onJoinRoom: function () { document.title = 'joined ' + zp.getRoomID(); },
  });
</script></html>`
	callPage.Store(&html)
	users := []string{"ann", "ben", "cal"}
	pages := map[string]*page{}
	for _, u := range users {
		ctx, cancel := chromedp.NewContext(browser, chromedp.WithNewBrowserContext())
		t.Cleanup(cancel)
		pages[u] = &page{t: t, ctx: ctx}
		q := url.Values{"roomID": {"classic"}, "userID": {u}}
		require.NoError(t, chromedp.Do(ctx, chromedp.Navigate(site.URL+"/?"+q.Encode())))
	}
	for _, u := range users {
		p := pages[u]
		require.Eventually(t, func() bool { return evalAs[string](p, `document.title`) == "joined classic" }, 30*time.Second, 100*time.Millisecond,
			"%s's page did not join: %s", u, evalAs[string](p, `document.body.innerText.slice(0, 300)`))
		p.waitMembers(users...)
		for _, other := range users {
			if other == u {
				continue
			}
			first := p.frames(other)
			require.Eventually(t, func() bool { return p.frames(other) > first+5 }, 30*time.Second, 200*time.Millisecond, "%s decodes no frames from %s", u, other)
			heard := p.energy(other)
			require.Eventually(t, func() bool { return p.energy(other) > heard }, 20*time.Second, 200*time.Millisecond, "%s hears nothing from %s", u, other)
		}
	}
	loaded := evalAs[[]string](pages["ann"], `performance.getEntriesByType('resource').map((e) => e.name).filter((n) => n.endsWith('.wasm') || n.endsWith('.js'))`)
	assert.ElementsMatch(t, []string{s.url() + "js/roomkit.global.js", s.url() + "js/roomkit.wasm"}, loaded)
}
