package sim

import (
	"testing"

	"google.golang.org/protobuf/proto"
	"google.golang.org/protobuf/types/known/structpb"

	"github.com/tasksim/tasksim/model"
	pb "github.com/tasksim/tasksim/model/stepflowpb"
	"github.com/tasksim/tasksim/model/wire"
)

// A component's component_id and literal input (format v1.1) are what its assignments
// carry on the wire; a component without them sends its path and a generated Value.
func TestAssignmentCarriesComponentIDAndInput(t *testing.T) {
	in, err := structpb.NewValue(map[string]any{"sleep": 3, "x": 1})
	if err != nil {
		t.Fatal(err)
	}
	cfg := &Config{
		Workers: []PoolConfig{{Pool: "python"}},
		Components: []ComponentConfig{
			{Path: "/python/embed", ComponentID: "embed", Input: in, Pool: "python"},
			{Path: "/python/plain", Pool: "python"},
		},
	}
	b := newWireBridge(cfg, wire.NewCodec())
	for _, tc := range []struct {
		comp  int32
		id    string
		input *structpb.Value
	}{
		{0, "embed", in},
		{1, "/python/plain", wire.SampleValue(512)},
	} {
		data, err := b.encode(&model.Message{Type: model.MsgAssignment, Task: 7, Run: 1, Step: 1, Attempt: 1,
			Component: tc.comp, PayloadBytes: 512, HeartbeatSecs: 1})
		if err != nil {
			t.Fatal(err)
		}
		var a pb.TaskAssignment
		if err := proto.Unmarshal(data, &a); err != nil {
			t.Fatal(err)
		}
		e := a.GetExecute()
		if e.GetComponentId() != tc.id || !proto.Equal(e.GetInput(), tc.input) {
			t.Errorf("component %d: component_id %q input %v, want %q %v", tc.comp, e.GetComponentId(), e.GetInput(), tc.id, tc.input)
		}
	}
	// Discovery answers list the component by its id, with its path beside it.
	data, err := b.encode(&model.Message{Type: model.MsgComplete, Task: 8, Discovery: true, Result: model.ResultListComponents})
	if err != nil {
		t.Fatal(err)
	}
	var c pb.CompleteTaskRequest
	if err := proto.Unmarshal(data, &c); err != nil {
		t.Fatal(err)
	}
	got := c.GetListComponents().GetComponents()
	if len(got) != 2 || got[0].GetComponentId() != "embed" || got[0].GetPath() != "/python/embed" ||
		got[1].GetComponentId() != "/python/plain" || got[1].GetPath() != "/python/plain" {
		t.Errorf("list_components %v", got)
	}
}
