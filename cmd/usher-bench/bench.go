package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"time"
)

// result is the measurement of one scenario.
type result struct {
	Scenario    string  `json:"scenario"`
	Concurrency int     `json:"concurrency"`
	Seconds     float64 `json:"seconds"`
	Operations  int     `json:"operations"` // complete, successful operations
	Errors      int     `json:"errors"`
	// ErrorSamples are the most frequent distinct error messages.
	ErrorSamples []errorSummary `json:"error_samples,omitempty"`
	PerSecond    float64        `json:"per_second"`
	Latency      latency        `json:"latency"`
	// RSS of the server, KiB: before the warm-up (idle), the highest
	// sample during the measurement, and the kernel's high-water mark
	// since the server started.
	RSSBeforeKiB int64 `json:"rss_before_kib,omitempty"`
	RSSPeakKiB   int64 `json:"rss_peak_kib,omitempty"`
	RSSHWMKiB    int64 `json:"rss_hwm_kib,omitempty"`
	// StatementsPerOp is usher_db_statements_total's increase during the
	// measurement divided by the operations (successful or not).
	StatementsPerOp *float64 `json:"statements_per_op,omitempty"`
	// For password-login: this machine's argon2id rate and sign-ins per
	// second divided by it.
	HashRate      *hashRate `json:"hash_rate,omitempty"`
	HashRateRatio *float64  `json:"hash_rate_ratio,omitempty"`
	// With --during: the command and the latency while it ran and outside.
	During         *during  `json:"during,omitempty"`
	LatencyDuring  *latency `json:"latency_during,omitempty"`
	LatencyOutside *latency `json:"latency_outside,omitempty"`
	// TargetRate is --rate: the operations were due at that rate (an open
	// loop) and their latency counts from when they were due.
	TargetRate float64 `json:"target_rate,omitempty"`
	// OpenLoop is the second measurement --open-loop asks for.
	OpenLoop    *openLoop `json:"open_loop,omitempty"`
	CPU         cpuUse    `json:"cpu"`
	LoadAverage string    `json:"load_average"` // 1, 5, 15 min, at the end
}

// openLoop is a measurement at a fixed arrival rate, a fraction of the
// rate the closed loop reached: the latency a server shows below its
// peak, counted from when each operation was due.
type openLoop struct {
	Fraction   float64 `json:"fraction"`
	Rate       float64 `json:"rate"`       // operations due per second
	Workers    int     `json:"workers"`    // the most operations in flight
	PerSecond  float64 `json:"per_second"` // operations completed per second
	Errors     int     `json:"errors"`
	Latency    latency `json:"latency"`
	P99OverP50 float64 `json:"p99_over_p50"`
	// CPU is the CPU of the open-loop phase: an operation that arrives
	// alone costs more than one of a closed loop's batches (a wake-up of
	// the server, of the database backend, of the load generator).
	CPU cpuUse `json:"cpu"`
}

// report is a whole run.
type report struct {
	StartedAt    string   `json:"started_at"`
	Target       string   `json:"target"`
	Database     string   `json:"database"`
	Institution  string   `json:"institution"`
	ServerPID    int      `json:"server_pid,omitempty"`
	ServerRSSKiB int64    `json:"server_rss_at_start_kib,omitempty"`
	Machine      machine  `json:"machine"`
	Concurrency  int      `json:"concurrency"`
	Duration     string   `json:"duration"`
	Warmup       string   `json:"warmup"`
	IDTokenAlg   string   `json:"id_token_alg"`
	Results      []result `json:"results"`
}

func bench(ctx context.Context, o options, names []string, stdout, stderr io.Writer) error {
	logf := func(format string, args ...any) {
		if !o.json {
			fmt.Fprintf(stderr, "usher-bench: "+format+"\n", args...)
		}
	}
	rep := report{StartedAt: time.Now().UTC().Format(time.RFC3339), Target: o.target, Machine: describeMachine(),
		Concurrency: o.concurrency, Duration: o.duration.String(), Warmup: o.warmup.String(), IDTokenAlg: o.idTokenAlg}
	pid := o.pid
	if pid == 0 {
		var err error
		if pid, err = findPID(o.target); err != nil {
			fmt.Fprintf(stderr, "usher-bench: server memory will not be reported: %v\n", err)
		}
	}
	rep.ServerPID = pid
	if pid > 0 {
		rep.ServerRSSKiB, _, _ = memory(pid)
	}
	e, err := setup(ctx, o, logf)
	if err != nil {
		return err
	}
	rep.Database, rep.Institution = e.dialect, e.slug
	if !o.json {
		printHeader(stdout, rep)
	}
	for _, name := range names {
		if ctx.Err() != nil {
			break
		}
		r, err := measure(ctx, e, o, name, pid, logf, stderr)
		if err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		rep.Results = append(rep.Results, r)
		if !o.json {
			printResult(stdout, r)
		}
	}
	if o.jsonFile != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(o.jsonFile, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	if o.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		return enc.Encode(rep)
	}
	return ctx.Err()
}

// measure prepares, warms up and measures one scenario.
func measure(ctx context.Context, e *env, o options, name string, pid int, logf func(string, ...any), stderr io.Writer) (result, error) {
	s := newScenario(name)
	n := o.concurrency
	logf("%s: preparing %d workers", name, o.workers())
	if err := s.prepare(ctx, e, o.workers()); err != nil {
		return result{}, fmt.Errorf("prepare: %w", err)
	}
	r := result{Scenario: name, Concurrency: n, TargetRate: o.rate}
	e.raw = make([]*rawClient, o.workers())
	for i := range e.raw {
		e.raw[i] = e.newRaw()
	}
	defer func() {
		for _, c := range e.raw {
			c.close()
		}
	}()
	sleep(ctx, o.pause)
	if pid > 0 {
		r.RSSBeforeKiB, _, _ = memory(pid)
	}
	if name == "password-login" {
		logf("%s: measuring the argon2id hash rate for %v (server idle)", name, o.hashDuration)
		hr, err := measureHashRate(ctx, o.hashDuration)
		if err != nil {
			return result{}, fmt.Errorf("hash rate: %w", err)
		}
		r.HashRate = &hr
	}
	if o.warmup > 0 {
		logf("%s: warming up for %v", name, o.warmup)
		w := runPhase(ctx, e, s, n, time.Now(), o.warmup, nil, o.rate)
		if w.failed > 0 {
			logf("%s: %d errors during the warm-up, first: %s", name, w.failed, w.order[0])
		}
	}
	before, counted := statements(ctx, e)
	cpu0 := takeCPU(pid, e.dbname)
	sampler := sampleRSS(pid)
	start := time.Now()
	var until chan struct{}
	var cmd *during
	if o.during != "" {
		until = make(chan struct{})
		cmd = startDuring(ctx, o.during, o.duringDelay, start, &prefixWriter{w: stderr, label: "[" + o.during + "] "})
		go func() {
			<-cmd.finished
			sleep(ctx, o.duringDelay)
			close(until)
		}()
		logf("%s: measuring for at least %v; %q starts after %v", name, o.duration, o.during, o.duringDelay)
	} else {
		logf("%s: measuring for %v", name, o.duration)
	}
	p := runPhase(ctx, e, s, n, start, o.duration, until, o.rate)
	r.RSSPeakKiB = sampler.Stop()
	cpu1 := takeCPU(pid, e.dbname)
	after, counted2 := statements(ctx, e)
	if pid > 0 {
		_, r.RSSHWMKiB, _ = memory(pid)
	}
	r.Seconds = p.elapsed.Seconds()
	r.Operations, r.Errors = len(p.ok), p.failed
	r.ErrorSamples = summarizeErrors(p, 5)
	r.PerSecond = float64(len(p.ok)) / p.elapsed.Seconds()
	r.Latency = percentiles(p.ok, nil)
	r.CPU = cpuBetween(cpu0, cpu1, r.Operations+r.Errors, p.elapsed)
	if counted && counted2 && r.Operations+r.Errors > 0 {
		v := float64(after-before) / float64(r.Operations+r.Errors)
		r.StatementsPerOp = &v
	}
	if r.HashRate != nil {
		sleep(ctx, o.pause) // let the server's last requests end
		logf("%s: measuring the argon2id hash rate again for %v", name, o.hashDuration)
		again, err := measureHashRate(ctx, o.hashDuration)
		if err != nil {
			return result{}, fmt.Errorf("hash rate: %w", err)
		}
		r.HashRate.After = again.PerSecond
		r.HashRate.PerSecond = max(r.HashRate.Before, again.PerSecond)
		r.HashRate.Hashes += again.Hashes
		r.HashRate.Seconds += again.Seconds
		if r.HashRate.PerSecond > 0 {
			v := r.PerSecond / r.HashRate.PerSecond
			r.HashRateRatio = &v
		}
	}
	if o.openLoop > 0 && r.PerSecond > 0 {
		ol := &openLoop{Fraction: o.openLoop, Rate: o.openLoop * r.PerSecond, Workers: o.openWorkers}
		logf("%s: measuring for %v in an open loop at %.0f/s (%.0f %% of %.0f/s), %d workers", name, o.duration, ol.Rate,
			100*o.openLoop, r.PerSecond, o.openWorkers)
		cpu0 := takeCPU(pid, e.dbname)
		q := runPhase(ctx, e, s, o.openWorkers, time.Now(), o.duration, nil, ol.Rate)
		ol.CPU = cpuBetween(cpu0, takeCPU(pid, e.dbname), len(q.ok)+q.failed, q.elapsed)
		ol.PerSecond, ol.Errors = float64(len(q.ok))/q.elapsed.Seconds(), q.failed
		ol.Latency = percentiles(q.ok, nil)
		if ol.Latency.P50 > 0 {
			ol.P99OverP50 = ol.Latency.P99 / ol.Latency.P50
		}
		r.OpenLoop = ol
	}
	if cmd != nil {
		<-cmd.finished
		r.During = cmd
		in := func(s sample) bool { return s.start+s.took > cmd.start && s.start < cmd.end }
		ld := percentiles(p.ok, in)
		lo := percentiles(p.ok, func(s sample) bool { return !in(s) })
		r.LatencyDuring, r.LatencyOutside = &ld, &lo
	}
	r.LoadAverage = loadAverage()
	return r, nil
}

func sleep(ctx context.Context, d time.Duration) {
	select {
	case <-time.After(d):
	case <-ctx.Done():
	}
}

func printHeader(w io.Writer, rep report) {
	m := rep.Machine
	fmt.Fprintf(w, "usher-bench %s\n", rep.StartedAt)
	fmt.Fprintf(w, "machine:  %d cores, %s, %d MiB memory, Linux %s, %s\n", m.Cores, m.CPU, m.MemoryMiB, m.Kernel, m.GoVersion)
	fmt.Fprintf(w, "server:   %s (pid %d, RSS start %s), database %s, institution %s\n",
		rep.Target, rep.ServerPID, mib(rep.ServerRSSKiB), rep.Database, rep.Institution)
	fmt.Fprintf(w, "run:      concurrency %d, warm-up %s, measured %s per scenario, ID tokens %s\n\n",
		rep.Concurrency, rep.Warmup, rep.Duration, rep.IDTokenAlg)
	fmt.Fprintf(w, "%-20s %10s %9s %9s %9s %8s %9s %10s %10s\n",
		"scenario", "ops/s", "p50 ms", "p90 ms", "p99 ms", "errors", "stmts/op", "RSS before", "RSS peak")
}

func printResult(w io.Writer, r result) {
	stmts := "n/a"
	if r.StatementsPerOp != nil {
		stmts = fmt.Sprintf("%.2f", *r.StatementsPerOp)
	}
	fmt.Fprintf(w, "%-20s %10.1f %9.2f %9.2f %9.2f %8d %9s %10s %10s\n", r.Scenario, r.PerSecond,
		r.Latency.P50, r.Latency.P90, r.Latency.P99, r.Errors, stmts, mib(r.RSSBeforeKiB), mib(r.RSSPeakKiB))
	if r.HashRate != nil {
		ratio := 0.0
		if r.HashRateRatio != nil {
			ratio = *r.HashRateRatio
		}
		fmt.Fprintf(w, "  argon2id hash rate of this machine: %.1f/s (before %.1f/s, after %.1f/s; %d goroutines, %s); "+
			"sign-ins/hash rate = %.2f\n", r.HashRate.PerSecond, r.HashRate.Before, r.HashRate.After,
			r.HashRate.Goroutines, r.HashRate.Params, ratio)
	}
	if ol := r.OpenLoop; ol != nil {
		fmt.Fprintf(w, "  open loop at %.0f %% of that (%.0f/s due, %.1f/s done, %d workers, %d errors): p50 %.2f ms  "+
			"p90 %.2f ms  p99 %.2f ms  max %.2f ms; p99/p50 = %.1f\n", 100*ol.Fraction, ol.Rate, ol.PerSecond, ol.Workers, ol.Errors,
			ol.Latency.P50, ol.Latency.P90, ol.Latency.P99, ol.Latency.Max, ol.P99OverP50)
	}
	if r.During != nil {
		d := r.During
		fmt.Fprintf(w, "  %q ran from %.1fs to %.1fs (exit %d%s)\n", d.Command, d.StartS, d.EndS, d.ExitCode, errSuffix(d.Error))
		for _, l := range []struct {
			label string
			l     *latency
		}{{"while it ran", r.LatencyDuring}, {"outside", r.LatencyOutside}} {
			fmt.Fprintf(w, "    %-13s %8d ops  p50 %.2f ms  p90 %.2f ms  p99 %.2f ms  max %.2f ms\n",
				l.label, l.l.Count, l.l.P50, l.l.P90, l.l.P99, l.l.Max)
		}
	}
	printCPU(w, "", r.CPU)
	if r.OpenLoop != nil {
		printCPU(w, " (open loop)", r.OpenLoop.CPU)
	}
	for _, e := range r.ErrorSamples {
		fmt.Fprintf(w, "  %d× %s\n", e.Count, strings.ReplaceAll(e.Message, "\n", " "))
	}
}

func printCPU(w io.Writer, label string, c cpuUse) {
	fmt.Fprintf(w, "  CPU ms/op%s: server %.3f, database %.3f, load generator %.3f; cores busy: server %.2f, database %.2f, "+
		"load generator %.2f, other work %.2f (of %d)\n", label, c.ServerMSPerOp, c.DatabaseMSPerOp, c.GeneratorMSPerOp,
		c.ServerCores, c.DatabaseCores, c.GeneratorCores, c.OtherCores, c.MachineCores)
}

func errSuffix(s string) string {
	if s == "" {
		return ""
	}
	return ", " + s
}

func mib(kib int64) string {
	if kib <= 0 {
		return "n/a"
	}
	return fmt.Sprintf("%.1f MiB", float64(kib)/1024)
}
