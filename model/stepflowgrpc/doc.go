// Package stepflowgrpc holds the TasksService and OrchestratorService client and server
// stubs (protoc-gen-go-grpc) of the Stepflow v1 task protocol, apart from the messages in
// model/stepflowpb so that code that only encodes and decodes messages does not compile
// grpc-go. ../proto/generate.sh writes them (stepflowpb's //go:generate line runs it);
// nothing here is written by hand but this file and messages.go.
package stepflowgrpc
