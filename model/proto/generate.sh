#!/bin/sh
# Regenerates model/stepflowpb from the schema: run from model/stepflowpb (its doc.go has
# the //go:generate line; `go generate ./...` at the module root runs it). It needs
# protoc (Debian: apt-get install protobuf-compiler) and nothing else: the plugins are the
# versions go.mod pins as tool directives, built by `go tool -n`. protoc-gen-go-grpc makes
# the TasksService and OrchestratorService stubs the live driver serves and dials.
set -eu
proto=../proto
module=github.com/tasksim/tasksim/model/stepflowpb
go_plugin=$(go tool -n protoc-gen-go)
vt_plugin=$(go tool -n protoc-gen-go-vtproto)
grpc_plugin=$(go tool -n protoc-gen-go-grpc)
vt_opt="module=$module,features=marshal+unmarshal+unmarshal_unsafe+size+pool+equal+clone"
for m in TaskHeartbeatRequest TaskHeartbeatResponse TaskAssignment CompleteTaskRequest; do
  vt_opt="$vt_opt,pool=$module.$m"
done
protoc -I "$proto" \
  --plugin=protoc-gen-go="$go_plugin" --go_out=. --go_opt=module="$module" \
  --plugin=protoc-gen-go-vtproto="$vt_plugin" --go-vtproto_out=. --go-vtproto_opt="$vt_opt" \
  --plugin=protoc-gen-go-grpc="$grpc_plugin" --go-grpc_out=. --go-grpc_opt=module="$module" \
  "$proto"/stepflow/v1/*.proto
