// What grpcurl does, with Go's own protobuf runtime and no .proto files:
// list the services over server reflection (v1alpha, which grpcurl uses),
// fetch each one's file descriptors with their dependencies, build them
// with protodesc (strict validation of every descriptor), then call a
// method with a request given as JSON and print the reply as JSON.
// Built by tests/go_reflection_test.ts from Debian's golang-google-grpc-dev
// and golang-google-protobuf-dev in GOPATH mode.
//
// Usage: reflect_call -addr host:port -call pkg.Service/Method -data '{"field":"value"}'
//
// Prints "service NAME" per listed service, "described NAME METHODS" per
// service whose descriptors built, then "reply JSON".
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"strings"
	"time"

	"google.golang.org/grpc"
	rpb "google.golang.org/grpc/reflection/grpc_reflection_v1alpha"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/reflect/protodesc"
	"google.golang.org/protobuf/reflect/protoreflect"
	"google.golang.org/protobuf/types/descriptorpb"
	"google.golang.org/protobuf/types/dynamicpb"
)

func main() {
	addr := flag.String("addr", "", "host:port")
	call := flag.String("call", "", "pkg.Service/Method")
	data := flag.String("data", "{}", "request as JSON")
	flag.Parse()

	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	conn, err := grpc.DialContext(ctx, *addr, grpc.WithInsecure(), grpc.WithBlock())
	check(err, "dial")
	defer conn.Close()
	stream, err := rpb.NewServerReflectionClient(conn).ServerReflectionInfo(ctx)
	check(err, "reflection stream")

	ask := func(req *rpb.ServerReflectionRequest) *rpb.ServerReflectionResponse {
		check(stream.Send(req), "send")
		resp, err := stream.Recv()
		check(err, "recv")
		if e := resp.GetErrorResponse(); e != nil {
			fail("reflection error %d: %s", e.ErrorCode, e.ErrorMessage)
		}
		return resp
	}

	list := ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_ListServices{ListServices: "*"}})
	var services []string
	for _, s := range list.GetListServicesResponse().GetService() {
		services = append(services, s.Name)
		fmt.Println("service", s.Name)
	}

	// Like grpcurl: ask for the file containing a symbol, then for every
	// dependency the server has not sent yet, by file name.
	files := map[string]*descriptorpb.FileDescriptorProto{}
	add := func(resp *rpb.ServerReflectionResponse) {
		for _, raw := range resp.GetFileDescriptorResponse().GetFileDescriptorProto() {
			fd := &descriptorpb.FileDescriptorProto{}
			check(proto.Unmarshal(raw, fd), "decode FileDescriptorProto")
			files[fd.GetName()] = fd
		}
	}
	for _, service := range services {
		add(ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileContainingSymbol{FileContainingSymbol: service}}))
	}
	for missing := true; missing; {
		missing = false
		for _, fd := range files {
			for _, dep := range fd.GetDependency() {
				if _, ok := files[dep]; !ok {
					missing = true
					add(ask(&rpb.ServerReflectionRequest{MessageRequest: &rpb.ServerReflectionRequest_FileByFilename{FileByFilename: dep}}))
				}
			}
		}
	}
	set := &descriptorpb.FileDescriptorSet{}
	for _, fd := range files {
		set.File = append(set.File, fd)
	}
	registry, err := protodesc.NewFiles(set)
	check(err, "protodesc.NewFiles")
	for _, service := range services {
		d, err := registry.FindDescriptorByName(protoreflect.FullName(service))
		check(err, "find "+service)
		sd, ok := d.(protoreflect.ServiceDescriptor)
		if !ok {
			fail("%s is not a service", service)
		}
		var methods []string
		for i := 0; i < sd.Methods().Len(); i++ {
			methods = append(methods, string(sd.Methods().Get(i).Name()))
		}
		fmt.Println("described", service, strings.Join(methods, ","))
	}

	parts := strings.SplitN(*call, "/", 2)
	d, err := registry.FindDescriptorByName(protoreflect.FullName(parts[0]))
	check(err, "find "+parts[0])
	method := d.(protoreflect.ServiceDescriptor).Methods().ByName(protoreflect.Name(parts[1]))
	if method == nil {
		fail("no method %s", *call)
	}
	req := dynamicpb.NewMessage(method.Input())
	check(protojson.Unmarshal([]byte(*data), req), "request JSON")
	// Debian's grpc-go 1.33 marshals with golang/protobuf 1.3, which cannot
	// handle dynamic messages; marshal with the v2 runtime and send bytes.
	reqBytes, err := proto.Marshal(req)
	check(err, "marshal request")
	var replyBytes []byte
	check(conn.Invoke(ctx, "/"+parts[0]+"/"+parts[1], &reqBytes, &replyBytes, grpc.ForceCodec(rawCodec{})), "call")
	reply := dynamicpb.NewMessage(method.Output())
	check(proto.Unmarshal(replyBytes, reply), "decode reply")
	out, err := protojson.Marshal(reply)
	check(err, "reply JSON")
	fmt.Println("reply", string(out))
}

// rawCodec passes already-encoded protobuf bytes through; its name keeps the
// content type application/grpc+proto, as grpcurl's calls have.
type rawCodec struct{}

func (rawCodec) Marshal(v interface{}) ([]byte, error) { return *(v.(*[]byte)), nil }

func (rawCodec) Unmarshal(data []byte, v interface{}) error {
	*(v.(*[]byte)) = append([]byte(nil), data...)
	return nil
}

func (rawCodec) Name() string { return "proto" }

func check(err error, what string) {
	if err != nil {
		fail("%s: %v", what, err)
	}
}

func fail(format string, args ...interface{}) {
	fmt.Fprintf(os.Stderr, format+"\n", args...)
	os.Exit(1)
}
