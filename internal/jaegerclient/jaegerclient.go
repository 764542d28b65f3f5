// Package jaegerclient dials Jaeger's api_v2 gRPC query service
// (QueryService, from jaeger-idl's generated stubs) for `genopsctl traces`
// and the tests.
//
// The one piece written here is the gRPC codec: the api_v2 messages are
// gogo/protobuf-generated, and grpc-go's default codec goes through
// protobuf-go's reflection, which cannot handle their gogo-specific fields
// (time.Time, custom trace ids). Jaeger's own codec for this lives in an
// internal package of Jaeger.
package jaegerclient

import (
	"fmt"

	"github.com/jaegertracing/jaeger-idl/proto-gen/api_v2"
	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
)

// Dial returns a query client for addr (host:port, plaintext); close the
// connection when done.
func Dial(addr string) (api_v2.QueryServiceClient, *grpc.ClientConn, error) {
	conn, err := grpc.NewClient(addr,
		grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.ForceCodec(gogoCodec{})))
	if err != nil {
		return nil, nil, err
	}
	return api_v2.NewQueryServiceClient(conn), conn, nil
}

// gogoCodec marshals Jaeger's api_v2 messages with the Marshal/Unmarshal
// methods gogo/protobuf generated for them: grpc-go's default codec goes
// through protobuf-go's reflection, which cannot handle their gogo-specific
// fields (time.Time, custom trace ids). Jaeger's own codec for this is in an
// internal package.
type gogoCodec struct{}

func (gogoCodec) Name() string { return "proto" }

func (gogoCodec) Marshal(v any) ([]byte, error) {
	m, ok := v.(interface{ Marshal() ([]byte, error) })
	if !ok {
		return nil, fmt.Errorf("gogo codec: %T has no Marshal method", v)
	}
	return m.Marshal()
}

func (gogoCodec) Unmarshal(data []byte, v any) error {
	m, ok := v.(interface{ Unmarshal([]byte) error })
	if !ok {
		return fmt.Errorf("gogo codec: %T has no Unmarshal method", v)
	}
	return m.Unmarshal(data)
}
