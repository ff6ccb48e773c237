//go:build !js

package client

import (
	"context"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"roomkit/server/app"
	"roomkit/server/gateway"
	"roomkit/server/protocol"
)

// BenchmarkEnterLeaveRoundTrip is one client entering a room and leaving it
// again over loopback against a real server in this process: the round
// trip of two requests, as an application sees it. It reports the p50
// and p99 of one enter+leave besides the mean.
func BenchmarkEnterLeaveRoundTrip(b *testing.B) {
	srv := startServer(b, "127.0.0.1:0", func(c *app.Config) {
		// Limits off: the benchmark measures the round trip, not the rate limits.
		c.Gateway.RequestsPerSecond, c.Gateway.RequestBurst = 1e9, 1e9
		c.Gateway.UserRequests = gateway.Rate{PerSecond: 1e9, Burst: 1e9}
		c.Gateway.AppRequests = gateway.Rate{PerSecond: 1e9, Burst: 1e9}
	})
	ctx := context.Background()
	c, err := Login(ctx, Config{URL: "ws://" + srv.Addr() + "/ws", Token: token(b, "bench", time.Hour)})
	require.NoError(b, err)
	b.Cleanup(func() { _ = c.Logout(ctx) })
	info := protocol.RoomInfo{RoomID: "bench"}
	var took []time.Duration
	for b.Loop() {
		t0 := time.Now()
		if _, err := c.EnterRoom(ctx, info, nil); err != nil {
			b.Fatal(err)
		}
		if err := c.LeaveRoom(ctx, "bench"); err != nil {
			b.Fatal(err)
		}
		took = append(took, time.Since(t0))
	}
	slices.Sort(took)
	b.ReportMetric(float64(took[len(took)/2].Microseconds()), "p50-µs")
	b.ReportMetric(float64(took[min(len(took)-1, len(took)*99/100)].Microseconds()), "p99-µs")
}
