// Package web serves the demo page and the JS bundle: index.html and the
// files under js/, each with its content type, a strong ETag, and a gzip
// copy made once and kept in memory until the file changes on disk. A file
// with brotli or zstd copies beside it (roomkit.wasm.br, roomkit.wasm.zst,
// made by make wasm) is served in the smallest encoding the browser
// accepts, as long as the copy is not older than the file. The
// files under js/ may be loaded by a page on any origin (CORS), as from a
// CDN.
package web

import (
	"bytes"
	"compress/gzip"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Static serves files from a root directory: "/" is index.html, and paths
// under /js/ are served from root/js. Nothing else under root is exposed,
// and only regular files are served: a symbolic link, to a file or a
// folder, at any depth under the root and even one pointing inside it, is
// not followed.
type Static struct {
	root string

	mu    sync.Mutex
	cache map[string]*asset // by cleaned request path
}

// asset is one file's bytes, its encoded copies and validators, as of the
// stamp of the file and of its precompressed siblings.
type asset struct {
	stamp   string
	modTime time.Time
	raw     []byte
	encoded []encoding // smallest first; only those smaller than raw
	etag    string
	ctype   string
}

// encoding is one encoded copy of an asset: its Content-Encoding token and
// bytes.
type encoding struct {
	name string
	body []byte
}

// precompressed are the sibling suffixes read as encoded copies.
var precompressed = []struct{ suffix, name string }{{".br", "br"}, {".zst", "zstd"}}

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
	if enc, ok := a.pick(r.Header.Get("Accept-Encoding")); ok {
		h.Set("Content-Encoding", enc.name)
		// The module's loader reports download progress against this.
		h.Set("X-Decoded-Content-Length", strconv.Itoa(len(a.raw)))
		body = enc.body
	}
	http.ServeContent(w, r, "", a.modTime, bytes.NewReader(body))
}

// load returns the asset for p, reading and compressing it when it, or one
// of its precompressed copies, is new or changed.
func (s *Static) load(p string) (*asset, error) {
	name := filepath.FromSlash(strings.TrimPrefix(p, "/"))
	root, err := os.OpenRoot(s.root) // no path, link or ".." leads out of it
	if err != nil {
		return nil, err
	}
	defer root.Close()
	st, err := lstatNoLinks(root, name)
	if err != nil {
		return nil, err
	}
	// The stamp covers the file and each usable precompressed copy: one
	// not older than the file.
	stamp := fmt.Sprint(st.ModTime().UnixNano(), st.Size())
	var copies []int
	for i, pc := range precompressed {
		if cst, err := root.Lstat(name + pc.suffix); err == nil && cst.Mode().IsRegular() && !cst.ModTime().Before(st.ModTime()) {
			stamp += fmt.Sprint(" ", pc.name, cst.ModTime().UnixNano(), cst.Size())
			copies = append(copies, i)
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if a := s.cache[p]; a != nil && a.stamp == stamp {
		return a, nil
	}
	raw, err := readRegular(root, name, st)
	if err != nil {
		return nil, err
	}
	sum := sha256.Sum256(raw)
	a := &asset{stamp: stamp, modTime: st.ModTime(), raw: raw, etag: `"` + hex.EncodeToString(sum[:12]) + `"`, ctype: contentType(p)}
	var buf bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	_, _ = zw.Write(raw)
	_ = zw.Close()
	a.encoded = append(a.encoded, encoding{"gzip", buf.Bytes()})
	for _, i := range copies {
		pc := precompressed[i]
		if body, err := root.ReadFile(name + pc.suffix); err == nil {
			a.encoded = append(a.encoded, encoding{pc.name, body})
		}
	}
	a.encoded = slices.DeleteFunc(a.encoded, func(e encoding) bool { return len(e.body) >= len(raw) })
	slices.SortStableFunc(a.encoded, func(x, y encoding) int { return len(x.body) - len(y.body) })
	s.cache[p] = a
	return a, nil
}

// lstatNoLinks returns the file info of name, a regular file reached
// through folders none of which is a symbolic link: os.Root keeps a path
// inside the root but follows a link that stays inside it (js/up -> ..
// would serve the whole root), so each folder on the way is looked at.
func lstatNoLinks(root *os.Root, name string) (os.FileInfo, error) {
	for i := range len(name) {
		if name[i] != filepath.Separator {
			continue
		}
		if st, err := root.Lstat(name[:i]); err != nil || !st.IsDir() {
			return nil, os.ErrNotExist
		}
	}
	st, err := root.Lstat(name)
	if err != nil || !st.Mode().IsRegular() {
		return nil, os.ErrNotExist
	}
	return st, nil
}

// readRegular reads name, making sure it is still the file st describes.
func readRegular(root *os.Root, name string, st os.FileInfo) ([]byte, error) {
	f, err := root.Open(name)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	if fst, err := f.Stat(); err != nil || !os.SameFile(st, fst) {
		return nil, os.ErrNotExist // replaced between the look and the open
	}
	return io.ReadAll(f)
}

// pick returns the smallest encoded copy that the Accept-Encoding header
// accepts.
func (a *asset) pick(acceptEncoding string) (encoding, bool) {
	for _, e := range a.encoded {
		if accepts(acceptEncoding, e.name) {
			return e, true
		}
	}
	return encoding{}, false
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

// accepts reports whether an Accept-Encoding header lists the coding with
// a weight above zero.
func accepts(ae, coding string) bool {
	for _, part := range strings.Split(ae, ",") {
		enc, params, _ := strings.Cut(strings.TrimSpace(part), ";")
		if strings.EqualFold(strings.TrimSpace(enc), coding) && !zeroWeight(params) {
			return true
		}
	}
	return false
}

// zeroWeight reports whether parameters say q=0 (or 0.0, 0.00, 0.000).
func zeroWeight(params string) bool {
	q, ok := strings.CutPrefix(strings.ReplaceAll(params, " ", ""), "q=")
	return ok && strings.Trim(q, "0.") == "" && q != ""
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
