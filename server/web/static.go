// Package web serves the demo page and the JS bundle: index.html and the
// files under js/, each with its content type, a strong ETag, and a gzip
// copy made once and kept in memory until the file changes on disk. The
// files under js/ may be loaded by a page on any origin (CORS), as from a
// CDN.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Static serves files from a root directory: "/" is index.html, and paths
// under /js/ are served from root/js. Nothing else under root is exposed,
// and only regular files are served: a symbolic link, even one pointing
// inside the root, is not followed.
type Static struct {
	root string

	mu    sync.Mutex
	cache map[string]*asset // by cleaned request path
}

// asset is one file's bytes, gzip copy and validators, as of modTime/size.
type asset struct {
	modTime time.Time
	size    int64
	raw     []byte
	gz      []byte // nil when gzip does not make it smaller
	etag    string
	ctype   string
}

// NewStatic serves root.
func NewStatic(root string) *Static { return &Static{root: root, cache: map[string]*asset{}} }

// ServeHTTP implements http.Handler.
func (s *Static) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		http.Error(w, "method not allowed", http.StatusMethodNotAllowed)
		return
	}
	p := path.Clean("/" + r.URL.Path)
	if p == "/" || p == "/index.html" {
		p = "/index.html"
	} else if !strings.HasPrefix(p, "/js/") {
		http.NotFound(w, r)
		return
	}
	a, err := s.load(p)
	if err != nil {
		http.NotFound(w, r)
		return
	}
	h := w.Header()
	h.Set("Content-Type", a.ctype)
	h.Set("ETag", a.etag)
	h.Set("Cache-Control", "no-cache") // revalidate each time; the ETag makes that a 304
	h.Set("Vary", "Accept-Encoding")
	h.Set("X-Content-Type-Options", "nosniff")
	if p != "/index.html" {
		// The module's files are public code: a page on any origin may load
		// them from here as from a CDN (a cross-origin module script and its
		// wasm fetch need CORS), and read the headers its progress uses.
		h.Set("Access-Control-Allow-Origin", "*")
		h.Set("Access-Control-Expose-Headers", "Content-Encoding, X-Decoded-Content-Length")
	}
	if match := r.Header.Get("If-None-Match"); match != "" && etagMatches(match, a.etag) {
		w.WriteHeader(http.StatusNotModified)
		return
	}
	body := a.raw
	if a.gz != nil && acceptsGzip(r.Header.Get("Accept-Encoding")) {
		h.Set("Content-Encoding", "gzip")
		// The module's loader reports download progress against this.
		h.Set("X-Decoded-Content-Length", strconv.Itoa(len(a.raw)))
		body = a.gz
	}
	http.ServeContent(w, r, "", a.modTime, bytes.NewReader(body))
}

// load returns the asset for p, reading and compressing it when it is new
// or changed.
func (s *Static) load(p string) (*asset, error) {
	name := filepath.FromSlash(strings.TrimPrefix(p, "/"))
	root, err := os.OpenRoot(s.root) // no path, link or ".." leads out of it
	if err != nil {
		return nil, err
	}
	defer root.Close()
	st, err := root.Lstat(name)
	if err != nil || !st.Mode().IsRegular() {
		return nil, os.ErrNotExist
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.cache[p]; a != nil && a.modTime.Equal(st.ModTime()) && a.size == st.Size() {
		return a, nil
	}
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fst, err := f.Stat(); err != nil || !os.SameFile(st, fst) {
		return nil, os.ErrNotExist // replaced between the look and the open
	}
	raw, err := io.ReadAll(f)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	a := &asset{modTime: st.ModTime(), size: st.Size(), raw: raw, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, ctype: contentType(p)}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	if buf.Len() < len(raw) {
		a.gz = buf.Bytes()
	}
	s.cache[p] = a
	return a, nil
}

func contentType(p string) string {
	switch path.Ext(p) {
	case ".wasm":
		return "application/wasm"
	case ".js", ".mjs":
		return "text/javascript; charset=utf-8"
	case ".ts":
		return "text/plain; charset=utf-8"
	case ".html":
		return "text/html; charset=utf-8"
	case ".css":
		return "text/css; charset=utf-8"
	}
	if t := mime.TypeByExtension(path.Ext(p)); t != "" {
		return t
	}
	return "application/octet-stream"
}

func acceptsGzip(ae string) bool {
	for _, part := range strings.Split(ae, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), "gzip") && strings.ReplaceAll(params, " ", "") != "q=0" {
			return true
		}
	}
	return false
}

func etagMatches(header, etag string) bool {
	for _, t := range strings.Split(header, ",") {
		t = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(t), "W/"))
		if t == etag || t == "*" {
			return true
		}
	}
	return false
}
