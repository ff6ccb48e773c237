// Package loadgen drives a roomkit server with many native clients (the
// same client core the browser runs) on loopback, one scenario at a time,
// and measures what a user would feel: how long until everyone knows
// everyone, how long a message takes, whether any was lost or came twice,
// and what it cost the server (frames and bytes sent, CPU seconds, RSS).
//
// Each run's result is one line of key=value pairs (Result.String), so
// runs can be compared and plotted.
package loadgen

import (
	"bufio"
	"context"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/redis/go-redis/v9"

	"roomkit/server/auth"
	"roomkit/wasm/client"
)

// Config says where the server is and how to log in to it.
type Config struct {
	URL       string // ws://host:port/ws, loopback
	AppID     string
	Secret    string
	ServerPID int           // for CPU and RSS figures; 0 when unknown
	Limit     time.Duration // a scenario gives up after this long
	// MoreURLs are the other nodes of the same cluster: client i dials
	// URL when i % (len(MoreURLs)+1) is 0, else MoreURLs[that-1].
	MoreURLs []string
	// MorePIDs are those nodes' processes, and RedisPID their Redis's,
	// for CPU and RSS figures (summed over the nodes; Redis's apart).
	MorePIDs []int
	RedisPID int
	// RedisURL is the cluster's Redis, to count the stream entries (bus
	// messages between nodes) a run adds.
	RedisURL string
}

// urlFor is the node client i dials.
func (c Config) urlFor(i int) string {
	if k := i % (len(c.MoreURLs) + 1); k > 0 {
		return c.MoreURLs[k-1]
	}
	return c.URL
}

// Result is one scenario run's figures, in the order they were added.
type Result struct {
	keys   []string
	values map[string]string
}

// Set records a figure.
func (r *Result) Set(key string, value any) {
	if r.values == nil {
		r.values = map[string]string{}
	}
	if _, ok := r.values[key]; !ok {
		r.keys = append(r.keys, key)
	}
	switch v := value.(type) {
	case time.Duration:
		r.values[key] = strconv.FormatFloat(v.Seconds()*1000, 'f', 3, 64)
	case float64:
		r.values[key] = strconv.FormatFloat(v, 'f', 3, 64)
	default:
		r.values[key] = fmt.Sprint(v)
	}
}

// Get returns a recorded figure, "" when there is none.
func (r *Result) Get(key string) string { return r.values[key] }

// String is the result as one line of key=value pairs.
func (r *Result) String() string {
	parts := make([]string, len(r.keys))
	for i, k := range r.keys {
		parts[i] = k + "=" + r.values[k]
	}
	return strings.Join(parts, " ")
}

// token mints a token for user.
func (c Config) token(user string) (string, error) {
	return auth.Mint(c.Secret, auth.Claims{AppID: auth.AppID(c.AppID), UserID: user}, time.Now(), 2*time.Hour)
}

// login logs user in with onEvent as its event handler, over tr (nil: the
// default transport).
func (c Config) login(ctx context.Context, url, user string, onEvent func(client.Event), tr client.Transport) (*client.Client, error) {
	tok, err := c.token(user)
	if err != nil {
		return nil, err
	}
	return client.Login(ctx, client.Config{URL: url, Token: tok, OnEvent: onEvent, RequestTimeout: 30 * time.Second, Transport: tr})
}

// loginAll logs n clients in, at most 200 at a time, calling onEvent(i)
// for client i's events.
func (c Config) loginAll(ctx context.Context, prefix string, n int, onEvent func(i int) func(client.Event)) ([]*client.Client, error) {
	return c.loginAllOver(ctx, prefix, n, onEvent, nil)
}

// loginAllOver is loginAll with client i dialling over transport(i) (nil:
// the default transport).
func (c Config) loginAllOver(ctx context.Context, prefix string, n int, onEvent func(i int) func(client.Event), transport func(i int) client.Transport) ([]*client.Client, error) {
	clients := make([]*client.Client, n)
	errs := make(chan error, n)
	sem := make(chan struct{}, 200)
	var wg sync.WaitGroup
	for i := range clients {
		wg.Add(1)
		sem <- struct{}{}
		go func() {
			defer wg.Done()
			defer func() { <-sem }()
			var h func(client.Event)
			if onEvent != nil {
				h = onEvent(i)
			}
			var tr client.Transport
			if transport != nil {
				tr = transport(i)
			}
			cl, err := c.login(ctx, c.urlFor(i), fmt.Sprintf("%s%d", prefix, i), h, tr)
			if err != nil {
				errs <- err
				return
			}
			clients[i] = cl
		}()
	}
	wg.Wait()
	close(errs)
	if err := <-errs; err != nil {
		logoutAll(clients)
		return nil, fmt.Errorf("login: %w", err)
	}
	return clients, nil
}

func logoutAll(clients []*client.Client) {
	var wg sync.WaitGroup
	for _, c := range clients {
		if c == nil {
			continue
		}
		wg.Add(1)
		go func() {
			defer wg.Done()
			ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			defer cancel()
			_ = c.Logout(ctx)
		}()
	}
	wg.Wait()
}

// serverStats is what the servers report on /metrics and what /proc says
// of their processes, summed over the nodes; Redis's CPU apart.
type serverStats struct {
	framesSent, bytesSent float64
	cpu                   time.Duration // user+system
	rss                   int64         // bytes
	redisCPU              time.Duration
	redisXAdds            int64 // bus messages between nodes, as Redis counts XADD
}

// sample reads the servers' counters; fields it cannot read stay zero.
func (c Config) sample() serverStats {
	var s serverStats
	for i, u := range append([]string{c.URL}, c.MoreURLs...) {
		one := Config{URL: u}
		if i == 0 {
			one.ServerPID = c.ServerPID
		} else if i-1 < len(c.MorePIDs) {
			one.ServerPID = c.MorePIDs[i-1]
		}
		n := one.sampleOne()
		s.framesSent += n.framesSent
		s.bytesSent += n.bytesSent
		s.cpu += n.cpu
		s.rss += n.rss
	}
	if c.RedisPID != 0 {
		s.redisCPU, _ = procStats(c.RedisPID)
	}
	if c.RedisURL != "" {
		s.redisXAdds = redisCalls(c.RedisURL, "xadd")
	}
	return s
}

// redisCalls reads how many times Redis has run cmd (INFO commandstats).
func redisCalls(url, cmd string) int64 {
	opts, err := redis.ParseURL(url)
	if err != nil {
		return 0
	}
	rdb := redis.NewClient(opts)
	defer rdb.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	info, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return 0
	}
	for _, line := range strings.Split(info, "\n") {
		if rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+cmd+":calls="); ok {
			n, _ := strconv.ParseInt(strings.SplitN(rest, ",", 2)[0], 10, 64)
			return n
		}
	}
	return 0
}

// sampleOne reads one server's counters.
func (c Config) sampleOne() serverStats {
	var s serverStats
	base := strings.Replace(strings.TrimSuffix(c.URL, "/ws"), "ws://", "http://", 1)
	if res, err := http.Get(base + "/metrics"); err == nil {
		sc := bufio.NewScanner(res.Body)
		for sc.Scan() {
			f := strings.Fields(sc.Text())
			if len(f) != 2 {
				continue
			}
			v, _ := strconv.ParseFloat(f[1], 64)
			switch f[0] {
			case "roomkit_frames_sent_total":
				s.framesSent = v
			case "roomkit_bytes_sent_total":
				s.bytesSent = v
			}
		}
		res.Body.Close()
	}
	if c.ServerPID != 0 {
		s.cpu, s.rss = procStats(c.ServerPID)
	}
	return s
}

// procStats reads a process's CPU time and resident set from /proc.
func procStats(pid int) (time.Duration, int64) {
	var cpu time.Duration
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid)); err == nil {
		// Fields after the command name (which may hold spaces) in ')'.
		if i := strings.LastIndexByte(string(b), ')'); i > 0 {
			f := strings.Fields(string(b[i+1:]))
			if len(f) > 13 {
				utime, _ := strconv.ParseInt(f[11], 10, 64)
				stime, _ := strconv.ParseInt(f[12], 10, 64)
				cpu = time.Duration(utime+stime) * time.Second / 100 // USER_HZ
			}
		}
	}
	var rss int64
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
				kb, _ := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(rest), "kB")), 10, 64)
				rss = kb << 10
			}
		}
	}
	return cpu, rss
}

// costs records what the server spent between before and after.
func (r *Result) costs(before, after serverStats) {
	r.Set("server_frames", int64(after.framesSent-before.framesSent))
	r.Set("server_bytes", int64(after.bytesSent-before.bytesSent))
	if after.cpu > 0 {
		r.Set("server_cpu_s", (after.cpu - before.cpu).Seconds())
		r.Set("server_rss_mib", float64(after.rss)/(1<<20))
	}
	if after.redisCPU > 0 {
		r.Set("redis_cpu_s", (after.redisCPU - before.redisCPU).Seconds())
	}
	if after.redisXAdds > 0 {
		r.Set("redis_bus_messages", after.redisXAdds-before.redisXAdds)
	}
}

// percentiles records p50, p90, p99 and max of samples, in ms.
func (r *Result) percentiles(prefix string, samples []time.Duration) {
	if len(samples) == 0 {
		return
	}
	slices.Sort(samples)
	at := func(p float64) time.Duration { return samples[min(len(samples)-1, int(p*float64(len(samples))))] }
	r.Set(prefix+"p50_ms", at(0.50))
	r.Set(prefix+"p90_ms", at(0.90))
	r.Set(prefix+"p99_ms", at(0.99))
	r.Set(prefix+"max_ms", samples[len(samples)-1])
}

// Scenarios are the load generator's scenarios by name.
var Scenarios = map[string]func(ctx context.Context, c Config, p Params) (*Result, error){
	"join-storm":   JoinStorm,
	"fanout":       Fanout,
	"idle":         Idle,
	"churn":        Churn,
	"resume-storm": ResumeStorm,
	"media":        Media, // Senders are its publishers, Clients its subscribers
	"live":         Live,  // Clients are its viewers, Layer the layer they take
}

// Names returns the scenario names, sorted.
func Names() []string {
	names := make([]string, 0, len(Scenarios))
	for n := range Scenarios {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// Params size a scenario; zero fields take the scenario's defaults.
type Params struct {
	Clients  int           // clients (members)
	Rooms    int           // rooms the clients spread over (idle, churn, resume-storm)
	Senders  int           // fanout: members that send
	Rate     float64       // fanout: messages a second; churn: operations a second (all clients together)
	Duration time.Duration // fanout, idle, churn: how long to run
	Layer    string        // live: the layer the viewers take, q (default), h, f or mix
}
