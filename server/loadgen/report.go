package loadgen

import (
	"bufio"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"strings"
)

// ParseResult reads a line Result.String wrote.
func ParseResult(line string) *Result {
	r := &Result{}
	for _, kv := range strings.Fields(line) {
		if k, v, ok := strings.Cut(kv, "="); ok {
			r.Set(k, v)
		}
	}
	return r
}

// float returns a figure as a number.
func (r *Result) float(key string) (float64, bool) {
	v, err := strconv.ParseFloat(r.values[key], 64)
	return v, err == nil
}

// Budget is one line of the performance budget: a figure, where it comes
// from, and the bound it must keep.
type Budget struct {
	Scenario string  // the load scenario that measures it; "" for a Go benchmark
	Line     string  // what is measured, as the budget says it
	Bound    float64 // the bound
	Unit     string
	Most     bool // the figure must be at most Bound (else at least)
	// Figure finds the measured value among the results; ok is false when
	// the run has none.
	Figure func(f Figures) (v float64, ok bool)
	// Short, when set, says what the run measured instead when Figure
	// has nothing, such as how far a run got before its time limit; ok
	// is false when it has nothing to say either.
	Short func(f Figures) (what string, ok bool)
}

// Figures are a bench run's results: the load generator's lines, and the
// Go benchmarks' metrics by "BenchmarkName metric".
type Figures struct {
	Runs  []*Result
	Bench map[string]float64
}

// find returns the first run of scenario whose keys match where (all of
// them), or nil.
func (f Figures) find(scenario string, where map[string]string) *Result {
	for _, r := range f.Runs {
		if r.Get("scenario") != scenario {
			continue
		}
		ok := true
		for k, v := range where {
			if r.Get(k) != v {
				ok = false
			}
		}
		if ok {
			return r
		}
	}
	return nil
}

func (f Figures) figure(scenario, key string, where map[string]string) (float64, bool) {
	if r := f.find(scenario, where); r != nil {
		return r.float(key)
	}
	return 0, false
}

// Knee is the lowest fanout rate whose p99 passed 50 ms, among the sweep's
// runs (rates ascending); ok is false when none did.
func (f Figures) Knee() (rate float64, ok bool) {
	best := math.Inf(1)
	for _, r := range f.Runs {
		if r.Get("scenario") != "fanout" {
			continue
		}
		p99, ok1 := r.float("latency_p99_ms")
		rt, ok2 := r.float("rate")
		if ok1 && ok2 && p99 > 50 && rt < best {
			best = rt
		}
	}
	return best, !math.IsInf(best, 1)
}

// Budgets are the performance budget's lines that a bench run measures.
var Budgets = []Budget{
	{Scenario: "join-storm", Line: "join-storm: 5,000 clients, until all know all", Bound: 5000, Unit: "ms", Most: true,
		Figure: func(f Figures) (float64, bool) {
			return f.figure("join-storm", "all_known_ms", map[string]string{"clients": "5000"})
		},
		Short: func(f Figures) (string, bool) {
			r := f.find("join-storm", map[string]string{"clients": "5000", "all_known_ms": "timeout"})
			if r == nil {
				return "", false
			}
			return fmt.Sprintf("over %s s: %s%% of the 25 M memberships known then", r.Get("limit_s"), r.Get("known_pct")), true
		}},
	{Scenario: "join-storm", Line: "join-storm: 5,000 clients, frames the server sent / N²", Bound: 0.1, Unit: "", Most: true,
		Figure: func(f Figures) (float64, bool) {
			v, ok := f.figure("join-storm", "server_frames", map[string]string{"clients": "5000"})
			return v / 25e6, ok
		}},
	{Scenario: "fanout", Line: "fanout: 1,000 members, 100 msg/s, p99", Bound: 40, Unit: "ms", Most: true,
		Figure: func(f Figures) (float64, bool) {
			return f.figure("fanout", "latency_p99_ms", map[string]string{"clients": "1000", "rate": "100.000"})
		}},
	{Scenario: "fanout", Line: "fanout: deliveries lost or duplicated", Bound: 0, Unit: "", Most: true,
		Figure: func(f Figures) (float64, bool) {
			total, any := 0.0, false
			for _, r := range f.Runs {
				if r.Get("scenario") == "fanout" {
					l, _ := r.float("lost")
					d, _ := r.float("duplicated")
					total, any = total+l+d, true
				}
			}
			return total, any
		}},
	{Scenario: "idle", Line: "idle: server RSS per connection", Bound: 20, Unit: "KiB", Most: true,
		Figure: func(f Figures) (float64, bool) {
			return f.figure("idle", "server_rss_per_conn_kib", nil)
		}},
	{Line: "native round trip (enterRoom+leaveRoom), p50", Bound: 300, Unit: "µs", Most: true,
		Figure: func(f Figures) (float64, bool) {
			v, ok := f.Bench["BenchmarkEnterLeaveRoundTrip p50-µs"]
			return v, ok
		}},
	{Line: "browser: enterRoom p50", Bound: 3, Unit: "ms", Most: true,
		Figure: func(f Figures) (float64, bool) { v, ok := f.Bench["BenchmarkBrowser enter-p50-ms"]; return v, ok }},
	{Line: "browser: enterRoom p99", Bound: 15, Unit: "ms", Most: true,
		Figure: func(f Figures) (float64, bool) { v, ok := f.Bench["BenchmarkBrowser enter-p99-ms"]; return v, ok }},
	{Line: "browser: module ready, warm cache", Bound: 300, Unit: "ms", Most: true,
		Figure: func(f Figures) (float64, bool) { v, ok := f.Bench["BenchmarkBrowser ready-cached-ms"]; return v, ok }},
	{Scenario: "churn", Line: "churn: the server's counts equal the clients' (mismatches)", Bound: 0, Unit: "", Most: true,
		Figure: func(f Figures) (float64, bool) { return f.figure("churn", "count_mismatches", nil) }},
	{Scenario: "resume-storm", Line: "resume-storm: roomMemberLeft seen", Bound: 0, Unit: "", Most: true,
		Figure: func(f Figures) (float64, bool) { return f.figure("resume-storm", "member_left_events", nil) }},
	// The media server's budget: forwarded packets per server core
	// (packets the subscribers received / the server's CPU seconds),
	// with forwarding p99 and loss on loopback, same machine.
	{Scenario: "media", Line: "media: forwarded packets/s per server core", Bound: 60000, Unit: "packets/s", Most: false,
		Figure: func(f Figures) (float64, bool) { return f.figure("media", "pps_per_server_core", nil) }},
	{Scenario: "media", Line: "media: forwarding p99", Bound: 10, Unit: "ms", Most: true,
		Figure: func(f Figures) (float64, bool) { return f.figure("media", "latency_p99_ms", nil) }},
	{Scenario: "media", Line: "media: packets lost", Bound: 0, Unit: "", Most: true,
		Figure: func(f Figures) (float64, bool) { return f.figure("media", "lost", nil) }},
	// A live stream: the most viewers of one simulcast host (each taking
	// q) that one node fed with nothing lost and forwarding p99 within
	// 10 ms, of the suite's live runs.
	{Scenario: "live", Line: "live: viewers of one host fed, 0 loss, p99 ≤ 10 ms", Bound: 2000, Unit: "viewers", Most: false,
		Figure: func(f Figures) (float64, bool) { return f.liveViewers() }},
}

// liveViewers is the largest viewer count of the live runs that lost
// nothing with a forwarding p99 within 10 ms (0 when none did); false
// without a live run.
func (f Figures) liveViewers() (float64, bool) {
	best, any := 0.0, false
	for _, r := range f.Runs {
		if r.Get("scenario") != "live" {
			continue
		}
		any = true
		n, ok := r.float("viewers")
		lost, okLost := r.float("lost")
		p99, okP99 := r.float("latency_p99_ms")
		if ok && okLost && okP99 && r.Get("failed") == "" && lost == 0 && p99 <= 10 {
			best = max(best, n)
		}
	}
	return best, any
}

// ReadGoBench reads `go test -bench` output: every "value unit" pair of
// each Benchmark line, by "BenchmarkName unit" (the -N suffix dropped).
func ReadGoBench(r io.Reader, into map[string]float64) {
	sc := bufio.NewScanner(r)
	for sc.Scan() {
		f := strings.Fields(sc.Text())
		if len(f) < 4 || !strings.HasPrefix(f[0], "Benchmark") {
			continue
		}
		name := f[0]
		if i := strings.LastIndexByte(name, '-'); i > 0 {
			name = name[:i]
		}
		for i := 2; i+1 < len(f); i += 2 {
			if v, err := strconv.ParseFloat(f[i], 64); err == nil {
				into[name+" "+f[i+1]] = v
			}
		}
	}
}

// WriteReport writes report.md (each budget line with its measured figure,
// and every run) and fanout.svg (fanout latency percentiles against the
// message rate) to dir.
func WriteReport(dir, machine string, f Figures) error {
	var b strings.Builder
	fmt.Fprintf(&b, "# roomkit bench\n\nMachine: %s\n\n| budget | bound | measured | met |\n| --- | --- | --- | --- |\n", machine)
	for _, bg := range Budgets {
		op := "≥"
		if bg.Most {
			op = "≤"
		}
		v, ok := bg.Figure(f)
		measured, met := "not run", "—"
		if !ok && bg.Scenario != "" && f.find(bg.Scenario, map[string]string{"failed": "true"}) != nil {
			measured, met = "failed (see the runs)", "no"
		}
		if !ok && bg.Short != nil {
			if short, sok := bg.Short(f); sok {
				measured, met = short, "no"
			}
		}
		if ok {
			measured = strconv.FormatFloat(v, 'g', 4, 64) + " " + bg.Unit
			if math.Abs(v) >= 1e4 {
				measured = strconv.FormatFloat(v, 'f', 0, 64) + " " + bg.Unit // 68000, not 6.8e+04
			}
			met = "no"
			if (bg.Most && v <= bg.Bound) || (!bg.Most && v >= bg.Bound) {
				met = "yes"
			}
		}
		bound := strings.TrimSpace(fmt.Sprintf("%s %g %s", op, bg.Bound, bg.Unit))
		fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", bg.Line, bound, strings.TrimSpace(measured), met)
	}
	if rate, ok := f.Knee(); ok {
		fmt.Fprintf(&b, "\nFan-out knee (lowest rate with p99 over 50 ms, 1,000 members): %g msg/s\n", rate)
	} else {
		fmt.Fprintf(&b, "\nFan-out knee: p99 stayed under 50 ms at every rate run\n")
	}
	if r := f.find("media", nil); r != nil && r.Get("forwarded_pps") != "" {
		fmt.Fprintf(&b, "\nMedia forwarding (%s publishers × 2 tracks → %s subscribers, %s streams): %s packets/s received, latency p50 %s ms, p99 %s ms, max %s ms, %s lost; server CPU %s s over %s s\n",
			r.Get("publishers"), r.Get("subscribers"), r.Get("streams"), r.Get("forwarded_pps"), r.Get("latency_p50_ms"), r.Get("latency_p99_ms"), r.Get("latency_max_ms"), r.Get("lost"), r.Get("server_cpu_s"), r.Get("duration_s"))
	}
	b.WriteString("\nRuns:\n\n```\n")
	for _, r := range f.Runs {
		b.WriteString(r.String() + "\n")
	}
	b.WriteString("```\n")
	if err := os.WriteFile(filepath.Join(dir, "report.md"), []byte(b.String()), 0o644); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "fanout.svg"), []byte(fanoutSVG(f)), 0o644)
}

// fanoutSVG plots the fanout runs' p50, p90 and p99 latency against their
// rate, on log-scaled axes.
func fanoutSVG(f Figures) string {
	type point struct{ rate, p50, p90, p99 float64 }
	var pts []point
	for _, r := range f.Runs {
		if r.Get("scenario") != "fanout" {
			continue
		}
		var p point
		var ok [4]bool
		p.rate, ok[0] = r.float("rate")
		p.p50, ok[1] = r.float("latency_p50_ms")
		p.p90, ok[2] = r.float("latency_p90_ms")
		p.p99, ok[3] = r.float("latency_p99_ms")
		if ok[0] && ok[1] && ok[2] && ok[3] {
			pts = append(pts, p)
		}
	}
	const w, h, left, bottom, top, right = 640, 400, 60, 50, 30, 20
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" width="%d" height="%d" font-family="sans-serif" font-size="12">`+"\n", w, h)
	fmt.Fprintf(&b, `<text x="%d" y="18">fan-out to 1,000 members: delivery latency against message rate</text>`+"\n", left)
	if len(pts) == 0 {
		fmt.Fprintf(&b, `<text x="%d" y="%d">no fanout runs</text></svg>`+"\n", left, h/2)
		return b.String()
	}
	minR, maxR, maxL := math.Inf(1), 0.0, 1.0
	for _, p := range pts {
		minR, maxR, maxL = math.Min(minR, p.rate), math.Max(maxR, p.rate), math.Max(maxL, p.p99)
	}
	if maxR == minR {
		maxR = minR * 2
	}
	x := func(rate float64) float64 {
		return left + (math.Log(rate)-math.Log(minR))/(math.Log(maxR)-math.Log(minR))*(w-left-right)
	}
	lo, hi := math.Log(0.1), math.Log(math.Max(maxL*1.5, 100))
	y := func(ms float64) float64 {
		return h - bottom - (math.Log(math.Max(ms, 0.1))-lo)/(hi-lo)*(h-bottom-top)
	}
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, h-bottom, w-right, h-bottom)
	fmt.Fprintf(&b, `<line x1="%d" y1="%d" x2="%d" y2="%d" stroke="black"/>`+"\n", left, top, left, h-bottom)
	for _, ms := range []float64{1, 10, 50, 100, 1000} {
		if math.Log(ms) > hi {
			continue
		}
		fmt.Fprintf(&b, `<line x1="%d" y1="%.1f" x2="%d" y2="%.1f" stroke="#ddd"/><text x="%d" y="%.1f" text-anchor="end">%g ms</text>`+"\n", left, y(ms), w-right, y(ms), left-4, y(ms)+4, ms)
	}
	for _, p := range pts {
		fmt.Fprintf(&b, `<text x="%.1f" y="%d" text-anchor="middle">%g</text>`+"\n", x(p.rate), h-bottom+16, p.rate)
	}
	fmt.Fprintf(&b, `<text x="%d" y="%d" text-anchor="middle">messages a second</text>`+"\n", (w+left)/2, h-12)
	for i, s := range []struct {
		name, color string
		v           func(point) float64
	}{{"p50", "#2a7", func(p point) float64 { return p.p50 }}, {"p90", "#27c", func(p point) float64 { return p.p90 }}, {"p99", "#c33", func(p point) float64 { return p.p99 }}} {
		var line []string
		for _, p := range pts {
			line = append(line, fmt.Sprintf("%.1f,%.1f", x(p.rate), y(s.v(p))))
		}
		fmt.Fprintf(&b, `<polyline fill="none" stroke="%s" stroke-width="2" points="%s"/>`+"\n", s.color, strings.Join(line, " "))
		fmt.Fprintf(&b, `<text x="%d" y="%d" fill="%s">%s</text>`+"\n", w-right-40, top+14+i*14, s.color, s.name)
	}
	b.WriteString("</svg>\n")
	return b.String()
}
