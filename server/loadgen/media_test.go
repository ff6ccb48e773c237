package loadgen

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/pion/webrtc/v4"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/app"
)

// smallMedia is a server in this process whose media server offers
// loopback candidates (udp4, any free port), as the scenario's clients
// use.
func smallMedia(t *testing.T) Config {
	t.Helper()
	cfg := app.Default()
	cfg.Apps = map[string]string{"load": "load-secret"}
	cfg.Media.UDPPort = 0
	cfg.Media.Loopback = true
	cfg.Media.IPFilter = func(ip net.IP) bool { return ip.IsLoopback() }
	cfg.Media.Networks = []webrtc.NetworkType{webrtc.NetworkTypeUDP4}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	srv := app.Serve(cfg, ln, slog.New(slog.DiscardHandler))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(ctx)
	})
	return Config{URL: "ws://" + srv.Addr() + "/ws", AppID: "load", Secret: "load-secret", ServerPID: os.Getpid(), Limit: 30 * time.Second}
}

// A small media run: every subscriber receives every publisher's two
// tracks through the server, nothing is lost, and the figures are there.
func TestMedia(t *testing.T) {
	r, err := Media(context.Background(), smallMedia(t), Params{Senders: 2, Clients: 3, Duration: 2 * time.Second})
	require.NoError(t, err)
	t.Log(r)
	assert.Empty(t, r.Get("video_missing"), "every subscriber receives every video track")
	// Two speakers are fewer than the server's selection forwards: every
	// subscriber receives every track.
	assert.Equal(t, 12.0, number(t, r, "streams"), "2 publishers × 2 tracks × 3 subscribers")
	assert.Equal(t, 6.0, number(t, r, "audio_streams"))
	sent := number(t, r, "sent")
	// 2 s of 50 audio packets and 30 frames of 4 video packets a second,
	// from each of 2 publishers (timers on a busy machine run late).
	assert.Greater(t, sent, 0.5*2*2*(50+30*4))
	assert.Equal(t, sent*3, number(t, r, "expected"))
	assert.Equal(t, number(t, r, "expected"), number(t, r, "received"), "every packet reached every subscriber")
	assert.Zero(t, number(t, r, "lost"))
	assert.Zero(t, number(t, r, "renegotiation_errors"))
	assert.Zero(t, number(t, r, "duplicated"))
	assert.Positive(t, number(t, r, "forwarded_pps"))
	assert.Positive(t, number(t, r, "latency_p99_ms"))
	assert.GreaterOrEqual(t, number(t, r, "latency_max_ms"), number(t, r, "latency_p99_ms"))
	assert.NotEmpty(t, r.Get("pps_per_server_core"))
	assert.NotEmpty(t, r.Get("server_cpu_s_per_1k_streams"))
	assert.NotEmpty(t, r.Get("server_rss_per_sub_kib"))
}

// The synthetic packets carry their send time, number, track and phase.
func TestMediaPayload(t *testing.T) {
	b := make([]byte, mediaPayloadHeader)
	at := time.Unix(0, 1_700_000_000_123_456_789)
	mediaPayload(b, at, 70000, 5, true)
	assert.Equal(t, []byte{0x17, 0x97, 0x9c, 0xfe, 0x3d, 0x85, 0xcd, 0x15, 0, 1, 0x11, 0x70, 0, 5, 1}, b)
}

// The media budget's lines in report.md: packets per server core, p99
// and loss, each met or not, and the run's summary line.
func TestMediaReport(t *testing.T) {
	f := Figures{Runs: []*Result{
		ParseResult("scenario=media publishers=4 subscribers=20 streams=160 duration_s=20.000 forwarded_pps=13600.000 latency_p50_ms=0.800 latency_p99_ms=12.500 latency_max_ms=30.000 lost=0 server_cpu_s=4.000 pps_per_server_core=68000.000"),
	}}
	dir := t.TempDir()
	require.NoError(t, WriteReport(dir, "test machine", f))
	report, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(report), "| media: forwarded packets/s per server core | ≥ 60000 packets/s | 68000 packets/s | yes |")
	assert.Contains(t, string(report), "| media: forwarding p99 | ≤ 10 ms | 12.5 ms | no |")
	assert.Contains(t, string(report), "| media: packets lost | ≤ 0 | 0 | yes |")
	assert.Contains(t, string(report), "Media forwarding (4 publishers × 2 tracks → 20 subscribers, 160 streams): 13600.000 packets/s")

	failed := Figures{Runs: []*Result{ParseResult("scenario=media clients=0 failed=true")}}
	require.NoError(t, WriteReport(dir, "test machine", failed))
	report, err = os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(report), "| media: packets lost | ≤ 0 | failed (see the runs) | no |")
}
