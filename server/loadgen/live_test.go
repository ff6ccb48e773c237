package loadgen

import (
	"context"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// A small live run: six viewers, two on each of the host's three
// simulcast layers, each receive exactly the packets of the layer they
// take (the layers' packet counts differ) and the host's audio, nothing
// lost.
func TestLive(t *testing.T) {
	r, err := Live(context.Background(), smallMedia(t), Params{Clients: 6, Layer: "mix", Duration: 2 * time.Second})
	require.NoError(t, err)
	t.Log(r)
	assert.Empty(t, r.Get("video_missing"), "every viewer receives video")
	assert.Equal(t, "mix", r.Get("layer"))
	assert.Positive(t, number(t, r, "expected"))
	assert.Equal(t, number(t, r, "expected"), number(t, r, "received"), "every viewer got its layer's packets and no other's")
	assert.Zero(t, number(t, r, "lost"))
	assert.Zero(t, number(t, r, "duplicated"))
	assert.Positive(t, number(t, r, "latency_p99_ms"))
	assert.NotEmpty(t, r.Get("pps_per_server_core"))
}

// A layer that is not one of the host's is refused before anything
// starts.
func TestLiveBadLayer(t *testing.T) {
	_, err := Live(context.Background(), Config{}, Params{Layer: "x"})
	require.Error(t, err)
	assert.Contains(t, err.Error(), `"x"`)
}

// The live budget's line: the most viewers fed with nothing lost and
// p99 within 10 ms; a run that lost packets, ran late or failed does not
// count.
func TestLiveReport(t *testing.T) {
	f := Figures{Runs: []*Result{
		ParseResult("scenario=live viewers=250 layer=q lost=0 latency_p99_ms=2.000"),
		ParseResult("scenario=live viewers=500 layer=q lost=0 latency_p99_ms=6.500"),
		ParseResult("scenario=live viewers=1000 layer=q lost=3 latency_p99_ms=8.000"),
		ParseResult("scenario=live viewers=2000 layer=q lost=0 latency_p99_ms=25.000"),
	}}
	dir := t.TempDir()
	require.NoError(t, WriteReport(dir, "test machine", f))
	report, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(report), "| live: viewers of one host fed, 0 loss, p99 ≤ 10 ms | ≥ 2000 viewers | 500 viewers | no |")

	f.Runs = append(f.Runs, ParseResult("scenario=live viewers=2500 layer=q lost=0 latency_p99_ms=9.000"))
	require.NoError(t, WriteReport(dir, "test machine", f))
	report, err = os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(report), "| live: viewers of one host fed, 0 loss, p99 ≤ 10 ms | ≥ 2000 viewers | 2500 viewers | yes |")
}
