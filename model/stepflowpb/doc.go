// Package stepflowpb holds the Go code generated from model/proto: the Stepflow v1 task
// protocol messages (protoc-gen-go) and their fast codec methods (protoc-gen-go-vtproto).
// Nothing here is written by hand but this file.
package stepflowpb

//go:generate go tool buf generate ../proto --template ../proto/buf.gen.yaml
