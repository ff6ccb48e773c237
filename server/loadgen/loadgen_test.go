package loadgen

import (
	"context"
	"log/slog"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"roomkit/server/app"
)

// small runs each scenario small against a real server in this process;
// the figures must say nothing was lost and everyone got everything.
func small(t *testing.T) Config {
	t.Helper()
	cfg := app.Default()
	cfg.Apps = map[string]string{"load": "load-secret"}
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

func number(t *testing.T, r *Result, key string) float64 {
	t.Helper()
	v, err := strconv.ParseFloat(r.Get(key), 64)
	require.NoError(t, err, "%s=%q in %s", key, r.Get(key), r)
	return v
}

func TestJoinStorm(t *testing.T) {
	r, err := JoinStorm(context.Background(), small(t), Params{Clients: 60})
	require.NoError(t, err)
	t.Log(r)
	assert.Positive(t, number(t, r, "all_known_ms"), "every client came to know all 60")
	assert.Zero(t, number(t, r, "request_errors"))
	assert.Positive(t, number(t, r, "server_frames"))
	assert.Positive(t, number(t, r, "server_cpu_s")+1)
}

// A join storm that cannot finish within its limit ends there and says how
// much of the room its clients had learnt.
func TestJoinStormStopsAtItsLimit(t *testing.T) {
	cfg := small(t)
	cfg.Limit = time.Millisecond
	r, err := JoinStorm(context.Background(), cfg, Params{Clients: 200})
	require.NoError(t, err)
	t.Log(r)
	assert.Equal(t, "timeout", r.Get("all_known_ms"))
	assert.Less(t, number(t, r, "known_pct"), 100.0)
	assert.Less(t, number(t, r, "complete_views"), 200.0)
}

func TestFanout(t *testing.T) {
	r, err := Fanout(context.Background(), small(t), Params{Clients: 30, Rate: 40, Duration: time.Second})
	require.NoError(t, err)
	t.Log(r)
	sent := number(t, r, "sent")
	assert.Positive(t, sent)
	assert.Equal(t, sent*29, number(t, r, "deliveries"))
	assert.Zero(t, number(t, r, "lost"))
	assert.Zero(t, number(t, r, "duplicated"))
	assert.Zero(t, number(t, r, "send_errors"))
	assert.Positive(t, number(t, r, "latency_p99_ms"))
}

func TestIdle(t *testing.T) {
	r, err := Idle(context.Background(), small(t), Params{Clients: 40, Rooms: 4, Duration: 100 * time.Millisecond})
	require.NoError(t, err)
	t.Log(r)
	assert.Equal(t, "40", r.Get("clients"))
	assert.NotEmpty(t, r.Get("server_rss_per_conn_kib"))
}

func TestParsePayload(t *testing.T) {
	s, q, d, ok := parsePayload("3:17:12345")
	assert.True(t, ok)
	assert.Equal(t, []any{3, 17, time.Duration(12345)}, []any{s, q, d})
	_, _, _, ok = parsePayload("3:x:1")
	assert.False(t, ok)
}

func TestChurn(t *testing.T) {
	r, err := Churn(context.Background(), small(t), Params{Clients: 40, Rooms: 4, Rate: 100, Duration: time.Second})
	require.NoError(t, err)
	t.Log(r)
	assert.Positive(t, number(t, r, "ops"))
	assert.Zero(t, number(t, r, "op_errors"))
	assert.Zero(t, number(t, r, "count_mismatches"), "the server's counts are what the clients think")
	assert.Positive(t, number(t, r, "op_p99_ms"))
}

func TestResumeStorm(t *testing.T) {
	r, err := ResumeStorm(context.Background(), small(t), Params{Clients: 50, Rooms: 5})
	require.NoError(t, err)
	t.Log(r)
	assert.Empty(t, r.Get("timeout"))
	assert.Equal(t, "50", r.Get("back"), "every client is connected again")
	assert.Equal(t, "50", r.Get("resumed"), "every session resumed")
	assert.Equal(t, "0", r.Get("member_left_events"), "nobody saw anybody leave")
	assert.Positive(t, number(t, r, "back_p99_ms"))
}

// A bench run's report puts each budget line beside its figure, says
// whether it is met, finds the fan-out knee and plots the sweep.
func TestReport(t *testing.T) {
	bench := map[string]float64{}
	ReadGoBench(strings.NewReader("goos: linux\nBenchmarkEnterLeaveRoundTrip-2   	    3000	    123854 ns/op	        81.00 p50-µs	       706.0 p99-µs\nPASS\n"), bench)
	assert.Equal(t, 81.0, bench["BenchmarkEnterLeaveRoundTrip p50-µs"])
	f := Figures{Bench: bench, Runs: []*Result{
		ParseResult("scenario=fanout clients=1000 rate=100.000 latency_p50_ms=5 latency_p90_ms=9 latency_p99_ms=30 lost=0 duplicated=0"),
		ParseResult("scenario=fanout clients=1000 rate=400.000 latency_p50_ms=20 latency_p90_ms=45 latency_p99_ms=80 lost=0 duplicated=0"),
		ParseResult("scenario=idle clients=10000 server_rss_per_conn_kib=31.5"),
		ParseResult("scenario=churn clients=0 failed=true"),
		ParseResult("scenario=join-storm clients=5000 entered_ms=60000 all_known_ms=timeout limit_s=60.000 known_pct=41.250 complete_views=12"),
	}}
	rate, ok := f.Knee()
	assert.True(t, ok)
	assert.Equal(t, 400.0, rate)
	dir := t.TempDir()
	require.NoError(t, WriteReport(dir, "test machine", f))
	report, err := os.ReadFile(filepath.Join(dir, "report.md"))
	require.NoError(t, err)
	assert.Contains(t, string(report), "| fanout: 1,000 members, 100 msg/s, p99 | ≤ 40 ms | 30 ms | yes |")
	assert.Contains(t, string(report), "| idle: server RSS per connection | ≤ 20 KiB | 31.5 KiB | no |")
	assert.Contains(t, string(report), "| native round trip (enterRoom+leaveRoom), p50 | ≤ 300 µs | 81 µs | yes |")
	assert.Contains(t, string(report), "| browser: enterRoom p50 | ≤ 3 ms | not run | — |")
	assert.Contains(t, string(report), "| churn: the server's counts equal the clients' (mismatches) | ≤ 0 | failed (see the runs) | no |")
	assert.Contains(t, string(report), "| join-storm: 5,000 clients, until all know all | ≤ 5000 ms | over 60.000 s: 41.250% of the 25 M memberships known then | no |")
	assert.Contains(t, string(report), "knee (lowest rate with p99 over 50 ms, 1,000 members): 400 msg/s")
	svg, err := os.ReadFile(filepath.Join(dir, "fanout.svg"))
	require.NoError(t, err)
	assert.Equal(t, 3, strings.Count(string(svg), "<polyline"), "p50, p90 and p99")
}
