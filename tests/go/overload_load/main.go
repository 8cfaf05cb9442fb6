// An open-loop load generator for the overload test (tests/load/overload.ts):
// grpc-go clients calling a CPU-burning unary method at fixed rates, each
// call with its own deadline, while a health checker on a connection of its
// own times grpc.health.v1.Health/Check. Open loop: calls are issued on
// schedule whether or not earlier ones have returned, as independent
// clients do, so a slow server cannot slow the offered load down.
// Built by tests/_go.ts from Debian's golang-google-grpc-dev in GOPATH mode.
//
// Usage:
//
//	overload_load -addr host:port -method /pkg.Svc/M -cpu-us 1000 \
//	  -phases 2700:6s,450:5s      open loop: rate/s for each duration
//	overload_load ... -closed 8 -duration 3s
//	                              closed loop: 8 callers back to back (capacity)
//
// Prints one JSON line per phase, then one for the health checker.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/encoding"
	healthpb "google.golang.org/grpc/health/grpc_health_v1"
	"google.golang.org/grpc/status"
)

// rawCodec sends and receives message bytes as they are: the request is
// encoded by hand below and the reply is not read.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return *(v.(*[]byte)), nil }
func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	*(v.(*[]byte)) = data
	return nil
}
func (rawCodec) Name() string { return "proto" }

var _ encoding.Codec = rawCodec{}

type phase struct {
	rate     float64
	duration time.Duration
}

type result struct {
	ok       bool
	code     codes.Code
	latency  time.Duration
	issuedAt time.Duration // since the phase started
}

// Summary is one phase's line of output.
type Summary struct {
	Phase         int            `json:"phase"`
	Mode          string         `json:"mode"`
	Rate          float64        `json:"rate"`
	Seconds       float64        `json:"seconds"`
	Issued        int            `json:"issued"`
	OK            int            `json:"ok"`
	Goodput       float64        `json:"goodput"`
	Codes         map[string]int `json:"codes"`
	OKP50Ms       float64        `json:"okP50Ms"`
	OKP99Ms       float64        `json:"okP99Ms"`
	AllP99Ms      float64        `json:"allP99Ms"`
	UnavailableBy []int          `json:"unavailableBySecond"`
}

func main() {
	addr := flag.String("addr", "", "host:port")
	method := flag.String("method", "", "/pkg.Service/Method")
	cpuUs := flag.Int("cpu-us", 1000, "CPU microseconds each call asks the handler to burn")
	awaitMs := flag.Int("await-ms", 0, "milliseconds each call asks the handler to await first")
	deadline := flag.Duration("deadline", 500*time.Millisecond, "deadline of each call")
	conns := flag.Int("conns", 4, "connections the calls are spread over")
	phasesFlag := flag.String("phases", "", "open loop: rate:duration,...")
	closed := flag.Int("closed", 0, "closed loop: callers back to back")
	duration := flag.Duration("duration", 3*time.Second, "closed loop: how long")
	flag.Parse()

	request := encodeRequest(*cpuUs, *awaitMs)
	clients := make([]*grpc.ClientConn, *conns)
	for i := range clients {
		clients[i] = dial(*addr)
		defer clients[i].Close()
	}
	// Warm every connection up, so connection set-up is not measured.
	for _, c := range clients {
		call(c, *method, request, 5*time.Second)
	}

	healthConn := dial(*addr)
	defer healthConn.Close()
	stopHealth := make(chan struct{})
	healthDone := make(chan map[string]interface{})
	go checkHealth(healthConn, stopHealth, healthDone)

	out := json.NewEncoder(os.Stdout)
	if *closed > 0 {
		out.Encode(closedLoop(clients, *method, request, *deadline, *closed, *duration))
	} else {
		for i, p := range parsePhases(*phasesFlag) {
			out.Encode(openLoop(i, clients, *method, request, *deadline, p))
		}
	}
	close(stopHealth)
	out.Encode(<-healthDone)
}

// encodeRequest writes load.BurnRequest by hand: cpu_us (field 1) and
// await_ms (field 2), both varints.
func encodeRequest(cpuUs, awaitMs int) []byte {
	b := varintField(nil, 0x08, uint64(cpuUs))
	if awaitMs > 0 {
		b = varintField(b, 0x10, uint64(awaitMs))
	}
	return b
}

func varintField(b []byte, tag byte, v uint64) []byte {
	b = append(b, tag)
	for v >= 0x80 {
		b = append(b, byte(v)|0x80)
		v >>= 7
	}
	return append(b, byte(v))
}

func dial(addr string) *grpc.ClientConn {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, addr, grpc.WithInsecure(), grpc.WithBlock())
	if err != nil {
		fmt.Fprintln(os.Stderr, "dial:", err)
		os.Exit(1)
	}
	return conn
}

func call(conn *grpc.ClientConn, method string, request []byte, deadline time.Duration) error {
	ctx, cancel := context.WithTimeout(context.Background(), deadline)
	defer cancel()
	var reply []byte
	return conn.Invoke(ctx, method, &request, &reply, grpc.ForceCodec(rawCodec{}))
}

func parsePhases(spec string) []phase {
	var phases []phase
	for _, part := range strings.Split(spec, ",") {
		fields := strings.SplitN(part, ":", 2)
		rate, err1 := strconv.ParseFloat(fields[0], 64)
		d, err2 := time.ParseDuration(fields[len(fields)-1])
		if len(fields) != 2 || err1 != nil || err2 != nil {
			fmt.Fprintln(os.Stderr, "bad -phases entry:", part)
			os.Exit(2)
		}
		phases = append(phases, phase{rate, d})
	}
	return phases
}

// openLoop issues rate calls/s for the phase's duration, on schedule.
func openLoop(index int, clients []*grpc.ClientConn, method string, request []byte,
	deadline time.Duration, p phase) Summary {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var results []result
	start := time.Now()
	interval := time.Duration(float64(time.Second) / p.rate)
	for n := 0; ; n++ {
		at := time.Duration(n) * interval
		if at >= p.duration {
			break
		}
		if wait := time.Until(start.Add(at)); wait > 0 {
			time.Sleep(wait)
		}
		conn := clients[n%len(clients)]
		wg.Add(1)
		go func(at time.Duration) {
			defer wg.Done()
			issued := time.Now()
			err := call(conn, method, request, deadline)
			r := result{latency: time.Since(issued), issuedAt: at, code: status.Code(err)}
			r.ok = err == nil && r.latency <= deadline
			mu.Lock()
			results = append(results, r)
			mu.Unlock()
		}(at)
	}
	wg.Wait()
	return summarize(index, "open", p.rate, p.duration, results)
}

// closedLoop runs callers back to back: what the server completes when it
// is never idle and never queues much is its capacity.
func closedLoop(clients []*grpc.ClientConn, method string, request []byte,
	deadline time.Duration, callers int, d time.Duration) Summary {
	var mu sync.Mutex
	var wg sync.WaitGroup
	var results []result
	start := time.Now()
	for i := 0; i < callers; i++ {
		wg.Add(1)
		go func(i int) {
			defer wg.Done()
			conn := clients[i%len(clients)]
			for time.Since(start) < d {
				issued := time.Now()
				err := call(conn, method, request, deadline)
				r := result{latency: time.Since(issued), issuedAt: issued.Sub(start), code: status.Code(err)}
				r.ok = err == nil && r.latency <= deadline
				mu.Lock()
				results = append(results, r)
				mu.Unlock()
			}
		}(i)
	}
	wg.Wait()
	return summarize(0, "closed", 0, time.Since(start), results)
}

func summarize(index int, mode string, rate float64, d time.Duration, results []result) Summary {
	s := Summary{Phase: index, Mode: mode, Rate: rate, Seconds: d.Seconds(), Issued: len(results),
		Codes: map[string]int{}}
	var okLatencies, all []float64
	s.UnavailableBy = make([]int, int(d.Seconds()+0.999))
	for _, r := range results {
		ms := float64(r.latency) / float64(time.Millisecond)
		all = append(all, ms)
		s.Codes[r.code.String()]++
		if r.ok {
			s.OK++
			okLatencies = append(okLatencies, ms)
		}
		if r.code == codes.Unavailable {
			second := int(r.issuedAt / time.Second)
			if second < len(s.UnavailableBy) {
				s.UnavailableBy[second]++
			}
		}
	}
	s.Goodput = float64(s.OK) / d.Seconds()
	s.OKP50Ms = percentile(okLatencies, 0.50)
	s.OKP99Ms = percentile(okLatencies, 0.99)
	s.AllP99Ms = percentile(all, 0.99)
	return s
}

func percentile(values []float64, q float64) float64 {
	if len(values) == 0 {
		return 0
	}
	sort.Float64s(values)
	return values[int(q*float64(len(values)-1))]
}

// checkHealth calls Health/Check every 100 ms until stopped and reports
// the slowest answer and any failure.
func checkHealth(conn *grpc.ClientConn, stop chan struct{}, done chan map[string]interface{}) {
	client := healthpb.NewHealthClient(conn)
	var worst time.Duration
	checks, failures := 0, 0
	lastError := ""
	ticker := time.NewTicker(100 * time.Millisecond)
	defer ticker.Stop()
	for {
		select {
		case <-stop:
			done <- map[string]interface{}{
				"health": true, "checks": checks, "failures": failures,
				"maxMs": float64(worst) / float64(time.Millisecond), "lastError": lastError,
			}
			return
		case <-ticker.C:
			ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
			began := time.Now()
			reply, err := client.Check(ctx, &healthpb.HealthCheckRequest{})
			took := time.Since(began)
			cancel()
			checks++
			if took > worst {
				worst = took
			}
			if err != nil || reply.Status != healthpb.HealthCheckResponse_SERVING {
				failures++
				lastError = fmt.Sprint(err)
			}
		}
	}
}
