// Command roomkit-load drives a roomkit server with many native clients on
// loopback and prints one key=value line per scenario run.
//
//	roomkit-load -server-bin ./roomkit-server -scenario fanout -clients 1000 -rate 100
//	roomkit-load -server-bin ./roomkit-server -nodes 3 -scenario join-storm -clients 2000
//	roomkit-load -url ws://127.0.0.1:8080/ws -app dev -secret s -pid 1234 -scenario idle
//	roomkit-load -server-bin ./roomkit-server -scenario media -publishers 4 -subscribers 20 -duration 20s
//
// With -server-bin it starts a fresh server process for each scenario
// (with message limits raised for the senders), so each run's server CPU
// and memory are its own. With -nodes N it starts a redis-server and N
// server processes as one cluster, and spreads the clients over the nodes
// round robin; the figures sum the nodes' CPU and memory, and give
// Redis's CPU apart.
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"flag"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"runtime/pprof"
	"strings"
	"time"

	"roomkit/server/loadgen"
)

func main() {
	if err := run(os.Args[1:]); err != nil {
		fmt.Fprintln(os.Stderr, "roomkit-load:", err)
		os.Exit(2)
	}
}

func run(args []string) error {
	fs := flag.NewFlagSet("roomkit-load", flag.ContinueOnError)
	url := fs.String("url", "", "the server's ws://host:port/ws (loopback); empty: start -server-bin")
	serverBin := fs.String("server-bin", "", "a roomkit binary to start for each scenario")
	serverFlags := fs.String("server-flags", "", "more flags for the server -server-bin starts, space-separated (e.g. \"-join-batch-window -1ns\")")
	nodes := fs.Int("nodes", 1, "with -server-bin: start this many nodes sharing a redis-server started for the run")
	redisBin := fs.String("redis-bin", "redis-server", "with -nodes > 1: the redis-server to start")
	appID := fs.String("app", "load", "app ID of the tokens")
	secret := fs.String("secret", "", "the app's server secret (with -url)")
	pid := fs.Int("pid", 0, "the server's process ID, for CPU and RSS (with -url)")
	scenario := fs.String("scenario", "all", "one of "+strings.Join(loadgen.Names(), ", ")+", or all")
	var p loadgen.Params
	fs.IntVar(&p.Clients, "clients", 0, "clients (0: the scenario's default)")
	fs.IntVar(&p.Rooms, "rooms", 0, "rooms (idle)")
	fs.IntVar(&p.Senders, "senders", 0, "senders (fanout)")
	fs.IntVar(&p.Senders, "publishers", 0, "media: publishers (each an Opus and a VP8 track; the same as -senders; 0: 4)")
	fs.IntVar(&p.Clients, "subscribers", 0, "media: subscribers (the same as -clients; 0: 20)")
	fs.IntVar(&p.Clients, "viewers", 0, "live: viewers (the same as -clients; 0: 200)")
	fs.StringVar(&p.Layer, "layer", "", "live: the layer the viewers take: q (the default), h, f, or mix (a third each)")
	fs.Float64Var(&p.Rate, "rate", 0, "messages a second (fanout)")
	fs.DurationVar(&p.Duration, "duration", 0, "how long (fanout, idle, churn, media)")
	limit := fs.Duration("limit", time.Minute, "a scenario gives up after this long")
	rates := fs.String("rates", "", "fanout: run once per rate, comma-separated (e.g. 50,100,200,400,800)")
	out := fs.String("out", "", "a folder for results.txt, report.md (the budget with each figure) and fanout.svg; it may hold go test -bench output (*bench.txt) to include")
	cpuprofile := fs.String("cpuprofile", "", "write a CPU profile of the load generator itself here")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *cpuprofile != "" {
		f, err := os.Create(*cpuprofile)
		if err != nil {
			return err
		}
		defer f.Close()
		if err := pprof.StartCPUProfile(f); err != nil {
			return err
		}
		defer pprof.StopCPUProfile()
	}
	type run struct {
		scenario string
		params   loadgen.Params
	}
	var runs []run
	switch {
	case *scenario == "all":
		// The bench suite: the budget's sizes, bounded in time.
		runs = []run{
			{"join-storm", loadgen.Params{Clients: 2000}},
			{"join-storm", loadgen.Params{Clients: 5000}},
		}
		for _, r := range []float64{50, 100, 200, 400, 800} {
			runs = append(runs, run{"fanout", loadgen.Params{Clients: 1000, Rate: r, Duration: 10 * time.Second}})
		}
		runs = append(runs, run{"idle", loadgen.Params{Clients: 10000}}, run{"churn", p}, run{"resume-storm", p}, run{"media", loadgen.Params{}})
		for _, n := range []int{100, 250, 500, 1000, 2000} {
			runs = append(runs, run{"live", loadgen.Params{Clients: n}})
		}
	case loadgen.Scenarios[*scenario] == nil:
		return fmt.Errorf("unknown scenario %q: use one of %s, or all", *scenario, strings.Join(loadgen.Names(), ", "))
	case *rates != "":
		for _, r := range strings.Split(*rates, ",") {
			q := p
			if _, err := fmt.Sscan(r, &q.Rate); err != nil {
				return fmt.Errorf("-rates: %q is not a number", r)
			}
			runs = append(runs, run{*scenario, q})
		}
	default:
		runs = []run{{*scenario, p}}
	}
	var figures loadgen.Figures
	var lines strings.Builder
	for _, r := range runs {
		cfg := loadgen.Config{URL: *url, AppID: *appID, Secret: *secret, ServerPID: *pid, Limit: *limit}
		stop := func() {}
		if *url == "" {
			if *serverBin == "" {
				return fmt.Errorf("give -url (a running server) or -server-bin (a roomkit binary to start)")
			}
			var err error
			flags := strings.Fields(*serverFlags)
			if r.scenario == "media" || r.scenario == "live" {
				// The media clients are on loopback: the server must
				// offer loopback candidates.
				flags = append([]string{"-media-loopback"}, flags...)
			}
			if *nodes > 1 {
				cfg, stop, err = startCluster(*serverBin, *redisBin, *nodes, flags, cfg)
			} else {
				cfg.Secret = newSecret()
				cfg, stop, err = startServer(*serverBin, flags, cfg)
			}
			if err != nil {
				return err
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), *limit+2*time.Minute)
		res, err := loadgen.Scenarios[r.scenario](ctx, cfg, r.params)
		cancel()
		stop()
		if err != nil {
			// One scenario failing (a budget far out of reach, say) does
			// not stop the suite: its line says so, and why goes to stderr.
			fmt.Fprintf(os.Stderr, "roomkit-load: %s: %v\n", r.scenario, err)
			res = &loadgen.Result{}
			res.Set("scenario", r.scenario)
			res.Set("clients", r.params.Clients)
			res.Set("failed", true)
		}
		fmt.Println(res)
		lines.WriteString(res.String() + "\n")
		figures.Runs = append(figures.Runs, res)
	}
	if *out == "" {
		return nil
	}
	figures.Bench = map[string]float64{}
	benchFiles, _ := filepath.Glob(filepath.Join(*out, "*bench.txt"))
	for _, name := range benchFiles {
		if f, err := os.Open(name); err == nil {
			loadgen.ReadGoBench(f, figures.Bench)
			f.Close()
		}
	}
	if err := os.WriteFile(filepath.Join(*out, "results.txt"), []byte(lines.String()), 0o644); err != nil {
		return err
	}
	if err := loadgen.WriteReport(*out, machine(), figures); err != nil {
		return err
	}
	fmt.Printf("report: %s\n", filepath.Join(*out, "report.md"))
	return nil
}

// machine describes this machine in one line: cores, memory, kernel, Go.
func machine() string {
	mem := ""
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		var kb float64
		if _, err := fmt.Sscanf(strings.SplitN(string(b), "\n", 2)[0], "MemTotal: %f kB", &kb); err == nil {
			mem = fmt.Sprintf(", %.1f GiB", kb/(1<<20))
		}
	}
	kernel, _ := os.ReadFile("/proc/sys/kernel/osrelease")
	return fmt.Sprintf("%d cores%s, %s %s, %s", runtime.NumCPU(), mem, runtime.GOOS, strings.TrimSpace(string(kernel)), runtime.Version())
}

func newSecret() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

func freeAddr() (string, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer ln.Close()
	return ln.Addr().String(), nil
}

// startCluster starts a redis-server and n nodes of bin sharing it.
func startCluster(bin, redisBin string, n int, flags []string, cfg loadgen.Config) (loadgen.Config, func(), error) {
	addr, err := freeAddr()
	if err != nil {
		return cfg, nil, err
	}
	_, port, _ := net.SplitHostPort(addr)
	redis := exec.Command(redisBin, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--loglevel", "warning")
	if err := redis.Start(); err != nil {
		return cfg, nil, fmt.Errorf("starting %s: %w", redisBin, err)
	}
	stops := []func(){func() { _ = redis.Process.Kill(); _ = redis.Wait() }}
	stopAll := func() {
		for i := len(stops) - 1; i >= 0; i-- {
			stops[i]()
		}
	}
	if err := waitListening(addr); err != nil {
		stopAll()
		return cfg, nil, err
	}
	cfg.Secret = newSecret()
	cfg.RedisPID = redis.Process.Pid
	cfg.RedisURL = "redis://" + addr + "/0"
	for i := range n {
		nodeCfg, stop, err := startServer(bin, append([]string{"-redis", "redis://" + addr + "/0", "-node-id", fmt.Sprint("node", i+1)}, flags...), cfg)
		if err != nil {
			stopAll()
			return cfg, nil, err
		}
		stops = append(stops, stop)
		if i == 0 {
			cfg.URL, cfg.ServerPID = nodeCfg.URL, nodeCfg.ServerPID
		} else {
			cfg.MoreURLs = append(cfg.MoreURLs, nodeCfg.URL)
			cfg.MorePIDs = append(cfg.MorePIDs, nodeCfg.ServerPID)
		}
	}
	return cfg, stopAll, nil
}

func waitListening(addr string) error {
	for range 100 {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			return nil
		}
		time.Sleep(50 * time.Millisecond)
	}
	return fmt.Errorf("nothing listens on %s", addr)
}

// startServer starts bin serve on a free loopback port with cfg's secret,
// and waits until it listens.
func startServer(bin string, flags []string, cfg loadgen.Config) (loadgen.Config, func(), error) {
	addr, err := freeAddr()
	if err != nil {
		return cfg, nil, err
	}
	args := append([]string{"serve", "-addr", addr, "-app", cfg.AppID + "=" + cfg.Secret,
		"-max-conns-per-ip", "-1", "-max-sessions-per-app", "100000", "-max-sessions", "100000", "-max-members", "20000", "-media-udp-port", "0"}, flags...)
	cmd := exec.Command(bin, args...)
	cmd.Stderr = nil
	if err := cmd.Start(); err != nil {
		return cfg, nil, err
	}
	stop := func() {
		_ = cmd.Process.Signal(os.Interrupt)
		done := make(chan struct{})
		go func() { _ = cmd.Wait(); close(done) }()
		select {
		case <-done:
		case <-time.After(10 * time.Second):
			_ = cmd.Process.Kill()
			<-done
		}
	}
	if err := waitListening(addr); err != nil {
		stop()
		return cfg, nil, fmt.Errorf("%s: %w", bin, err)
	}
	time.Sleep(500 * time.Millisecond) // let it settle before reading its RSS
	cfg.URL = "ws://" + addr + "/ws"
	cfg.ServerPID = cmd.Process.Pid
	return cfg, stop, nil
}
