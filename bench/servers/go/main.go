// Bare grpc-go Echo server for the benchmark (Debian's golang-google-grpc-dev,
// GOPATH mode). Usage: server PORT
package main

import (
	"context"
	"fmt"
	"io"
	"net"
	"os"

	"benchecho/pb"
	"google.golang.org/grpc"
)

type echo struct{}

func (echo) Say(_ context.Context, in *pb.Msg) (*pb.Msg, error) { return in, nil }

func (echo) Stream(in *pb.StreamRequest, stream pb.Echo_StreamServer) error {
	msg := &pb.Msg{Payload: in.Payload}
	for i := int32(0); i < in.Count; i++ {
		if err := stream.Send(msg); err != nil {
			return err
		}
	}
	return nil
}

func (echo) Ping(stream pb.Echo_PingServer) error {
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			return nil
		}
		if err != nil {
			return err
		}
		if err := stream.Send(msg); err != nil {
			return err
		}
	}
}

// Collect reads every request and replies with the last (an empty Msg if none came).
func (echo) Collect(stream pb.Echo_CollectServer) error {
	last := &pb.Msg{}
	for {
		msg, err := stream.Recv()
		if err == io.EOF {
			return stream.SendAndClose(last)
		}
		if err != nil {
			return err
		}
		last = msg
	}
}

func main() {
	lis, err := net.Listen("tcp", "127.0.0.1:"+os.Args[1])
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
	server := grpc.NewServer()
	pb.RegisterEchoServer(server, echo{})
	fmt.Println("listening", lis.Addr())
	if err := server.Serve(lis); err != nil {
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}
