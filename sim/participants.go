package sim

import "github.com/tasksim/tasksim/model"

// OrchestratorModelConfig is the model configuration of cfg's orchestrator at node, with
// its assignments going to queue (node itself for the pull queue): what the simulator
// runs, for another driver to run the same.
func OrchestratorModelConfig(cfg *Config, node, queue model.NodeID) model.OrchestratorConfig {
	return orchestratorConfig(cfg, node, queue)
}

// WorkerModelConfig is the model configuration of a worker process of pool at node, whose
// orchestrator and assignment source are the given nodes.
func WorkerModelConfig(cfg *Config, pool int32, node, orchestrator, source model.NodeID) model.WorkerConfig {
	pc := cfg.Workers[pool]
	return model.WorkerConfig{
		Node: node, Orchestrator: orchestrator, Source: source, Pool: pool,
		Flavour: pc.Flavour, Concurrency: pc.Concurrency,
		JetStream: cfg.Queue.Kind == QueueJetStream, AckOnComplete: pc.Ack == AckOnComplete,
		HeartbeatInterval: pc.HeartbeatInterval, RPCTimeout: cfg.Network.RPCTimeout,
	}
}

// ComponentIndex returns the index of the component at path in cfg, or -1.
func ComponentIndex(cfg *Config, path string) int32 { return componentIndex(cfg, path) }
