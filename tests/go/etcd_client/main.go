// A grpc-go client that finds svc instances the way Go services do: through
// etcd's gRPC naming resolver (go.etcd.io/etcd/clientv3/naming/resolver)
// dialling etcd:///<prefix>/<service>, with round_robin balancing. Built by
// tests/go_client_test.ts from Debian's golang-etcd-server-dev and
// golang-google-grpc-dev in GOPATH mode.
//
// Usage: etcd_client -etcd URL -target etcd:///services/helloworld.Greeter -instances N -calls N
//
// Prints one JSON line per call: {"peer":"host:port","message":"...","error":""}.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"time"

	"github.com/golang/protobuf/ptypes/wrappers"
	clientv3 "go.etcd.io/etcd/clientv3"
	"go.etcd.io/etcd/clientv3/naming/resolver"
	"google.golang.org/grpc"
	"google.golang.org/grpc/connectivity"
	"google.golang.org/grpc/peer"
)

type result struct {
	Peer    string `json:"peer"`
	Message string `json:"message"`
	Error   string `json:"error"`
}

func main() {
	endpoint := flag.String("etcd", "", "etcd endpoint URL")
	target := flag.String("target", "", "etcd:///<prefix>/<service>")
	calls := flag.Int("calls", 20, "calls to make")
	flag.Parse()

	cli, err := clientv3.New(clientv3.Config{Endpoints: []string{*endpoint}, DialTimeout: 5 * time.Second})
	if err != nil {
		fail("etcd client: %v", err)
	}
	defer cli.Close()
	builder, err := resolver.NewBuilder(cli)
	if err != nil {
		fail("resolver: %v", err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, *target,
		grpc.WithInsecure(),
		grpc.WithResolvers(builder),
		grpc.WithDefaultServiceConfig(`{"loadBalancingPolicy":"round_robin"}`),
		grpc.WithBlock(),
	)
	if err != nil {
		fail("dial %s: %v", *target, err)
	}
	defer conn.Close()
	// round_robin spreads calls over the instances that are READY; give the
	// others a moment to connect so the split reflects the resolver's list.
	for conn.GetState() != connectivity.Ready {
		conn.WaitForStateChange(ctx, conn.GetState())
	}
	time.Sleep(500 * time.Millisecond)

	out := json.NewEncoder(os.Stdout)
	for i := 0; i < *calls; i++ {
		var p peer.Peer
		// helloworld.HelloRequest and HelloReply are one string in field 1,
		// the wire format of google.protobuf.StringValue: no codegen needed.
		reply := &wrappers.StringValue{}
		err := conn.Invoke(ctx, "/helloworld.Greeter/SayHello",
			&wrappers.StringValue{Value: "Go"}, reply, grpc.Peer(&p), grpc.WaitForReady(true))
		r := result{Message: reply.Value}
		if p.Addr != nil {
			r.Peer = p.Addr.String()
		}
		if err != nil {
			r.Error = err.Error()
		}
		out.Encode(r)
	}
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}
