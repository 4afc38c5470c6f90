package main

import (
	"bufio"
	"context"
	"errors"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"time"
)

// The server's memory, read from /proc: VmRSS (resident now) sampled every
// 100 ms, and VmHWM (the kernel's own peak since the process started).

// memory reads VmRSS and VmHWM of pid, in KiB.
func memory(pid int) (rss, hwm int64, err error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, 0, err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		line := sc.Text()
		for _, k := range []struct {
			name string
			dst  *int64
		}{{"VmRSS:", &rss}, {"VmHWM:", &hwm}} {
			if v, ok := strings.CutPrefix(line, k.name); ok {
				f := strings.Fields(v)
				if len(f) > 0 {
					*k.dst, _ = strconv.ParseInt(f[0], 10, 64)
				}
			}
		}
	}
	return rss, hwm, sc.Err()
}

// rssSampler records the peak VmRSS of a process while it runs.
type rssSampler struct {
	pid  int
	peak int64
	stop chan struct{}
	done sync.WaitGroup
}

func sampleRSS(pid int) *rssSampler {
	s := &rssSampler{pid: pid, stop: make(chan struct{})}
	if pid <= 0 {
		return s
	}
	s.done.Add(1)
	go func() {
		defer s.done.Done()
		t := time.NewTicker(100 * time.Millisecond)
		defer t.Stop()
		for {
			if rss, _, err := memory(pid); err == nil && rss > s.peak {
				s.peak = rss
			}
			select {
			case <-s.stop:
				return
			case <-t.C:
			}
		}
	}()
	return s
}

// Stop ends the sampling and returns the peak, in KiB.
func (s *rssSampler) Stop() int64 {
	close(s.stop)
	s.done.Wait()
	return s.peak
}

// findPID finds the process listening on the target's port on this
// machine: the socket's inode in /proc/net/tcp{,6}, then the process with
// a descriptor on it.
func findPID(target string) (int, error) {
	u, err := url.Parse(target)
	if err != nil {
		return 0, err
	}
	host, portText := u.Hostname(), u.Port()
	if portText == "" {
		portText = map[string]string{"http": "80", "https": "443"}[u.Scheme]
	}
	port, err := strconv.Atoi(portText)
	if err != nil {
		return 0, fmt.Errorf("target port %q: %v", portText, err)
	}
	if ip := net.ParseIP(host); host != "localhost" && (ip == nil || !ip.IsLoopback()) {
		return 0, fmt.Errorf("target %s is not on this machine's loopback: give --pid", target)
	}
	inodes := map[string]bool{}
	for _, table := range []string{"/proc/net/tcp", "/proc/net/tcp6"} {
		if err := listeningInodes(table, port, inodes); err != nil && !errors.Is(err, os.ErrNotExist) {
			return 0, err
		}
	}
	if len(inodes) == 0 {
		return 0, fmt.Errorf("no socket listens on port %d", port)
	}
	fds, _ := filepath.Glob("/proc/[0-9]*/fd/*")
	for _, fd := range fds {
		link, err := os.Readlink(fd)
		if err != nil || !strings.HasPrefix(link, "socket:[") {
			continue
		}
		if inodes[strings.TrimSuffix(strings.TrimPrefix(link, "socket:["), "]")] {
			pid, _ := strconv.Atoi(strings.Split(fd, "/")[2])
			return pid, nil
		}
	}
	return 0, fmt.Errorf("port %d listens, but no process of this user holds it: give --pid", port)
}

// listeningInodes adds the inodes of the sockets of a /proc/net/tcp table
// that listen on port.
func listeningInodes(table string, port int, out map[string]bool) error {
	f, err := os.Open(table)
	if err != nil {
		return err
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Scan() // header
	for sc.Scan() {
		// sl local_address rem_address st tx_queue:rx_queue tr:tm->when retrnsmt uid timeout inode
		f := strings.Fields(sc.Text())
		if len(f) < 10 || f[3] != "0A" { // 0A: LISTEN
			continue
		}
		_, hexPort, ok := strings.Cut(f[1], ":")
		if !ok {
			continue
		}
		if p, err := strconv.ParseInt(hexPort, 16, 32); err == nil && int(p) == port {
			out[f[9]] = true
		}
	}
	return sc.Err()
}

// machine describes this computer, as BENCHMARKS.md records it.
type machine struct {
	Cores     int    `json:"cores"`
	CPU       string `json:"cpu"`
	MemoryMiB int64  `json:"memory_mib"`
	Kernel    string `json:"kernel"`
	GoVersion string `json:"go"`
}

func describeMachine() machine {
	m := machine{Cores: runtime.NumCPU(), GoVersion: runtime.Version()}
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if k, v, ok := strings.Cut(line, ":"); ok && strings.TrimSpace(k) == "model name" {
				m.CPU = strings.TrimSpace(v)
				break
			}
		}
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for _, line := range strings.Split(string(b), "\n") {
			if v, ok := strings.CutPrefix(line, "MemTotal:"); ok {
				if f := strings.Fields(v); len(f) > 0 {
					kb, _ := strconv.ParseInt(f[0], 10, 64)
					m.MemoryMiB = kb / 1024
				}
			}
		}
	}
	if b, err := os.ReadFile("/proc/sys/kernel/osrelease"); err == nil {
		m.Kernel = strings.TrimSpace(string(b))
	}
	return m
}

// loadAverage is the 1-minute load average: a shared machine shows here.
func loadAverage() string {
	b, err := os.ReadFile("/proc/loadavg")
	if err != nil {
		return ""
	}
	f := strings.Fields(string(b))
	if len(f) < 3 {
		return ""
	}
	return strings.Join(f[:3], " ")
}

// statements reads usher_db_statements_total from the server's /metrics.
func statements(ctx context.Context, e *env) (uint64, bool) {
	r, err := get(ctx, e.api, e.o.metrics)
	if err != nil || r.status != 200 {
		return 0, false
	}
	for _, line := range strings.Split(string(r.body), "\n") {
		if v, ok := strings.CutPrefix(line, "usher_db_statements_total "); ok {
			n, err := strconv.ParseFloat(strings.TrimSpace(v), 64) // 1.2345678e+07 past a million
			return uint64(n), err == nil
		}
	}
	return 0, false
}

// clockTick is the unit of the CPU times in /proc (USER_HZ, 100 on Linux).
const clockTick = 10 * time.Millisecond

// cpuSnapshot is the CPU time used so far, in clock ticks, by the server,
// the database's backends serving the benchmark's database (PostgreSQL),
// this process, and the whole machine.
type cpuSnapshot struct {
	server, database, self int64
	busy, total            int64
}

// processTicks returns utime+stime of a process.
func processTicks(pid string) (int64, error) {
	b, err := os.ReadFile("/proc/" + pid + "/stat")
	if err != nil {
		return 0, err
	}
	// The command name may hold spaces: the fields start after its ')'.
	s := string(b)
	f := strings.Fields(s[strings.LastIndexByte(s, ')')+1:])
	if len(f) < 13 {
		return 0, fmt.Errorf("/proc/%s/stat: too few fields", pid)
	}
	u, _ := strconv.ParseInt(f[11], 10, 64)
	st, _ := strconv.ParseInt(f[12], 10, 64)
	return u + st, nil
}

// databaseTicks sums the CPU of the PostgreSQL backends connected to
// database dbname (their process title is "postgres: [CLUSTER: ]USER DBNAME
// HOST(PORT) STATE").
func databaseTicks(dbname string) int64 {
	if dbname == "" {
		return 0
	}
	var sum int64
	dirs, _ := filepath.Glob("/proc/[0-9]*")
	for _, d := range dirs {
		cmd, err := os.ReadFile(d + "/cmdline")
		if err != nil || !strings.HasPrefix(string(cmd), "postgres: ") {
			continue
		}
		f := strings.Fields(strings.ReplaceAll(string(cmd), "\x00", " "))
		if len(f) >= 4 && (f[2] == dbname || (strings.HasSuffix(f[1], ":") && f[3] == dbname)) {
			if t, err := processTicks(filepath.Base(d)); err == nil {
				sum += t
			}
		}
	}
	return sum
}

// machineTicks reads the first line of /proc/stat: busy and total ticks of
// all cores.
func machineTicks() (busy, total int64) {
	b, err := os.ReadFile("/proc/stat")
	if err != nil {
		return 0, 0
	}
	line, _, _ := strings.Cut(string(b), "\n")
	f := strings.Fields(line)
	for i, v := range f[1:] {
		n, _ := strconv.ParseInt(v, 10, 64)
		if i >= 8 { // guest times are already counted in user
			break
		}
		total += n
		if i != 3 && i != 4 { // idle, iowait
			busy += n
		}
	}
	return busy, total
}

func takeCPU(pid int, dbname string) cpuSnapshot {
	var c cpuSnapshot
	if pid > 0 {
		c.server, _ = processTicks(strconv.Itoa(pid))
	}
	c.database = databaseTicks(dbname)
	c.self, _ = processTicks("self")
	c.busy, c.total = machineTicks()
	return c
}

// cpuUse is where the CPU went during a measurement.
type cpuUse struct {
	// Milliseconds of CPU per operation.
	ServerMSPerOp    float64 `json:"server_ms_per_op"`
	DatabaseMSPerOp  float64 `json:"database_ms_per_op"` // PostgreSQL backends of the database; 0 on SQLite (in the server)
	GeneratorMSPerOp float64 `json:"load_generator_ms_per_op"`
	// Cores busy on average: the server, the database, this load
	// generator, and everything else on the machine (other work).
	ServerCores    float64 `json:"server_cores"`
	DatabaseCores  float64 `json:"database_cores"`
	GeneratorCores float64 `json:"load_generator_cores"`
	OtherCores     float64 `json:"other_cores"`
	MachineCores   int     `json:"machine_cores"`
}

func cpuBetween(a, b cpuSnapshot, ops int, elapsed time.Duration) cpuUse {
	tick := clockTick.Seconds() * 1000 // ms
	per := func(d int64) float64 {
		if ops == 0 {
			return 0
		}
		return float64(d) * tick / float64(ops)
	}
	cores := func(d int64) float64 { return float64(d) * clockTick.Seconds() / elapsed.Seconds() }
	u := cpuUse{
		ServerMSPerOp: per(b.server - a.server), DatabaseMSPerOp: per(b.database - a.database),
		GeneratorMSPerOp: per(b.self - a.self),
		ServerCores:      cores(b.server - a.server), DatabaseCores: cores(b.database - a.database),
		GeneratorCores: cores(b.self - a.self), MachineCores: runtime.NumCPU(),
	}
	if b.total > a.total {
		busyCores := float64(b.busy-a.busy) / float64(b.total-a.total) * float64(runtime.NumCPU())
		u.OtherCores = max(0, busyCores-u.ServerCores-u.DatabaseCores-u.GeneratorCores)
	}
	return u
}
