// Bidi ping-pong load on raw HTTP/2 frames (golang.org/x/net/http2's Framer),
// for the bench's bidi-pingpong-go case. Same load as pingpong.mjs: CONNS
// connections, STREAMS bidi calls on each; every call sends one message,
// waits for its echo, sends the next, for SECONDS, then half-closes and waits
// for its trailers. Prints one JSON line in pingpong.mjs's shape.
//
// Why not the Node client: it spends ~3.5 µs per round trip, more than
// either server, so on its one core it measures itself. Here one goroutine
// per connection reads frames, answers each echo into a buffered writer and
// flushes once the bytes already read are handled: a fraction of that cost.
//
//	go_pingpong PORT CONNS STREAMS SECONDS SIZE
package main

import (
	"bufio"
	"bytes"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"sort"
	"strconv"
	"sync"
	"time"

	"golang.org/x/net/http2"
	"golang.org/x/net/http2/hpack"
)

// Our receive windows: large, topped up once half is used.
const recvWindow = 1 << 24

type result struct {
	RoundTrips  int64    `json:"roundTrips"`
	Rate        float64  `json:"rate"`
	P50us       float64  `json:"p50us"`
	P99us       float64  `json:"p99us"`
	OkCalls     int      `json:"okCalls"`
	FailedCalls int      `json:"failedCalls"`
	Failures    []string `json:"failures"`
}

type stream struct {
	id      uint32
	sentAt  time.Time
	pending []byte // received bytes of the message being assembled
	window  int64  // what the server lets us send on this stream
	unsent  []byte // the rest of the message being sent, waiting for window
	closing bool   // END_STREAM sent
	done    bool
	status  string // grpc-status from the trailers
	problem string // why the call ended without one
	unacked int64  // received, not yet given back as window
}

type conn struct {
	nc        net.Conn
	w         *bufio.Writer
	fr        *http2.Framer
	dec       *hpack.Decoder
	streams   map[uint32]*stream
	sendConn  int64
	peerInit  int64
	unacked   int64
	request   []byte
	endAt     time.Time
	latencies []float64
	trips     int64
	open      int
	failures  []string
	headerOf  *stream
	headers   map[string]string
}

func main() {
	if len(os.Args) != 6 {
		fmt.Fprintln(os.Stderr, "usage: go_pingpong PORT CONNS STREAMS SECONDS SIZE")
		os.Exit(2)
	}
	args := make([]float64, 5)
	for i := range args {
		// SECONDS may be a fraction (the bench's --quick warm-up is 0.25 s).
		n, err := strconv.ParseFloat(os.Args[i+1], 64)
		if err != nil || n < 0 || (i != 3 && n != float64(int(n))) {
			fmt.Fprintf(os.Stderr, "argument %d (%q): not a whole number (or seconds)\n", i+1, os.Args[i+1])
			os.Exit(2)
		}
		args[i] = n
	}
	port, conns, streams, size := int(args[0]), int(args[1]), int(args[2]), int(args[4])
	duration := time.Duration(args[3] * float64(time.Second))
	request := grpcMessage(size)
	started := time.Now()
	endAt := started.Add(duration)

	var wg sync.WaitGroup
	results := make([]*conn, conns)
	for i := 0; i < conns; i++ {
		c := &conn{request: request, endAt: endAt, streams: map[uint32]*stream{}}
		results[i] = c
		wg.Add(1)
		go func() {
			defer wg.Done()
			if err := c.run(port, streams); err != nil {
				c.failures = append(c.failures, err.Error())
			}
		}()
	}
	finished := make(chan struct{})
	go func() { wg.Wait(); close(finished) }()
	select {
	case <-finished:
	case <-time.After(duration + 10*time.Second):
		for _, c := range results {
			c.nc.Close()
		}
		<-finished
		results[0].failures = append(results[0].failures, "calls did not end within 10 s of the deadline")
	}
	elapsed := time.Since(started).Seconds()

	var out result
	var all []float64
	seen := map[string]bool{}
	for _, c := range results {
		out.RoundTrips += c.trips
		all = append(all, c.latencies...)
		for _, s := range c.streams {
			if s.status == "0" {
				out.OkCalls++
			} else {
				out.FailedCalls++
				if s.problem != "" {
					c.failures = append(c.failures, s.problem)
				} else {
					c.failures = append(c.failures, "grpc-status "+s.status)
				}
			}
		}
		for _, f := range c.failures {
			if !seen[f] {
				seen[f] = true
				out.Failures = append(out.Failures, f)
			}
		}
	}
	sort.Float64s(all)
	pct := func(p float64) float64 {
		if len(all) == 0 {
			return 0
		}
		i := int(p * float64(len(all)))
		if i >= len(all) {
			i = len(all) - 1
		}
		return all[i]
	}
	out.Rate = float64(out.RoundTrips) / elapsed
	out.P50us, out.P99us = pct(0.5), pct(0.99)
	if out.Failures == nil {
		out.Failures = []string{}
	}
	line, _ := json.Marshal(out)
	fmt.Println(string(line))
	if len(out.Failures) > 0 || out.OkCalls == 0 {
		os.Exit(1)
	}
}

// grpcMessage is bench.Msg { payload: SIZE × 'a' } with its 5-byte gRPC prefix.
func grpcMessage(size int) []byte {
	msg := []byte{0x0a}
	msg = binary.AppendUvarint(msg, uint64(size))
	msg = append(msg, bytes.Repeat([]byte{'a'}, size)...)
	framed := make([]byte, 5, 5+len(msg))
	binary.BigEndian.PutUint32(framed[1:], uint32(len(msg)))
	return append(framed, msg...)
}

func (c *conn) run(port, streams int) error {
	nc, err := net.Dial("tcp", "127.0.0.1:"+strconv.Itoa(port))
	if err != nil {
		return err
	}
	c.nc = nc
	defer nc.Close()
	c.w = bufio.NewWriterSize(nc, 64<<10)
	r := bufio.NewReaderSize(nc, 64<<10)
	c.fr = http2.NewFramer(c.w, r)
	c.fr.SetMaxReadFrameSize(1 << 20)
	c.dec = hpack.NewDecoder(4096, func(f hpack.HeaderField) {
		if c.headers != nil {
			c.headers[f.Name] = f.Value
		}
	})
	c.sendConn, c.peerInit = 65535, 65535
	if _, err := c.w.WriteString(http2.ClientPreface); err != nil {
		return err
	}
	c.fr.WriteSettings(http2.Setting{ID: http2.SettingInitialWindowSize, Val: recvWindow})
	c.fr.WriteWindowUpdate(0, recvWindow-65535)

	// The first call's block adds the fields to the server's HPACK table; the
	// second refers to them by index and, changing nothing, serves every later call.
	fields := []hpack.HeaderField{
		{Name: ":method", Value: "POST"}, {Name: ":scheme", Value: "http"},
		{Name: ":path", Value: "/bench.Echo/Ping"}, {Name: ":authority", Value: "127.0.0.1:" + strconv.Itoa(port)},
		{Name: "content-type", Value: "application/grpc"}, {Name: "te", Value: "trailers"},
		// As every bench load sends it: svc-native-builtins' middleware checks it.
		{Name: "x-api-key", Value: "bench"},
	}
	var block bytes.Buffer
	enc := hpack.NewEncoder(&block)
	for i := 0; i < streams; i++ {
		if i < 2 {
			block.Reset()
			for _, f := range fields {
				enc.WriteField(f)
			}
		}
		s := &stream{id: uint32(2*i + 1), window: c.peerInit}
		c.streams[s.id] = s
		c.open++
		if err := c.fr.WriteHeaders(http2.HeadersFrameParam{
			StreamID: s.id, BlockFragment: block.Bytes(), EndHeaders: true,
		}); err != nil {
			return err
		}
		c.send(s)
	}
	for c.open > 0 {
		if r.Buffered() == 0 {
			if err := c.w.Flush(); err != nil {
				return err
			}
		}
		f, err := c.fr.ReadFrame()
		if err != nil {
			return err
		}
		if err := c.handle(f); err != nil {
			return err
		}
	}
	return c.w.Flush()
}

// send writes the next message on s, or its END_STREAM once the time is up.
func (c *conn) send(s *stream) {
	if !time.Now().Before(c.endAt) {
		s.closing = true
		c.fr.WriteData(s.id, true, nil)
		return
	}
	s.sentAt = time.Now()
	s.unsent = c.request
	c.flow(s)
}

// flow writes as much of s's message as both windows allow (RFC 9113 §6.9).
func (c *conn) flow(s *stream) {
	n := int64(len(s.unsent))
	if s.window < n {
		n = s.window
	}
	if c.sendConn < n {
		n = c.sendConn
	}
	if n <= 0 {
		return
	}
	s.window -= n
	c.sendConn -= n
	c.fr.WriteData(s.id, false, s.unsent[:n])
	s.unsent = s.unsent[n:]
}

func (c *conn) handle(f http2.Frame) error {
	switch f := f.(type) {
	case *http2.SettingsFrame:
		if f.IsAck() {
			return nil
		}
		if v, ok := f.Value(http2.SettingInitialWindowSize); ok {
			delta := int64(v) - c.peerInit
			c.peerInit = int64(v)
			for _, s := range c.streams {
				s.window += delta
			}
			c.unblock()
		}
		return c.fr.WriteSettingsAck()
	case *http2.PingFrame:
		if !f.IsAck() {
			return c.fr.WritePing(true, f.Data)
		}
	case *http2.WindowUpdateFrame:
		if f.StreamID == 0 {
			c.sendConn += int64(f.Increment)
		} else if s := c.streams[f.StreamID]; s != nil {
			s.window += int64(f.Increment)
		}
		c.unblock()
	case *http2.HeadersFrame:
		s := c.streams[f.StreamID]
		c.headers = map[string]string{}
		if _, err := c.dec.Write(f.HeaderBlockFragment()); err != nil {
			return err
		}
		if !f.HeadersEnded() {
			c.headerOf = s
			return nil
		}
		c.endHeaders(s, f.StreamEnded())
	case *http2.ContinuationFrame:
		if _, err := c.dec.Write(f.HeaderBlockFragment()); err != nil {
			return err
		}
		if f.HeadersEnded() {
			c.endHeaders(c.headerOf, c.headerOf != nil && c.headerOf.done)
		}
	case *http2.DataFrame:
		n := int64(f.Length) // padding included
		c.unacked += n
		if c.unacked >= recvWindow/2 {
			c.fr.WriteWindowUpdate(0, uint32(c.unacked))
			c.unacked = 0
		}
		s := c.streams[f.StreamID]
		if s == nil {
			return nil
		}
		s.unacked += n
		if s.unacked >= recvWindow/2 && !f.StreamEnded() {
			c.fr.WriteWindowUpdate(s.id, uint32(s.unacked))
			s.unacked = 0
		}
		s.pending = append(s.pending, f.Data()...)
		for len(s.pending) >= 5 {
			size := int(binary.BigEndian.Uint32(s.pending[1:5]))
			if len(s.pending) < 5+size {
				break
			}
			s.pending = s.pending[:copy(s.pending, s.pending[5+size:])]
			c.trips++
			c.latencies = append(c.latencies, float64(time.Since(s.sentAt).Nanoseconds())/1000)
			if !s.closing {
				c.send(s)
			}
		}
		if f.StreamEnded() {
			c.finish(s, "no trailers")
		}
	case *http2.RSTStreamFrame:
		if s := c.streams[f.StreamID]; s != nil {
			c.finish(s, "RST_STREAM "+f.ErrCode.String())
		}
	case *http2.GoAwayFrame:
		if f.ErrCode != http2.ErrCodeNo {
			return fmt.Errorf("GOAWAY %v", f.ErrCode)
		}
	}
	return nil
}

func (c *conn) endHeaders(s *stream, ended bool) {
	if s == nil {
		return
	}
	if st, ok := c.headers["grpc-status"]; ok {
		s.status = st
	}
	if ended {
		c.finish(s, "no grpc-status")
	}
}

func (c *conn) finish(s *stream, missing string) {
	if s.done {
		return
	}
	s.done = true
	c.open--
	if s.status == "" {
		s.problem = missing
	}
}

func (c *conn) unblock() {
	for _, s := range c.streams {
		if len(s.unsent) > 0 && !s.done {
			c.flow(s)
		}
	}
}
