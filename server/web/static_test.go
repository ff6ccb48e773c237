package web

import (
	"bytes"
	"compress/gzip"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestStatic(t *testing.T) {
	root := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "js"), 0o755))
	wasm := bytes.Repeat([]byte("\x00asm wasm bytes "), 1000)
	require.NoError(t, os.WriteFile(filepath.Join(root, "js", "roomkit.wasm"), wasm, 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "index.html"), []byte("<!doctype html><title>x</title>"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "secret.txt"), []byte("no"), 0o644))
	srv := httptest.NewServer(NewStatic(root))
	defer srv.Close()

	get := func(p string, hdr map[string]string) *http.Response {
		req, _ := http.NewRequest(http.MethodGet, srv.URL+p, nil)
		for k, v := range hdr {
			req.Header.Set(k, v)
		}
		tr := &http.Transport{DisableCompression: true}
		res, err := (&http.Client{Transport: tr}).Do(req)
		require.NoError(t, err)
		t.Cleanup(func() { res.Body.Close() })
		return res
	}

	res := get("/js/roomkit.wasm", map[string]string{"Accept-Encoding": "gzip, br"})
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "application/wasm", res.Header.Get("Content-Type"))
	assert.Equal(t, "gzip", res.Header.Get("Content-Encoding"))
	etag := res.Header.Get("ETag")
	assert.NotEmpty(t, etag)
	zr, err := gzip.NewReader(res.Body)
	require.NoError(t, err)
	body, err := io.ReadAll(zr)
	require.NoError(t, err)
	assert.Equal(t, wasm, body)
	assert.Equal(t, strconv.Itoa(len(wasm)), res.Header.Get("X-Decoded-Content-Length"), "the loader's progress total")
	assert.Equal(t, "*", res.Header.Get("Access-Control-Allow-Origin"), "a page on another origin may load the module")
	assert.Contains(t, res.Header.Get("Access-Control-Expose-Headers"), "X-Decoded-Content-Length")

	res = get("/js/roomkit.wasm", nil)
	assert.Empty(t, res.Header.Get("Content-Encoding"), "no gzip unless asked")
	body, _ = io.ReadAll(res.Body)
	assert.Equal(t, wasm, body)

	res = get("/js/roomkit.wasm", map[string]string{"If-None-Match": etag})
	assert.Equal(t, http.StatusNotModified, res.StatusCode)

	res = get("/", nil)
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.Equal(t, "text/html; charset=utf-8", res.Header.Get("Content-Type"))
	assert.Empty(t, res.Header.Get("Access-Control-Allow-Origin"), "the demo page is not shared")

	for _, p := range []string{"/secret.txt", "/js/../secret.txt", "/js/missing.js", "/js/"} {
		assert.Equal(t, http.StatusNotFound, get(p, nil).StatusCode, p)
	}

	// A changed file gets a new ETag.
	require.NoError(t, os.WriteFile(filepath.Join(root, "js", "roomkit.wasm"), []byte("new"), 0o644))
	res = get("/js/roomkit.wasm", map[string]string{"If-None-Match": etag})
	assert.Equal(t, http.StatusOK, res.StatusCode)
	assert.NotEqual(t, etag, res.Header.Get("ETag"))
}

// Only regular files inside the root are served: a symbolic link is not
// followed at any depth, to a file or to a folder, whether it points out
// of the root or into it (js/up -> .. would otherwise serve the root's
// .git), and neither is a linked js/ folder.
func TestStaticServesNoLinks(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	mkdir := func(p string) { require.NoError(t, os.MkdirAll(filepath.Join(root, p), 0o755)) }
	write := func(p, body string) { require.NoError(t, os.WriteFile(filepath.Join(root, p), []byte(body), 0o644)) }
	link := func(target, p string) { require.NoError(t, os.Symlink(target, filepath.Join(root, p))) }
	mkdir("js/a/b")
	mkdir(".git")
	write(".git/config", "[core] not for the web")
	write("private.txt", "not for the web")
	write("js/real.js", "export {}")
	write("js/a/b/deep.js", "export {}")
	require.NoError(t, os.WriteFile(filepath.Join(outside, "passwd"), []byte("root:x:0:0"), 0o644))

	link(filepath.Join(outside, "passwd"), "js/out.js")     // a file outside, first level
	link(filepath.Join(root, "private.txt"), "js/in.js")    // a file inside, first level
	link(outside, "js/dir")                                 // a folder outside, first level
	link("..", "js/up")                                     // a folder inside: the root itself
	link("../real.js", "js/a/rel.js")                       // a file inside, second level
	link(filepath.Join(outside, "passwd"), "js/a/b/out.js") // a file outside, third level
	link(outside, "js/a/b/dir")                             // a folder outside, third level
	link("b", "js/a/same")                                  // a folder inside js, second level
	link(filepath.Join(root, "js", "a"), "js/a/b/loop")     // a folder inside, third level
	srv := httptest.NewServer(NewStatic(root))
	defer srv.Close()

	// A second root whose js/ folder is itself a link to the first's.
	linked := t.TempDir()
	require.NoError(t, os.Symlink(filepath.Join(root, "js"), filepath.Join(linked, "js")))
	linkedSrv := httptest.NewServer(NewStatic(linked))
	defer linkedSrv.Close()

	for _, tc := range []struct {
		url  string
		want int
	}{
		{srv.URL + "/js/real.js", 200},
		{srv.URL + "/js/a/b/deep.js", 200},
		{srv.URL + "/js/out.js", 404},
		{srv.URL + "/js/in.js", 404},
		{srv.URL + "/js/dir/passwd", 404},
		{srv.URL + "/js/up/.git/config", 404},
		{srv.URL + "/js/up/private.txt", 404},
		{srv.URL + "/js/up/js/real.js", 404},
		{srv.URL + "/js/a/rel.js", 404},
		{srv.URL + "/js/a/b/out.js", 404},
		{srv.URL + "/js/a/b/dir/passwd", 404},
		{srv.URL + "/js/a/same/deep.js", 404},
		{srv.URL + "/js/a/b/loop/b/deep.js", 404},
		{srv.URL + "/js/", 404},
		{srv.URL + "/js/a", 404},
		{linkedSrv.URL + "/js/real.js", 404},
	} {
		res, err := http.Get(tc.url)
		require.NoError(t, err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		assert.Equal(t, tc.want, res.StatusCode, tc.url)
		assert.NotContains(t, string(body), "root:x", tc.url)
		assert.NotContains(t, string(body), "not for the web", tc.url)
	}
}

// Precompressed copies beside a file are served in the smallest encoding
// the request accepts; a copy older than the file (left from an earlier
// build) is never served, and a new copy is noticed without a restart.
func TestStaticServesPrecompressedCopies(t *testing.T) {
	root := t.TempDir()
	dir := filepath.Join(root, "js")
	require.NoError(t, os.MkdirAll(dir, 0o755))
	wasm := bytes.Repeat([]byte("\x00asm wasm bytes "), 1000) // gzip makes it about 100 B
	file := filepath.Join(dir, "roomkit.wasm")
	require.NoError(t, os.WriteFile(file, wasm, 0o644))
	// The copies' bytes are stand-ins: the server never decodes them.
	br, zst := bytes.Repeat([]byte("b"), 40), bytes.Repeat([]byte("z"), 50)
	require.NoError(t, os.WriteFile(file+".br", br, 0o644))
	require.NoError(t, os.WriteFile(file+".zst", zst, 0o644))
	srv := httptest.NewServer(NewStatic(root))
	defer srv.Close()

	get := func(ae string) (string, []byte) {
		req, err := http.NewRequest(http.MethodGet, srv.URL+"/js/roomkit.wasm", nil)
		require.NoError(t, err)
		req.Header.Set("Accept-Encoding", ae)
		res, err := (&http.Client{Transport: &http.Transport{DisableCompression: true}}).Do(req)
		require.NoError(t, err)
		defer res.Body.Close()
		body, err := io.ReadAll(res.Body)
		require.NoError(t, err)
		if res.Header.Get("Content-Encoding") != "" {
			assert.Equal(t, strconv.Itoa(len(wasm)), res.Header.Get("X-Decoded-Content-Length"))
		}
		return res.Header.Get("Content-Encoding"), body
	}
	enc, body := get("gzip, deflate, br, zstd")
	assert.Equal(t, "br", enc)
	assert.Equal(t, br, body)
	enc, body = get("gzip, zstd")
	assert.Equal(t, "zstd", enc)
	assert.Equal(t, zst, body)
	enc, _ = get("gzip, br;q=0, zstd;q=0.0")
	assert.Equal(t, "gzip", enc, "a coding refused with q=0 is not used")
	enc, body = get("identity")
	assert.Equal(t, "", enc)
	assert.Equal(t, wasm, body)

	// A rebuilt file makes the older copies stale: gzip (made from the new
	// bytes) until copies of the new build appear.
	later := time.Now().Add(time.Minute)
	require.NoError(t, os.Chtimes(file, later, later))
	enc, _ = get("gzip, br, zstd")
	assert.Equal(t, "gzip", enc, "a copy older than its file is not served")
	br2 := bytes.Repeat([]byte("B"), 30)
	require.NoError(t, os.WriteFile(file+".br", br2, 0o644))
	require.NoError(t, os.Chtimes(file+".br", later, later))
	enc, body = get("gzip, br, zstd")
	assert.Equal(t, "br", enc)
	assert.Equal(t, br2, body)
}
