// Package stepflowpb holds the Go code generated from model/proto: the Stepflow v1 task
// protocol messages (protoc-gen-go), their fast codec methods (protoc-gen-go-vtproto), and
// the TasksService and OrchestratorService client and server stubs (protoc-gen-go-grpc).
// Nothing here is written by hand but this file.
package stepflowpb

//go:generate sh ../proto/generate.sh
