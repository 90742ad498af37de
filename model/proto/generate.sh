#!/bin/sh
# Regenerates model/stepflowpb from the schema: run from model/stepflowpb (its doc.go has
# the //go:generate line; `go generate ./...` at the module root runs it). It needs
# protoc (Debian: apt-get install protobuf-compiler) and nothing else: the plugins are the
# versions go.mod pins as tool directives, built by `go build` (not `go tool`, which
# ignores GOFLAGS' -gcflags and so, where GOFLAGS sets them as CI's does, compiles the
# standard library again: 30 of the check's 45 CPU seconds). protoc-gen-go-grpc makes
# the TasksService and OrchestratorService stubs the live driver serves and dials; they go
# to their own package, model/stepflowgrpc, so that what only needs the messages (the
# simulator, the codecs, their fuzz targets) does not compile grpc-go. The M options put
# the two service files in that package for protoc-gen-go-grpc alone (protoc-gen-go still
# puts every message in stepflowpb); stepflowgrpc/messages.go names the RPC messages
# there. The descriptors, service names and method paths are the schema's.
set -eu
proto=../proto
module=github.com/tasksim/tasksim/model/stepflowpb
plugins=$(mktemp -d)
trap 'rm -rf "$plugins"' EXIT
go build -o "$plugins/" google.golang.org/protobuf/cmd/protoc-gen-go \
  github.com/planetscale/vtprotobuf/cmd/protoc-gen-go-vtproto google.golang.org/grpc/cmd/protoc-gen-go-grpc
go_plugin=$plugins/protoc-gen-go
vt_plugin=$plugins/protoc-gen-go-vtproto
grpc_plugin=$plugins/protoc-gen-go-grpc
vt_opt="module=$module,features=marshal+unmarshal+unmarshal_unsafe+size+pool+equal+clone"
for m in TaskHeartbeatRequest TaskHeartbeatResponse TaskAssignment CompleteTaskRequest; do
  vt_opt="$vt_opt,pool=$module.$m"
done
grpc_module=github.com/tasksim/tasksim/model/stepflowgrpc
grpc_opt="module=$grpc_module"
for f in tasks orchestrator; do
  grpc_opt="$grpc_opt,Mstepflow/v1/$f.proto=$grpc_module;stepflowgrpc"
done
protoc -I "$proto" \
  --plugin=protoc-gen-go="$go_plugin" --go_out=. --go_opt=module="$module" \
  --plugin=protoc-gen-go-vtproto="$vt_plugin" --go-vtproto_out=. --go-vtproto_opt="$vt_opt" \
  --plugin=protoc-gen-go-grpc="$grpc_plugin" --go-grpc_out=../stepflowgrpc --go-grpc_opt="$grpc_opt" \
  "$proto"/stepflow/v1/*.proto
