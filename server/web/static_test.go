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

// Only regular files inside the root are served: a symbolic link under
// js/ is not followed, whether it points out of the root or into it, and
// neither is a linked directory.
func TestStaticServesNoLinks(t *testing.T) {
	root := t.TempDir()
	outside := t.TempDir()
	require.NoError(t, os.MkdirAll(filepath.Join(root, "js"), 0o755))
	require.NoError(t, os.WriteFile(filepath.Join(outside, "passwd"), []byte("root:x:0:0"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "js", "real.js"), []byte("export {}"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(root, "private.txt"), []byte("not for the web"), 0o644))
	require.NoError(t, os.Symlink(filepath.Join(outside, "passwd"), filepath.Join(root, "js", "out.js")))
	require.NoError(t, os.Symlink(filepath.Join(root, "private.txt"), filepath.Join(root, "js", "in.js")))
	require.NoError(t, os.Symlink(outside, filepath.Join(root, "js", "dir")))
	srv := httptest.NewServer(NewStatic(root))
	defer srv.Close()
	for p, want := range map[string]int{"/js/real.js": 200, "/js/out.js": 404, "/js/in.js": 404, "/js/dir/passwd": 404, "/js/": 404} {
		res, err := http.Get(srv.URL + p)
		require.NoError(t, err)
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		assert.Equal(t, want, res.StatusCode, p)
		assert.NotContains(t, string(body), "root:x", p)
		assert.NotContains(t, string(body), "not for the web", p)
	}
}
