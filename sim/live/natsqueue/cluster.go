package natsqueue

import (
	"errors"
	"fmt"
	"net"
	"path/filepath"
	"strings"
	"sync"
)

// Cluster is a JetStream cluster of embedded servers on loopback, for a queue that must
// survive the loss of a node (a stream with Replicas 3).
type Cluster struct {
	Nodes []*Server
}

// StartCluster starts n nodes storing under dir/node-I and waits until each accepts
// connections. Route ports are chosen up front, since every node must name the others.
func StartCluster(name, dir string, n int) (*Cluster, error) {
	if n < 1 {
		return nil, fmt.Errorf("a cluster needs at least one node, not %d", n)
	}
	ports, err := freePorts(2 * n)
	if err != nil {
		return nil, err
	}
	routes := make([]string, n)
	for i := range n {
		routes[i] = fmt.Sprintf("nats://127.0.0.1:%d", ports[n+i])
	}
	c := &Cluster{Nodes: make([]*Server, n)}
	errs := make([]error, n)
	var wg sync.WaitGroup
	// The nodes start together: a JetStream cluster elects its meta leader only once a
	// quorum of them is up.
	for i := range n {
		c.Nodes[i] = &Server{cfg: ServerConfig{
			Name:     fmt.Sprintf("%s-%d", name, i+1),
			StoreDir: filepath.Join(dir, fmt.Sprintf("node-%d", i+1)),
			Port:     ports[i],
			Cluster:  &ClusterConfig{Name: name, Port: ports[n+i], Routes: routes},
		}}
		wg.Add(1)
		go func() {
			defer wg.Done()
			errs[i] = c.Nodes[i].Start()
		}()
	}
	wg.Wait()
	if err := errors.Join(errs...); err != nil {
		c.Stop()
		return nil, err
	}
	return c, nil
}

// URLs is every node's client URL, comma-separated, as a NATS client takes them.
func (c *Cluster) URLs() string {
	urls := make([]string, len(c.Nodes))
	for i, s := range c.Nodes {
		urls[i] = s.URL()
	}
	return strings.Join(urls, ",")
}

// Stop stops every node.
func (c *Cluster) Stop() {
	for _, s := range c.Nodes {
		if s != nil {
			s.Stop()
		}
	}
}

// freePorts asks the kernel for n free loopback ports. They are released before use, so
// another process could take one in between; on loopback in a test that is rare, and the
// server then fails to start with a clear error.
func freePorts(n int) ([]int, error) {
	ls := make([]net.Listener, 0, n)
	defer func() {
		for _, l := range ls {
			l.Close()
		}
	}()
	ports := make([]int, n)
	for i := range n {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, fmt.Errorf("find a free loopback port: %w", err)
		}
		ls = append(ls, l)
		ports[i] = l.Addr().(*net.TCPAddr).Port
	}
	return ports, nil
}
